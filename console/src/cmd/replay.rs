//! `canh replay FILES...`: analyze captures offline into Zeek-compatible logs.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use canh_analyzer::inspect::AlertLog;
use canh_analyzer::store::Store;
use canh_analyzer::store::ingest::LineIngest;
use canh_analyzer::store::writer::StoreWriter;
use canh_rules::sigma::SigmaOptions;
use canh_sensor::engine::EngineConfig;
use canh_sensor::output::Target;
use canh_sensor::record::{LogType, Origin};
use canh_sensor::replay::{self, ReplayOptions, Summary};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::DataArgs;

/// The engine's defaults, which the flags show and do not repeat.
fn engine() -> EngineConfig {
    EngineConfig::default()
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Capture files (pcap or pcapng), read as one stream in time order; `-` reads stdin.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Directory for the logs (conn.ndjson, dns.ndjson, http.ndjson, ssl.ndjson,
    /// files.ndjson); `-` writes every record to stdout instead.
    #[arg(long, default_value = replay::DEFAULT_OUT)]
    pub out: String,
    /// Write HTTP bodies and TCP stream heads to this directory (named by fuid).
    #[arg(long, value_name = "DIR")]
    pub extract_files: Option<PathBuf>,
    /// Engine threads; flows are hashed to them by address. 1 runs single-threaded.
    #[arg(long, default_value_t = ReplayOptions::default().workers)]
    pub workers: usize,
    /// KiB of each TCP stream direction kept as a stream-head artifact.
    #[arg(long, default_value_t = engine().app.stream_head_bytes / 1024)]
    pub stream_head_kib: usize,
    /// Bytes per direction handed to the protocol parsers (reassembly depth), in MiB.
    #[arg(long, default_value_t = engine().stream.depth >> 20)]
    pub depth_mib: u64,
    /// Connections tracked at once (about 2 KB each under a flood).
    #[arg(long, default_value_t = engine().max_flows)]
    pub max_flows: usize,
    /// Out-of-order TCP bytes buffered across all connections, in MiB.
    #[arg(long, default_value_t = engine().reassembly_memcap >> 20)]
    pub reassembly_memcap_mib: usize,
    /// Bytes of artifacts held at once while being built, in MiB (with --extract-files).
    #[arg(long, default_value_t = engine().app.artifact_memcap >> 20)]
    pub artifact_memcap_mib: usize,
    /// Name of this sensor, in every record's `_sensor`.
    #[arg(long, env = "CANH_SENSOR", default_value = Origin::DEFAULT_SENSOR)]
    pub sensor: String,
    /// Organization (agency) the traffic belongs to, in every record's `_org`.
    #[arg(long, env = "CANH_ORG", default_value = Origin::DEFAULT_ORG)]
    pub org: String,
    /// Rule packs to run: Sigma and IOCs on the records, YARA on the artifacts; alerts go to
    /// alerts.json beside the logs and are counted by rule in the summary. A pack is a
    /// directory, a rule file, or a pack built into canh (`vn-gov`; `bundled:vn-gov` even
    /// where a directory of that name exists). SIGHUP reloads them (a pack with errors leaves
    /// the running rules in place).
    #[arg(long, value_name = "PACK", num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Threads scanning artifacts with YARA, beside decoding (default: one per core).
    #[arg(long, value_name = "N")]
    pub yara_threads: Option<usize>,
    /// Also write the summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Index every record and alert into the event store of this data directory (without a
    /// value: `--data`, CANH_DATA, or the config's). Replaying a capture again keeps its
    /// records once instead of adding them twice.
    #[arg(long, value_name = "DATA_DIR", num_args = 0..=1)]
    pub index: Option<Option<PathBuf>>,
    #[command(flatten)]
    pub data: DataArgs,
}

impl ReplayArgs {
    /// A replay of `files` into `out` as the command line would make it, defaults and
    /// environment included (for `demo` and the benchmarks).
    pub fn of(files: Vec<String>, out: String) -> Self {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            replay: ReplayArgs,
        }
        let argv = ["canh".to_string(), "--out".into(), out, "--".into()].into_iter().chain(files);
        <Cli as clap::Parser>::parse_from(argv).replay
    }

    /// The replay's options with its rule packs loaded and wired in: the alert log inspects
    /// every record and artifact, and artifacts are kept when its YARA rules need them.
    pub fn options_with_rules(&self) -> Result<(ReplayOptions, Option<Arc<AlertLog>>)> {
        let mut opts = self.options();
        let alerts = alert_log(&self.rules, self.scan_threads())?;
        if alerts.as_ref().is_some_and(|a| a.needs_artifacts()) {
            opts.engine.app.keep_artifacts = true;
        }
        opts.inspector = alerts.clone().map(|a| a as Arc<dyn canh_sensor::output::Inspector>);
        Ok((opts, alerts))
    }

    pub fn scan_threads(&self) -> usize {
        self.yara_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
    }

    pub fn options(&self) -> ReplayOptions {
        let mut engine = EngineConfig::default();
        engine.app.stream_head_bytes = self.stream_head_kib * 1024;
        engine.app.keep_artifacts = self.extract_files.is_some();
        engine.stream.depth = self.depth_mib << 20;
        engine.max_flows = self.max_flows.max(1);
        engine.reassembly_memcap = self.reassembly_memcap_mib << 20;
        engine.app.artifact_memcap = self.artifact_memcap_mib << 20;
        engine.origin = Origin { sensor: Arc::from(self.sensor.as_str()), org: Arc::from(self.org.as_str()) };
        ReplayOptions {
            files: self.files.clone(),
            target: if self.out == "-" { Target::Stdout } else { Target::Dir(self.out.clone().into()) },
            extract_dir: self.extract_files.clone(),
            workers: self.workers.max(1),
            engine,
            inspector: None,
            sink: None,
            packets: None,
        }
    }

    /// The event store this replay fills, if `--index` asks for one.
    pub fn index_target(&self) -> Result<Option<(PathBuf, crate::config::Config)>> {
        let Some(dir) = &self.index else { return Ok(None) };
        let config = self.data.load()?;
        let data = dir.clone().unwrap_or_else(|| self.data.data_dir(&config));
        Ok(Some((data, config)))
    }
}

/// The store's side of a replay: an ingest the replay writes into, kept to read its counts.
pub struct Indexing {
    pub data: PathBuf,
    pub ingest: Arc<std::sync::Mutex<LineIngest>>,
}

impl Indexing {
    pub fn open(data: PathBuf, config: &crate::config::Config) -> Result<Self> {
        let store = Store::open(&data)?;
        let writer = StoreWriter::new(&store, config.commit_policy());
        Ok(Self { data, ingest: Arc::new(std::sync::Mutex::new(LineIngest::new(writer, "replay"))) })
    }

    pub fn sink(&self) -> canh_sensor::output::SharedSink {
        self.ingest.clone()
    }

    /// What was indexed, for the summary.
    pub fn render(&self) -> String {
        let ingest = self.ingest.lock().expect("the replay is over");
        let duplicates = ingest.duplicates();
        let mut out = format!(
            "indexed {} records into {}: {} stored, {duplicates} held already (duplicates)\n",
            ingest.acknowledged,
            self.data.join("events").display(),
            ingest.acknowledged.saturating_sub(duplicates)
        );
        for e in &ingest.errors {
            out.push_str(&format!("not indexed: {e}\n"));
        }
        out
    }
}

/// Loads the packs into an alert log; their problems are printed. An error in any pack (one
/// missing, a rule or file that does not compile) refuses the run: detection must never switch
/// off quietly. Unsupported rules and warnings are said and the rest runs.
pub(crate) fn alert_log(packs: &[PathBuf], scan_threads: usize) -> Result<Option<Arc<AlertLog>>> {
    if packs.is_empty() {
        return Ok(None);
    }
    let (log, problems) = AlertLog::load(packs, SigmaOptions::default(), scan_threads);
    for p in &problems {
        eprintln!("{p}");
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    if errors > 0 {
        let plural = if errors == 1 { "" } else { "s" };
        anyhow::bail!(
            "{errors} error{plural} in the rule packs (above): not running without the rules they hold; fix them, or leave the pack out"
        );
    }
    eprintln!("rules: {}", log.detectors().loaded);
    Ok(Some(Arc::new(log)))
}

/// Reloads the rules on SIGHUP for as long as the returned guard lives.
#[cfg(unix)]
pub fn reload_on_sighup(log: &Arc<AlertLog>) -> Option<impl Drop> {
    use signal_hook::iterator::Signals;
    let mut signals = Signals::new([signal_hook::consts::SIGHUP]).ok()?;
    let handle = signals.handle();
    let log = log.clone();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            let reloaded = log.reload();
            let (Ok((_, problems)) | Err(problems)) = &reloaded;
            for p in problems {
                eprintln!("{p}");
            }
            match reloaded {
                Ok((loaded, _)) => eprintln!("rules reloaded: {loaded}"),
                Err(problems) => {
                    let errors = problems.iter().filter(|p| p.severity == canh_rules::Severity::Error).count();
                    let plural = if errors == 1 { "" } else { "s" };
                    eprintln!(
                        "rules not reloaded: {errors} error{plural} in the packs; the previous rules keep running"
                    );
                }
            }
        }
    });
    struct Guard(signal_hook::iterator::Handle);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.close();
        }
    }
    Some(Guard(handle))
}

/// Alerts by rule, for the summary.
pub fn render_alerts(log: &AlertLog, total: u64) -> String {
    let mut out = format!("alerts {total}\n");
    for (id, title, n) in log.counts() {
        out.push_str(&format!("  {n:>6}  {title}  ({id})\n"));
    }
    out
}

/// Runs the replay with a progress bar on a terminal; returns the summary (the caller decides
/// the exit code from its capture errors).
pub fn run_replay(opts: &ReplayOptions) -> Result<Summary> {
    let total: u64 =
        opts.files.iter().filter(|f| *f != "-").filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let bar = if std::io::stderr().is_terminal() && total > 0 {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_bar} {binary_bytes_per_sec} eta {eta}")
                .expect("valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let summary = replay::replay(opts, &|done| bar.set_position(done)).map_err(anyhow::Error::from)?;
    bar.finish_and_clear();
    Ok(summary)
}

pub fn run(args: ReplayArgs) -> Result<i32> {
    let (mut opts, alerts) = args.options_with_rules()?;
    #[cfg(unix)]
    let _reload = alerts.as_ref().and_then(reload_on_sighup).inspect(|_| {
        eprintln!("rules: `kill -HUP {}` reloads them", std::process::id());
    });
    let indexing = match args.index_target()? {
        Some((data, config)) => Some(Indexing::open(data, &config)?),
        None => None,
    };
    opts.sink = indexing.as_ref().map(Indexing::sink);
    let summary = run_replay(&opts)?;
    eprint!("{}", render_summary(&summary));
    if let Some(log) = &alerts {
        eprint!("{}", render_alerts(log, summary.derived));
    }
    if let Some(i) = &indexing {
        eprint!("{}", i.render());
    }
    if let Target::Dir(dir) = &opts.target {
        eprintln!("logs: {}", dir.display());
    }
    if let Some(path) = &args.summary_json {
        std::fs::write(path, serde_json::to_vec_pretty(&summary.to_json())?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    for e in &summary.capture_errors {
        eprintln!("error: {e}");
    }
    Ok(if summary.capture_errors.is_empty() { 0 } else { 2 })
}

/// The human summary: what was read, what was written, what could not be decoded, how fast.
pub fn render_summary(s: &Summary) -> String {
    let mut out = String::new();
    let st = &s.stats;
    out.push_str(&format!(
        "packets {}  bytes {}  flows {}{}\n",
        st.packets,
        st.bytes,
        st.flows,
        if st.flows_evicted > 0 { format!(" ({} evicted at the flow cap)", st.flows_evicted) } else { String::new() }
    ));
    let records: Vec<String> = LogType::ALL.iter().map(|t| format!("{} {}", t.name(), s.records_of(*t))).collect();
    out.push_str(&format!("records  {}\n", records.join("  ")));
    let errors = st.decode_errors_by_kind();
    if errors.is_empty() {
        out.push_str("decode errors  none\n");
    } else {
        let e: Vec<String> = errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out.push_str(&format!("decode errors  {}\n", e.join("  ")));
    }
    if st.not_ip > 0 {
        out.push_str(&format!("not analyzed (ARP, STP, …)  {} frames\n", st.not_ip));
    }
    if st.reassembly_forced_gaps > 0 {
        out.push_str(&format!("reassembly holes skipped at the memory cap  {}\n", st.reassembly_forced_gaps));
    }
    if s.files_extracted > 0 {
        out.push_str(&format!("files extracted  {}\n", s.files_extracted));
    }
    out.push_str(&format!(
        "elapsed {:.3} s  {:.3} Gbit/s  {:.0} packets/s\n",
        s.elapsed.as_secs_f64(),
        s.gbit_per_s(),
        s.packets_per_s()
    ));
    out
}

#[cfg(test)]
mod defaults {
    use super::ReplayArgs;

    #[test]
    fn the_command_line_keeps_the_library_defaults() {
        // SAFETY: no other test of this binary reads these variables.
        unsafe {
            std::env::remove_var("CANH_SENSOR");
            std::env::remove_var("CANH_ORG");
        }
        let opts = ReplayArgs::of(vec!["a.pcap".into()], "logs".into()).options();
        let library = canh_sensor::replay::ReplayOptions::default();
        assert_eq!(format!("{:?}", opts.engine), format!("{:?}", library.engine));
        assert_eq!(opts.workers, library.workers);
        assert_eq!(opts.files, ["a.pcap"]);
    }
}
