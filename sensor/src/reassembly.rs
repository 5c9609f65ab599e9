//! TCP stream reassembly, one [`Reassembler`] per direction of a connection.
//!
//! Segments are placed by sequence number on a 64-bit stream offset (so wrap-around of the
//! 32-bit sequence space is harmless). In-order data is handed on at once without copying;
//! out-of-order segments are buffered. Policy:
//! - overlaps and retransmissions: the bytes seen first win (later copies are trimmed away);
//! - a hole that the peer has already acknowledged will never be filled in this capture, so
//!   it is skipped and counted as missed bytes (Zeek's `missed_bytes`);
//! - buffered bytes are capped per direction and across all flows ([`Budget`]): when a cap
//!   is hit the oldest hole is skipped rather than memory grown — hostile input cannot make
//!   the sensor buffer without bound;
//! - past `depth` bytes a direction is only counted, no longer delivered.

use std::collections::BTreeMap;

/// What the reassembler hands to the application layer, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// `n` bytes are missing from the stream here.
    Gap(u64),
}

/// Reassembly memory shared by all flows of one engine.
#[derive(Debug)]
pub struct Budget {
    pub used: usize,
    pub cap: usize,
    /// Holes skipped because a cap was reached.
    pub forced_gaps: u64,
}

impl Budget {
    pub fn new(cap: usize) -> Self {
        Self { used: 0, cap, forced_gaps: 0 }
    }
}

/// Per-direction limits.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Bytes per direction delivered to parsers; later data is only counted.
    pub depth: u64,
    /// Out-of-order bytes buffered per direction.
    pub max_buffered: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self { depth: 8 << 20, max_buffered: 1 << 20 }
    }
}

#[derive(Debug, Default)]
pub struct Reassembler {
    /// Sequence number of stream offset 0 (ISN + 1 when the SYN was seen).
    base_seq: u32,
    started: bool,
    /// Stream offset up to which data has been handed on (or skipped).
    next: u64,
    buffered: BTreeMap<u64, Vec<u8>>,
    buffered_bytes: usize,
    /// Highest stream offset carried by any segment.
    pub max_end: u64,
    /// Highest stream offset the peer acknowledged.
    pub max_acked: u64,
    /// Bytes skipped over holes.
    pub missed: u64,
    /// Segments that were entirely old data (retransmissions).
    pub retransmits: u64,
    /// A cap (this stream's buffer or the engine's budget) made it skip a hole it could still
    /// have filled: analysis of this direction is partial (Zeek's `X`).
    pub forced_skip: bool,
    fin_offset: Option<u64>,
}

impl Reassembler {
    /// Stream offset of a sequence number, relative to the next expected byte.
    fn offset_of(&self, seq: u32) -> u64 {
        let base_of_next = self.base_seq.wrapping_add(self.next as u32);
        let delta = seq.wrapping_sub(base_of_next) as i32 as i64;
        (self.next as i64 + delta).max(0) as u64
    }

    /// True when `seq` is this direction's initial sequence number (a copy of its SYN).
    pub fn is_initial(&self, seq: u32) -> bool {
        self.started && self.base_seq == seq.wrapping_add(1)
    }
    /// True once a FIN was seen and every byte before it was handed on or skipped.
    /// Adds one segment. `deliver` receives the chunks that became contiguous.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &[u8],
        limits: &StreamLimits,
        budget: &mut Budget,
        deliver: &mut dyn FnMut(Chunk<'_>),
    ) {
        if syn {
            if !self.started {
                self.base_seq = seq.wrapping_add(1);
                self.started = true;
            }
            // Data on a SYN (TCP Fast Open) starts after the SYN's sequence number.
            if payload.is_empty() && !fin {
                return;
            }
        }
        if !self.started {
            // Picked up mid-stream: the first segment seen defines offset 0.
            self.base_seq = seq;
            self.started = true;
        }
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        let start = self.offset_of(seq);
        let end = start + payload.len() as u64;
        if fin {
            self.fin_offset.get_or_insert(end);
        }
        // The FIN took the last sequence number of the stream: a segment after it (a RST at
        // FIN + 1) carries no byte, as Zeek counts.
        self.max_end = self.max_end.max(self.fin_offset.map_or(end, |f| end.min(f)));
        if payload.is_empty() {
            return;
        }
        if end <= self.next {
            self.retransmits += 1;
            return;
        }
        if start <= self.next {
            let fresh = &payload[(self.next - start) as usize..];
            let overlaps_buffered = self.buffered.first_key_value().is_some_and(|(&s, _)| s < end);
            if overlaps_buffered {
                // Bytes buffered earlier win over this segment's copy of them.
                self.buffer(self.next, fresh, budget);
                self.drain(budget, deliver);
            } else {
                self.next = end;
                deliver(Chunk::Data(fresh));
                self.drain(budget, deliver);
            }
            return;
        }
        self.buffer(start, payload, budget);
        // A cap was reached: stop waiting for the oldest hole.
        while self.buffered_bytes > limits.max_buffered || budget.used > budget.cap {
            if self.buffered.is_empty() {
                break;
            }
            budget.forced_gaps += 1;
            self.forced_skip = true;
            self.skip_to_first(budget, deliver);
        }
    }

    /// Notes the peer's acknowledgement of this direction: an acknowledged hole is final.
    pub fn ack(&mut self, ack: u32, budget: &mut Budget, deliver: &mut dyn FnMut(Chunk<'_>)) {
        if !self.started {
            return;
        }
        let acked = self.offset_of(ack);
        // Ignore wild acknowledgements far beyond anything seen (or on a bogus stream).
        if acked > self.max_end + (1 << 30) {
            return;
        }
        self.max_acked = self.max_acked.max(acked);
        while let Some((&first, _)) = self.buffered.first_key_value() {
            if first > self.next && acked >= first {
                self.skip_to_first(budget, deliver);
            } else {
                break;
            }
        }
    }

    /// Ends the stream: buffered data is handed on across its holes, and bytes the peer
    /// acknowledged but the capture never carried count as missed.
    pub fn close(&mut self, budget: &mut Budget, deliver: &mut dyn FnMut(Chunk<'_>)) {
        while !self.buffered.is_empty() {
            self.skip_to_first(budget, deliver);
        }
        let fin = self.fin_offset.map_or(0, |_| 1);
        let acked_data_end = self.max_acked.saturating_sub(fin);
        if acked_data_end > self.next {
            self.missed += acked_data_end - self.next;
            self.next = acked_data_end;
        }
    }

    fn buffer(&mut self, start: u64, payload: &[u8], budget: &mut Budget) {
        // Trim against what is already buffered: first seen wins.
        let mut pieces: Vec<(u64, &[u8])> = vec![(start, payload)];
        let overlapping: Vec<(u64, u64)> = self
            .buffered
            .range(..start + payload.len() as u64)
            .rev()
            .take_while(|(s, b)| *s + b.len() as u64 > start || **s >= start)
            .map(|(s, b)| (*s, *s + b.len() as u64))
            .collect();
        for (os, oe) in overlapping {
            let mut next_pieces = Vec::with_capacity(pieces.len() + 1);
            for (ps, pb) in pieces {
                let pe = ps + pb.len() as u64;
                if pe <= os || ps >= oe {
                    next_pieces.push((ps, pb));
                    continue;
                }
                if ps < os {
                    next_pieces.push((ps, &pb[..(os - ps) as usize]));
                }
                if pe > oe {
                    next_pieces.push((oe, &pb[(oe - ps) as usize..]));
                }
            }
            pieces = next_pieces;
        }
        for (s, b) in pieces {
            if b.is_empty() {
                continue;
            }
            self.buffered_bytes += b.len();
            budget.used += b.len();
            self.buffered.insert(s, b.to_vec());
        }
    }

    /// Hands on buffered segments that became contiguous.
    fn drain(&mut self, budget: &mut Budget, deliver: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(entry) = self.buffered.first_entry() {
            let start = *entry.key();
            if start > self.next {
                break;
            }
            let bytes = entry.remove();
            self.buffered_bytes -= bytes.len();
            budget.used -= bytes.len();
            let end = start + bytes.len() as u64;
            if end > self.next {
                let fresh = &bytes[(self.next - start) as usize..];
                self.next = end;
                deliver(Chunk::Data(fresh));
            }
        }
    }

    /// Skips the hole before the first buffered segment and hands on what follows it.
    fn skip_to_first(&mut self, budget: &mut Budget, deliver: &mut dyn FnMut(Chunk<'_>)) {
        if let Some((&first, _)) = self.buffered.first_key_value() {
            if first > self.next {
                let gap = first - self.next;
                self.missed += gap;
                self.next = first;
                deliver(Chunk::Gap(gap));
            }
            self.drain(budget, deliver);
        }
    }

    /// Bytes held for this direction (for tests and the memory figures).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(segments: &[(u32, &[u8])], close: bool) -> (Vec<u8>, Reassembler) {
        let mut r = Reassembler::default();
        let limits = StreamLimits::default();
        let mut budget = Budget::new(1 << 20);
        let mut out = Vec::new();
        let mut sink = |c: Chunk<'_>| match c {
            Chunk::Data(d) => out.extend_from_slice(d),
            Chunk::Gap(n) => out.extend(std::iter::repeat_n(b'_', n as usize)),
        };
        r.segment(999, true, false, b"", &limits, &mut budget, &mut sink);
        for (seq, data) in segments {
            r.segment(*seq, false, false, data, &limits, &mut budget, &mut sink);
        }
        if close {
            r.close(&mut budget, &mut sink);
        }
        assert_eq!(budget.used, r.buffered_bytes());
        (out, r)
    }

    #[test]
    fn in_order_and_out_of_order() {
        let (out, r) = run(&[(1000, b"hello "), (1011, b"!"), (1006, b"world")], false);
        assert_eq!(out, b"hello world!");
        assert_eq!(r.missed, 0);
    }

    #[test]
    fn retransmissions_and_overlaps_first_seen_wins() {
        // The retransmission of "hello" as "HELLO" and the overlap "XXrld" must not win.
        let (out, r) = run(&[(1000, b"hello"), (1000, b"HELLO"), (1008, b"ld!"), (1005, b" woXXX")], false);
        assert_eq!(out, b"hello wold!");
        assert_eq!(r.retransmits, 1);
    }

    #[test]
    fn gaps_are_skipped_at_close_and_counted() {
        let (out, r) = run(&[(1000, b"abc"), (1010, b"xyz")], true);
        assert_eq!(out, b"abc_______xyz");
        assert_eq!(r.missed, 7);
    }

    #[test]
    fn sequence_wraparound() {
        let mut r = Reassembler::default();
        let limits = StreamLimits::default();
        let mut budget = Budget::new(1 << 20);
        let mut out = Vec::new();
        let mut sink = |c: Chunk<'_>| {
            if let Chunk::Data(d) = c {
                out.extend_from_slice(d)
            }
        };
        r.segment(u32::MAX - 2, true, false, b"", &limits, &mut budget, &mut sink);
        r.segment(u32::MAX - 1, false, false, b"ab", &limits, &mut budget, &mut sink);
        r.segment(0, false, false, b"cd", &limits, &mut budget, &mut sink);
        assert_eq!(out, b"abcd");
    }

    #[test]
    fn memory_is_capped() {
        let mut r = Reassembler::default();
        let limits = StreamLimits { depth: 1 << 30, max_buffered: 4096 };
        let mut budget = Budget::new(1 << 20);
        let mut delivered = 0u64;
        let mut sink = |c: Chunk<'_>| {
            if let Chunk::Data(d) = c {
                delivered += d.len() as u64
            }
        };
        r.segment(0, true, false, b"", &limits, &mut budget, &mut sink);
        // A hole at offset 0 that never fills, followed by lots of data.
        for i in 0..1000u32 {
            r.segment(1 + 100 + i * 100, false, false, &[b'x'; 100], &limits, &mut budget, &mut sink);
            assert!(r.buffered_bytes() <= 4096);
        }
        assert!(budget.forced_gaps > 0);
        assert_eq!(r.missed, 100);
        assert!(delivered > 90_000);
    }
}
