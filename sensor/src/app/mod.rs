//! Per-flow application-layer state: which protocol a connection speaks (decided by content,
//! not only by port), and the state machines that turn its bytes into records and artifacts.

pub mod dns;
pub mod http;
pub mod http2;
pub mod quic;
pub mod tls;

use crate::files::{Artifact, RetainBudget};
use crate::record::{Body, Head, Record, Weird};
use crate::time::{Micros, as_secs_f64};

/// What the application layer may keep and hand on.
#[derive(Debug, Clone, Copy)]
pub struct AppConfig {
    /// Bytes of each TCP stream direction kept as a stream-head artifact.
    pub stream_head_bytes: usize,
    /// Bytes of each artifact handed on (for YARA, extraction). Bodies are hashed whole.
    pub artifact_bytes: usize,
    /// Whether artifacts are handed on at all (false: files records only).
    pub keep_artifacts: bool,
    /// A compressed HTTP body is decoded up to this many bytes (decompression bombs).
    pub max_decoded_body: u64,
    /// Bytes held by all artifacts being built at once (see [`RetainBudget`]).
    pub artifact_memcap: usize,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            stream_head_bytes: 64 * 1024,
            artifact_bytes: 16 << 20,
            keep_artifacts: false,
            max_decoded_body: 64 << 20,
            artifact_memcap: 256 << 20,
        }
    }
}

impl AppConfig {
    /// How many bytes of an artifact of at most `cap` bytes to keep: none unless artifacts
    /// are handed on (the MIME sniffer keeps its few KiB regardless).
    pub fn kept(&self, cap: usize) -> usize {
        if self.keep_artifacts { cap } else { 0 }
    }
}

/// Records and artifacts produced while processing packets, drained by the caller.
#[derive(Debug)]
pub struct Output {
    pub records: Vec<Record>,
    pub artifacts: Vec<Artifact>,
    /// The engine's budget for artifact bytes in flight (shared by its artifacts).
    pub retain: RetainBudget,
}

impl Output {
    pub fn new(retain: RetainBudget) -> Self {
        Self { records: Vec::new(), artifacts: Vec::new(), retain }
    }

    /// Takes the records and artifacts, leaving the budget in place.
    pub fn take(&mut self) -> Output {
        Output {
            records: std::mem::take(&mut self.records),
            artifacts: std::mem::take(&mut self.artifacts),
            retain: self.retain.clone(),
        }
    }
}

/// Bytes of a weird's `addl` kept: enough to show the offending value, not to carry a payload.
const WEIRD_ADDL_MAX: usize = 160;

/// What an application state machine needs from its flow.
pub struct Ctx<'a> {
    pub head: &'a Head,
    pub ts: Micros,
    pub cfg: &'a AppConfig,
    pub out: &'a mut Output,
}

impl Ctx<'_> {
    pub fn emit(&mut self, ts: Micros, body: Body) {
        let mut head = self.head.clone();
        head.ts = as_secs_f64(ts);
        self.out.records.push(Record { head, body });
    }

    /// Logs something unexpected in this connection (a [`Weird`] record): `source` is the
    /// protocol analyzer that found it, `addl` what it saw (from the wire: cut short here,
    /// escaped wherever it is shown).
    pub fn weird(&mut self, source: &'static str, name: &'static str, addl: Option<String>) {
        let addl = addl.map(|mut a| {
            if a.len() > WEIRD_ADDL_MAX {
                let mut cut = WEIRD_ADDL_MAX;
                while !a.is_char_boundary(cut) {
                    cut -= 1;
                }
                a.truncate(cut);
                a.push('…');
            }
            a
        });
        let peer = self.head.origin.sensor.clone();
        self.emit(self.ts, Body::Weird(Weird { name, addl, notice: false, peer, source }));
    }

    /// A file id derived from the connection and the artifact's place in it, so that
    /// replaying a capture twice gives the same ids ([`crate::ids::fuid`]).
    pub fn fuid(&self, kind: &str, index: u64) -> String {
        crate::ids::fuid(&self.head.uid, kind, index)
    }
}

/// Protocols recognized only to name the connection's `service`.
pub fn service_label(orig_first: &[u8], resp_first: &[u8], resp_port: u16) -> Option<&'static str> {
    let banner = |p: &[u8]| resp_first.starts_with(p);
    if orig_first.starts_with(b"SSH-") || banner(b"SSH-") {
        return Some("ssh");
    }
    if banner(b"220") && resp_port == 21 || orig_first.starts_with(b"USER ") {
        return Some("ftp");
    }
    if banner(b"220") && (orig_first.starts_with(b"EHLO") || orig_first.starts_with(b"HELO")) {
        return Some("smtp");
    }
    if banner(b"220") && matches!(resp_port, 25 | 465 | 587) {
        return Some("smtp");
    }
    if banner(b"+OK") {
        return Some("pop3");
    }
    if banner(b"* OK") {
        return Some("imap");
    }
    None
}
