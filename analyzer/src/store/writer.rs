//! Ingest: records go into the index of their UTC day, in batches; a commit makes a batch
//! durable, and only then is it acknowledged — what [`StoreWriter::add`] took and no commit
//! has held yet is what a crash loses, and the sender still has it.
//!
//! A record's id is a hash of its JSON text and of how many times the same text came before in
//! the same batch, so that ingesting the same capture again replaces its records instead of
//! adding them twice, while two identical records of one batch stay two. (Sensor records carry
//! their connection's uid and a microsecond time: identical ones are rare, and two in different
//! batches would count once — the memory for occurrences stays one batch's.)

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tantivy::{IndexWriter, Term};

use super::schema::timestamp;
use super::{Day, Store, StoreError, day_of};

/// When to commit: after this many records, or this long after the first uncommitted one,
/// whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct CommitPolicy {
    pub records: usize,
    pub interval: Duration,
}

impl Default for CommitPolicy {
    fn default() -> Self {
        // Tantivy commits cost ~0.7 s per 200k documents (LIBRARIES.md §3.2): commit seldom,
        // but soon enough that an analyst sees events within seconds.
        Self { records: 200_000, interval: Duration::from_secs(10) }
    }
}

/// Memory for one day's writer (tantivy's minimum is 15 MB per thread).
const WRITER_MEMORY: usize = 64 << 20;

/// Why a record was not taken.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("no `ts` field with seconds since the epoch")]
    NoTime,
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct StoreWriter {
    store: Store,
    threads: usize,
    policy: CommitPolicy,
    days: HashMap<Day, IndexWriter>,
    /// Records taken and not yet committed, and when the first of them came.
    pending: u64,
    since: Option<Instant>,
    /// Records acknowledged (held by a commit) so far.
    acknowledged: u64,
    /// Per JSON text of this batch, how many times it came.
    seen: HashMap<[u8; 32], u32>,
}

impl StoreWriter {
    pub fn new(store: &Store, policy: CommitPolicy) -> Self {
        Self {
            store: store.clone(),
            threads: 1,
            policy,
            days: HashMap::new(),
            pending: 0,
            since: None,
            acknowledged: 0,
            seen: HashMap::new(),
        }
    }

    /// Indexing threads per day written to (default one; tantivy builds segments on them
    /// while the caller parses the next records).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Takes a record (its fields and its JSON text); commits if the policy says so. Returns
    /// the number of records acknowledged so far.
    pub fn add(&mut self, record: &Map<String, Value>, raw: &str) -> Result<u64, Rejected> {
        let ts = record.get("ts").and_then(timestamp).ok_or(Rejected::NoTime)?;
        let day = day_of(ts.into_timestamp_micros());
        if !self.days.contains_key(&day) {
            let writer = self
                .store
                .index(&day)?
                .writer_with_num_threads(self.threads, WRITER_MEMORY * self.threads)
                .map_err(|source| StoreError::Index { day: day.clone(), source })?;
            self.days.insert(day.clone(), writer);
        }
        let (id, seq) = self.id_of(raw);
        let fields = self.store.fields();
        let writer = &self.days[&day];
        // Replaces the record if an earlier run ingested it (a delete applies to what was
        // added before it, so the new copy stays).
        writer.delete_term(Term::from_field_text(fields.id, &id));
        writer
            .add_document(fields.document((&id, seq), ts, record, raw))
            .map_err(|source| StoreError::Index { day, source })?;
        self.pending += 1;
        let since = *self.since.get_or_insert_with(Instant::now);
        if self.pending >= self.policy.records as u64 || since.elapsed() >= self.policy.interval {
            self.commit()?;
        }
        Ok(self.acknowledged)
    }

    /// Takes one NDJSON line.
    pub fn add_line(&mut self, line: &str) -> Result<u64, Rejected> {
        let record: Map<String, Value> = serde_json::from_str(line).map_err(|e| Rejected::NotJson(e.to_string()))?;
        self.add(&record, line)
    }

    /// Commits every day written to; returns the number of records acknowledged so far.
    pub fn commit(&mut self) -> Result<u64, StoreError> {
        for (day, writer) in &mut self.days {
            writer.commit().map_err(|source| StoreError::Index { day: day.clone(), source })?;
        }
        self.acknowledged += self.pending;
        self.pending = 0;
        self.seen.clear();
        self.since = None;
        Ok(self.acknowledged)
    }

    /// Records taken and not yet held by a commit.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// The content hash, and for a repeat within the batch its occurrence; and the sequence
    /// number (tie-breaker of the order) drawn from both.
    fn id_of(&mut self, raw: &str) -> (String, u64) {
        let digest: [u8; 32] = Sha256::digest(raw.as_bytes()).into();
        let occurrence = self.seen.entry(digest).or_insert(0);
        *occurrence += 1;
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let seq = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")).wrapping_add(u64::from(*occurrence) - 1);
        if *occurrence == 1 { (hex, seq) } else { (format!("{hex}-{occurrence}"), seq) }
    }
}
