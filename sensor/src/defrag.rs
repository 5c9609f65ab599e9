//! IP fragment reassembly (IPv4 and the IPv6 fragment header), bounded.
//!
//! Fragments are kept per (src, dst, id, protocol) until the datagram is whole. Everything is
//! capped — datagrams in flight, fragments per datagram, bytes per datagram, age — because
//! fragment floods are a classic way to make a sensor exhaust its memory. Overlapping
//! fragments resolve as "first seen wins", the same policy as the TCP reassembler.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::time::Micros;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub proto: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentOutcome {
    /// Stored; the datagram is not complete yet.
    Pending,
    /// The datagram is complete and its payload was written to the output buffer.
    Complete,
    /// The fragment broke a limit (or its datagram already had) and was discarded.
    Dropped,
}

/// Limits of the defragmenter.
#[derive(Debug, Clone, Copy)]
pub struct DefragLimits {
    pub max_datagrams: usize,
    pub max_fragments: usize,
    pub timeout: Micros,
}

impl Default for DefragLimits {
    fn default() -> Self {
        Self { max_datagrams: 4096, max_fragments: 128, timeout: 30_000_000 }
    }
}

/// An IP datagram can carry at most 65,535 bytes of payload.
const MAX_DATAGRAM: usize = 65_535;

struct Pending {
    first_seen: Micros,
    /// (offset, bytes) in arrival order.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Payload length, known once the last fragment (more-fragments clear) arrived.
    total: Option<usize>,
}

#[derive(Default)]
pub struct Defragmenter {
    limits: DefragLimits,
    pending: HashMap<FragmentKey, Pending>,
}

impl Defragmenter {
    pub fn new(limits: DefragLimits) -> Self {
        Self { limits, pending: HashMap::new() }
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Adds one fragment. On `Complete`, `out` holds the reassembled payload.
    pub fn add(
        &mut self,
        key: FragmentKey,
        offset: usize,
        more: bool,
        data: &[u8],
        ts: Micros,
        out: &mut Vec<u8>,
    ) -> FragmentOutcome {
        if offset + data.len() > MAX_DATAGRAM || (more && data.is_empty()) {
            self.pending.remove(&key);
            return FragmentOutcome::Dropped;
        }
        if !self.pending.contains_key(&key) && self.pending.len() >= self.limits.max_datagrams {
            self.evict(ts);
        }
        let entry =
            self.pending.entry(key).or_insert_with(|| Pending { first_seen: ts, pieces: Vec::new(), total: None });
        if entry.pieces.len() >= self.limits.max_fragments {
            self.pending.remove(&key);
            return FragmentOutcome::Dropped;
        }
        if !more {
            let end = offset + data.len();
            match entry.total {
                // Two different "last fragments": an evasion attempt; keep the first.
                Some(t) if t != end => {}
                _ => entry.total = Some(end),
            }
        }
        entry.pieces.push((offset, data.to_vec()));
        let Some(total) = entry.total else { return FragmentOutcome::Pending };
        if !covers(&entry.pieces, total) {
            return FragmentOutcome::Pending;
        }
        let entry = self.pending.remove(&key).expect("entry exists");
        out.clear();
        out.resize(total, 0);
        // Write later arrivals first so that earlier ones overwrite them: first seen wins.
        for (off, bytes) in entry.pieces.iter().rev() {
            let end = (off + bytes.len()).min(total);
            if *off < end {
                out[*off..end].copy_from_slice(&bytes[..end - off]);
            }
        }
        FragmentOutcome::Complete
    }

    /// Drops datagrams older than the timeout; if none, the oldest one.
    fn evict(&mut self, now: Micros) {
        let timeout = self.limits.timeout;
        let before = self.pending.len();
        self.pending.retain(|_, p| now.saturating_sub(p.first_seen) < timeout);
        if self.pending.len() == before
            && let Some(oldest) = self.pending.iter().min_by_key(|(_, p)| p.first_seen).map(|(k, _)| *k)
        {
            self.pending.remove(&oldest);
        }
    }
}

/// True when the pieces cover [0, total) without a hole.
fn covers(pieces: &[(usize, Vec<u8>)], total: usize) -> bool {
    let mut spans: Vec<(usize, usize)> = pieces.iter().map(|(o, b)| (*o, o + b.len())).collect();
    spans.sort_unstable();
    let mut reached = 0;
    for (start, end) in spans {
        if start > reached {
            return false;
        }
        reached = reached.max(end);
    }
    reached >= total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key() -> FragmentKey {
        FragmentKey {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            id: 7,
            proto: 6,
        }
    }

    #[test]
    fn reassembles_out_of_order_with_first_seen_winning() {
        let mut d = Defragmenter::default();
        let mut out = Vec::new();
        assert_eq!(d.add(key(), 8, false, b"WORLD!!!", 1, &mut out), FragmentOutcome::Pending);
        // Overlaps the first fragment's bytes 8..12; the earlier "WORL" must win.
        assert_eq!(d.add(key(), 8, true, b"XXXX", 2, &mut out), FragmentOutcome::Pending);
        assert_eq!(d.add(key(), 0, true, b"HELLO, W", 3, &mut out), FragmentOutcome::Complete);
        assert_eq!(out, b"HELLO, WWORLD!!!");
        assert_eq!(d.in_flight(), 0);
    }

    #[test]
    fn bounds_datagrams_and_fragments() {
        let limits = DefragLimits { max_datagrams: 2, max_fragments: 3, timeout: 10 };
        let mut d = Defragmenter::new(limits);
        let mut out = Vec::new();
        for id in 0..100 {
            let k = FragmentKey { id, ..key() };
            d.add(k, 0, true, b"12345678", u64::from(id), &mut out);
        }
        assert!(d.in_flight() <= 2);
        let k = key();
        for i in 0..3 {
            d.add(k, 1000 + i * 8, true, b"12345678", 200, &mut out);
        }
        assert_eq!(d.add(k, 2000, true, b"12345678", 200, &mut out), FragmentOutcome::Dropped);
        // An oversized datagram is refused outright.
        assert_eq!(d.add(k, 65_530, false, b"12345678", 200, &mut out), FragmentOutcome::Dropped);
    }
}
