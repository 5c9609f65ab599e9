//! One connection: its endpoints (the originator is the sender of the first packet, or of the
//! SYN), counters per direction, TCP state as Zeek's `conn_state` and `history`, its
//! reassemblers, its application-layer state and its stream-head artifacts.

use std::net::IpAddr;
use std::sync::Arc;

use crate::app::dns::{DnsState, DnsTcp};
use crate::app::http::HttpConn;
use crate::app::http2::{self, Http2Conn};
use crate::app::quic::QuicConn;
use crate::app::tls::TlsConn;
use crate::app::{AppConfig, Ctx, Output, service_label};
use crate::community_id::community_id;
use crate::decode::{Decoded, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, icmp_counterpart, tcp_flags};
use crate::files::StreamHead;
use crate::proto;
use crate::reassembly::{Budget, Chunk, Reassembler, StreamLimits};
use crate::record::{Body, Conn, Head, Origin, Record};
use crate::time::{Micros, as_secs_f64};

pub const ORIG: usize = 0;
pub const RESP: usize = 1;

/// A flow's identity, the same for both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
    proto: u8,
}

impl FlowKey {
    pub fn of(d: &Decoded<'_>) -> Self {
        let (a, b) = ((d.src, d.sport), (d.dst, d.dport));
        // An ICMP message with no counterpart type (an unreachable, a time exceeded) is a
        // one-way flow of its own, as Zeek keys it: never merged with an exchange between the
        // same hosts, nor with the same message sent the other way.
        let icmp = d.proto == PROTO_ICMP || d.proto == PROTO_ICMPV6;
        let one_way = icmp && icmp_counterpart(d.proto, d.sport).is_none();
        let (lo, hi) = if a <= b || one_way { (a, b) } else { (b, a) };
        Self { lo, hi, proto: d.proto }
    }
}

/// Ports that identify a server, for deciding who originated a flow seen mid-stream.
fn is_service_port(p: u16) -> bool {
    p < 1024
        || matches!(
            p,
            1433 | 1521
                | 3306
                | 3389
                | 5060
                | 5353
                | 5355
                | 5432
                | 6379
                | 8000
                | 8008
                | 8080
                | 8443
                | 8888
                | 9200
                | 27017
        )
}

/// UDP request/response services whose server side is known (Zeek's `likely_server_ports`
/// for them): a datagram from one of these ports to a port that is not one is the server's
/// answer, whatever came first in the capture. 68 is DHCP's client port, so it is not here.
fn is_udp_server_port(p: u16) -> bool {
    matches!(
        p,
        53 | 67 | 69 | 123 | 137 | 138 | 161 | 389 | 500 | 514 | 1812 | 1813 | 1900 | 3478 | 4500 | 5060 | 5353 | 5355
    )
}

/// Zeek's connection history: one letter per event kind and direction, in the order first
/// seen; upper case for the originator.
#[derive(Debug, Default)]
struct History {
    text: String,
    /// One bit per letter and direction: each is recorded once.
    seen: u64,
}

impl History {
    fn add(&mut self, letter: u8, dir: usize) {
        let bit = u32::from(letter - b'a') + 26 * dir as u32;
        if self.seen & (1 << bit) == 0 {
            self.seen |= 1 << bit;
            self.text.push(if dir == ORIG { letter.to_ascii_uppercase() } else { letter } as char);
        }
    }
}

#[derive(Default)]
enum App {
    #[default]
    Undecided,
    Http(Box<HttpConn>),
    Http2(Box<Http2Conn>),
    Tls(Box<TlsConn>),
    DnsTcp(Box<DnsTcp>),
    DnsUdp(DnsState),
    Quic(Box<QuicConn>),
    Other,
}

impl App {
    fn service(&self) -> Option<&'static str> {
        match self {
            App::Http(_) => Some("http"),
            App::Http2(_) => Some("http2"),
            App::Tls(_) => Some("ssl"),
            App::DnsTcp(_) | App::DnsUdp(_) => Some("dns"),
            App::Quic(_) => Some("quic"),
            App::Undecided | App::Other => None,
        }
    }
}

/// What a flow needs from its engine while handling a packet.
pub struct FlowEnv<'a> {
    pub app: &'a AppConfig,
    pub stream: &'a StreamLimits,
    pub budget: &'a mut Budget,
    pub out: &'a mut Output,
}

pub struct Flow {
    pub id: u64,
    head: Head,
    proto: u8,
    pub start: Micros,
    pub last: Micros,
    pkts: [u64; 2],
    ip_bytes: [u64; 2],
    payload_bytes: [u64; 2],
    history: History,
    /// TCP flags seen per direction (OR of all).
    flags: [u8; 2],
    /// Which side sent the first RST.
    first_rst: Option<usize>,
    reasm: Option<Box<[Reassembler; 2]>>,
    streams: Streams,
    /// Set when this flow is a UDP tunnel's outer flow: its service label. Its payload is
    /// the tunnel, not an application.
    tunnel_service: Option<&'static str>,
    /// The uids of the tunnels that carried this flow.
    tunnel_parents: Vec<String>,
}

const FIRST_BYTES: usize = 16;

impl Flow {
    /// Creates a flow from its first packet, deciding who the originator is.
    pub fn new(id: u64, d: &Decoded<'_>, ts: Micros, origin: &Origin) -> Self {
        let mut flip = false;
        let mut history = History::default();
        if let Some(tcp) = d.tcp {
            // A SYN-ACK first means the SYN was missed: the receiver is the originator.
            let synack = tcp.flags & (tcp_flags::SYN | tcp_flags::ACK) == (tcp_flags::SYN | tcp_flags::ACK);
            let syn = tcp.flags & tcp_flags::SYN != 0;
            flip = synack || (!syn && is_service_port(d.sport) && !is_service_port(d.dport));
        } else if d.proto == PROTO_UDP {
            flip = (is_udp_server_port(d.sport) && !is_udp_server_port(d.dport))
                || (is_service_port(d.sport) && !is_service_port(d.dport));
        }
        // ICMP is never flipped: as in Zeek, the sender of the first message seen is the
        // originator (an echo reply seen alone is logged from 0 to 8).
        if flip {
            history.text.push('^');
        }
        let (orig, resp) =
            if flip { ((d.dst, d.dport), (d.src, d.sport)) } else { ((d.src, d.sport), (d.dst, d.dport)) };
        let cid = community_id(d.src, d.dst, d.proto, d.sport, d.dport);
        let uid = crate::ids::uid(orig, resp, d.proto, ts);
        let head = Head {
            ts: as_secs_f64(ts),
            uid: Arc::from(uid),
            orig_h: orig.0,
            orig_p: orig.1,
            resp_h: resp.0,
            resp_p: resp.1,
            community_id: Arc::from(cid),
            origin: origin.clone(),
        };
        Self {
            id,
            head,
            proto: d.proto,
            start: ts,
            last: ts,
            pkts: [0; 2],
            ip_bytes: [0; 2],
            payload_bytes: [0; 2],
            history,
            flags: [0; 2],
            first_rst: None,
            reasm: (d.proto == PROTO_TCP).then(Default::default),
            streams: Streams::default(),
            tunnel_service: None,
            tunnel_parents: Vec::new(),
        }
    }

    /// True once both sides closed (FIN each way) or one reset: only stragglers remain.
    pub fn closed(&self) -> bool {
        let fin = |d: usize| self.flags[d] & tcp_flags::FIN != 0;
        self.reasm.is_some() && (self.first_rst.is_some() || (fin(ORIG) && fin(RESP)))
    }

    pub fn proto(&self) -> u8 {
        self.proto
    }

    pub fn is_tcp(&self) -> bool {
        self.reasm.is_some()
    }

    fn direction(&self, d: &Decoded<'_>) -> usize {
        if (d.src, d.sport) == (self.head.orig_h, self.head.orig_p) { ORIG } else { RESP }
    }

    /// True when this packet opens a new connection on the same ports: a SYN after the
    /// connection closed, other than a late copy of the connection's own SYN.
    pub fn reused_by(&self, d: &Decoded<'_>) -> bool {
        let Some(t) = d.tcp else { return false };
        if t.flags & (tcp_flags::SYN | tcp_flags::ACK) != tcp_flags::SYN || !self.closed() {
            return false;
        }
        !self.reasm.as_ref().is_some_and(|r| r[self.direction(d)].is_initial(t.seq))
    }

    /// Handles one packet of this flow.
    pub fn packet(&mut self, d: &Decoded<'_>, ts: Micros, env: &mut FlowEnv<'_>) {
        let dir = self.direction(d);
        // Capture clocks can step backwards; a flow's last-seen time never does.
        self.last = self.last.max(ts);
        self.pkts[dir] += 1;
        self.ip_bytes[dir] += u64::from(d.ip_len);
        if let Some(tcp) = d.tcp {
            self.tcp_packet(dir, tcp, d.payload, ts, env);
        } else {
            self.payload_bytes[dir] += d.payload.len() as u64;
            // Zeek keeps no history for ICMP.
            if !d.payload.is_empty() && !self.proto_is_icmp() {
                self.history.add(b'd', dir);
                if self.proto == PROTO_UDP {
                    self.udp_payload(dir, d.payload, ts, env);
                }
            }
        }
    }

    fn proto_is_icmp(&self) -> bool {
        self.proto == PROTO_ICMP || self.proto == PROTO_ICMPV6
    }

    /// Marks this flow as a UDP tunnel's outer flow.
    pub fn carries_tunnel(&mut self, service: &'static str) {
        self.tunnel_service = Some(service);
        self.streams.app = App::Other;
    }

    /// Notes a tunnel that carried this flow.
    pub fn add_tunnel_parent(&mut self, uid: &str) {
        if !self.tunnel_parents.iter().any(|p| p == uid) {
            self.tunnel_parents.push(uid.to_string());
        }
    }

    pub fn head(&self) -> &Head {
        &self.head
    }

    fn udp_payload(&mut self, dir: usize, payload: &[u8], ts: Micros, env: &mut FlowEnv<'_>) {
        if let App::Undecided = self.streams.app {
            let dns_port = |p: u16| matches!(p, 53 | 5353 | 5355);
            // NetBIOS name service shares DNS's message format but is a protocol of its own.
            let netbios = |p: u16| matches!(p, 137 | 138);
            let (o, r) = (self.head.orig_p, self.head.resp_p);
            // A client's first QUIC Initial is padded to at least 1,200 bytes.
            let quic =
                dir == ORIG && payload.len() >= 1200 && proto::quic::long_header(payload).is_some_and(|h| h.initial);
            self.streams.app =
                if dns_port(o) || dns_port(r) || (!netbios(o) && !netbios(r) && proto::dns::looks_like_dns(payload)) {
                    App::DnsUdp(DnsState::new("udp"))
                } else if quic {
                    App::Quic(Box::default())
                } else {
                    App::Other
                };
        }
        let mut ctx = Ctx { head: &self.head, ts, cfg: env.app, out: env.out };
        match &mut self.streams.app {
            App::DnsUdp(state) => state.message(payload, &mut ctx),
            App::Quic(q) => q.datagram(dir, payload, &mut ctx),
            _ => {}
        }
    }

    fn tcp_packet(
        &mut self,
        dir: usize,
        tcp: crate::decode::TcpHeader,
        payload: &[u8],
        ts: Micros,
        env: &mut FlowEnv<'_>,
    ) {
        use tcp_flags::*;
        let f = tcp.flags;
        let closed_both_ways = self.flags[ORIG] & FIN != 0 && self.flags[RESP] & FIN != 0;
        self.flags[dir] |= f;
        if f & SYN != 0 {
            self.history.add(if f & ACK != 0 { b'h' } else { b's' }, dir);
        }
        if f & FIN != 0 {
            self.history.add(b'f', dir);
        }
        if f & RST != 0 {
            self.history.add(b'r', dir);
            // A reset after both sides closed is a straggler: the connection ended normally
            // (Zeek's `SF`).
            if !closed_both_ways {
                self.first_rst.get_or_insert(dir);
            }
        }
        if f & ACK != 0 && payload.is_empty() && f & (SYN | FIN | RST) == 0 {
            self.history.add(b'a', dir);
        }
        // Zeek's other letters: a zero window advertised, FIN and RST at once, SYN with FIN or RST.
        if tcp.window == 0 && f & RST == 0 {
            self.history.add(b'w', dir);
        }
        if f & FIN != 0 && f & RST != 0 {
            self.history.add(b'i', dir);
        }
        if f & SYN != 0 && f & (FIN | RST) != 0 {
            self.history.add(b'q', dir);
        }
        let Some(reasm) = self.reasm.as_mut() else { return };
        let retransmits_before = reasm[dir].retransmits;
        let mut gaps = [false; 2];
        let Self { head, streams, .. } = self;
        reasm[dir].segment(tcp.seq, f & SYN != 0, f & FIN != 0, payload, env.stream, env.budget, &mut |chunk| {
            gaps[dir] |= matches!(chunk, Chunk::Gap(_));
            streams.deliver(dir, chunk, ts, head, env.app, env.stream, env.out)
        });
        if f & ACK != 0 {
            reasm[1 - dir].ack(tcp.ack, env.budget, &mut |chunk| {
                gaps[1 - dir] |= matches!(chunk, Chunk::Gap(_));
                streams.deliver(1 - dir, chunk, ts, head, env.app, env.stream, env.out)
            });
        }
        if !payload.is_empty() {
            self.history.add(if reasm[dir].retransmits > retransmits_before { b't' } else { b'd' }, dir);
        }
        for d in [ORIG, RESP] {
            if gaps[d] {
                self.history.add(b'g', d);
            }
        }
    }

    /// Ends the flow: flushes reassembly and the application layer, then logs the stream
    /// heads and the connection.
    pub fn finish(mut self, env: &mut FlowEnv<'_>) {
        let ts = self.last;
        let Self { head, streams, reasm, history, .. } = &mut self;
        if let Some(reasm) = reasm.as_mut() {
            for dir in [ORIG, RESP] {
                let mut gap = false;
                reasm[dir].close(env.budget, &mut |chunk| {
                    gap |= matches!(chunk, Chunk::Gap(_));
                    streams.deliver(dir, chunk, ts, head, env.app, env.stream, env.out)
                });
                if gap {
                    history.add(b'g', dir);
                }
                // Zeek's `X` (one letter for the connection): a limit cut the analysis short,
                // a cap that forced a hole or the depth past which bytes are only counted.
                if reasm[dir].forced_skip || reasm[dir].max_end > env.stream.depth {
                    history.add(b'x', ORIG);
                }
            }
        }
        {
            let mut ctx = Ctx { head: &self.head, ts, cfg: env.app, out: env.out };
            match &mut self.streams.app {
                App::Http(h) => h.finish(&mut ctx),
                App::Http2(h) => h.finish(&mut ctx),
                App::Tls(t) => t.finish(&mut ctx),
                App::DnsTcp(d) => d.state.finish(&mut ctx),
                App::DnsUdp(d) => d.finish(&mut ctx),
                App::Quic(q) => q.finish(&mut ctx),
                App::Undecided | App::Other => {}
            }
        }
        let service = self.tunnel_service.or_else(|| self.streams.app.service()).or_else(|| {
            service_label(&self.streams.first_bytes[ORIG], &self.streams.first_bytes[RESP], self.head.resp_p)
        });
        for dir in [ORIG, RESP] {
            if let Some(stream_head) = self.streams.stream_heads[dir].take() {
                let fuid = crate::ids::fuid(&self.head.uid, "stream", dir as u64);
                env.out.artifacts.push(stream_head.finish(&self.head, fuid, service, dir == ORIG));
            }
        }
        let conn = self.conn_record(service);
        let mut head = self.head.clone();
        head.ts = as_secs_f64(self.start);
        env.out.records.push(Record { head, body: Body::Conn(conn) });
    }

    fn conn_record(&self, service: Option<&'static str>) -> Conn {
        let (orig_bytes, resp_bytes, missed) = match &self.reasm {
            Some(r) => (r[ORIG].max_end, r[RESP].max_end, r[ORIG].missed + r[RESP].missed),
            None => (self.payload_bytes[ORIG], self.payload_bytes[RESP], 0),
        };
        Conn {
            proto: match self.proto {
                PROTO_TCP => "tcp",
                PROTO_UDP => "udp",
                PROTO_ICMP | PROTO_ICMPV6 => "icmp",
                _ => "unknown_transport",
            },
            service,
            duration: as_secs_f64(self.last.saturating_sub(self.start)),
            orig_bytes,
            resp_bytes,
            conn_state: self.conn_state(),
            missed_bytes: missed,
            history: self.history.text.clone(),
            orig_pkts: self.pkts[ORIG],
            orig_ip_bytes: self.ip_bytes[ORIG],
            resp_pkts: self.pkts[RESP],
            resp_ip_bytes: self.ip_bytes[RESP],
            tunnel_parents: self.tunnel_parents.clone(),
        }
    }

    /// Zeek's `conn_state` (see Zeek's base/protocols/conn/main.zeek for the definitions).
    fn conn_state(&self) -> &'static str {
        use tcp_flags::*;
        if self.proto_is_icmp() {
            return "OTH";
        }
        if self.reasm.is_none() {
            return match (self.pkts[ORIG] > 0, self.pkts[RESP] > 0) {
                (true, true) => "SF",
                (true, false) => "S0",
                _ => "SHR",
            };
        }
        let [o, r] = self.flags;
        let o_syn = o & SYN != 0 && self.history.text.contains('S');
        let r_synack = r & SYN != 0;
        let (o_fin, r_fin) = (o & FIN != 0, r & FIN != 0);
        let (o_rst, r_rst) = (o & RST != 0, r & RST != 0);
        if o_syn && !r_synack {
            if r_rst {
                return "REJ";
            }
            if self.pkts[RESP] == 0 {
                return if o_rst {
                    "RSTOS0"
                } else if o_fin {
                    "SH"
                } else {
                    "S0"
                };
            }
        }
        if !o_syn && r_synack && self.pkts[ORIG] == 0 {
            return if r_rst {
                "RSTRH"
            } else if r_fin {
                "SHR"
            } else {
                "OTH"
            };
        }
        if !o_syn && !r_synack {
            return "OTH";
        }
        match self.first_rst {
            Some(ORIG) => return "RSTO",
            Some(_) => return "RSTR",
            None => {}
        }
        match (o_fin, r_fin) {
            (true, true) => "SF",
            (true, false) => "S2",
            (false, true) => "S3",
            (false, false) => "S1",
        }
    }
}

/// What a connection does with its payload: its application state (UDP too) and, for TCP, the
/// first bytes of each direction (for service labels), the stream-head artifacts, and how much
/// of each direction was handed on (for the depth limit).
#[derive(Default)]
struct Streams {
    app: App,
    first_bytes: [Vec<u8>; 2],
    /// Kept only when artifacts are handed on (to YARA, to extraction).
    stream_heads: [Option<StreamHead>; 2],
    delivered: [u64; 2],
}

impl Streams {
    /// Hands one reassembled chunk of direction `dir` to the stream head and the application.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        dir: usize,
        chunk: Chunk<'_>,
        ts: Micros,
        head: &Head,
        cfg: &AppConfig,
        limits: &StreamLimits,
        out: &mut Output,
    ) {
        let Self { app, first_bytes, stream_heads, delivered } = self;
        if delivered[dir] >= limits.depth {
            return;
        }
        let mut ctx = Ctx { head, ts, cfg, out };
        match chunk {
            Chunk::Gap(n) => {
                delivered[dir] += n;
                if let Some(stream_head) = stream_heads[dir].as_mut() {
                    stream_head.gap();
                }

                match app {
                    App::Http(h) => h.gap(dir, n, &mut ctx),
                    App::Http2(h) => h.gap(dir),
                    App::Tls(t) => t.gap(dir),
                    App::DnsTcp(d) => d.gap(dir),
                    _ => {}
                }
            }
            Chunk::Data(data) => {
                let data = &data[..data.len().min((limits.depth - delivered[dir]) as usize)];
                delivered[dir] += data.len() as u64;
                if first_bytes[dir].is_empty() {
                    first_bytes[dir].extend_from_slice(&data[..data.len().min(FIRST_BYTES)]);
                }
                // A TLS stream's head ends where its encrypted records begin: it keeps the
                // handshake in clear (hellos, certificates) and not ciphertext.
                let ciphertext = matches!(app, App::Tls(t) if t.encrypted(dir));
                if cfg.keep_artifacts && cfg.stream_head_bytes > 0 && !ciphertext {
                    let stream_head = stream_heads[dir]
                        .get_or_insert_with(|| StreamHead::new(cfg.stream_head_bytes, ts, &ctx.out.retain));
                    let room = cfg.stream_head_bytes as u64 - stream_head.seen().min(cfg.stream_head_bytes as u64);
                    if room > 0 {
                        stream_head.update(&data[..data.len().min(room as usize)]);
                    }
                }
                if let App::Undecided = app {
                    *app = detect(dir, data, head);
                }
                match app {
                    App::Http(h) => h.data(dir, data, &mut ctx),
                    App::Http2(h) => h.data(dir, data, &mut ctx),
                    App::Tls(t) => t.data(dir, data, &mut ctx),
                    App::DnsTcp(d) => d.data(dir, data, &mut ctx),
                    _ => {}
                }
            }
        }
    }
}

/// Decides a TCP connection's protocol from the first bytes of either side.
fn detect(dir: usize, data: &[u8], head: &Head) -> App {
    if dir == ORIG
        && (data.starts_with(http2::PREFACE) || (data.len() < http2::PREFACE.len() && http2::PREFACE.starts_with(data)))
    {
        return App::Http2(Box::default());
    }
    // A capture may begin with the response; the requests that follow are still parsed.
    if (dir == ORIG && proto::http::looks_like_request(data)) || (dir == RESP && proto::http::looks_like_response(data))
    {
        return App::Http(Box::default());
    }
    if data.len() >= 3 && data[0] == 0x16 && data[1] == 3 && data[2] <= 4 {
        return App::Tls(Box::default());
    }
    if head.resp_p == 53 || head.orig_p == 53 {
        return App::DnsTcp(Box::new(DnsTcp::new()));
    }
    App::Other
}
