//! YARA scans on a pool of threads beside decoding. A `yara_x::Scanner` is not `Send` and
//! costs a WASM store to build, so each pool thread builds one and keeps it for as long as the
//! rules stay the same (a reload hands jobs a new rule set; the thread then rebuilds its
//! scanner). Jobs are batches of artifacts; their alerts come back on a channel that the
//! replay drains as it writes (`Inspector::collect`).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use canh_sensor::files::Artifact;
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};

use crate::alert::Alert;
use crate::yara::YaraDetector;

struct Job {
    yara: Arc<YaraDetector>,
    artifacts: Vec<Artifact>,
}

pub struct ScanPool {
    jobs: Option<Sender<Job>>,
    results: Receiver<Vec<Alert>>,
    /// Jobs handed over; each sends back exactly one result.
    submitted: AtomicU64,
    /// Results taken back (the lock also keeps two waiting collectors apart).
    received: Mutex<u64>,
    threads: Vec<JoinHandle<()>>,
}

impl ScanPool {
    /// `threads` scanner threads (at least one). Jobs queue up to two per thread; past that,
    /// `submit` waits, so that decoding never runs away from scanning with artifacts in memory.
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let (jobs, job_rx) = bounded::<Job>(threads * 2);
        // Unbounded: a scanner never waits on a collector (which may itself be submitting).
        let (result_tx, results) = unbounded();
        let threads = (0..threads)
            .map(|i| {
                let (rx, tx) = (job_rx.clone(), result_tx.clone());
                std::thread::Builder::new()
                    .name(format!("yara-{i}"))
                    .spawn(move || run(rx, tx))
                    .expect("spawning a scanner thread")
            })
            .collect();
        Self { jobs: Some(jobs), results, submitted: AtomicU64::new(0), received: Mutex::new(0), threads }
    }

    /// Hands a batch to the pool.
    pub fn submit(&self, yara: Arc<YaraDetector>, artifacts: Vec<Artifact>) {
        if artifacts.is_empty() {
            return;
        }
        let Some(jobs) = &self.jobs else { return };
        self.submitted.fetch_add(1, Ordering::SeqCst);
        if jobs.send(Job { yara, artifacts }).is_err() {
            // No thread left to run it (cannot happen while the pool lives): not in flight.
            self.submitted.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Appends the alerts of finished jobs; with `wait`, of every job submitted so far.
    pub fn collect(&self, out: &mut Vec<Alert>, wait: bool) {
        let mut received = self.received.lock().unwrap_or_else(|p| p.into_inner());
        while let Ok(alerts) = self.results.try_recv() {
            *received += 1;
            out.extend(alerts);
        }
        while wait && *received < self.submitted.load(Ordering::SeqCst) {
            match self.results.recv() {
                Ok(alerts) => {
                    *received += 1;
                    out.extend(alerts);
                }
                Err(_) => break,
            }
        }
    }
}

impl Drop for ScanPool {
    fn drop(&mut self) {
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One scanner thread: a scanner per rule set, kept across jobs.
fn run(jobs: Receiver<Job>, results: Sender<Vec<Alert>>) {
    let mut next = jobs.recv().ok();
    while let Some(first) = next.take() {
        let yara = first.yara.clone();
        let mut scanner = yara.scanner();
        let mut job = Some(first);
        while let Some(j) = job.take() {
            let mut alerts = Vec::new();
            // A panic inside the engine loses this batch's alerts, not the pool (and not the
            // collector waiting for this result).
            let scanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                yara.scan_with(&mut scanner, &j.artifacts, &mut alerts);
            }));
            let panicked = scanned.is_err();
            if panicked {
                alerts.clear();
                tracing::error!("a YARA scan panicked; {} artifacts not scanned", j.artifacts.len());
            }
            if results.send(alerts).is_err() {
                return;
            }
            match jobs.recv() {
                // The scanner may be left half-way: build a new one.
                Ok(n) if panicked => next = Some(n),
                Ok(n) if Arc::ptr_eq(&n.yara, &yara) => job = Some(n),
                Ok(n) => next = Some(n),
                Err(_) => return,
            }
        }
    }
}
