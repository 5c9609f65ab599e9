//! Packet decoding: link layer → (tunnels) → IP → TCP/UDP/ICMP, with `pnet::packet` views.
//!
//! The decoder turns one captured frame into a [`Decoded`] transport-layer view, or says why it
//! could not ([`DecodeError`], counted by kind in the replay summary) or that the frame carries
//! nothing Canh analyzes (`Ok(None)`: ARP, STP, …). It owns the IP defragmenter, so a
//! reassembled datagram is returned borrowed from the decoder itself.
//!
//! Tunnels are opened so that the inner conversation is what gets analyzed: IP-in-IP, GRE
//! (plain, transparent Ethernet, ERSPAN I/II/III), VXLAN, VXLAN-GPE, Geneve, Teredo, GTP-U,
//! PPPoE, MPLS.

use std::net::IpAddr;

use pnet_packet::ethernet::{EtherTypes, EthernetPacket};
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::sll::SLLPacket;
use pnet_packet::sll2::SLL2Packet;
use pnet_packet::tcp::TcpPacket;
use pnet_packet::udp::UdpPacket;
use pnet_packet::vlan::VlanPacket;

use crate::defrag::{Defragmenter, FragmentKey, FragmentOutcome};
use crate::time::Micros;

/// Link-layer header types (LINKTYPE_* values of pcap and pcapng) that the decoder opens.
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW_OLD: u32 = 12;
    pub const RAW_OLD2: u32 = 14;
    pub const PPP: u32 = 9;
    pub const C_HDLC: u32 = 104;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
    pub const IEEE802_11: u32 = 105;
    pub const IEEE802_11_RADIOTAP: u32 = 127;
    pub const NFLOG: u32 = 239;

    /// Every link type the decoder opens (a test holds this list to the decoder's own).
    pub const ALL: [u32; 15] = [
        NULL,
        ETHERNET,
        RAW_OLD,
        RAW_OLD2,
        PPP,
        C_HDLC,
        RAW,
        LOOP,
        LINUX_SLL,
        IPV4,
        IPV6,
        LINUX_SLL2,
        IEEE802_11,
        IEEE802_11_RADIOTAP,
        NFLOG,
    ];
}

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// Tunnels nested deeper than this are refused (`too_many_layers`): hostile captures can
/// nest encapsulations to make a decoder recurse without end.
const MAX_LAYERS: usize = 8;

/// Why a frame could not be decoded. Each kind is a counter in the replay summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecodeError {
    UnsupportedLinktype,
    TruncatedLink,
    TruncatedVlan,
    TruncatedIpv4,
    BadIpv4Header,
    TruncatedIpv6,
    BadIpv6ExtHeader,
    TruncatedTcp,
    BadTcpHeader,
    TruncatedUdp,
    TruncatedIcmp,
    TruncatedTunnel,
    TooManyLayers,
    FragmentDropped,
}

impl DecodeError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnsupportedLinktype => "unsupported_linktype",
            Self::TruncatedLink => "truncated_link_header",
            Self::TruncatedVlan => "truncated_vlan",
            Self::TruncatedIpv4 => "truncated_ipv4",
            Self::BadIpv4Header => "bad_ipv4_header",
            Self::TruncatedIpv6 => "truncated_ipv6",
            Self::BadIpv6ExtHeader => "bad_ipv6_extension_header",
            Self::TruncatedTcp => "truncated_tcp",
            Self::BadTcpHeader => "bad_tcp_header",
            Self::TruncatedUdp => "truncated_udp",
            Self::TruncatedIcmp => "truncated_icmp",
            Self::TruncatedTunnel => "truncated_tunnel",
            Self::TooManyLayers => "too_many_layers",
            Self::FragmentDropped => "ip_fragment_dropped",
        }
    }
}

impl DecodeError {
    /// Zeek's weird for it where Zeek has one (the summary's counter name is [`Self::as_str`]).
    pub fn weird_name(self) -> &'static str {
        match self {
            Self::UnsupportedLinktype => "unknown_link_type",
            Self::TruncatedLink => "truncated_link_header",
            Self::TruncatedVlan => "truncated_VLAN_header",
            Self::TruncatedIpv4 | Self::TruncatedIpv6 => "truncated_IP",
            Self::BadIpv4Header => "bogus_IP_header_lengths",
            Self::BadIpv6ExtHeader => "bad_IPv6_extension_header",
            Self::TruncatedTcp | Self::TruncatedUdp | Self::TruncatedIcmp => "truncated_header",
            Self::BadTcpHeader => "bad_TCP_header_len",
            Self::TruncatedTunnel => "truncated_tunnel_header",
            Self::TooManyLayers => "exceeded_tunnel_max_depth",
            Self::FragmentDropped => "fragment_dropped",
        }
    }
}

/// TCP header fields the flow table and reassembler need.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpHeader {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// A decoded packet at the transport layer: what the flow table consumes.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    /// Length of the innermost IP datagram (header included), as Zeek's `*_ip_bytes` count it.
    pub ip_len: u32,
    pub tcp: Option<TcpHeader>,
    pub payload: &'a [u8],
    /// The outermost tunnel this packet came through, if any.
    pub tunnel: Option<Tunnel<'a>>,
}

/// The kinds of tunnel the decoder opens, with Zeek's names for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// IP in IP (IPv4 or IPv6 in either).
    Ip,
    Gre,
    Vxlan,
    VxlanGpe,
    Geneve,
    Gtpv1,
    Teredo,
    Ayiya,
}

impl TunnelKind {
    /// Zeek's `Tunnel::Type` name, as tunnel.log writes it.
    pub fn zeek_name(self) -> &'static str {
        match self {
            Self::Ip => "Tunnel::IP",
            Self::Gre => "Tunnel::GRE",
            Self::Vxlan => "Tunnel::VXLAN",
            // Zeek does not decode VXLAN-GPE; named in its style.
            Self::VxlanGpe => "Tunnel::VXLAN_GPE",
            Self::Geneve => "Tunnel::GENEVE",
            Self::Gtpv1 => "Tunnel::GTPv1",
            Self::Teredo => "Tunnel::TEREDO",
            Self::Ayiya => "Tunnel::AYIYA",
        }
    }

    /// The service label of a UDP tunnel's outer connection, as Zeek's conn.log gives it.
    pub fn service(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Gre => "gre",
            Self::Vxlan => "vxlan",
            Self::VxlanGpe => "vxlan-gpe",
            Self::Geneve => "geneve",
            Self::Gtpv1 => "gtpv1",
            Self::Teredo => "teredo",
            Self::Ayiya => "ayiya",
        }
    }
}

/// A tunnel a packet was carried in: the outer IP datagram, so that the outer flow is logged
/// too (as Zeek logs it, with a `tunnel` record).
#[derive(Debug, Clone, Copy)]
pub struct Tunnel<'a> {
    pub kind: TunnelKind,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The outer transport: UDP, GRE (47), or IP-in-IP (4, 41).
    pub proto: u8,
    /// Length of the outer IP datagram.
    ip_len: u32,
    /// The outer IP payload (for a UDP tunnel, from its UDP header on).
    ip_payload: &'a [u8],
}

impl Tunnel<'_> {
    /// The outer packet as a packet of its own flow: a UDP tunnel's datagram, read as any
    /// other UDP datagram is. `None` for IP-in-IP and GRE, which have no ports.
    pub fn outer(&self) -> Option<Decoded<'_>> {
        (self.proto == PROTO_UDP)
            .then(|| transport(self.src, self.dst, self.proto, self.ip_len, self.ip_payload).ok())?
    }
}

/// One step of the layer walk: a finished transport view, or a fragment to hand to the
/// defragmenter before the walk can go on.
enum Step<'a> {
    Done(Decoded<'a>),
    NotIp,
    Fragment { key: FragmentKey, offset: usize, more: bool, header_len: usize, payload: &'a [u8] },
}

/// Decodes frames. One per flow-table worker (the defragmenter is stateful).
#[derive(Default)]
pub struct Decoder {
    defrag: Defragmenter,
    scratch: Vec<u8>,
}

impl Decoder {
    pub fn new(defrag: Defragmenter) -> Self {
        Self { defrag, scratch: Vec::new() }
    }

    /// Decodes one frame of the given link type captured at `ts`. `Ok(None)`: the frame
    /// carries nothing analyzed here (ARP, LLC), or is a fragment of an incomplete datagram.
    pub fn decode<'a>(
        &'a mut self,
        linktype: u32,
        frame: &'a [u8],
        ts: Micros,
    ) -> Result<Option<Decoded<'a>>, DecodeError> {
        let Some((ethertype, l3)) = link_payload(linktype, frame)? else {
            return Ok(None);
        };
        match walk(ethertype, l3, MAX_LAYERS)? {
            Step::Done(d) => Ok(Some(d)),
            Step::NotIp => Ok(None),
            Step::Fragment { key, offset, more, header_len, payload } => {
                match self.defrag.add(key, offset, more, payload, ts, &mut self.scratch) {
                    FragmentOutcome::Pending => Ok(None),
                    FragmentOutcome::Dropped => Err(DecodeError::FragmentDropped),
                    FragmentOutcome::Complete => {
                        let datagram: &'a [u8] = &self.scratch;
                        let ip_len = (header_len + datagram.len()) as u32;
                        // A fragment inside a reassembled tunnel would need a second buffer;
                        // such nesting is only ever seen in attacks, so it is refused.
                        match after_ip(key.src, key.dst, key.proto, ip_len, datagram, MAX_LAYERS)? {
                            Step::Done(d) => Ok(Some(d)),
                            Step::NotIp => Ok(None),
                            Step::Fragment { .. } => Err(DecodeError::FragmentDropped),
                        }
                    }
                }
            }
        }
    }
}

/// Walks from an ethertype down to the transport layer, through any tunnels.
fn walk(ethertype: u16, bytes: &[u8], depth: usize) -> Result<Step<'_>, DecodeError> {
    if depth == 0 {
        return Err(DecodeError::TooManyLayers);
    }
    match ethertype_payload(ethertype, bytes)? {
        None => Ok(Step::NotIp),
        Some((false, b)) => ipv4(b, depth),
        Some((true, b)) => ipv6(b, depth),
    }
}

/// Continues the walk above the IP layer: a tunnel goes round again, anything else is final.
fn after_ip(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ip_len: u32,
    payload: &[u8],
    depth: usize,
) -> Result<Step<'_>, DecodeError> {
    match inner_of(proto, payload)? {
        Some((kind, ethertype, inner)) => match walk(ethertype, inner, depth - 1)? {
            Step::Done(mut d) => {
                // Unwinding outwards: the outermost tunnel is the one kept.
                d.tunnel = Some(Tunnel { kind, src, dst, proto, ip_len, ip_payload: payload });
                Ok(Step::Done(d))
            }
            other => Ok(other),
        },
        None => transport(src, dst, proto, ip_len, payload).map(Step::Done),
    }
}

fn ipv4(bytes: &[u8], depth: usize) -> Result<Step<'_>, DecodeError> {
    let ip = Ipv4Packet::new(bytes).ok_or(DecodeError::TruncatedIpv4)?;
    let ihl = usize::from(ip.get_header_length()) * 4;
    if ip.get_version() != 4 || ihl < 20 || ihl > bytes.len() {
        return Err(DecodeError::BadIpv4Header);
    }
    let total = usize::from(ip.get_total_length());
    // Ethernet pads short frames; a capture may also cut the datagram short, and TSO frames
    // may claim a length of 0. Trust the header's length only when it fits what was captured.
    let end = if total >= ihl && total <= bytes.len() { total } else { bytes.len() };
    let src = IpAddr::V4(ip.get_source());
    let dst = IpAddr::V4(ip.get_destination());
    let proto = ip.get_next_level_protocol().0;
    let payload = &bytes[ihl..end];
    let more = ip.get_flags() & 0x1 != 0;
    let offset = usize::from(ip.get_fragment_offset()) * 8;
    if more || offset != 0 {
        let key = FragmentKey { src, dst, id: u32::from(ip.get_identification()), proto };
        return Ok(Step::Fragment { key, offset, more, header_len: ihl, payload });
    }
    after_ip(src, dst, proto, end as u32, payload, depth)
}

fn ipv6(bytes: &[u8], depth: usize) -> Result<Step<'_>, DecodeError> {
    let ip = Ipv6Packet::new(bytes).ok_or(DecodeError::TruncatedIpv6)?;
    if ip.get_version() != 6 {
        return Err(DecodeError::TruncatedIpv6);
    }
    let src = IpAddr::V6(ip.get_source());
    let dst = IpAddr::V6(ip.get_destination());
    let declared = 40 + usize::from(ip.get_payload_length());
    let end = if declared > 40 && declared <= bytes.len() { declared } else { bytes.len() };
    let mut next = ip.get_next_header().0;
    let mut pos = 40;
    // Walk the extension header chain to the upper-layer protocol.
    loop {
        match next {
            0 | 43 | 60 | 135 | 139 | 140 => {
                let h = bytes.get(pos..pos + 2).ok_or(DecodeError::BadIpv6ExtHeader)?;
                let len = (usize::from(h[1]) + 1) * 8;
                if pos + len > end {
                    return Err(DecodeError::BadIpv6ExtHeader);
                }
                next = h[0];
                pos += len;
            }
            51 => {
                // Authentication Header: length in 4-octet units, minus 2.
                let h = bytes.get(pos..pos + 2).ok_or(DecodeError::BadIpv6ExtHeader)?;
                let len = (usize::from(h[1]) + 2) * 4;
                if pos + len > end {
                    return Err(DecodeError::BadIpv6ExtHeader);
                }
                next = h[0];
                pos += len;
            }
            44 => {
                let h = bytes.get(pos..pos + 8).ok_or(DecodeError::BadIpv6ExtHeader)?;
                let proto = h[0];
                let off_flags = u16::from_be_bytes([h[2], h[3]]);
                let offset = usize::from(off_flags >> 3) * 8;
                let more = off_flags & 1 != 0;
                let id = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
                pos += 8;
                let payload = bytes.get(pos..end).ok_or(DecodeError::BadIpv6ExtHeader)?;
                if offset == 0 && !more {
                    // An atomic fragment (RFC 6946): the datagram is whole.
                    return after_ip(src, dst, proto, end as u32, payload, depth);
                }
                let key = FragmentKey { src, dst, id, proto };
                return Ok(Step::Fragment { key, offset, more, header_len: pos, payload });
            }
            _ => {
                if pos > end {
                    return Err(DecodeError::BadIpv6ExtHeader);
                }
                return after_ip(src, dst, next, end as u32, &bytes[pos..end], depth);
            }
        }
    }
}

/// Strips the link-layer header: returns the ethertype of what follows, and its bytes.
fn link_payload(linktype: u32, frame: &[u8]) -> Result<Option<(u16, &[u8])>, DecodeError> {
    match linktype {
        linktype::ETHERNET => ethernet(frame).map(Some),
        linktype::RAW | linktype::RAW_OLD | linktype::RAW_OLD2 | linktype::IPV4 | linktype::IPV6 => Ok(raw_ip(frame)),
        linktype::LINUX_SLL => {
            // pnet's views accept frames a little shorter than the header; check the length.
            let rest = frame.get(16..).ok_or(DecodeError::TruncatedLink)?;
            let sll = SLLPacket::new(frame).ok_or(DecodeError::TruncatedLink)?;
            Ok(Some((sll.get_protocol().0, rest)))
        }
        linktype::LINUX_SLL2 => {
            let rest = frame.get(20..).ok_or(DecodeError::TruncatedLink)?;
            let sll = SLL2Packet::new(frame).ok_or(DecodeError::TruncatedLink)?;
            Ok(Some((sll.get_protocol_type().0, rest)))
        }
        linktype::NULL | linktype::LOOP => {
            // BSD loopback: a 4-byte address family, in the capturing host's byte order for
            // NULL (so either order), in network order for LOOP.
            let h = frame.get(..4).ok_or(DecodeError::TruncatedLink)?;
            let be = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
            let le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
            let family = if linktype == linktype::LOOP || be < 256 { be } else { le };
            Ok(match family {
                2 => Some((EtherTypes::Ipv4.0, &frame[4..])),
                10 | 24 | 28 | 30 => Some((EtherTypes::Ipv6.0, &frame[4..])),
                _ => None,
            })
        }
        linktype::PPP | linktype::C_HDLC => {
            // Cisco HDLC carries an ethertype after address and control; PPP carries a PPP
            // protocol number, optionally after the HDLC-like 0xff 0x03 framing.
            let h = frame.get(..4).ok_or(DecodeError::TruncatedLink)?;
            if linktype == linktype::C_HDLC {
                return Ok(Some((u16::from_be_bytes([h[2], h[3]]), &frame[4..])));
            }
            let (proto, rest) = if h[0] == 0xff && h[1] == 0x03 {
                (u16::from_be_bytes([h[2], h[3]]), &frame[4..])
            } else {
                (u16::from_be_bytes([h[0], h[1]]), &frame[2..])
            };
            Ok(ppp_protocol(proto).map(|t| (t, rest)))
        }
        linktype::IEEE802_11_RADIOTAP => {
            // Radiotap: a little-endian header length at offset 2, then the 802.11 frame.
            let h = frame.get(..4).ok_or(DecodeError::TruncatedLink)?;
            let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
            wifi(frame.get(len..).ok_or(DecodeError::TruncatedLink)?)
        }
        linktype::IEEE802_11 => wifi(frame),
        linktype::NFLOG => nflog(frame),
        _ => Err(DecodeError::UnsupportedLinktype),
    }
}

/// An 802.11 data frame: MAC header (with the 4th address and QoS control when present),
/// then LLC/SNAP with an ethertype. Management and control frames carry no IP.
fn wifi(f: &[u8]) -> Result<Option<(u16, &[u8])>, DecodeError> {
    let fc = f.get(..2).ok_or(DecodeError::TruncatedLink)?;
    let (kind, subtype) = ((fc[0] >> 2) & 0x3, fc[0] >> 4);
    if kind != 2 || subtype & 0x4 != 0 {
        return Ok(None);
    }
    let mut len = 24;
    if fc[1] & 0x03 == 0x03 {
        len += 6;
    }
    if subtype & 0x8 != 0 {
        len += 2;
    }
    let llc = f.get(len..len + 8).ok_or(DecodeError::TruncatedLink)?;
    if llc[..3] != [0xaa, 0xaa, 0x03] {
        return Ok(None);
    }
    Ok(Some((u16::from_be_bytes([llc[6], llc[7]]), &f[len + 8..])))
}

/// Linux NFLOG: a 4-byte header, then TLVs (little-endian length and type, 4-byte aligned);
/// type 9 holds the packet from its IP header on.
fn nflog(f: &[u8]) -> Result<Option<(u16, &[u8])>, DecodeError> {
    let family = *f.first().ok_or(DecodeError::TruncatedLink)?;
    let mut pos = 4;
    while let Some(h) = f.get(pos..pos + 4) {
        let len = usize::from(u16::from_le_bytes([h[0], h[1]]));
        let kind = u16::from_le_bytes([h[2], h[3]]);
        if len < 4 {
            return Err(DecodeError::TruncatedLink);
        }
        if kind == 9 {
            let payload = f.get(pos + 4..pos + len).ok_or(DecodeError::TruncatedLink)?;
            let ethertype = if family == 10 { EtherTypes::Ipv6.0 } else { EtherTypes::Ipv4.0 };
            return Ok(Some((ethertype, payload)));
        }
        pos += len.div_ceil(4) * 4;
    }
    Ok(None)
}

/// Maps a PPP protocol number to the ethertype of its payload.
fn ppp_protocol(proto: u16) -> Option<u16> {
    match proto {
        0x0021 => Some(EtherTypes::Ipv4.0),
        0x0057 => Some(EtherTypes::Ipv6.0),
        _ => None,
    }
}

fn raw_ip(frame: &[u8]) -> Option<(u16, &[u8])> {
    match frame.first()? >> 4 {
        4 => Some((EtherTypes::Ipv4.0, frame)),
        6 => Some((EtherTypes::Ipv6.0, frame)),
        _ => None,
    }
}

fn ethernet(mut frame: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    if frame.get(12..14) == Some(&[0x89, 0x03]) {
        // Cisco FabricPath: a 16-byte outer header (addresses, ethertype, FTag and TTL)
        // before the original frame, which Zeek skips the same way.
        frame = frame.get(16..).ok_or(DecodeError::TruncatedLink)?;
    }
    let eth = EthernetPacket::new(frame).ok_or(DecodeError::TruncatedLink)?;
    let ethertype = eth.get_ethertype().0;
    let rest = &frame[14..];
    if ethertype <= 1500 {
        // An 802.3 length field, then 802.2 LLC. With SNAP (AA AA 03, an OUI) an ethertype
        // follows, which may be IP; plain LLC (STP) and Novell raw frames carry no IP.
        let llc = &rest[..rest.len().min(usize::from(ethertype))];
        if llc.len() >= 8 && llc[..3] == [0xaa, 0xaa, 0x03] {
            return Ok((u16::from_be_bytes([llc[6], llc[7]]), &llc[8..]));
        }
        return Ok((ethertype, rest));
    }
    Ok((ethertype, rest))
}

/// Opens VLAN tags, PPPoE and MPLS until an IP header. `Ok(None)`: not IP (ARP, LLC, …).
fn ethertype_payload(mut ethertype: u16, mut bytes: &[u8]) -> Result<Option<(bool, &[u8])>, DecodeError> {
    for _ in 0..MAX_LAYERS {
        match ethertype {
            0x0800 => return Ok(Some((false, bytes))),
            0x86dd => return Ok(Some((true, bytes))),
            // 802.1Q, 802.1ad (QinQ) and the old 0x9100 QinQ tag.
            0x8100 | 0x88a8 | 0x9100 => {
                let vlan = VlanPacket::new(bytes).ok_or(DecodeError::TruncatedVlan)?;
                ethertype = vlan.get_ethertype().0;
                bytes = &bytes[4..];
            }
            // PBB (802.1ah, MAC-in-MAC): a 4-byte I-TAG, then the customer's Ethernet frame.
            0x88e7 => {
                let customer = bytes.get(4..).ok_or(DecodeError::TruncatedVlan)?;
                (ethertype, bytes) = ethernet(customer)?;
            }
            // Cisco VN-Tag: a 4-byte tag, then the ethertype.
            0x8926 => {
                let h = bytes.get(..6).ok_or(DecodeError::TruncatedVlan)?;
                ethertype = u16::from_be_bytes([h[4], h[5]]);
                bytes = &bytes[6..];
            }
            // PPPoE session: 6-byte header, then a PPP protocol number.
            0x8864 => {
                let h = bytes.get(..8).ok_or(DecodeError::TruncatedTunnel)?;
                match ppp_protocol(u16::from_be_bytes([h[6], h[7]])) {
                    Some(t) => {
                        ethertype = t;
                        bytes = &bytes[8..];
                    }
                    None => return Ok(None),
                }
            }
            // MPLS unicast/multicast: pop labels to bottom of stack, guess IP by version.
            0x8847 | 0x8848 => {
                let mut pos = 0;
                loop {
                    let label = bytes.get(pos..pos + 4).ok_or(DecodeError::TruncatedTunnel)?;
                    pos += 4;
                    if label[2] & 0x01 != 0 {
                        break;
                    }
                    if pos > 4 * MAX_LAYERS {
                        return Err(DecodeError::TooManyLayers);
                    }
                }
                match raw_ip(&bytes[pos..]) {
                    Some((t, b)) => {
                        ethertype = t;
                        bytes = b;
                    }
                    None => return Ok(None),
                }
            }
            _ => return Ok(None),
        }
    }
    Err(DecodeError::TooManyLayers)
}

/// A tunnel's kind, and the ethertype and bytes of what it carries.
type Carried<'a> = (TunnelKind, u16, &'a [u8]);

/// A tunnel's kind with what it carries.
fn tagged(kind: TunnelKind, inner: Option<(u16, &[u8])>) -> Option<Carried<'_>> {
    inner.map(|(t, b)| (kind, t, b))
}

/// If the IP payload is itself a tunnel, returns its kind, and the encapsulated
/// frame's ethertype and bytes.
fn inner_of(proto: u8, payload: &[u8]) -> Result<Option<Carried<'_>>, DecodeError> {
    match proto {
        4 => Ok(Some((TunnelKind::Ip, EtherTypes::Ipv4.0, payload))),
        41 => Ok(Some((TunnelKind::Ip, EtherTypes::Ipv6.0, payload))),
        47 => Ok(tagged(TunnelKind::Gre, gre(payload)?)),
        PROTO_UDP => udp_tunnel(payload),
        _ => Ok(None),
    }
}

/// UDP tunnels, each recognised by its destination port (or either port where the protocol
/// answers from it) and a valid header, as Suricata and Zeek do.
fn udp_tunnel(payload: &[u8]) -> Result<Option<Carried<'_>>, DecodeError> {
    let Some(udp) = UdpPacket::new(payload) else { return Ok(None) };
    let body = &payload[8..];
    let (sport, dport) = (udp.get_source(), udp.get_destination());
    if dport == 4789 && body.len() >= 8 + 14 && body[0] & 0x08 != 0 {
        // VXLAN: 8-byte header with the I flag, then an Ethernet frame. By destination
        // port only (RFC 7348 §5: the source port is a hash of the inner flow): a DNS
        // query from client port 4789 is DNS.
        let (ethertype, inner) = ethernet(&body[8..])?;
        return Ok(Some((TunnelKind::Vxlan, ethertype, inner)));
    }
    if dport == 6081 && body.len() >= 8 && body[0] >> 6 == 0 {
        // Geneve: 8 bytes plus options (length in 4-byte words), then the protocol.
        let start = 8 + usize::from(body[0] & 0x3f) * 4;
        let inner = body.get(start..).ok_or(DecodeError::TruncatedTunnel)?;
        return Ok(tagged(
            TunnelKind::Geneve,
            match u16::from_be_bytes([body[2], body[3]]) {
                0x6558 => Some(ethernet(inner)?),
                t @ (0x0800 | 0x86dd) => Some((t, inner)),
                _ => None,
            },
        ));
    }
    if dport == 4790 && body.len() >= 8 && body[0] & 0x04 != 0 {
        // VXLAN-GPE: the next-protocol byte says what follows the 8-byte header.
        let inner = &body[8..];
        return Ok(tagged(
            TunnelKind::VxlanGpe,
            match body[3] {
                1 => Some((EtherTypes::Ipv4.0, inner)),
                2 => Some((EtherTypes::Ipv6.0, inner)),
                3 => Some(ethernet(inner)?),
                _ => None,
            },
        ));
    }
    // GTP-U by destination port (both directions send to 2152), a version-1 header and
    // a G-PDU message type, as Suricata recognises it.
    if dport == 2152 && body.len() >= 8 && body[0] >> 5 == 1 && body[1] == 0xff {
        // GTP-U (mobile core): a G-PDU's payload is the subscriber's IP packet.
        let mut pos = 8;
        if body[0] & 0x07 != 0 {
            // Sequence number, N-PDU and next-extension-type, then extension headers.
            let mut next = *body.get(11).ok_or(DecodeError::TruncatedTunnel)?;
            pos = 12;
            while next != 0 {
                let len = usize::from(*body.get(pos).ok_or(DecodeError::TruncatedTunnel)?) * 4;
                if len == 0 {
                    return Err(DecodeError::TruncatedTunnel);
                }
                next = *body.get(pos + len - 1).ok_or(DecodeError::TruncatedTunnel)?;
                pos += len;
            }
        }
        return Ok(tagged(TunnelKind::Gtpv1, raw_ip(body.get(pos..).ok_or(DecodeError::TruncatedTunnel)?)));
    }
    // Teredo by either port (a relay answers from 3544 to the client's port), and only
    // when what follows is a whole IPv6 packet (checked below).
    if (dport == 3544 || sport == 3544) && body.len() >= 40 {
        // Teredo: IPv6 in UDP, optionally after origin (0x0000) or auth (0x0001) headers.
        let mut b = body;
        if b.starts_with(&[0x00, 0x01]) && b.len() > 4 {
            let skip = 4 + usize::from(b[2]) + usize::from(b[3]) + 8 + 1;
            b = b.get(skip..).unwrap_or(&[]);
        }
        if b.starts_with(&[0x00, 0x00]) {
            b = b.get(8..).unwrap_or(&[]);
        }
        if b.len() >= 40 && b[0] >> 4 == 6 && 40 + usize::from(u16::from_be_bytes([b[4], b[5]])) == b.len() {
            return Ok(Some((TunnelKind::Teredo, EtherTypes::Ipv6.0, b)));
        }
    }
    if dport == 5072 && body.len() >= 8 && body[1] == 0x52 && body[2] & 0x0f == 1 {
        // AYIYA (anything in anything): 8 bytes, then an identity and a signature
        // whose sizes the header gives; a forward (opcode 1) carries an IP packet.
        let start = 8 + (1usize << (body[0] >> 4)) + usize::from(body[1] >> 4) * 4;
        let inner = body.get(start..).ok_or(DecodeError::TruncatedTunnel)?;
        return Ok(tagged(
            TunnelKind::Ayiya,
            match body[3] {
                4 => Some((EtherTypes::Ipv4.0, inner)),
                41 => Some((EtherTypes::Ipv6.0, inner)),
                _ => None,
            },
        ));
    }
    if dport == 4754 {
        // GRE in UDP (RFC 8086): a GRE header, then what GRE carries.
        return Ok(tagged(TunnelKind::Gre, gre(body)?));
    }
    Ok(None)
}

/// GRE (RFC 2784/2890) and the ERSPAN types carried in it. Parsed here rather than with
/// pnet's `GrePacket`, which panics on source-routed headers.
fn gre(b: &[u8]) -> Result<Option<(u16, &[u8])>, DecodeError> {
    let h = b.get(..4).ok_or(DecodeError::TruncatedTunnel)?;
    let flags = h[0];
    let version = h[1] & 0x07;
    let proto = u16::from_be_bytes([h[2], h[3]]);
    let mut pos = 4;
    if version == 1 {
        // Enhanced GRE (PPTP): key is always present; sequence and ack are optional.
        pos += 4;
        if flags & 0x10 != 0 {
            pos += 4;
        }
        if h[1] & 0x80 != 0 {
            pos += 4;
        }
        let rest = b.get(pos..).ok_or(DecodeError::TruncatedTunnel)?;
        if proto != 0x880b || rest.len() < 2 {
            return Ok(None);
        }
        let (ppp, rest) = if rest.starts_with(&[0xff, 0x03]) {
            (rest.get(2..4), &rest[rest.len().min(4)..])
        } else {
            (rest.get(..2), &rest[2..])
        };
        let ppp = ppp.ok_or(DecodeError::TruncatedTunnel)?;
        return Ok(ppp_protocol(u16::from_be_bytes([ppp[0], ppp[1]])).map(|t| (t, rest)));
    }
    if version != 0 {
        return Ok(None);
    }
    let routing = flags & 0x40 != 0;
    if flags & 0x80 != 0 || routing {
        pos += 4; // checksum + offset
    }
    if flags & 0x20 != 0 {
        pos += 4; // key
    }
    let has_seq = flags & 0x10 != 0;
    if has_seq {
        pos += 4;
    }
    if routing {
        // Source route entries until the NULL entry (address family 0, length 0).
        loop {
            let sre = b.get(pos..pos + 4).ok_or(DecodeError::TruncatedTunnel)?;
            let len = usize::from(sre[3]);
            pos += 4 + len;
            if sre[0] == 0 && sre[1] == 0 && len == 0 {
                break;
            }
        }
    }
    let rest = b.get(pos..).ok_or(DecodeError::TruncatedTunnel)?;
    match proto {
        0x0800 | 0x86dd => Ok(Some((proto, rest))),
        // Transparent Ethernet bridging.
        0x6558 => ethernet(rest).map(Some),
        // ERSPAN type I has no header (and no sequence bit); type II an 8-byte header.
        0x88be => {
            let skip = if has_seq { 8 } else { 0 };
            ethernet(rest.get(skip..).ok_or(DecodeError::TruncatedTunnel)?).map(Some)
        }
        // ERSPAN type III: 12-byte header, plus an 8-byte platform subheader when O is set.
        0x22eb => {
            let hdr = rest.get(..12).ok_or(DecodeError::TruncatedTunnel)?;
            let skip = if hdr[11] & 0x01 != 0 { 20 } else { 12 };
            ethernet(rest.get(skip..).ok_or(DecodeError::TruncatedTunnel)?).map(Some)
        }
        0x880b => {
            let ppp = rest.get(..2).ok_or(DecodeError::TruncatedTunnel)?;
            Ok(ppp_protocol(u16::from_be_bytes([ppp[0], ppp[1]])).map(|t| (t, &rest[2..])))
        }
        // Aruba access points tunnel their clients' 802.11 frames to the controller in GRE
        // with these protocol types (Zeek's test of them).
        p if (p & 0x8200 == 0x8200 && p & 0x0f == 0)
            || (p & 0x8300 == 0x8300 && p & 0x0f == 0 && p <= 0x8370)
            || p == 0x9000 =>
        {
            if rest.is_empty() {
                return Err(DecodeError::TruncatedTunnel);
            }
            wifi(rest)
        }
        _ => Ok(None),
    }
}

fn transport<'a>(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ip_len: u32,
    payload: &'a [u8],
) -> Result<Decoded<'a>, DecodeError> {
    let mut d = Decoded { src, dst, proto, sport: 0, dport: 0, ip_len, tcp: None, payload: &[], tunnel: None };
    match proto {
        PROTO_TCP => {
            let tcp = TcpPacket::new(payload).ok_or(DecodeError::TruncatedTcp)?;
            let off = usize::from(tcp.get_data_offset()) * 4;
            if off < 20 {
                return Err(DecodeError::BadTcpHeader);
            }
            if off > payload.len() {
                return Err(DecodeError::TruncatedTcp);
            }
            d.sport = tcp.get_source();
            d.dport = tcp.get_destination();
            d.tcp = Some(TcpHeader {
                seq: tcp.get_sequence(),
                ack: tcp.get_acknowledgement(),
                flags: tcp.get_flags(),
                window: tcp.get_window(),
            });
            d.payload = &payload[off..];
        }
        PROTO_UDP => {
            let udp = UdpPacket::new(payload).ok_or(DecodeError::TruncatedUdp)?;
            d.sport = udp.get_source();
            d.dport = udp.get_destination();
            let len = usize::from(udp.get_length());
            let end = if len >= 8 && len <= payload.len() { len } else { payload.len() };
            d.payload = &payload[8..end];
        }
        PROTO_ICMP | PROTO_ICMPV6 => {
            // Zeek keys ICMP "connections" by type (as the originator's port) and, as the
            // responder's, the counterpart type of a request/reply pair or else the code. Its
            // byte counts leave out the 8-byte header, as `payload` does here.
            let h = payload.get(..8).ok_or(DecodeError::TruncatedIcmp)?;
            d.sport = u16::from(h[0]);
            d.dport = icmp_counterpart(proto, d.sport).unwrap_or(u16::from(h[1]));
            d.payload = &payload[8..];
        }
        _ => d.payload = payload,
    }
    Ok(d)
}

/// The ICMP types that come in request/reply pairs, as Zeek (`ICMP4_counterpart`,
/// `ICMP6_counterpart`) and the Community ID spec pair them; other messages are one-way.
pub fn icmp_counterpart(proto: u8, icmp_type: u16) -> Option<u16> {
    let pairs: &[(u16, u16)] = if proto == PROTO_ICMP {
        // Echo, timestamp, information, router solicitation/advertisement, address mask.
        &[(8, 0), (13, 14), (15, 16), (10, 9), (17, 18)]
    } else {
        // Echo, router and neighbor discovery, MLD, node information, home agent discovery.
        &[(128, 129), (133, 134), (135, 136), (130, 131), (139, 140), (144, 145)]
    };
    pairs.iter().find_map(|&(a, b)| {
        if a == icmp_type {
            Some(b)
        } else if b == icmp_type {
            Some(a)
        } else {
            None
        }
    })
}

/// The IP addresses of a frame, for hashing frames to workers without a full decode. Fragments
/// of one datagram share addresses, so they reach the same worker as the rest of their flow.
pub fn address_hash(linktype: u32, frame: &[u8]) -> u64 {
    fn hash_ips(a: &[u8], b: &[u8]) -> u64 {
        // Symmetric: both directions of a flow hash alike.
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut h: u64 = 0xcbf29ce484222325;
        for byte in lo.iter().chain(hi) {
            h = (h ^ u64::from(*byte)).wrapping_mul(0x100000001b3);
        }
        h
    }
    let Ok(Some((ethertype, l3))) = link_payload(linktype, frame) else { return 0 };
    match ethertype_payload(ethertype, l3) {
        Ok(Some((false, b))) if b.len() >= 20 => hash_ips(&b[12..16], &b[16..20]),
        Ok(Some((true, b))) if b.len() >= 40 => hash_ips(&b[8..24], &b[24..40]),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linktype_all_is_exactly_what_the_decoder_opens() {
        for t in 0..1024u32 {
            let opened = !matches!(link_payload(t, &[]), Err(DecodeError::UnsupportedLinktype));
            assert_eq!(opened, linktype::ALL.contains(&t), "link type {t}");
        }
    }

    /// Crashes found by fuzzing, kept as regressions.
    #[test]
    fn short_and_inconsistent_headers_are_errors_not_panics() {
        let mut d = Decoder::default();
        for len in 0..24 {
            let frame = vec![0x08u8; len];
            for lt in [
                linktype::LINUX_SLL,
                linktype::LINUX_SLL2,
                linktype::ETHERNET,
                linktype::NULL,
                linktype::PPP,
                linktype::IEEE802_11_RADIOTAP,
                linktype::NFLOG,
            ] {
                let _ = d.decode(lt, &frame, 0);
            }
        }
        // IPv6 whose payload length ends inside a fragment header.
        let mut v6 = vec![0x60, 0, 0, 0, 0, 4, 44, 64];
        v6.extend_from_slice(&[0u8; 32]);
        v6.extend_from_slice(&[17, 0, 0, 8, 0, 0, 0, 1, 0xde, 0xad]);
        assert_eq!(d.decode(linktype::RAW, &v6, 0).err(), Some(DecodeError::BadIpv6ExtHeader));
    }

    #[test]
    fn vlan_qinq_and_udp() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00]);
        f.extend_from_slice(&[0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 12, 0, 0, b'a', b'b', b'c', b'd']);
        let mut d = Decoder::default();
        let p = d.decode(linktype::ETHERNET, &f, 0).unwrap().unwrap();
        assert_eq!((p.proto, p.sport, p.dport, p.payload), (PROTO_UDP, 12345, 53, b"abcd".as_slice()));
        assert_eq!(p.dst.to_string(), "10.0.0.2");
    }

    #[test]
    fn vxlan_is_by_destination_port_only() {
        // A DNS query from client port 4789 whose id's first byte has VXLAN's I flag (0x08):
        // DNS, not a tunnel. (Found by comparing with Suricata's flows on the anchors' mix.)
        let mut query = vec![0x08, 0x01, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        query.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = 20 + 8 + query.len();
        f.extend_from_slice(&[0x45, 0, 0, total as u8, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0x12, 0xb5, 0, 53, 0, (8 + query.len()) as u8, 0, 0]);
        f.extend_from_slice(&query);
        let mut d = Decoder::default();
        let p = d.decode(linktype::ETHERNET, &f, 0).unwrap().unwrap();
        assert_eq!((p.proto, p.sport, p.dport, p.payload), (PROTO_UDP, 4789, 53, query.as_slice()));
    }

    /// An IPv4 header (checksum left zero; the decoder does not check it) for `payload`.
    fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0, 0, 64, proto, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(payload);
        p
    }

    fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = sport.to_be_bytes().to_vec();
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        u
    }

    /// The packet every tunnel below carries: DNS-like UDP from 10.0.0.1:1000 to 10.0.0.2:53.
    fn inner() -> Vec<u8> {
        ipv4(17, [10, 0, 0, 1], [10, 0, 0, 2], &udp(1000, 53, b"abcd"))
    }

    fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn decoded_inner(frame: &[u8]) -> (u16, u16, Option<&'static str>) {
        let mut d = Decoder::default();
        let p = d.decode(linktype::ETHERNET, frame, 0).expect("decodes").expect("an IP packet");
        assert_eq!((p.src.to_string(), p.payload), ("10.0.0.1".to_string(), b"abcd".as_slice()));
        (p.sport, p.dport, p.tunnel.map(|t| t.kind.zeek_name()))
    }

    /// The link layers and tunnels Zeek decodes, each from a byte fixture to the packet inside.
    #[test]
    fn link_layers_and_tunnels_zeek_decodes() {
        // 802.2 LLC/SNAP: an 802.3 length, then AA AA 03, an OUI and the ethertype.
        let mut llc = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        llc.extend_from_slice(&inner());
        let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        frame.extend_from_slice(&(llc.len() as u16).to_be_bytes());
        frame.extend_from_slice(&llc);
        assert_eq!(decoded_inner(&frame), (1000, 53, None));
        // Cisco FabricPath: a 16-byte outer header before the original frame.
        let mut fp = vec![2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, 8, 0x89, 0x03, 0x00, 0x3f];
        fp.extend_from_slice(&ether(0x0800, &inner()));
        assert_eq!(decoded_inner(&fp), (1000, 53, None));
        // PBB (802.1ah): the I-TAG, then the customer's frame.
        let mut pbb = vec![0, 0, 0, 7];
        pbb.extend_from_slice(&ether(0x0800, &inner()));
        assert_eq!(decoded_inner(&ether(0x88e7, &pbb)), (1000, 53, None));
        // VN-Tag: four bytes, then the ethertype.
        let mut vntag = vec![0x80, 0x01, 0x00, 0x02, 0x08, 0x00];
        vntag.extend_from_slice(&inner());
        assert_eq!(decoded_inner(&ether(0x8926, &vntag)), (1000, 53, None));
        // AYIYA: 16-byte identity, 20-byte signature, forward opcode, next header IPv4.
        let mut ayiya = vec![0x41, 0x52, 0x11, 4, 0, 0, 0, 0];
        ayiya.extend_from_slice(&[0u8; 36]);
        ayiya.extend_from_slice(&inner());
        let outer = ipv4(17, [192, 0, 2, 1], [192, 0, 2, 2], &udp(40000, 5072, &ayiya));
        assert_eq!(decoded_inner(&ether(0x0800, &outer)), (1000, 53, Some("Tunnel::AYIYA")));
        // GRE in UDP (RFC 8086).
        let mut gre = vec![0, 0, 0x08, 0x00];
        gre.extend_from_slice(&inner());
        let outer = ipv4(17, [192, 0, 2, 1], [192, 0, 2, 2], &udp(40000, 4754, &gre));
        assert_eq!(decoded_inner(&ether(0x0800, &outer)), (1000, 53, Some("Tunnel::GRE")));
        // Aruba GRE: an access point's 802.11 data frame, with LLC/SNAP, to its controller.
        let mut aruba = vec![0, 0, 0x82, 0x00];
        aruba.extend_from_slice(&[0x08, 0x01]);
        aruba.extend_from_slice(&[0u8; 22]);
        aruba.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        aruba.extend_from_slice(&inner());
        let outer = ipv4(47, [192, 0, 2, 1], [192, 0, 2, 2], &aruba);
        assert_eq!(decoded_inner(&ether(0x0800, &outer)), (1000, 53, Some("Tunnel::GRE")));
        // IP in IP; and the outermost tunnel is the one named when tunnels nest.
        let outer = ipv4(4, [192, 0, 2, 1], [192, 0, 2, 2], &inner());
        assert_eq!(decoded_inner(&ether(0x0800, &outer)), (1000, 53, Some("Tunnel::IP")));
        let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
        vxlan.extend_from_slice(&ether(0x0800, &outer));
        let outermost = ipv4(17, [198, 51, 100, 1], [198, 51, 100, 2], &udp(50000, 4789, &vxlan));
        let mut d = Decoder::default();
        let frame = ether(0x0800, &outermost);
        let p = d.decode(linktype::ETHERNET, &frame, 0).unwrap().unwrap();
        let t = p.tunnel.expect("tunnelled");
        let o = t.outer().expect("a UDP tunnel's outer datagram");
        assert_eq!(
            (t.kind, o.src.to_string(), o.sport, o.dport),
            (TunnelKind::Vxlan, "198.51.100.1".to_string(), 50000, 4789)
        );
        assert_eq!(o.payload, vxlan.as_slice());
    }
}
