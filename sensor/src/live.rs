//! Live analysis (`canh sensor --iface IF`): one capture socket per worker thread, the kernel
//! hashing flows to them (fanout), each worker running its own engine on what it reads — the
//! engine, serialization, inspector and writer of a replay, so that the same packets give the
//! same records and alerts. The kernel's socket buffer is the only queue in front of a worker:
//! Canh itself never drops a frame, and what the kernel drops is counted per worker.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;

use crate::capture::live::{CaptureCounts, LINKTYPE_ETHERNET, LiveOptions, LiveSocket, now_micros};
use crate::engine::{Engine, EngineConfig, EngineStats};
use crate::output::{Inspector, Serialized, SharedSink, Target, Writer, collect_rest, serialize};
use crate::packets::ring::{PacketRing, RingConfig, RingStats};
use crate::record::LogType;

#[derive(Debug, Clone)]
pub struct LiveRun {
    pub capture: LiveOptions,
    pub workers: usize,
    pub engine: EngineConfig,
    pub target: Target,
    pub extract_dir: Option<PathBuf>,
    pub inspector: Option<Arc<dyn Inspector>>,
    pub sink: Option<SharedSink>,
    /// Each worker keeps its frames in this packet store (a share of its budget each).
    pub packets: Option<RingConfig>,
}

/// One worker's counts, refreshed about once a second.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct WorkerStats {
    pub capture: CaptureCounts,
    /// Frames the engine took (all that were read: Canh drops none).
    pub packets: u64,
    pub bytes: u64,
    /// Whether every frame had the kernel's timestamp.
    pub kernel_timestamps: bool,
    /// What the worker's part of the packet store took and removed.
    pub packet_store: RingStats,
}

/// What a live run saw, when it stopped.
#[derive(Debug, Clone, Default)]
pub struct LiveSummary {
    pub workers: Vec<WorkerStats>,
    pub engine: EngineStats,
    pub records: [u64; LogType::COUNT],
    pub derived: u64,
    pub elapsed: Duration,
}

/// Drained into records this often when frames keep coming, and the clock advanced this often
/// when none do.
const DRAIN_EVERY: u64 = 512;
const TICK: Duration = Duration::from_millis(500);

/// Captures until `stop` is set; `stats` is kept current for whoever reports health.
pub fn run(opts: &LiveRun, stop: &AtomicBool, stats: &Mutex<Vec<WorkerStats>>) -> std::io::Result<LiveSummary> {
    let n = opts.workers.max(1);
    // Every socket opens before any frame is read: a mistake (no such interface, no
    // privilege, a bad filter) is told at once.
    let group = (std::process::id() & 0xffff) as u16;
    let sockets = (0..n)
        .map(|_| {
            let mut o = opts.capture.clone();
            o.fanout_group = (n > 1).then_some(group);
            LiveSocket::open(&o)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let names: Vec<String> = (0..n).map(|w| format!("w{w}")).collect();
    let mut rings = Vec::with_capacity(n);
    for name in &names {
        rings.push(match &opts.packets {
            Some(config) => Some(PacketRing::open(config, name, &names)?),
            None => None,
        });
    }
    if let Some(dir) = &opts.extract_dir {
        std::fs::create_dir_all(dir)?;
    }
    *stats.lock().unwrap_or_else(|p| p.into_inner()) = vec![WorkerStats::default(); n];
    let derived_log = opts.inspector.as_ref().map(|i| i.log_name().to_string());
    let mut writer = Writer::open(&opts.target, derived_log.as_deref(), opts.sink.clone())?;
    let started = Instant::now();
    let (out_tx, out_rx) = bounded::<Serialized>(4 * n);
    let engine_stats = thread::scope(|scope| -> std::io::Result<EngineStats> {
        let mut handles = Vec::new();
        for (w, (mut socket, mut ring)) in sockets.into_iter().zip(rings).enumerate() {
            let out_tx = out_tx.clone();
            let cfg = opts.engine.clone();
            let extract = opts.extract_dir.clone();
            let inspector = opts.inspector.clone();
            handles.push(scope.spawn(move || -> std::io::Result<EngineStats> {
                let mut engine = Engine::new(cfg);
                let mut since_drain = 0u64;
                let mut last_tick = Instant::now();
                let send = |engine: &mut Engine| -> std::io::Result<()> {
                    let out = engine.drain();
                    if out.records.is_empty() && out.artifacts.is_empty() {
                        return Ok(());
                    }
                    let mut s = Serialized::default();
                    serialize(out, extract.as_deref(), inspector.as_deref(), &mut s)?;
                    out_tx.send(s).map_err(|_| std::io::Error::other("the writer stopped"))
                };
                while !stop.load(Ordering::Relaxed) {
                    if let Some((ts, frame)) = socket.next_frame()? {
                        if let Some(ring) = &mut ring {
                            ring.write(ts, LINKTYPE_ETHERNET, frame, frame.len() as u32);
                        }
                        engine.packet(ts, LINKTYPE_ETHERNET, frame, frame.len() as u32);
                        since_drain += 1;
                        if since_drain >= DRAIN_EVERY {
                            since_drain = 0;
                            send(&mut engine)?;
                        }
                    }
                    if last_tick.elapsed() >= TICK {
                        last_tick = Instant::now();
                        engine.advance(now_micros());
                        since_drain = 0;
                        send(&mut engine)?;
                        if let Some(ring) = &mut ring {
                            ring.flush();
                        }
                        let counts = socket.counts()?;
                        let mut all = stats.lock().unwrap_or_else(|p| p.into_inner());
                        all[w] = WorkerStats {
                            capture: counts,
                            packets: engine.stats.packets,
                            bytes: engine.stats.bytes,
                            kernel_timestamps: socket.kernel_timestamps,
                            packet_store: ring.as_ref().map(|r| r.stats).unwrap_or_default(),
                        };
                    }
                }
                engine.finish();
                send(&mut engine)?;
                let counts = socket.counts()?;
                stats.lock().unwrap_or_else(|p| p.into_inner())[w] = WorkerStats {
                    capture: counts,
                    packets: engine.stats.packets,
                    bytes: engine.stats.bytes,
                    kernel_timestamps: socket.kernel_timestamps,
                    packet_store: ring.as_ref().map(|r| r.stats).unwrap_or_default(),
                };
                Ok(engine.stats)
            }));
        }
        drop(out_tx);
        let inspector = opts.inspector.as_deref();
        let writer = &mut writer;
        let writer_handle = scope.spawn(move || -> std::io::Result<()> {
            for s in out_rx {
                writer.write(&s)?;
            }
            writer.write(&collect_rest(inspector))?;
            writer.finish()
        });
        let mut total = EngineStats::default();
        let mut failure = None;
        for h in handles {
            match h.join().expect("a capture worker panicked") {
                Ok(s) => total.add(&s),
                Err(e) => failure = Some(e),
            }
        }
        writer_handle.join().expect("the writer panicked")?;
        match failure {
            Some(e) => Err(e),
            None => Ok(total),
        }
    })?;
    Ok(LiveSummary {
        workers: stats.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        engine: engine_stats,
        records: writer.counts,
        derived: writer.derived_count,
        elapsed: started.elapsed(),
    })
}
