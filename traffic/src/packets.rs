//! Building frames and conversations: Ethernet/IPv4/TCP/UDP with valid checksums (pnet's
//! mutable packet views), TCP sessions with handshake, MSS segmentation, delayed ACKs and
//! teardown, and UDP exchanges.

use std::net::Ipv4Addr;

use pnet_packet::MutablePacket as _;
use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::{self, MutableIpv4Packet};
use pnet_packet::tcp::{self, MutableTcpPacket, TcpFlags};
use pnet_packet::udp::{self, MutableUdpPacket};

pub type Micros = u64;

/// A host on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
}

impl Host {
    pub fn new(ip: Ipv4Addr) -> Self {
        let o = ip.octets();
        Self { mac: [0x02, 0x00, o[0], o[1], o[2], o[3]], ip }
    }
}

/// The gateway's MAC: every packet to or from outside the LAN passes it.
pub const GATEWAY_MAC: [u8; 6] = [0x02, 0x00, 0x0a, 0x0a, 0x00, 0x01];

fn mac_for(from: &Host, to: &Host) -> ([u8; 6], [u8; 6]) {
    let local = |h: &Host| h.ip.octets()[0] == 10;
    let src = if local(from) { from.mac } else { GATEWAY_MAC };
    let dst = if local(to) { to.mac } else { GATEWAY_MAC };
    (src, dst)
}

fn ip_frame(from: &Host, to: &Host, proto: pnet_packet::ip::IpNextHeaderProtocol, id: u16, l4: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 14 + 20 + l4.len()];
    let (smac, dmac) = mac_for(from, to);
    {
        let mut eth = MutableEthernetPacket::new(&mut buf).expect("sized");
        eth.set_source(smac.into());
        eth.set_destination(dmac.into());
        eth.set_ethertype(EtherTypes::Ipv4);
    }
    {
        let mut ip = MutableIpv4Packet::new(&mut buf[14..]).expect("sized");
        ip.set_version(4);
        ip.set_header_length(5);
        ip.set_total_length((20 + l4.len()) as u16);
        ip.set_identification(id);
        ip.set_flags(2);
        ip.set_ttl(if from.ip.octets()[0] == 10 { 64 } else { 52 });
        ip.set_next_level_protocol(proto);
        ip.set_source(from.ip);
        ip.set_destination(to.ip);
        ip.payload_mut().copy_from_slice(l4);
        let sum = ipv4::checksum(&ip.to_immutable());
        ip.set_checksum(sum);
    }
    buf
}

pub fn udp_frame(from: &Host, sport: u16, to: &Host, dport: u16, id: u16, payload: &[u8]) -> Vec<u8> {
    let mut l4 = vec![0u8; 8 + payload.len()];
    let mut udp = MutableUdpPacket::new(&mut l4).expect("sized");
    udp.set_source(sport);
    udp.set_destination(dport);
    udp.set_length((8 + payload.len()) as u16);
    udp.set_payload(payload);
    let sum = udp::ipv4_checksum(&udp.to_immutable(), &from.ip, &to.ip);
    udp.set_checksum(sum);
    ip_frame(from, to, IpNextHeaderProtocols::Udp, id, &l4)
}

/// An ICMP message: `rest` is the header's last four bytes (identifier and sequence for an
/// echo, unused for an error), `data` what follows the 8-byte header.
pub fn icmp_frame(from: &Host, to: &Host, icmp_type: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut l4 = vec![icmp_type, code, 0, 0];
    l4.extend_from_slice(&rest);
    l4.extend_from_slice(data);
    let sum = pnet_packet::util::checksum(&l4, 1);
    l4[2..4].copy_from_slice(&sum.to_be_bytes());
    ip_frame(from, to, IpNextHeaderProtocols::Icmp, 1, &l4)
}

#[allow(clippy::too_many_arguments)]
pub fn tcp_frame(
    from: &Host,
    sport: u16,
    to: &Host,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let syn = flags & TcpFlags::SYN != 0;
    // SYNs carry the MSS option, as real stacks do.
    let opts: &[u8] = if syn { &[2, 4, 0x05, 0xb4] } else { &[] };
    let hlen = 20 + opts.len();
    let mut l4 = vec![0u8; hlen + payload.len()];
    let mut tcp = MutableTcpPacket::new(&mut l4).expect("sized");
    tcp.set_source(sport);
    tcp.set_destination(dport);
    tcp.set_sequence(seq);
    tcp.set_acknowledgement(ack);
    tcp.set_data_offset((hlen / 4) as u8);
    tcp.set_flags(flags);
    tcp.set_window(64240);
    tcp.packet_mut()[20..hlen].copy_from_slice(opts);
    tcp.packet_mut()[hlen..].copy_from_slice(payload);
    let sum = tcp::ipv4_checksum(&tcp.to_immutable(), &from.ip, &to.ip);
    tcp.set_checksum(sum);
    ip_frame(from, to, IpNextHeaderProtocols::Tcp, id, &l4)
}

/// Frames with their timestamps, in the order they were sent.
pub type Frames = Vec<(Micros, Vec<u8>)>;

/// A TCP connection being written, one side's data at a time.
pub struct TcpSession<'a> {
    pub client: Host,
    pub server: Host,
    pub cport: u16,
    pub sport: u16,
    cseq: u32,
    sseq: u32,
    pub t: Micros,
    /// One-way latency between the two hosts.
    pub rtt: Micros,
    ip_id: u16,
    pub frames: &'a mut Frames,
}

const MSS: usize = 1460;
const A: u8 = TcpFlags::ACK;
const PA: u8 = TcpFlags::PSH | TcpFlags::ACK;

impl<'a> TcpSession<'a> {
    /// Opens a connection with the three-way handshake.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        client: Host,
        cport: u16,
        server: Host,
        sport: u16,
        t: Micros,
        rtt: Micros,
        isn: (u32, u32),
        frames: &'a mut Frames,
    ) -> Self {
        let mut s = Self {
            client,
            server,
            cport,
            sport,
            cseq: isn.0,
            sseq: isn.1,
            t,
            rtt,
            ip_id: (isn.0 >> 16) as u16,
            frames,
        };
        s.push(true, TcpFlags::SYN, &[]);
        s.cseq = s.cseq.wrapping_add(1);
        s.t += s.rtt;
        s.push(false, TcpFlags::SYN | TcpFlags::ACK, &[]);
        s.sseq = s.sseq.wrapping_add(1);
        s.t += s.rtt;
        s.push(true, A, &[]);
        s
    }

    fn push(&mut self, from_client: bool, flags: u8, payload: &[u8]) {
        self.ip_id = self.ip_id.wrapping_add(1);
        let frame = if from_client {
            tcp_frame(
                &self.client,
                self.cport,
                &self.server,
                self.sport,
                self.cseq,
                if flags & TcpFlags::SYN != 0 && flags & A == 0 { 0 } else { self.sseq },
                flags,
                self.ip_id,
                payload,
            )
        } else {
            tcp_frame(
                &self.server,
                self.sport,
                &self.client,
                self.cport,
                self.sseq,
                self.cseq,
                flags,
                self.ip_id,
                payload,
            )
        };
        self.frames.push((self.t, frame));
    }

    /// Sends data from one side in MSS segments; the other side ACKs every second segment.
    pub fn send(&mut self, from_client: bool, data: &[u8]) {
        let mut unacked = 0;
        for (i, seg) in data.chunks(MSS).enumerate() {
            self.t += 15 + (seg.len() as u64) / 100;
            self.push(from_client, PA, seg);
            if from_client {
                self.cseq = self.cseq.wrapping_add(seg.len() as u32);
            } else {
                self.sseq = self.sseq.wrapping_add(seg.len() as u32);
            }
            unacked += 1;
            if unacked == 2 || i == data.len().div_ceil(MSS) - 1 {
                let t = self.t;
                self.t += self.rtt;
                self.push(!from_client, A, &[]);
                self.t = t + 1;
                unacked = 0;
            }
        }
        self.t += self.rtt;
    }

    /// Closes with FIN from the client, FIN from the server, final ACK.
    pub fn close(mut self) -> Micros {
        self.t += self.rtt;
        self.push(true, TcpFlags::FIN | A, &[]);
        self.cseq = self.cseq.wrapping_add(1);
        self.t += self.rtt;
        self.push(false, TcpFlags::FIN | A, &[]);
        self.sseq = self.sseq.wrapping_add(1);
        self.t += self.rtt;
        self.push(true, A, &[]);
        self.t
    }

    /// Aborts with a RST from the client.
    pub fn reset(mut self) -> Micros {
        self.t += self.rtt;
        self.push(true, TcpFlags::RST | A, &[]);
        self.t
    }
}
