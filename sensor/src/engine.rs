//! The engine: frames in, records and artifacts out. It owns a decoder, the flow table with
//! its timeouts and caps, and the reassembly memory budget. One engine per worker thread;
//! frames are hashed to workers by address so that a flow always meets the same engine.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use crate::app::{AppConfig, Output};
use crate::decode::{DecodeError, Decoded, Decoder, TunnelKind};
use crate::defrag::{DefragLimits, Defragmenter};
use crate::flow::{Flow, FlowEnv, FlowKey};
use crate::reassembly::{Budget, StreamLimits};
use crate::record::{Body, Head, Origin, Record, TunnelRecord, Weird};
use crate::time::{Micros, SECOND, as_secs_f64};

/// Everything that bounds or shapes the engine. Defaults follow Zeek's timeouts.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Idle time after which a TCP connection ends (Zeek's tcp_inactivity_timeout).
    pub tcp_timeout: Micros,
    pub udp_timeout: Micros,
    pub other_timeout: Micros,
    /// Time a closed (FIN/FIN or RST) TCP connection lingers for stragglers (late RSTs and
    /// retransmissions), as Suricata's 60 s; a new SYN reusing the ports ends it at once.
    pub closed_linger: Micros,
    /// A connection is logged and forgotten after this long even if still active.
    pub active_timeout: Micros,
    /// Connections tracked at once; past this the one due first is logged and dropped. Each
    /// costs about 2 KB (measured under a SYN flood, see BENCHMARKS.md).
    pub max_flows: usize,
    pub stream: StreamLimits,
    /// Out-of-order bytes buffered across all connections.
    pub reassembly_memcap: usize,
    pub defrag: DefragLimits,
    pub app: AppConfig,
    pub origin: Origin,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            tcp_timeout: 300 * SECOND,
            udp_timeout: 60 * SECOND,
            other_timeout: 60 * SECOND,
            closed_linger: 60 * SECOND,
            active_timeout: 3600 * SECOND,
            max_flows: 250_000,
            stream: StreamLimits::default(),
            reassembly_memcap: 256 << 20,
            defrag: DefragLimits::default(),
            app: AppConfig::default(),
            origin: Origin::default(),
        }
    }
}

/// Counters of one engine (summed across workers for the summary).
#[derive(Debug, Clone, Default)]
pub struct EngineStats {
    pub packets: u64,
    /// Bytes on the wire (original frame lengths).
    pub bytes: u64,
    pub flows: u64,
    /// Flows ended early because the table was full.
    pub flows_evicted: u64,
    /// Frames that carry nothing analyzed (ARP, STP, …).
    pub not_ip: u64,
    pub decode_errors: [u64; DECODE_ERROR_KINDS],
    /// Holes skipped because a reassembly cap was reached.
    pub reassembly_forced_gaps: u64,
    pub peak_flows: u64,
    pub peak_reassembly_bytes: u64,
    pub peak_artifact_bytes: u64,
}

pub const DECODE_ERROR_KINDS: usize = DecodeError::FragmentDropped as usize + 1;

impl EngineStats {
    pub fn add(&mut self, o: &EngineStats) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.flows += o.flows;
        self.flows_evicted += o.flows_evicted;
        self.not_ip += o.not_ip;
        for (a, b) in self.decode_errors.iter_mut().zip(o.decode_errors) {
            *a += b;
        }
        self.reassembly_forced_gaps += o.reassembly_forced_gaps;
        self.peak_flows += o.peak_flows;
        self.peak_reassembly_bytes += o.peak_reassembly_bytes;
        self.peak_artifact_bytes += o.peak_artifact_bytes;
    }

    /// Decode errors by kind, non-zero only.
    pub fn decode_errors_by_kind(&self) -> Vec<(&'static str, u64)> {
        ALL_DECODE_ERRORS
            .iter()
            .map(|e| (e.as_str(), self.decode_errors[*e as usize]))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

const ALL_DECODE_ERRORS: [DecodeError; DECODE_ERROR_KINDS] = [
    DecodeError::UnsupportedLinktype,
    DecodeError::TruncatedLink,
    DecodeError::TruncatedVlan,
    DecodeError::TruncatedIpv4,
    DecodeError::BadIpv4Header,
    DecodeError::TruncatedIpv6,
    DecodeError::BadIpv6ExtHeader,
    DecodeError::TruncatedTcp,
    DecodeError::BadTcpHeader,
    DecodeError::TruncatedUdp,
    DecodeError::TruncatedIcmp,
    DecodeError::TruncatedTunnel,
    DecodeError::TooManyLayers,
    DecodeError::FragmentDropped,
];

/// The connections by their key. Keys come from the network, so the hash is seeded per process
/// (foldhash's random state, as hashbrown's default): a flood cannot aim at one bucket. It is
/// looked up once per packet, where std's SipHash took 2-3 % of a replay's profile.
type FlowTable = HashMap<FlowKey, Box<Flow>, foldhash::fast::RandomState>;

pub struct Engine {
    cfg: EngineConfig,
    decoder: Decoder,
    /// Flows are boxed so that growing the table moves pointers, not whole flows.
    flows: FlowTable,
    /// (when to look at the flow again, its key, its id): one entry per live flow, and one
    /// more once it closed.
    due: BinaryHeap<Reverse<(Micros, FlowKey, u64)>>,
    budget: Budget,
    next_id: u64,
    now: Micros,
    next_sweep: Micros,
    pub stats: EngineStats,
    pub out: Output,
    /// IP and GRE tunnels seen, by outer addresses and kind, with their uids.
    ip_tunnels: HashMap<(IpAddr, IpAddr, TunnelKind), Arc<str>>,
}

/// IP and GRE tunnels remembered (to log each once, and name it in its inner flows); past
/// this the memory starts over, and a tunnel still in use is logged again.
const MAX_IP_TUNNELS: usize = 4096;

/// A `tunnel` record for a tunnel first seen.
fn tunnel_discovered(head: Head, kind: TunnelKind) -> Record {
    Record { head, body: Body::Tunnel(TunnelRecord { tunnel_type: kind.zeek_name(), action: "Tunnel::DISCOVER" }) }
}

/// The flow table's state, borrowed apart from the decoder whose buffers a decoded packet
/// points into.
struct Tables<'e> {
    cfg: &'e EngineConfig,
    flows: &'e mut FlowTable,
    due: &'e mut BinaryHeap<Reverse<(Micros, FlowKey, u64)>>,
    budget: &'e mut Budget,
    next_id: &'e mut u64,
    stats: &'e mut EngineStats,
    out: &'e mut Output,
}

impl Tables<'_> {
    /// Hands a packet to its flow, creating the flow if needed. `tunnel`: the packet is the
    /// outer datagram of a UDP tunnel of this kind. `parent`: the uid of the tunnel that
    /// carried it.
    fn packet(&mut self, decoded: &Decoded<'_>, ts: Micros, tunnel: Option<TunnelKind>, parent: Option<&str>) {
        let key = FlowKey::of(decoded);
        let cfg = self.cfg;
        let mut env = FlowEnv { app: &cfg.app, stream: &cfg.stream, budget: self.budget, out: self.out };
        // One lookup per packet. A new SYN on a connection that already closed is the port
        // being reused: the old connection is logged and a new one begins (as Zeek and Arkime do).
        match self.flows.get_mut(&key) {
            Some(flow) if !flow.reused_by(decoded) => {
                let was_closed = flow.closed();
                if let Some(uid) = parent {
                    flow.add_tunnel_parent(uid);
                }
                flow.packet(decoded, ts, &mut env);
                if !was_closed && flow.closed() {
                    // Closing shortens the flow's time: look at it again after the linger.
                    self.due.push(Reverse((ts + cfg.closed_linger, key, flow.id)));
                }
                return;
            }
            Some(_) => {
                let old = self.flows.remove(&key).expect("flow exists");
                old.finish(&mut env);
            }
            None => {}
        }
        if self.flows.len() >= cfg.max_flows {
            evict_one(self.flows, self.due, &mut env);
            self.stats.flows_evicted += 1;
        }
        *self.next_id += 1;
        let mut flow = Box::new(Flow::new(*self.next_id, decoded, ts, &cfg.origin));
        if let Some(kind) = tunnel {
            flow.carries_tunnel(kind.service());
            env.out.records.push(tunnel_discovered(flow.head().clone(), kind));
        }
        if let Some(uid) = parent {
            flow.add_tunnel_parent(uid);
        }
        flow.packet(decoded, ts, &mut env);
        let deadline = ts + timeout(cfg, &flow).min(cfg.active_timeout);
        self.due.push(Reverse((deadline, key, flow.id)));
        self.flows.insert(key, flow);
        self.stats.flows += 1;
        self.stats.peak_flows = self.stats.peak_flows.max(self.flows.len() as u64);
    }

    /// The uid of the flow `decoded` belongs to (after [`Self::packet`] gave it one).
    fn uid_of(&self, decoded: &Decoded<'_>) -> Option<Arc<str>> {
        self.flows.get(&FlowKey::of(decoded)).map(|f| f.head().uid.clone())
    }
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        let cfg_artifact_memcap = cfg.app.artifact_memcap;
        Self {
            decoder: Decoder::new(Defragmenter::new(cfg.defrag)),
            budget: Budget::new(cfg.reassembly_memcap),
            cfg,
            flows: FlowTable::default(),
            due: BinaryHeap::new(),
            next_id: 0,
            now: 0,
            next_sweep: 0,
            stats: EngineStats::default(),
            out: Output::new(crate::files::RetainBudget::new(cfg_artifact_memcap)),
            ip_tunnels: HashMap::new(),
        }
    }

    /// Takes the records and artifacts produced so far.
    pub fn drain(&mut self) -> Output {
        self.out.take()
    }

    /// Processes one frame.
    pub fn packet(&mut self, ts: Micros, linktype: u32, frame: &[u8], wire_len: u32) {
        self.stats.packets += 1;
        self.stats.bytes += u64::from(wire_len);
        // Capture time only moves forward; a frame from the past does not rewind timers.
        if ts > self.now {
            self.now = ts;
        }
        if self.now >= self.next_sweep {
            self.expire(self.now);
            self.next_sweep = self.now + SECOND;
        }
        let Self { decoder, cfg, flows, due, budget, next_id, stats, out, ip_tunnels, .. } = self;
        let decoded = match decoder.decode(linktype, frame, ts) {
            Ok(Some(d)) => d,
            Ok(None) => {
                stats.not_ip += 1;
                return;
            }
            Err(e) => {
                let seen = &mut stats.decode_errors[e as usize];
                *seen += 1;
                if weird_sampled(*seen) {
                    out.records.push(decoder_weird(e, ts, &cfg.origin));
                }
                return;
            }
        };
        let mut tables = Tables { cfg, flows, due, budget, next_id, stats, out };
        // A tunnelled packet belongs to two flows, as in Zeek: the outer one (for a UDP
        // tunnel, a connection of its own) and the one inside, which names the tunnel's uid
        // among its `tunnel_parents`. A tunnel is logged when first seen.
        let parent = decoded.tunnel.and_then(|t| {
            if let Some(outer) = t.outer() {
                tables.packet(&outer, ts, Some(t.kind), None);
                return tables.uid_of(&outer);
            }
            let key = (t.src, t.dst, t.kind);
            if let Some(uid) = ip_tunnels.get(&key) {
                return Some(uid.clone());
            }
            if ip_tunnels.len() >= MAX_IP_TUNNELS {
                ip_tunnels.clear();
            }
            let uid: Arc<str> = Arc::from(crate::ids::uid((t.src, 0), (t.dst, 0), t.proto, ts));
            let head = Head {
                ts: as_secs_f64(ts),
                uid: uid.clone(),
                orig_h: t.src,
                orig_p: 0,
                resp_h: t.dst,
                resp_p: 0,
                community_id: Arc::from(crate::community_id::community_id(t.src, t.dst, t.proto, 0, 0)),
                origin: tables.cfg.origin.clone(),
            };
            tables.out.records.push(tunnel_discovered(head, t.kind));
            ip_tunnels.insert(key, uid.clone());
            Some(uid)
        });
        tables.packet(&decoded, ts, None, parent.as_deref());
        self.stats.peak_reassembly_bytes = self.stats.peak_reassembly_bytes.max(self.budget.used as u64);
        self.stats.peak_artifact_bytes = self.stats.peak_artifact_bytes.max(self.out.retain.used() as u64);
    }

    /// Ends the flows whose time is up.
    fn expire(&mut self, now: Micros) {
        while let Some(Reverse((deadline, key, id))) = self.due.peek().copied() {
            if deadline > now {
                break;
            }
            self.due.pop();
            let Some(flow) = self.flows.get(&key) else { continue };
            if flow.id != id {
                continue;
            }
            let idle_end = flow.last + timeout(&self.cfg, flow);
            let active_end = flow.start + self.cfg.active_timeout;
            let end = idle_end.min(active_end);
            if end <= now {
                let flow = self.flows.remove(&key).expect("flow exists");
                let mut env = FlowEnv {
                    app: &self.cfg.app,
                    stream: &self.cfg.stream,
                    budget: &mut self.budget,
                    out: &mut self.out,
                };
                flow.finish(&mut env);
            } else {
                self.due.push(Reverse((end, key, id)));
            }
        }
    }

    /// Moves the clock to `now` without a packet, ending the flows whose time is up: a live
    /// capture on a quiet link still logs connections that went idle.
    pub fn advance(&mut self, now: Micros) {
        if now > self.now {
            self.now = now;
            self.expire(now);
            self.next_sweep = now + SECOND;
        }
    }

    /// Ends every flow (end of input).
    pub fn finish(&mut self) {
        let mut flows: Vec<Box<Flow>> = self.flows.drain().map(|(_, f)| f).collect();
        // Log in start order, which is what a reader of the logs expects.
        flows.sort_by_key(|f| (f.start, f.id));
        let mut env =
            FlowEnv { app: &self.cfg.app, stream: &self.cfg.stream, budget: &mut self.budget, out: &mut self.out };
        for flow in flows {
            flow.finish(&mut env);
        }
        self.due.clear();
        self.stats.reassembly_forced_gaps = self.budget.forced_gaps;
    }

    pub fn flows_in_table(&self) -> usize {
        self.flows.len()
    }
}

/// Weirds of the decoder logged of each kind: the first 25, then one in 1,000 (Zeek's
/// `Weird::sampling_threshold` and `sampling_rate`): a flood of broken frames must not become a
/// flood of records. The summary counts every one.
const WEIRD_SAMPLING_THRESHOLD: u64 = 25;
const WEIRD_SAMPLING_RATE: u64 = 1000;

fn weird_sampled(nth: u64) -> bool {
    nth <= WEIRD_SAMPLING_THRESHOLD || nth.is_multiple_of(WEIRD_SAMPLING_RATE)
}

/// A frame the decoder gave up on, as a flowless `weird` record: it never reached a connection.
fn decoder_weird(e: DecodeError, ts: Micros, origin: &Origin) -> Record {
    let weird = Weird {
        name: e.weird_name(),
        addl: Some(e.as_str().to_string()),
        notice: false,
        peer: origin.sensor.clone(),
        source: "decoder",
    };
    Record { head: Head::flowless(as_secs_f64(ts), origin.clone()), body: Body::Weird(weird) }
}

fn timeout(cfg: &EngineConfig, flow: &Flow) -> Micros {
    if flow.is_tcp() {
        if flow.closed() { cfg.closed_linger } else { cfg.tcp_timeout }
    } else if flow.proto() == crate::decode::PROTO_UDP {
        cfg.udp_timeout
    } else {
        cfg.other_timeout
    }
}

/// Ends the flow that is due first, to make room.
fn evict_one(flows: &mut FlowTable, due: &mut BinaryHeap<Reverse<(Micros, FlowKey, u64)>>, env: &mut FlowEnv<'_>) {
    while let Some(Reverse((_, key, id))) = due.pop() {
        if flows.get(&key).is_some_and(|f| f.id == id) {
            let flow = flows.remove(&key).expect("flow exists");
            flow.finish(env);
            return;
        }
    }
}
