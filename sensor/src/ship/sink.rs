//! Records into batches: the sink a sensor's pipeline writes to ([`crate::output::Sink`]).
//! Lines gather until [`BATCH_BYTES`] or [`SEAL_AFTER`]; a sealed batch is compressed and put
//! in the spool, where the shipper finds it. Memory is one open batch; the rest is on disk.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::spool::SharedSpool;
use super::wire::{BATCH_BYTES, SEAL_AFTER, compress};
use crate::output::Sink;

pub struct Batcher {
    spool: SharedSpool,
    open: Vec<u8>,
    /// Bytes of NDJSON at which a batch is sealed.
    limit: usize,
    lines: u64,
    since: Option<Instant>,
    /// Batches and records sealed so far.
    pub sealed: (u64, u64),
}

impl Batcher {
    pub fn new(spool: SharedSpool) -> Self {
        Self {
            spool,
            open: Vec::with_capacity(BATCH_BYTES + (64 << 10)),
            limit: BATCH_BYTES,
            lines: 0,
            since: None,
            sealed: (0, 0),
        }
    }

    /// Seals batches at `bytes` of NDJSON instead of [`BATCH_BYTES`] (at most that).
    pub fn with_limit(mut self, bytes: usize) -> Self {
        self.limit = bytes.clamp(1, BATCH_BYTES);
        self
    }

    /// Seals the open batch into the spool (nothing when it is empty).
    pub fn seal(&mut self) -> io::Result<()> {
        if self.lines == 0 {
            return Ok(());
        }
        let body = compress(&self.open)?;
        self.spool.push(&body, self.lines)?;
        self.sealed.0 += 1;
        self.sealed.1 += self.lines;
        self.open.clear();
        self.lines = 0;
        self.since = None;
        Ok(())
    }

    /// Seals the open batch if its first line waited [`SEAL_AFTER`] (a quiet LAN's records
    /// still leave within a second or two).
    pub fn seal_if_due(&mut self) -> io::Result<()> {
        if self.since.is_some_and(|s| s.elapsed() >= SEAL_AFTER) { self.seal() } else { Ok(()) }
    }
}

impl Sink for Batcher {
    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        // Whole lines come in; a batch is cut between them.
        for line in lines.split_inclusive(|b| *b == b'\n') {
            if line.len() <= 1 {
                continue;
            }
            if !self.open.is_empty() && self.open.len() + line.len() > self.limit {
                self.seal()?;
            }
            self.since.get_or_insert_with(Instant::now);
            self.open.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                self.open.push(b'\n');
            }
            self.lines += 1;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.seal()
    }
}

/// A batcher as the pipeline and the sealing timer share it.
pub type SharedBatcher = Arc<Mutex<Batcher>>;

/// Seals the shared batcher's open batch when it is due, every 200 ms, until `stop`.
pub fn seal_on_time(batcher: SharedBatcher, stop: Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("canh-seal".into())
        .spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(200));
                let sealed = batcher.lock().map(|mut b| b.seal_if_due());
                if let Ok(Err(e)) = sealed {
                    tracing::error!("sealing a batch: {e}");
                }
            }
        })
        .expect("a thread")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ship::spool::{Spool, WhenFull};

    #[test]
    fn lines_are_cut_into_batches_between_lines() {
        let dir = tempfile::tempdir().unwrap();
        let spool = SharedSpool::new(Spool::open(dir.path(), 1 << 30).unwrap(), WhenFull::Wait);
        let mut b = Batcher::new(spool.clone());
        let line = format!("{{\"ts\":1,\"pad\":\"{}\"}}\n", "x".repeat(1000));
        let n = BATCH_BYTES / line.len() + 10;
        for _ in 0..n {
            b.write(line.as_bytes()).unwrap();
        }
        b.finish().unwrap();
        assert_eq!(b.sealed, (2, n as u64));
        let mut s = spool.lock();
        let (first, body) = s.take_oldest().unwrap().unwrap();
        let text = crate::ship::wire::decompress(&body).unwrap();
        assert_eq!(text.iter().filter(|c| **c == b'\n').count() as u64, first.records);
        assert!(text.len() <= BATCH_BYTES && text.ends_with(b"}\n"));
    }
}
