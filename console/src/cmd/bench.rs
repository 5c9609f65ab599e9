//! `canh bench`: the detection engines' own speed, apart from decoding, on real inputs.
//!
//! - `canh bench sigma --rules PACK... CAPTURE`: the capture's records (decoded first, not
//!   timed) through the Sigma detector, with and without the literal prefilter: records/s.
//! - `canh bench yara --rules PACK... DIR`: every file under DIR (e.g. the artifacts that
//!   `canh replay --extract-files` wrote) scanned once, as `yr scan` and `yara` would: MB/s.
//!
//! - `canh bench events` and `canh bench search`: the event store (see [`super::bench_store`]).
//! - `canh bench console`: the console under concurrent clients (see [`super::bench_console`]).
//!
//! `bench/rules.sh` runs the first two beside `yr scan`, classic `yara` and `canh replay` with and
//! without rules, for figures measured in the same run.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use canh_analyzer::inspect::Detectors;
use canh_analyzer::sigma::SigmaDetector;
use canh_rules::fieldmap::FieldMap;
use canh_rules::pack::load_packs;
use canh_rules::sigma::{SigmaOptions, SigmaSet};
use canh_sensor::files::Artifact;
use canh_sensor::output::{Inspector, Target};
use canh_sensor::record::{Head, Origin, Record};
use canh_sensor::replay::{ReplayOptions, replay};
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Records per second through the Sigma detector (routing, prefilter, sigma-rust).
    Sigma(SigmaArgs),
    /// MB per second of YARA-X scanning over the files of a directory.
    Yara(YaraArgs),
    /// Write N generated records (NDJSON) for the event-store benchmarks.
    Events(super::bench_store::EventsArgs),
    /// Latency (p50, p95) of five analyst queries over an event store.
    Search(super::bench_store::SearchBenchArgs),
    /// Latency (p50, p95, p99) of the console's alert queue, alert detail and search under
    /// concurrent clients, over a store (see `canh bench events`).
    Console(super::bench_console::ConsoleBenchArgs),
}

#[derive(Debug, Args)]
struct SigmaArgs {
    /// Rule packs (or loose SigmaHQ rule directories).
    #[arg(long, required = true, num_args = 1..)]
    rules: Vec<PathBuf>,
    /// Capture whose records are matched.
    capture: String,
    /// Passes over the records (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Skip the run without the prefilter (for profiling the prefiltered path).
    #[arg(long)]
    prefilter_only: bool,
}

#[derive(Debug, Args)]
struct YaraArgs {
    /// Rule packs whose YARA files are compiled together.
    #[arg(long, required = true, num_args = 1..)]
    rules: Vec<PathBuf>,
    /// Directory of files to scan (recursively).
    dir: PathBuf,
    /// Passes over the files (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Scan the bytes only, as `yr scan` does: no text extracted from documents.
    #[arg(long)]
    raw: bool,
}

pub fn run(args: BenchArgs) -> Result<i32> {
    match args.command {
        BenchCommand::Sigma(a) => sigma(a),
        BenchCommand::Yara(a) => yara(a),
        BenchCommand::Events(a) => super::bench_store::events(a),
        BenchCommand::Search(a) => super::bench_store::search(a),
        BenchCommand::Console(a) => super::bench_console::run(a),
    }
}

/// Keeps every record a replay produces.
#[derive(Default)]
struct Keep(Mutex<Vec<Record>>);

impl Inspector for Keep {
    fn log_name(&self) -> &str {
        "kept.json"
    }

    fn inspect(&self, records: &[Record], _: Vec<Artifact>, _: &mut Vec<u8>) -> u64 {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(records);
        0
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

/// The value at `p` (0 to 1) of sorted figures, the nearest rank.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn sigma(args: SigmaArgs) -> Result<i32> {
    let keep = Arc::new(Keep::default());
    let opts = ReplayOptions {
        files: vec![args.capture.clone()],
        target: Target::Discard,
        extract_dir: None,
        workers: 1,
        engine: Default::default(),
        inspector: Some(keep.clone()),
        sink: None,
        packets: None,
    };
    replay(&opts, &|_| {}).map_err(anyhow::Error::from)?;
    let records = std::mem::take(&mut *keep.0.lock().unwrap_or_else(|p| p.into_inner()));
    let (packs, problems) = load_packs(&args.rules, &SigmaOptions::default());
    let errors = problems.iter().filter(|p| p.severity == canh_rules::Severity::Error).count();
    let rules: Vec<_> = packs.into_iter().flat_map(|p| p.sigma).collect();
    let loaded = rules.len();
    // The same rules twice: one set behind the prefilter, one without it.
    let (again, _) = load_packs(&args.rules, &SigmaOptions::default());
    let with = SigmaDetector::new(SigmaSet::new(rules), FieldMap::bundled());
    let without = SigmaDetector::new(
        SigmaSet::new(again.into_iter().flat_map(|p| p.sigma).collect()).without_prefilter(),
        FieldMap::bundled(),
    );
    println!("sigma: {} records of {}; {loaded} rules ({errors} load errors)", records.len(), args.capture);
    let mut results = Vec::new();
    let variants: &[(&str, &SigmaDetector)] =
        if args.prefilter_only { &[("prefilter", &with)] } else { &[("prefilter", &with), ("no prefilter", &without)] };
    for &(name, detector) in variants {
        let mut rates = Vec::new();
        let mut alerts = Vec::new();
        for _ in 0..args.runs.max(1) {
            let mut out = Vec::new();
            let started = Instant::now();
            for rec in &records {
                detector.detect(rec, &mut out);
            }
            rates.push(records.len() as f64 / started.elapsed().as_secs_f64());
            alerts = out.into_iter().map(|a| (a.rule_id, a.uids)).collect();
        }
        alerts.sort();
        let rate = median(rates);
        println!("  {name:<13} {rate:>12.0} records/s  {} alerts", alerts.len());
        results.push((rate, alerts));
    }
    let mut hot: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    let mut evaluations = 0;
    for rec in &records {
        for r in with.evaluated(rec) {
            *hot.entry((r.id.as_str(), r.title.as_str())).or_default() += 1;
            evaluations += 1;
        }
    }
    let mut hot: Vec<_> = hot.into_iter().collect();
    hot.sort_by_key(|h| std::cmp::Reverse(h.1));
    println!("  rules evaluated per record: {:.2}; most evaluated:", evaluations as f64 / records.len().max(1) as f64);
    for ((id, title), n) in hot.iter().take(12) {
        println!("    {n:>8}  {title} ({id})");
        // What the prefilter derived for the rule, when asked (to see why a rule runs often).
        if let Some(r) = with.rule(id).filter(|_| std::env::var_os("CANH_BENCH_NEEDS").is_some()) {
            println!("              needs {:?}", r.need);
        }
    }
    if args.prefilter_only {
        return Ok(0);
    }
    println!("  prefilter speed-up {:.1}x", results[0].0 / results[1].0);
    if results[0].1 != results[1].1 {
        let missing: Vec<_> = results[1].1.iter().filter(|a| !results[0].1.contains(a)).collect();
        bail!(
            "the prefilter changed the alerts: {} with, {} without; missing {missing:?}",
            results[0].1.len(),
            results[1].1.len()
        );
    }
    Ok(0)
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.is_dir() {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn yara(args: YaraArgs) -> Result<i32> {
    let (detectors, problems) = Detectors::load(&args.rules, &SigmaOptions::default());
    for p in &problems {
        eprintln!("{p}");
    }
    let Some(yara) = detectors.yara else { bail!("no YARA rule compiled") };
    let mut paths = Vec::new();
    files_under(&args.dir, &mut paths)?;
    paths.sort();
    // The context is the externals' defaults, as `yr scan` and `yara` get them with `-d`.
    let head = Head {
        ts: 0.0,
        uid: Arc::from(""),
        orig_h: [0, 0, 0, 0].into(),
        orig_p: 0,
        resp_h: [0, 0, 0, 0].into(),
        resp_p: 0,
        community_id: Arc::from(""),
        origin: Origin::default(),
    };
    let artifact = |path: &Path| -> Result<Artifact> {
        let data = std::fs::read(path).with_context(|| path.display().to_string())?;
        Ok(Artifact {
            head: head.clone(),
            fuid: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            source: "",
            service: None,
            is_orig: false,
            mime_type: None,
            filename: None,
            total_bytes: data.len() as u64,
            data,
        })
    };
    let mut scanner = yara.scanner();
    let mut rates = Vec::new();
    let (mut alerts, mut bytes) = (0, 0);
    for _ in 0..args.runs.max(1) {
        let mut out = Vec::new();
        bytes = 0;
        // Each file is read and scanned in turn, as `yr scan` does.
        let started = Instant::now();
        for p in &paths {
            let a = artifact(p)?;
            bytes += a.data.len();
            yara.scan_bytes(&mut scanner, std::slice::from_ref(&a), !args.raw, &mut out);
        }
        rates.push(bytes as f64 / 1e6 / started.elapsed().as_secs_f64());
        alerts = out.len();
    }
    println!(
        "yara{}: {} files, {:.1} MB, read and scanned on one thread: {:.1} MB/s, {alerts} alerts",
        if args.raw { " (bytes only)" } else { " (bytes, and documents as text)" },
        paths.len(),
        bytes as f64 / 1e6,
        median(rates)
    );
    Ok(0)
}
