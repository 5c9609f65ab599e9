//! Ingest: records go into the index of their UTC day, in batches; a commit makes a batch
//! durable, and only then is it acknowledged — what [`StoreWriter::add_line`] took and no commit
//! has held yet is what a crash loses, and the sender still has it.
//!
//! A record is its content: its id is a hash of its JSON text ([`record_id`]), and the store
//! keeps each id once. The same record, however often it comes — twice in one file, in two
//! batches, in a capture replayed again — is stored once and counted as a duplicate, whatever
//! the batch size. (Canh's records carry their connection's uid and a microsecond time, so two
//! distinct events are never the same text; a source whose distinct events can be — a syslog
//! line repeated within its one-second timestamp — must carry what tells them apart, as the
//! receiver's time.)

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tantivy::IndexWriter;
use tantivy::indexer::UserOperation;

use super::known::Known;
use super::{DAY_MICROS, Day, Store, StoreError, day_of};

/// When to commit: after this many records, or this long after the first uncommitted one,
/// whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct CommitPolicy {
    pub records: usize,
    pub interval: Duration,
}

impl Default for CommitPolicy {
    fn default() -> Self {
        // A tantivy commit is a blocking flush, ~0.7 s per 200k documents (ARCHITECTURE.md, "The
        // event store"): commit seldom, but soon enough that an analyst sees events within
        // seconds.
        Self { records: 200_000, interval: Duration::from_secs(10) }
    }
}

/// Memory for one day's writer per indexing thread (tantivy's minimum is 15 MB): a segment is
/// written each time it fills, so more memory means fewer segments to merge later.
const WRITER_MEMORY: usize = 128 << 20;

/// Operations handed to tantivy's indexing threads at once: one hand-over per record costs a
/// thread wake-up per record.
const BATCH: usize = 2048;

/// A day's index writer, the records not yet handed to it, and the ids the day holds.
struct DayWriter {
    day: Day,
    writer: IndexWriter,
    batch: Vec<UserOperation>,
    known: Known,
    /// Taken a record since the last commit (a day left idle for a whole commit is closed,
    /// which bounds the memory of a long ingest to the days it is writing).
    touched: bool,
}

impl DayWriter {
    fn send(&mut self) -> Result<(), StoreError> {
        if !self.batch.is_empty() {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            self.writer.run(batch).map_err(|source| StoreError::Index { day: self.day.clone(), source })?;
        }
        Ok(())
    }
}

/// Waits for a writer's merges to end (tantivy then deletes what they replaced). A writer
/// simply dropped cuts its merges short: at 10M records that had left 1.2 GB of merged-away
/// segments on disk, 29 % of the store.
pub(super) fn close(writer: IndexWriter) -> tantivy::Result<()> {
    writer.wait_merging_threads()
}

/// Why a record was not taken.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("no `ts` field with seconds since the epoch")]
    NoTime,
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("longer than {0} bytes: skipped")]
    TooLong(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct StoreWriter {
    store: Store,
    threads: usize,
    policy: CommitPolicy,
    /// By day number (days since the epoch): a record's day is found without formatting it.
    days: HashMap<i64, DayWriter>,
    /// Records taken and not yet committed, and when the first of them came.
    pending: u64,
    since: Option<Instant>,
    /// Records acknowledged (held by a commit) so far.
    acknowledged: u64,
    /// Records not taken because the store held them already.
    duplicates: u64,
    /// Days closed, their last merges running on threads of their own.
    closing: Vec<(Day, std::thread::JoinHandle<tantivy::Result<()>>)>,
}

impl StoreWriter {
    /// Indexing threads per day written to, unless told otherwise: one, beside the caller's
    /// parsing thread.
    pub const DEFAULT_THREADS: usize = 1;

    pub fn new(store: &Store, policy: CommitPolicy) -> Self {
        Self {
            store: store.clone(),
            threads: Self::DEFAULT_THREADS,
            policy,
            days: HashMap::new(),
            pending: 0,
            since: None,
            acknowledged: 0,
            duplicates: 0,
            closing: Vec::new(),
        }
    }

    /// Indexing threads per day written to ([`Self::DEFAULT_THREADS`]; tantivy builds
    /// segments on them while the caller parses the next records).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Takes one record, an NDJSON line; commits if the policy says so. Returns the number of
    /// records acknowledged so far. A record the store holds already counts as taken (and
    /// acknowledged with the rest) but is not written again.
    pub fn add_line(&mut self, line: &str) -> Result<u64, Rejected> {
        let (ts, mut doc) = self.store.fields().document(line).map_err(|e| Rejected::NotJson(e.to_string()))?;
        let ts = ts.ok_or(Rejected::NoTime)?;
        let day = ts.into_timestamp_micros().div_euclid(DAY_MICROS);
        let id = record_id(line);
        let day_writer = match self.days.entry(day) {
            Entry::Occupied(w) => w.into_mut(),
            Entry::Vacant(slot) => {
                let day = day_of(ts.into_timestamp_micros());
                let failed = |source| StoreError::Index { day: day.clone(), source };
                // A late record for a day being closed waits for it (one writer per index).
                if let Some(at) = self.closing.iter().position(|(d, _)| *d == day) {
                    join(self.closing.swap_remove(at))?;
                }
                let index = self.store.index(&day)?;
                let writer =
                    index.writer_with_num_threads(self.threads, WRITER_MEMORY * self.threads).map_err(failed)?;
                // What a crash left behind.
                writer.garbage_collect_files().wait().map_err(failed)?;
                let known = Known::open(&index, self.store.fields()).map_err(failed)?;
                slot.insert(DayWriter { day, writer, batch: Vec::with_capacity(BATCH), known, touched: false })
            }
        };
        day_writer.touched = true;
        if day_writer.known.take(id) {
            self.store.fields().identify(&mut doc, id);
            day_writer.batch.push(UserOperation::Add(doc));
            if day_writer.batch.len() >= BATCH {
                day_writer.send()?;
            }
        } else {
            self.duplicates += 1;
        }
        self.pending += 1;
        let since = *self.since.get_or_insert_with(Instant::now);
        if self.pending >= self.policy.records as u64 || since.elapsed() >= self.policy.interval {
            self.commit()?;
        }
        Ok(self.acknowledged)
    }

    /// Commits every day written to; returns the number of records acknowledged so far.
    pub fn commit(&mut self) -> Result<u64, StoreError> {
        for w in self.days.values_mut() {
            w.send()?;
            w.writer.commit().map_err(|source| StoreError::Index { day: w.day.clone(), source })?;
            w.known.committed();
        }
        // Days idle since the last commit close; the others start a new round.
        for (_, w) in self.days.extract_if(|_, w| !std::mem::take(&mut w.touched)) {
            self.closing.push((w.day, std::thread::spawn(move || close(w.writer))));
        }
        self.acknowledged += self.pending;
        self.pending = 0;
        self.since = None;
        Ok(self.acknowledged)
    }

    /// Records taken and not yet held by a commit.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Records taken that the store held already, or that came twice (not written again).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

/// A record's id in the store: the first 16 bytes of the SHA-256 of its JSON text, read as a
/// big-endian integer. Specified, so that the same record gets the same id whatever the build.
pub fn record_id(raw: &str) -> u128 {
    let digest: [u8; 32] = Sha256::digest(raw.as_bytes()).into();
    u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"))
}

/// Waits for every day's merges, so that none is cut short and no file is left
/// over. (What no commit holds is dropped, as a crash would drop it: unacknowledged.)
impl Drop for StoreWriter {
    fn drop(&mut self) {
        for (_, w) in self.days.drain() {
            if let Err(e) = close(w.writer) {
                tracing::warn!("event store, {}: merges: {e}", w.day);
            }
        }
        for closing in std::mem::take(&mut self.closing) {
            if let Err(e) = join(closing) {
                tracing::warn!("event store: {e}");
            }
        }
    }
}

fn join((day, handle): (Day, std::thread::JoinHandle<tantivy::Result<()>>)) -> Result<(), StoreError> {
    match handle.join() {
        Ok(closed) => closed.map_err(|source| StoreError::Index { day, source }),
        Err(_) => Err(StoreError::Index {
            day,
            source: tantivy::TantivyError::SystemError("closing the day's writer panicked".into()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_id_vector() {
        // Computed apart from this code, with Python's hashlib.
        let raw = r#"{"ts":1.5,"_type":"conn","uid":"C8hvtJcEjqcFKL0ZIK"}"#;
        assert_eq!(record_id(raw), 0x93ffba330ed79df2cbd2c5f83583dcb2);
    }
}
