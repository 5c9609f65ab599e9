//! Offline analysis of capture files (`canh replay`): read in time order, run the engine on
//! one thread or on several (frames hashed by address to workers), write the logs, and
//! summarize what was seen.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::app::Output;
use crate::capture::{CaptureError, MergedReader};
use crate::decode::address_hash;
use crate::engine::{Engine, EngineConfig, EngineStats};
use crate::output::{Inspector, Serialized, SharedSink, Target, Writer, collect_rest, serialize};
use crate::packets::ring::{PacketRing, RingConfig};
use crate::record::LogType;

/// Where the logs go when no one says (`canh replay --out`).
pub const DEFAULT_OUT: &str = "canh-logs";

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub files: Vec<String>,
    pub target: Target,
    /// Write artifacts (HTTP bodies, stream heads) here.
    pub extract_dir: Option<PathBuf>,
    /// Engine threads; 1 runs everything on the calling thread.
    pub workers: usize,
    pub engine: EngineConfig,
    /// Reads every batch and writes a log of its own (detection writes `alerts.json`).
    pub inspector: Option<Arc<dyn Inspector>>,
    /// Also hands every line written to this sink (the event store, with `--index`).
    pub sink: Option<SharedSink>,
    /// Also keeps every frame in this packet store (a sensor replaying files).
    pub packets: Option<RingConfig>,
}

impl Default for ReplayOptions {
    /// No files yet; logs to [`DEFAULT_OUT`], on one thread, the engine's defaults.
    fn default() -> Self {
        Self {
            files: Vec::new(),
            target: Target::Dir(DEFAULT_OUT.into()),
            extract_dir: None,
            workers: 1,
            engine: EngineConfig::default(),
            inspector: None,
            sink: None,
            packets: None,
        }
    }
}

/// What a replay saw and wrote.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub stats: EngineStats,
    pub records: [u64; LogType::COUNT],
    /// Lines the inspector derived (alerts).
    pub derived: u64,
    pub files_extracted: u64,
    pub elapsed: Duration,
    /// Files that broke part-way; their records up to the break were written.
    pub capture_errors: Vec<CaptureError>,
}

impl Summary {
    pub fn records_of(&self, t: LogType) -> u64 {
        self.records[t.index()]
    }

    pub fn gbit_per_s(&self) -> f64 {
        self.stats.bytes as f64 * 8.0 / self.elapsed.as_secs_f64().max(1e-9) / 1e9
    }

    pub fn packets_per_s(&self) -> f64 {
        self.stats.packets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The summary as JSON (for scripts, benchmarks and tests).
    pub fn to_json(&self) -> serde_json::Value {
        let records: serde_json::Map<String, serde_json::Value> =
            LogType::ALL.iter().map(|t| (t.name().to_string(), self.records_of(*t).into())).collect();
        let errors: serde_json::Map<String, serde_json::Value> =
            self.stats.decode_errors_by_kind().into_iter().map(|(k, n)| (k.to_string(), n.into())).collect();
        serde_json::json!({
            "packets": self.stats.packets,
            "bytes": self.stats.bytes,
            "flows": self.stats.flows,
            "flows_evicted": self.stats.flows_evicted,
            "not_ip": self.stats.not_ip,
            "records": records,
            "decode_errors": errors,
            "reassembly_forced_gaps": self.stats.reassembly_forced_gaps,
            "peak_flows": self.stats.peak_flows,
            "peak_reassembly_bytes": self.stats.peak_reassembly_bytes,
            "peak_artifact_bytes": self.stats.peak_artifact_bytes,
            "files_extracted": self.files_extracted,
            "derived": self.derived,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "gbit_per_s": self.gbit_per_s(),
            "packets_per_s": self.packets_per_s(),
            "capture_errors": self.capture_errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        })
    }
}

/// Packets between two drains of the engine's output.
const DRAIN_EVERY: u64 = 512;

/// Replays the files. `progress` is called now and then with the bytes read so far.
/// `Err` only when a file cannot be opened or is no capture; damage found later is in
/// `Summary::capture_errors`, after everything before it was processed.
pub fn replay(opts: &ReplayOptions, progress: &(dyn Fn(u64) + Sync)) -> Result<Summary, ReplayError> {
    let mut reader = MergedReader::open(&opts.files)?;
    if let Some(dir) = &opts.extract_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| ReplayError::Output(std::io::Error::new(e.kind(), format!("{}: {e}", dir.display()))))?;
    }
    let derived_log = opts.inspector.as_ref().map(|i| i.log_name().to_string());
    let mut writer =
        Writer::open(&opts.target, derived_log.as_deref(), opts.sink.clone()).map_err(ReplayError::Output)?;
    // The reader stores every frame it reads: one writer, whatever the engine's threads.
    let mut ring = match &opts.packets {
        Some(config) => Some(PacketRing::open(config, "r", &["r".to_string()]).map_err(ReplayError::Output)?),
        None => None,
    };
    let started = Instant::now();
    let stats = if opts.workers <= 1 {
        run_inline(&mut reader, opts, &mut writer, ring.as_mut(), progress)?
    } else {
        run_workers(&mut reader, opts, &mut writer, ring.as_mut(), progress)?
    };
    drop(ring);
    writer.finish().map_err(ReplayError::Output)?;
    Ok(Summary {
        stats,
        records: writer.counts,
        derived: writer.derived_count,
        files_extracted: writer.extracted,
        elapsed: started.elapsed(),
        capture_errors: std::mem::take(&mut reader.errors),
    })
}

#[derive(Debug)]
pub enum ReplayError {
    Capture(CaptureError),
    Output(std::io::Error),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Capture(e) => e.fmt(f),
            // The cause follows as the source (so that it is told once).
            Self::Output(_) => write!(f, "cannot write output"),
        }
    }
}

impl std::error::Error for ReplayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Capture(_) => None,
            Self::Output(e) => Some(e),
        }
    }
}

impl From<CaptureError> for ReplayError {
    fn from(e: CaptureError) -> Self {
        Self::Capture(e)
    }
}

fn write_output(out: Output, opts: &ReplayOptions, writer: &mut Writer) -> Result<(), ReplayError> {
    let mut s = Serialized::default();
    serialize(out, opts.extract_dir.as_deref(), opts.inspector.as_deref(), &mut s).map_err(ReplayError::Output)?;
    writer.write(&s).map_err(ReplayError::Output)
}

fn run_inline(
    reader: &mut MergedReader,
    opts: &ReplayOptions,
    writer: &mut Writer,
    mut ring: Option<&mut PacketRing>,
    progress: &dyn Fn(u64),
) -> Result<EngineStats, ReplayError> {
    let mut engine = Engine::new(opts.engine.clone());
    let mut n = 0u64;
    while let Some(p) = reader.next_packet() {
        if let Some(ring) = ring.as_deref_mut() {
            ring.write(p.ts, p.linktype, &p.data, p.orig_len);
        }
        engine.packet(p.ts, p.linktype, &p.data, p.orig_len);
        n += 1;
        if n.is_multiple_of(DRAIN_EVERY) {
            write_output(engine.drain(), opts, writer)?;
            if n.is_multiple_of(DRAIN_EVERY * 64) {
                progress(reader.bytes_read());
            }
        }
    }
    engine.finish();
    write_output(engine.drain(), opts, writer)?;
    writer.write(&collect_rest(opts.inspector.as_deref())).map_err(ReplayError::Output)?;
    progress(reader.bytes_read());
    Ok(engine.stats)
}

/// Frames for one worker: their bytes back to back, and where each one is.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    frames: Vec<(u64, u32, u32, usize, usize)>,
}

const BATCH_FRAMES: usize = 256;

fn run_workers(
    reader: &mut MergedReader,
    opts: &ReplayOptions,
    writer: &mut Writer,
    mut ring: Option<&mut PacketRing>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<EngineStats, ReplayError> {
    let n = opts.workers;
    let (out_tx, out_rx): (Sender<Serialized>, Receiver<Serialized>) = bounded(4 * n);
    // Emptied batches come back to the reader for reuse, so steady state allocates nothing.
    let (free_tx, free_rx) = bounded::<Batch>(8 * n);
    thread::scope(|scope| {
        let mut inputs = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = bounded::<Batch>(8);
            inputs.push(tx);
            let out_tx = out_tx.clone();
            let free_tx = free_tx.clone();
            let cfg = opts.engine.clone();
            let extract = opts.extract_dir.clone();
            let inspector = opts.inspector.clone();
            handles.push(scope.spawn(move || -> std::io::Result<EngineStats> {
                let mut engine = Engine::new(cfg);
                for mut batch in rx {
                    for &(ts, linktype, wire, start, end) in &batch.frames {
                        engine.packet(ts, linktype, &batch.data[start..end], wire);
                    }
                    batch.data.clear();
                    batch.frames.clear();
                    let _ = free_tx.try_send(batch);
                    let out = engine.drain();
                    if !out.records.is_empty() {
                        let mut s = Serialized::default();
                        serialize(out, extract.as_deref(), inspector.as_deref(), &mut s)?;
                        // The writer stopped (its error is the one told).
                        out_tx.send(s).map_err(|_| std::io::Error::other("the writer stopped"))?;
                    }
                }
                engine.finish();
                let mut s = Serialized::default();
                serialize(engine.drain(), extract.as_deref(), inspector.as_deref(), &mut s)?;
                out_tx.send(s).map_err(|_| std::io::Error::other("the writer stopped"))?;
                Ok(engine.stats)
            }));
        }
        drop(out_tx);
        drop(free_tx);
        // The writer runs on its own thread; the calling thread reads and dispatches.
        let inspector = opts.inspector.as_deref();
        let writer_handle = scope.spawn(move || -> std::io::Result<()> {
            for s in out_rx {
                writer.write(&s)?;
            }
            // Every worker is done: what the inspector still works on is all that is left.
            writer.write(&collect_rest(inspector))
        });
        let mut pending: Vec<Batch> = (0..n).map(|_| Batch::default()).collect();
        let mut count = 0u64;
        while let Some(p) = reader.next_packet() {
            if let Some(ring) = ring.as_deref_mut() {
                ring.write(p.ts, p.linktype, &p.data, p.orig_len);
            }
            let w = (address_hash(p.linktype, &p.data) % n as u64) as usize;
            let batch = &mut pending[w];
            let start = batch.data.len();
            batch.data.extend_from_slice(&p.data);
            batch.frames.push((p.ts, p.linktype, p.orig_len, start, batch.data.len()));
            if batch.frames.len() >= BATCH_FRAMES {
                let fresh = free_rx.try_recv().unwrap_or_default();
                let full = std::mem::replace(batch, fresh);
                if inputs[w].send(full).is_err() {
                    break;
                }
            }
            count += 1;
            if count.is_multiple_of(DRAIN_EVERY * 64) {
                progress(reader.bytes_read());
            }
        }
        for (w, batch) in pending.into_iter().enumerate() {
            if !batch.frames.is_empty() {
                let _ = inputs[w].send(batch);
            }
        }
        drop(inputs);
        progress(reader.bytes_read());
        let mut total = EngineStats::default();
        let mut failure = None;
        for h in handles {
            match h.join().expect("worker thread panicked") {
                Ok(s) => total.add(&s),
                Err(e) => failure = Some(e),
            }
        }
        writer_handle.join().expect("writer thread panicked").map_err(ReplayError::Output)?;
        match failure {
            Some(e) => Err(ReplayError::Output(e)),
            None => Ok(total),
        }
    })
}
