//! The rolling packet store's writer: every frame a writer (a live worker, or the reader of a
//! capture file) sees is appended to its current pcap segment; a segment is closed when it
//! reaches a sixteenth of the budget or a sixteenth of the age limit, and closed segments are
//! removed oldest first while the writer's segments exceed the budget or end before the age
//! limit. Age is counted back from the newest frame written, not from the wall clock, so that
//! a capture file replayed today keeps its last hours too.
//!
//! A full disk or any other write error never stops the capture: the segment is abandoned,
//! the error counted and logged, and the next frame starts a new one.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use byteorder_slice::LittleEndian;
use pcap_file::TsResolution;
use pcap_file::pcap::PcapPacket;

use super::{parse_segment_name, segment_name};
use crate::time::{Micros, SECOND};

/// Frames longer than this are cut in the store (as tcpdump's default snapshot length); live
/// frames are at most 68 KiB.
pub const SNAPLEN: u32 = 262_144;

/// How much and how long a sensor keeps.
#[derive(Debug, Clone)]
pub struct RingConfig {
    pub dir: PathBuf,
    /// Every writer's segments together stay under this many bytes.
    pub max_bytes: u64,
    /// Segments whose frames all are older than this (counted back from the newest frame)
    /// are removed.
    pub max_age: Duration,
}

impl RingConfig {
    /// The budget of one of `writers` writers.
    fn share(&self, writers: usize) -> u64 {
        self.max_bytes / writers.max(1) as u64
    }
}

/// What a writer did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RingStats {
    pub packets: u64,
    pub bytes: u64,
    pub segments_removed: u64,
    pub bytes_removed: u64,
    /// Frames not stored because a write failed (a full disk).
    pub write_errors: u64,
    /// Frames not stored because a pcap file cannot hold their time (after 2106).
    pub unstorable: u64,
}

struct Closed {
    path: PathBuf,
    first: Micros,
    bytes: u64,
}

struct Open {
    path: PathBuf,
    first: Micros,
    linktype: u32,
    out: BufWriter<File>,
    bytes: u64,
}

/// One writer's segments in the store's directory.
pub struct PacketRing {
    dir: PathBuf,
    name: String,
    budget: u64,
    max_age: Micros,
    segment_bytes: u64,
    segment_span: Micros,
    closed: VecDeque<Closed>,
    closed_bytes: u64,
    open: Option<Open>,
    newest: Micros,
    pub stats: RingStats,
}

impl PacketRing {
    /// Opens writer `name`, one of `writers` (named `writer_names`) sharing the budget. The
    /// segments it left before are its oldest; the first writer also adopts the segments of
    /// writers that no longer run (a sensor restarted with fewer workers), so that nothing is
    /// kept past the budget.
    pub fn open(config: &RingConfig, name: &str, writer_names: &[String]) -> std::io::Result<Self> {
        std::fs::create_dir_all(&config.dir)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", config.dir.display())))?;
        let adopt_orphans = writer_names.first().is_some_and(|w| w == name);
        let mut closed: Vec<Closed> = Vec::new();
        for entry in std::fs::read_dir(&config.dir)? {
            let entry = entry?;
            let file_name = entry.file_name();
            let Some((first, writer)) = file_name.to_str().and_then(parse_segment_name) else { continue };
            let mine = writer == name || (adopt_orphans && !writer_names.iter().any(|w| w == writer));
            if mine {
                closed.push(Closed { path: entry.path(), first, bytes: entry.metadata()?.len() });
            }
        }
        closed.sort_by_key(|c| c.first);
        let budget = config.share(writer_names.len());
        let max_age = config.max_age.as_micros().min(u128::from(u64::MAX)) as u64;
        let mut ring = Self {
            dir: config.dir.clone(),
            name: name.to_string(),
            budget,
            max_age,
            segment_bytes: (budget / 16).clamp(64 << 10, 256 << 20),
            segment_span: (max_age / 16).clamp(SECOND, 60 * SECOND),
            closed_bytes: closed.iter().map(|c| c.bytes).sum(),
            newest: closed.last().map_or(0, |c| c.first),
            closed: closed.into(),
            open: None,
            stats: RingStats::default(),
        };
        ring.enforce();
        Ok(ring)
    }

    /// Stores one frame (cut at [`SNAPLEN`]).
    pub fn write(&mut self, ts: Micros, linktype: u32, frame: &[u8], orig_len: u32) {
        if ts / SECOND > u64::from(u32::MAX) {
            self.stats.unstorable += 1;
            return;
        }
        self.newest = self.newest.max(ts);
        let rotate = self.open.as_ref().is_none_or(|o| {
            o.linktype != linktype
                || o.bytes + 16 + frame.len() as u64 > self.segment_bytes
                || ts >= o.first.saturating_add(self.segment_span)
        });
        if rotate {
            self.close_open();
            if let Err(e) = self.start(ts, linktype) {
                self.failed(&e);
                return;
            }
        }
        let open = self.open.as_mut().expect("started above");
        let data = &frame[..frame.len().min(SNAPLEN as usize)];
        let packet = PcapPacket::new(Duration::from_micros(ts), orig_len.max(frame.len() as u32), data);
        match packet.write_to::<_, LittleEndian>(&mut open.out, TsResolution::MicroSecond, SNAPLEN) {
            Ok(n) => {
                open.bytes += n as u64;
                self.stats.packets += 1;
                self.stats.bytes += n as u64;
            }
            Err(e) => {
                let e = std::io::Error::other(e.to_string());
                self.open = None;
                self.failed(&e);
            }
        }
    }

    /// Makes what was written readable by an extraction (called about once a second).
    pub fn flush(&mut self) {
        if let Some(open) = &mut self.open
            && let Err(e) = open.out.flush()
        {
            self.open = None;
            self.failed(&e);
        }
    }

    fn start(&mut self, ts: Micros, linktype: u32) -> std::io::Result<()> {
        // Names sort in the order segments were made, which is the order frames came in: a
        // segment named earlier than the last one (the clock stepped back, a capture file's
        // times are out of order) takes the time just after it instead. Two segments starting
        // within the same microsecond (a restart) get distinct names the same way.
        let mut first = match self.closed.back() {
            Some(last) => ts.max(last.first + 1),
            None => ts,
        };
        let (path, file) = loop {
            let path = self.dir.join(segment_name(first, &self.name));
            match File::options().write(true).create_new(true).open(&path) {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => first += 1,
                Err(e) => return Err(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
            }
        };
        let mut out = BufWriter::with_capacity(256 << 10, file);
        let bytes =
            super::pcap_header(linktype).write_to(&mut out).map_err(|e| std::io::Error::other(e.to_string()))? as u64;
        self.open = Some(Open { path, first, linktype, out, bytes });
        Ok(())
    }

    fn close_open(&mut self) {
        let Some(mut open) = self.open.take() else { return };
        if let Err(e) = open.out.flush() {
            self.failed(&e);
        }
        self.closed_bytes += open.bytes;
        self.closed.push_back(Closed { path: open.path, first: open.first, bytes: open.bytes });
        self.enforce();
    }

    /// Removes the oldest segments while over the budget, and those that end before the age
    /// limit (a segment ends where the next begins).
    fn enforce(&mut self) {
        let horizon = self.newest.saturating_sub(self.max_age);
        while let Some(oldest) = self.closed.front() {
            let next_first = self.closed.get(1).map(|c| c.first).or(self.open.as_ref().map(|o| o.first));
            let too_old = next_first.is_some_and(|n| n < horizon);
            // Room for a whole open segment beside the closed ones.
            if self.closed_bytes + self.segment_bytes <= self.budget && !too_old {
                break;
            }
            match std::fs::remove_file(&oldest.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!("packet store: removing {}: {e}", oldest.path.display()),
            }
            self.stats.segments_removed += 1;
            self.stats.bytes_removed += oldest.bytes;
            self.closed_bytes -= oldest.bytes;
            self.closed.pop_front();
        }
    }

    fn failed(&mut self, e: &std::io::Error) {
        self.stats.write_errors += 1;
        // Once, then every 10,000th: a full disk fails every frame.
        if self.stats.write_errors % 10_000 == 1 {
            tracing::warn!(
                "packet store {}: {e} ({} frames not stored so far)",
                self.dir.display(),
                self.stats.write_errors
            );
        }
    }
}

impl Drop for PacketRing {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn frame(n: u8) -> Vec<u8> {
        vec![n; 100]
    }

    fn config(dir: &Path, max_bytes: u64, max_age_s: u64) -> RingConfig {
        RingConfig { dir: dir.to_path_buf(), max_bytes, max_age: Duration::from_secs(max_age_s) }
    }

    fn segments(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[test]
    fn the_budget_holds_and_the_newest_frames_stay() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["w0".to_string()];
        let mut ring = PacketRing::open(&config(dir.path(), 1 << 20, 86_400), "w0", &names).unwrap();
        for i in 0..20_000u64 {
            ring.write(1_700_000_000 * SECOND + i * 1000, 1, &frame(i as u8), 100);
        }
        ring.flush();
        let on_disk: u64 = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
        assert!(on_disk <= 1 << 20, "{on_disk} bytes kept");
        assert!(ring.stats.segments_removed > 0);
        // 2.3 MB were written: the newest frame is still there.
        let last = segments(dir.path()).pop().unwrap();
        let mut reader = crate::capture::CaptureReader::open(&dir.path().join(last).display().to_string()).unwrap();
        let mut newest = 0;
        while reader.advance().unwrap() {
            newest = reader.packet.ts;
        }
        assert_eq!(newest, 1_700_000_000 * SECOND + 19_999 * 1000);
    }

    #[test]
    fn old_segments_go_by_the_capture_time() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["r".to_string()];
        let mut ring = PacketRing::open(&config(dir.path(), 1 << 30, 160), "r", &names).unwrap();
        // One frame a second for ten minutes; segments of 10 s; 160 s kept.
        for s in 0..600u64 {
            ring.write((1_700_000_000 + s) * SECOND, 1, &frame(1), 100);
        }
        let firsts: Vec<u64> =
            segments(dir.path()).iter().map(|n| parse_segment_name(n).unwrap().0 / SECOND - 1_700_000_000).collect();
        // Removed at a segment's close: kept up to one segment and one rotation past the limit.
        assert!(firsts[0] >= 600 - 160 - 20 && firsts[0] <= 600 - 160, "{firsts:?}");
    }

    #[test]
    fn a_restart_adopts_what_was_left_and_what_gone_workers_left() {
        let dir = tempfile::tempdir().unwrap();
        let two = vec!["w0".to_string(), "w1".to_string()];
        for name in &two {
            let mut ring = PacketRing::open(&config(dir.path(), 1 << 30, 86_400), name, &two).unwrap();
            ring.write(1_700_000_000 * SECOND, 1, &frame(1), 100);
        }
        assert_eq!(segments(dir.path()).len(), 2);
        // One worker now, with a budget below what is there: both old segments go.
        let one = vec!["w0".to_string()];
        let ring = PacketRing::open(&config(dir.path(), 100, 86_400), "w0", &one).unwrap();
        assert_eq!(ring.stats.segments_removed, 2);
        assert!(segments(dir.path()).is_empty());
    }
}
