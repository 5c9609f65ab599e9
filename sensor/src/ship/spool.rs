//! The sensor's disk spool: sealed batches wait here, one file each, until the server has
//! acknowledged them — across WAN outages, server restarts and the sensor's own restarts.
//!
//! A batch is written to a temporary file, synced, then renamed into place, so a file that
//! has its final name is whole. Sequence numbers never repeat: the next one is kept in
//! `spool.state` (a drained spool after a restart must not start again at 1 — the server would
//! take the new batches for replays). The spool is bounded in bytes: when a new batch does not
//! fit, the oldest batches not in flight are dropped, each drop logged in `dropped.ndjson`
//! (sequence, records, bytes, when) and counted, and the counts travel with every later batch
//! so that the server knows exactly what it will never receive.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// What to do when a new batch does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Drop the oldest batches (live capture: the packets will not wait).
    DropOldest,
    /// Wait for the shipper to make room (a capture file: nothing needs to be lost).
    Wait,
}

/// One batch in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub records: u64,
    pub bytes: u64,
}

/// Batches and records dropped since the spool was made (they travel with every batch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dropped {
    pub batches: u64,
    pub records: u64,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Persisted {
    next_seq: u64,
    dropped: Dropped,
    rejected: Dropped,
}

pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    bytes: u64,
    entries: VecDeque<Entry>,
    next_seq: u64,
    dropped: Dropped,
    /// Batches the server refused as malformed (moved to `rejected/`, kept for a person).
    rejected: Dropped,
    /// The batch being sent now: never dropped from under the shipper.
    in_flight: Option<u64>,
    closed: bool,
}

fn name(e: &Entry) -> String {
    format!("{:020}.{}.ndjson.zst", e.seq, e.records)
}

fn parse_name(file: &str) -> Option<(u64, u64)> {
    let rest = file.strip_suffix(".ndjson.zst")?;
    let (seq, records) = rest.split_once('.')?;
    Some((seq.parse().ok()?, records.parse().ok()?))
}

fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Spool {
    /// Opens the spool under `dir` (made if absent), taking back the batches a previous run
    /// left; removes half-written ones.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Self> {
        fs::create_dir_all(dir).map_err(|e| at(dir, e))?;
        let mut entries = Vec::new();
        let mut bytes = 0;
        for item in fs::read_dir(dir).map_err(|e| at(dir, e))? {
            let item = item?;
            let file = item.file_name();
            let file = file.to_string_lossy();
            if file.ends_with(".tmp") {
                let _ = fs::remove_file(item.path());
                continue;
            }
            if let Some((seq, records)) = parse_name(&file) {
                let size = item.metadata()?.len();
                bytes += size;
                entries.push(Entry { seq, records, bytes: size });
            }
        }
        entries.sort_by_key(|e| e.seq);
        let state_path = dir.join("spool.state");
        let persisted: Persisted = match fs::read(&state_path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", state_path.display())))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Persisted { next_seq: 1, ..Default::default() },
            Err(e) => return Err(at(&state_path, e)),
        };
        let next_seq = persisted.next_seq.max(entries.last().map_or(1, |e| e.seq + 1));
        Ok(Self {
            dir: dir.to_path_buf(),
            max_bytes,
            bytes,
            entries: entries.into(),
            next_seq,
            dropped: persisted.dropped,
            rejected: persisted.rejected,
            in_flight: None,
            closed: false,
        })
    }

    fn save_state(&self) -> io::Result<()> {
        let state = Persisted { next_seq: self.next_seq, dropped: self.dropped, rejected: self.rejected };
        let path = self.dir.join("spool.state");
        write_synced(&path, &serde_json::to_vec(&state).map_err(io::Error::other)?)
    }

    /// Whether a batch of `len` bytes fits now without dropping anything.
    pub fn fits(&self, len: u64) -> bool {
        self.bytes + len <= self.max_bytes || self.entries.is_empty()
    }

    /// Adds a sealed batch (its bytes as they will be sent), dropping the oldest batches not in
    /// flight until it fits; returns its sequence number and what was dropped for it.
    pub fn push(&mut self, body: &[u8], records: u64) -> io::Result<(u64, Vec<Entry>)> {
        let mut dropped = Vec::new();
        while self.bytes + body.len() as u64 > self.max_bytes {
            let Some(i) = self.entries.iter().position(|e| Some(e.seq) != self.in_flight) else { break };
            let gone = self.entries.remove(i).expect("an entry");
            self.remove_file(&gone)?;
            self.dropped.batches += 1;
            self.dropped.records += gone.records;
            self.log_drop(&gone)?;
            dropped.push(gone);
        }
        let entry = Entry { seq: self.next_seq, records, bytes: body.len() as u64 };
        let path = self.dir.join(name(&entry));
        write_synced(&path, body)?;
        self.next_seq += 1;
        self.save_state()?;
        self.bytes += entry.bytes;
        self.entries.push_back(entry);
        Ok((entry.seq, dropped))
    }

    fn remove_file(&mut self, e: &Entry) -> io::Result<()> {
        let path = self.dir.join(name(e));
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(at(&path, err)),
        }
        self.bytes = self.bytes.saturating_sub(e.bytes);
        Ok(())
    }

    fn log_drop(&self, e: &Entry) -> io::Result<()> {
        let path = self.dir.join("dropped.ndjson");
        let mut f = fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|err| at(&path, err))?;
        let at_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        writeln!(
            f,
            r#"{{"seq":{},"records":{},"bytes":{},"dropped_at":{}}}"#,
            e.seq,
            e.records,
            e.bytes,
            at_unix.as_secs()
        )?;
        tracing::warn!(seq = e.seq, records = e.records, "spool full: dropped the oldest batch");
        Ok(())
    }

    /// The oldest batch, marked in flight, with its bytes.
    pub fn take_oldest(&mut self) -> io::Result<Option<(Entry, Vec<u8>)>> {
        let Some(e) = self.entries.front().copied() else { return Ok(None) };
        let path = self.dir.join(name(&e));
        let body = fs::read(&path).map_err(|err| at(&path, err))?;
        self.in_flight = Some(e.seq);
        Ok(Some((e, body)))
    }

    /// The server holds batch `seq`: it leaves the spool.
    pub fn ack(&mut self, seq: u64) -> io::Result<()> {
        if self.in_flight == Some(seq) {
            self.in_flight = None;
        }
        if let Some(i) = self.entries.iter().position(|e| e.seq == seq) {
            let e = self.entries.remove(i).expect("an entry");
            self.remove_file(&e)?;
        }
        Ok(())
    }

    /// The server refused batch `seq` as malformed: it is moved to `rejected/` for a person
    /// to look at, counted, and the spool goes on with the next.
    pub fn reject(&mut self, seq: u64, why: &str) -> io::Result<()> {
        if self.in_flight == Some(seq) {
            self.in_flight = None;
        }
        if let Some(i) = self.entries.iter().position(|e| e.seq == seq) {
            let e = self.entries.remove(i).expect("an entry");
            let dir = self.dir.join("rejected");
            fs::create_dir_all(&dir).map_err(|err| at(&dir, err))?;
            let from = self.dir.join(name(&e));
            fs::rename(&from, dir.join(name(&e))).map_err(|err| at(&from, err))?;
            self.bytes = self.bytes.saturating_sub(e.bytes);
            self.rejected.batches += 1;
            self.rejected.records += e.records;
            self.save_state()?;
            tracing::error!(seq, records = e.records, "the server refused a batch: {why}");
        }
        Ok(())
    }

    /// The batch in flight was not delivered: it stays first in line.
    pub fn release(&mut self) {
        self.in_flight = None;
    }

    pub fn depth(&self) -> (usize, u64) {
        (self.entries.len(), self.bytes)
    }

    pub fn records_waiting(&self) -> u64 {
        self.entries.iter().map(|e| e.records).sum()
    }

    pub fn dropped(&self) -> Dropped {
        self.dropped
    }

    pub fn rejected(&self) -> Dropped {
        self.rejected
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| at(&tmp, e))?;
    f.write_all(bytes).map_err(|e| at(&tmp, e))?;
    f.sync_data().map_err(|e| at(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| at(path, e))
}

/// A spool shared by the thread that seals batches and the thread that ships them: pushes
/// wake the shipper, acknowledgements wake a pusher waiting for room.
#[derive(Clone)]
pub struct SharedSpool {
    inner: Arc<(Mutex<Spool>, Condvar)>,
    when_full: WhenFull,
}

impl SharedSpool {
    pub fn new(spool: Spool, when_full: WhenFull) -> Self {
        Self { inner: Arc::new((Mutex::new(spool), Condvar::new())), when_full }
    }

    pub fn lock(&self) -> MutexGuard<'_, Spool> {
        self.inner.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a batch; with [`WhenFull::Wait`], first waits until it fits.
    pub fn push(&self, body: &[u8], records: u64) -> io::Result<u64> {
        let mut spool = self.lock();
        if self.when_full == WhenFull::Wait {
            while !spool.fits(body.len() as u64) && !spool.closed {
                spool =
                    self.inner.1.wait_timeout(spool, Duration::from_millis(200)).unwrap_or_else(|p| p.into_inner()).0;
            }
        }
        let (seq, _dropped) = spool.push(body, records)?;
        self.inner.1.notify_all();
        Ok(seq)
    }

    /// Runs `f` on the spool and wakes whoever waits on it.
    pub fn update<T>(&self, f: impl FnOnce(&mut Spool) -> T) -> T {
        let out = f(&mut self.lock());
        self.inner.1.notify_all();
        out
    }

    /// Waits until the spool is empty or `timeout` passed; true when empty.
    pub fn drained(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut spool = self.lock();
        while !spool.entries.is_empty() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            spool = self
                .inner
                .1
                .wait_timeout(spool, left.min(Duration::from_millis(200)))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// No more waiting for room (the shipper stopped).
    pub fn close(&self) {
        self.update(|s| s.closed = true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_survive_a_restart_and_sequences_never_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(s.push(b"one", 1).unwrap().0, 1);
        assert_eq!(s.push(b"two", 2).unwrap().0, 2);
        let (e, body) = s.take_oldest().unwrap().unwrap();
        assert_eq!((e.seq, body.as_slice()), (1, &b"one"[..]));
        s.ack(1).unwrap();
        // A half-written batch from a crash is removed on open.
        fs::write(dir.path().join("x.tmp"), b"half").unwrap();
        drop(s);
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(s.depth(), (1, 3));
        assert!(!dir.path().join("x.tmp").exists());
        s.ack(2).unwrap();
        drop(s);
        // Drained, reopened: the next batch is 3, not 1 again.
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(s.push(b"three", 3).unwrap().0, 3);
    }

    #[test]
    fn a_full_spool_drops_the_oldest_not_in_flight_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 10).unwrap();
        s.push(b"aaaa", 4).unwrap(); // 1
        s.push(b"bbbb", 5).unwrap(); // 2
        let (first, _) = s.take_oldest().unwrap().unwrap();
        assert_eq!(first.seq, 1);
        // 1 is in flight: 2 goes instead.
        let (seq, dropped) = s.push(b"cccc", 6).unwrap();
        assert_eq!(seq, 3);
        assert_eq!(dropped.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
        assert_eq!(s.dropped(), Dropped { batches: 1, records: 5 });
        let log = fs::read_to_string(dir.path().join("dropped.ndjson")).unwrap();
        assert!(log.starts_with(r#"{"seq":2,"records":5,"bytes":4,"#), "{log}");
        // The counts survive a restart.
        drop(s);
        let s = Spool::open(dir.path(), 10).unwrap();
        assert_eq!(s.dropped(), Dropped { batches: 1, records: 5 });
        assert_eq!(s.records_waiting(), 4 + 6);
    }

    #[test]
    fn a_refused_batch_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 100).unwrap();
        s.push(b"bad", 7).unwrap();
        s.take_oldest().unwrap();
        s.reject(1, "400").unwrap();
        assert_eq!(s.depth(), (0, 0));
        assert_eq!(s.rejected(), Dropped { batches: 1, records: 7 });
        assert!(dir.path().join("rejected").join("00000000000000000001.7.ndjson.zst").exists());
    }
}
