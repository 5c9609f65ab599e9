//! The one thread that writes sensors' batches into the event store, with group commit: it
//! takes every batch waiting, adds their lines, commits once, and only then answers each
//! sender — so a batch is acknowledged after the commit that holds it, and a busy server
//! pays one commit for many batches. The queue in front of it is bounded: when the store
//! falls behind, senders wait (and their spools hold the rest) instead of memory growing.

use std::time::Duration;

use canh_analyzer::store::Store;
use canh_analyzer::store::writer::{CommitPolicy, StoreWriter};
use tokio::sync::{mpsc, oneshot};

/// What a commit did with one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub stored: u64,
    pub duplicates: u64,
}

struct Job {
    ndjson: Vec<u8>,
    done: oneshot::Sender<Result<Committed, String>>,
}

/// Batches waiting for the store at most (each up to 64 MiB decompressed; most far smaller).
const QUEUE: usize = 16;
/// Batches committed together at most.
const GROUP: usize = 64;

#[derive(Clone)]
pub struct Committer {
    jobs: mpsc::Sender<Job>,
}

impl Committer {
    pub fn start(store: Store, threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("canh-ingest".into())
            .spawn(move || run(store, threads, queue))
            .expect("a thread for ingest");
        Self { jobs }
    }

    /// Writes a batch's lines and waits for the commit that holds them.
    pub async fn commit(&self, ndjson: Vec<u8>) -> Result<Committed, String> {
        let (done, answer) = oneshot::channel();
        self.jobs.send(Job { ndjson, done }).await.map_err(|_| "the ingest thread stopped".to_string())?;
        answer.await.map_err(|_| "the ingest thread stopped".to_string())?
    }
}

fn writer(store: &Store, threads: usize) -> StoreWriter {
    // Commits are the committer's to make (after each group), never the policy's.
    let policy = CommitPolicy { records: usize::MAX, interval: Duration::from_secs(u32::MAX.into()) };
    StoreWriter::new(store, policy).with_threads(threads)
}

fn run(store: Store, threads: usize, mut queue: mpsc::Receiver<Job>) {
    let mut w = writer(&store, threads);
    while let Some(first) = queue.blocking_recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match queue.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let mut results = Vec::with_capacity(group.len());
        let mut failed = None;
        for job in &group {
            let before = w.duplicates();
            let mut lines = 0u64;
            for line in job.ndjson.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                // Checked by the handler: JSON objects with a time, hence UTF-8.
                let line = std::str::from_utf8(line).unwrap_or_default();
                if let Err(e) = w.add_line(line) {
                    failed.get_or_insert_with(|| e.to_string());
                }
                lines += 1;
            }
            let duplicates = w.duplicates() - before;
            results.push(Committed { stored: lines - duplicates, duplicates });
        }
        if failed.is_none()
            && let Err(e) = w.commit()
        {
            failed = Some(e.to_string());
        }
        if let Some(why) = &failed {
            tracing::error!("the event store could not take sensors' batches: {why}");
            // What no commit holds is dropped with the writer; the senders will send again.
            w = writer(&store, threads);
        }
        for (job, result) in group.into_iter().zip(results) {
            let _ = job.done.send(match &failed {
                None => Ok(result),
                Some(why) => Err(why.clone()),
            });
        }
    }
}
