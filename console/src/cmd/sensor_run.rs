//! `canh sensor --pcap FILE | --iface IF`: the sensor itself. Packets become records and
//! alerts on the replay's path (the same engine, the same rules), which go in batches to a disk
//! spool and from it, over mutual TLS, to the province's server (`--server`); `--out` also
//! writes them as local logs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use canh_sensor::live::WorkerStats;
use canh_sensor::output::{SharedSink, Target};
use canh_sensor::record::Origin;
use canh_sensor::ship::client::{ShipStats, Shipper, client_config};
use canh_sensor::ship::sink::{Batcher, seal_on_time};
use canh_sensor::ship::spool::{SharedSpool, Spool, WhenFull};
use clap::Args;

use super::replay::{ReplayArgs, render_alerts, render_summary, run_replay};
use crate::escape::terminal;

/// The files of a sensor's identity directory (`canh sensor certify --out DIR`).
pub const CERT: &str = "sensor.crt";
pub const KEY: &str = "sensor.key";
pub const CA: &str = "ca.crt";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Capture files, replayed through the sensor's path (instead of --iface).
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "iface")]
    pub pcap: Vec<String>,
    /// NDJSON records (a sensor's logs written with --out, say) shipped as they are, each
    /// line one record with a `ts`, instead of packets.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["pcap", "iface"])]
    pub records: Vec<PathBuf>,
    /// The interface to capture on (a span port or a tap), promiscuous.
    #[arg(long, value_name = "IF")]
    pub iface: Option<String>,
    /// Only the traffic this filter expression lets through (tcpdump's syntax; compiled by
    /// the machine's tcpdump).
    #[arg(long, value_name = "EXPR", requires = "iface", conflicts_with = "filter_bpf")]
    pub filter: Option<String>,
    /// A compiled filter: the output of `tcpdump -ddd -y EN10MB EXPR`, in a file.
    #[arg(long, value_name = "FILE", requires = "iface")]
    pub filter_bpf: Option<PathBuf>,
    /// The kernel's receive buffer per worker, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = (canh_sensor::capture::live::LiveOptions::DEFAULT_BUFFER >> 20) as u64)]
    pub buffer_mib: u64,
    /// Stop after this many seconds (else at Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECONDS", requires = "iface")]
    pub seconds: Option<u64>,
    /// Write the capture's counts, per worker, as JSON to this file when it stops.
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
    /// The server's sensor listener.
    #[arg(long, env = "CANH_SENSOR_SERVER", value_name = "HOST:PORT")]
    pub server: Option<String>,
    /// Publish the batches to these NATS JetStream servers (comma-separated; `tls://` shows the
    /// sensor's certificate) instead of sending them to --server: the scale-out transport,
    /// taken by `canh indexer`s.
    #[arg(long, env = "CANH_SENSOR_NATS", value_name = "URLS", conflicts_with = "server")]
    pub nats: Option<String>,
    /// Replicas of the JetStream stream, when this sensor is the first to declare it.
    #[arg(long, default_value_t = 3, requires = "nats")]
    pub nats_replicas: usize,
    /// The sensor's identity directory: sensor.crt, sensor.key, ca.crt.
    #[arg(long, env = "CANH_SENSOR_IDENTITY", value_name = "DIR", default_value = "canh-sensor")]
    pub identity: PathBuf,
    /// Where unacknowledged batches wait [default: IDENTITY/spool].
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// The spool's size limit; past it the oldest batches are dropped (live capture) or the
    /// capture file waits (--pcap).
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub spool_max_mib: u64,
    /// A batch is sealed at this many KiB of records (or a second after its first).
    #[arg(long, value_name = "KIB", default_value_t = (canh_sensor::ship::wire::BATCH_BYTES >> 10) as u64,
          value_parser = clap::value_parser!(u64).range(1..=(canh_sensor::ship::wire::BATCH_BYTES >> 10) as u64))]
    pub batch_kib: u64,
    /// Serve Prometheus metrics (OpenMetrics text, plain HTTP: keep it on loopback or a
    /// management network) at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Also write the records as logs in this directory (`-`: stdout).
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
    /// Write HTTP bodies and TCP stream heads to this directory (named by fuid), with --pcap.
    #[arg(long, value_name = "DIR")]
    pub extract_files: Option<PathBuf>,
    /// Rule packs, as `canh replay --rules`: the sensor raises alerts and ships them.
    #[arg(long, value_name = "PACK", num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Engine threads; flows are hashed to them.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// At the end of a capture file, how long to wait for the server to take what is spooled
    /// (what is left is sent by the next run).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub drain_seconds: u64,
    /// Where the sensor keeps the packets it saw, so that the console can fetch a flow's
    /// frames behind an alert [default, with --server: IDENTITY/packets].
    #[arg(long, value_name = "DIR")]
    pub packets: Option<PathBuf>,
    /// The packet store's size limit; past it the oldest packets are removed.
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub packets_max_mib: u64,
    /// Packets older than this (counted back from the newest) are removed.
    #[arg(long, value_name = "HOURS", default_value_t = 72)]
    pub packets_max_hours: u64,
    /// Keep no packets (the console cannot fetch any from this sensor).
    #[arg(long, conflicts_with = "packets")]
    pub no_packets: bool,
    /// With --pcap: after the files, keep answering the console's requests for packets (and
    /// sending heartbeats) until Ctrl-C or SIGTERM.
    #[arg(long, requires = "server", requires = "pcap")]
    pub stay: bool,
}

impl RunArgs {
    /// The packet store, unless there is none: kept by default by a sensor that has a server
    /// to send packets to, and wherever --packets says.
    fn packet_store(&self) -> Option<canh_sensor::packets::ring::RingConfig> {
        let dir = match &self.packets {
            _ if self.no_packets => return None,
            Some(dir) => dir.clone(),
            None if self.server.is_some() => self.identity.join("packets"),
            None => return None,
        };
        Some(canh_sensor::packets::ring::RingConfig {
            dir,
            max_bytes: self.packets_max_mib << 20,
            max_age: Duration::from_secs(self.packets_max_hours * 3600),
        })
    }
}

/// What keeps a `--pcap --stay` sensor running after its files: it stays until `until` is
/// set, and tells `drained` (the capture's exit code) once the files are done and the spool
/// drained.
pub struct Stay {
    pub until: Arc<AtomicBool>,
    pub drained: Option<std::sync::mpsc::Sender<i32>>,
}

/// The sensor's name and organization, as its certificate says (its records say the same; the
/// server would correct them anyway).
pub fn origin(identity: &Path) -> Result<Origin> {
    use rustls::pki_types::pem::PemObject as _;
    let path = identity.join(CERT);
    let der = rustls::pki_types::CertificateDer::from_pem_file(&path)
        .with_context(|| format!("{} (make it with `canh sensor certify`)", path.display()))?;
    let id = crate::server::ca::identity(&der).with_context(|| path.display().to_string())?;
    Ok(Origin { sensor: Arc::from(id.name.as_str()), org: Arc::from(id.org.as_str()) })
}

/// Renews the sensor's certificate with its server: a new key and request, authenticated by
/// the current certificate; the server signs one for the same sensor and org (the old one is
/// refused from then on). The new pair replaces the old in the identity directory, each file
/// whole (written beside, then renamed). Returns the new certificate's serial.
pub fn renew(identity: &Path, server: &str) -> Result<String> {
    use rustls::pki_types::pem::PemObject as _;
    let (key, csr) = crate::server::ca::sensor_request("sensor")?;
    let tls = client_config(&identity.join(CA), &identity.join(CERT), &identity.join(KEY))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (status, body) = runtime
        .block_on(canh_sensor::ship::client::request_once(
            server,
            tls,
            canh_sensor::ship::wire::RENEW_PATH,
            "application/x-pem-file",
            csr.into_bytes(),
        ))
        .map_err(anyhow::Error::msg)?;
    let text = String::from_utf8_lossy(&body).into_owned();
    if status != 200 {
        bail!("the server refused the renewal ({status}): {}", terminal(&text));
    }
    let der = rustls::pki_types::CertificateDer::from_pem_slice(text.as_bytes()).context("the renewed certificate")?;
    let id = crate::server::ca::identity(&der)?;
    let old = origin(identity)?;
    if (id.name.as_str(), id.org.as_str()) != (&*old.sensor, &*old.org) {
        bail!("the renewed certificate names {} of {}, not this sensor", terminal(&id.name), terminal(&id.org));
    }
    let key_tmp = identity.join("sensor.key.new");
    crate::server::tls::write_private(&key_tmp, key.as_bytes())?;
    let cert_tmp = identity.join("sensor.crt.new");
    std::fs::write(&cert_tmp, &text).with_context(|| cert_tmp.display().to_string())?;
    std::fs::rename(&key_tmp, identity.join(KEY))?;
    std::fs::rename(&cert_tmp, identity.join(CERT))?;
    Ok(id.serial)
}

/// Renews the certificate when a third of its validity is left (checked now and every hour),
/// for as long as the process runs.
fn renew_when_due(identity: PathBuf, server: String) {
    std::thread::spawn(move || {
        loop {
            let due = (|| -> Result<bool> {
                use rustls::pki_types::pem::PemObject as _;
                let der = rustls::pki_types::CertificateDer::from_pem_file(identity.join(CERT))?;
                let left = crate::server::ca::identity(&der)?.not_after - time::OffsetDateTime::now_utc();
                Ok(left < time::Duration::days(crate::server::ca::SENSOR_DAYS / 3))
            })();
            match due {
                Ok(true) => match renew(&identity, &server) {
                    Ok(serial) => tracing::info!(serial, "the sensor's certificate was renewed"),
                    Err(e) => tracing::warn!("renewing the sensor's certificate: {e:#}"),
                },
                Ok(false) => {}
                Err(e) => tracing::warn!("the sensor's certificate: {e:#}"),
            }
            std::thread::sleep(Duration::from_secs(3600));
        }
    });
}

/// The sensor's metrics: what its heartbeat says, as OpenMetrics text.
fn sensor_metrics(health: &canh_sensor::ship::client::Health, spool: &SharedSpool, stats: &ShipStats) -> String {
    use prometheus_client::metrics::counter::ConstCounter;
    use prometheus_client::metrics::gauge::ConstGauge;
    let h = health();
    let n = |k: &str| h.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let (batches, bytes) = spool.lock().depth();
    let dropped = spool.lock().dropped();
    let mut registry = prometheus_client::registry::Registry::with_prefix("canh_sensor");
    let counters = [
        ("received_packets", "Frames the kernel handed to the capture", n("received")),
        ("kernel_dropped_packets", "Frames the kernel dropped (its buffer was full)", n("kernel_dropped")),
        ("records_sealed", "Records and alerts sealed into batches", n("records")),
        ("shipped_records", "Records the server acknowledged", stats.records.load(Ordering::Relaxed)),
        ("shipped_batches", "Batches the server acknowledged", stats.batches.load(Ordering::Relaxed)),
        ("ship_failures", "Failed attempts to reach the server", stats.failures.load(Ordering::Relaxed)),
        ("spool_dropped_records", "Records the full spool dropped", dropped.records),
    ];
    for (name, help, v) in counters {
        registry.register(name, help, ConstCounter::new(v));
    }
    registry.register("spool_batches", "Batches waiting for the server", ConstGauge::new(batches as i64));
    registry.register("spool_bytes", "Bytes waiting for the server", ConstGauge::new(bytes as i64));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).expect("writing to a String");
    out
}

/// Serves [`sensor_metrics`] at `addr` on a thread of its own.
fn serve_metrics(
    addr: std::net::SocketAddr,
    health: canh_sensor::ship::client::Health,
    spool: SharedSpool,
    stats: Arc<ShipStats>,
) -> Result<()> {
    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("metrics on {addr}"))?;
    listener.set_nonblocking(true)?;
    eprintln!("metrics: http://{}/metrics", listener.local_addr()?);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
            let router = axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || {
                    let text = sensor_metrics(&health, &spool, &stats);
                    async move { ([(axum::http::header::CONTENT_TYPE, crate::server::metrics::CONTENT_TYPE)], text) }
                }),
            );
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!("metrics: {e}");
            }
        });
    });
    Ok(())
}

/// The rule packs as a heartbeat names them: each pack's name and version.
fn rules_label(packs: &[PathBuf]) -> String {
    let label = |p: &PathBuf| {
        let manifest = std::fs::read_to_string(p.join("pack.toml")).ok().and_then(|t| t.parse::<toml::Table>().ok());
        match manifest {
            Some(m) => format!(
                "{} {}",
                m.get("name").and_then(|v| v.as_str()).unwrap_or("?"),
                m.get("version").map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default()
            ),
            None => format!("{} (canh {})", p.display(), env!("CARGO_PKG_VERSION")),
        }
    };
    packs.iter().map(label).collect::<Vec<_>>().join(", ")
}

/// The capture's part of each heartbeat: frames received and dropped by the kernel (live),
/// records sealed and their rate since the last heartbeat, the rules, the interface.
fn health(
    batcher: Arc<Mutex<Batcher>>,
    capture: Option<Arc<Mutex<Vec<WorkerStats>>>>,
    rules: String,
    iface: Option<String>,
) -> canh_sensor::ship::client::Health {
    let last = Mutex::new((std::time::Instant::now(), 0u64));
    Arc::new(move || {
        let records = batcher.lock().map(|b| b.sealed.1).unwrap_or(0);
        let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
        let rate = (records - last.1.min(records)) as f64 / last.0.elapsed().as_secs_f64().max(1e-3);
        *last = (std::time::Instant::now(), records);
        let workers = capture.as_ref().map(|c| c.lock().unwrap_or_else(|p| p.into_inner()).clone()).unwrap_or_default();
        let sum = |f: fn(&WorkerStats) -> u64| workers.iter().map(f).sum::<u64>();
        serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "iface": iface,
            "records": records,
            "records_per_s": rate,
            "packets": sum(|w| w.packets),
            "received": sum(|w| w.capture.received),
            "kernel_dropped": sum(|w| w.capture.kernel_dropped),
            "workers": workers,
            "rules": rules,
        })
    })
}

/// Where a sensor's batches go.
enum To<'a> {
    /// The server's sensor listener (`host:port`), over mutual TLS.
    Server(&'a str),
    /// NATS servers (comma-separated URLs).
    Nats(&'a str),
}

/// The spool, the batcher in front of it and the shipper behind it.
struct Shipping {
    spool: SharedSpool,
    batcher: Arc<std::sync::Mutex<Batcher>>,
    stats: Arc<ShipStats>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Shipping {
    /// The shipping a sensor's flags ask for: to the server, through NATS, or none.
    fn of(
        args: &RunArgs,
        origin: &Origin,
        when_full: WhenFull,
        capture: Option<Arc<Mutex<Vec<WorkerStats>>>>,
    ) -> Result<Option<Self>> {
        let to = match (&args.server, &args.nats) {
            (Some(server), _) => To::Server(server),
            (None, Some(urls)) => To::Nats(urls),
            (None, None) => return Ok(None),
        };
        Self::start(args, to, origin, when_full, capture).map(Some)
    }

    fn start(
        args: &RunArgs,
        to: To<'_>,
        origin: &Origin,
        when_full: WhenFull,
        capture: Option<Arc<Mutex<Vec<WorkerStats>>>>,
    ) -> Result<Self> {
        let dir = args.spool.clone().unwrap_or_else(|| args.identity.join("spool"));
        let spool = Spool::open(&dir, args.spool_max_mib << 20)?;
        let (waiting, bytes) = spool.depth();
        if waiting > 0 {
            eprintln!("spool {}: {waiting} batches ({bytes} bytes) from before, sent first", dir.display());
        }
        let spool = SharedSpool::new(spool, when_full);
        let tls = client_config(&args.identity.join(CA), &args.identity.join(CERT), &args.identity.join(KEY))?;
        let stats = Arc::new(ShipStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let batcher = Arc::new(Mutex::new(Batcher::new(spool.clone()).with_limit((args.batch_kib as usize) << 10)));
        let server = match to {
            To::Server(server) => server,
            To::Nats(urls) => {
                let shipper = canh_sensor::ship::nats::NatsShipper {
                    spool: spool.clone(),
                    urls: urls.to_string(),
                    tls: urls.contains("tls://").then(|| (*tls).clone()),
                    replicas: args.nats_replicas,
                    org: origin.org.to_string(),
                    sensor: origin.sensor.to_string(),
                    stats: stats.clone(),
                };
                let health = health(batcher.clone(), capture, rules_label(&args.rules), args.iface.clone());
                if let Some(addr) = args.metrics {
                    serve_metrics(addr, health, spool.clone(), stats.clone())?;
                }
                let threads = vec![shipper.spawn(stop.clone()), seal_on_time(batcher.clone(), stop.clone())];
                return Ok(Self { spool, batcher, stats, stop, threads });
            }
        };
        let mut shipper = Shipper::new(spool.clone(), server.to_string(), tls, stats.clone());
        shipper.identity = Some([args.identity.join(CA), args.identity.join(CERT), args.identity.join(KEY)]);
        shipper.packets = args.packet_store().map(|p| p.dir);
        renew_when_due(args.identity.clone(), server.to_string());
        shipper.health = Some(health(batcher.clone(), capture, rules_label(&args.rules), args.iface.clone()));
        if let Some(addr) = args.metrics {
            serve_metrics(addr, shipper.health.clone().expect("set above"), spool.clone(), stats.clone())?;
        }
        let threads = vec![shipper.spawn(stop.clone()), seal_on_time(batcher.clone(), stop.clone())];
        Ok(Self { spool, batcher, stats, stop, threads })
    }

    fn sink(&self) -> SharedSink {
        self.batcher.clone()
    }

    /// Waits up to `wait` for the spool to drain, stops, and tells what happened.
    fn finish(self, wait: Duration) -> String {
        let drained = self.spool.drained(wait);
        self.stop(drained)
    }

    /// Stops shipping, and tells what happened (`drained`: the spool was empty at the end).
    fn stop(mut self, drained: bool) -> String {
        self.stop.store(true, Ordering::Relaxed);
        self.spool.close();
        for t in std::mem::take(&mut self.threads) {
            let _ = t.join();
        }
        self.report(drained)
    }

    /// What was shipped, and what waits or was lost.
    fn report(&self, drained: bool) -> String {
        let spool = self.spool.lock();
        let sealed = self.batcher.lock().map(|b| b.sealed).unwrap_or_default();
        let s = &self.stats;
        let mut out = format!(
            "shipped {} batches ({} records) of {} sealed ({} records); {} held already by the server\n",
            s.batches.load(Ordering::Relaxed),
            s.records.load(Ordering::Relaxed),
            sealed.0,
            sealed.1,
            s.duplicates.load(Ordering::Relaxed),
        );
        if !drained {
            let (n, bytes) = spool.depth();
            out.push_str(&format!(
                "waiting in {}: {n} batches ({} records, {bytes} bytes), sent by the next run\n",
                spool.dir().display(),
                spool.records_waiting()
            ));
            if let Some(e) = s.last_error.lock().ok().and_then(|e| e.clone()) {
                out.push_str(&format!("last error: {}\n", terminal(&e)));
            }
        }
        let dir = spool.dir().display();
        for (lost, what) in [
            (spool.dropped(), format!("dropped by the full spool: see {dir}/dropped.ndjson")),
            (spool.rejected(), format!("refused by the server: kept in {dir}/rejected")),
        ] {
            if lost.batches > 0 {
                out.push_str(&format!("{what} ({} batches, {} records)\n", lost.batches, lost.records));
            }
        }
        out
    }
}

impl RunArgs {
    /// The flags as the command line would make them, defaults and environment included
    /// (for `canh demo`).
    pub fn parse(argv: &[&str]) -> Self {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            run: RunArgs,
        }
        <Cli as clap::Parser>::parse_from(std::iter::once("canh").chain(argv.iter().copied())).run
    }
}

pub fn run(args: RunArgs) -> Result<i32> {
    if args.pcap.is_empty() && args.iface.is_none() && args.records.is_empty() {
        bail!("give --iface IF, --pcap FILE or --records FILE (or a subcommand: enroll, certify, list, revoke)");
    }
    if args.server.is_none() && args.nats.is_none() && args.out.is_none() {
        bail!("give --server HOST:PORT (the province's server) or --nats URLS, --out DIR (local logs), or both");
    }
    let origin = if args.server.is_some() || args.nats.is_some() || args.identity.join(CERT).is_file() {
        origin(&args.identity)?
    } else {
        Origin::default()
    };
    if !args.records.is_empty() {
        return run_records(&args, origin);
    }
    let Some(iface) = &args.iface else {
        let stay = args.stay.then(|| -> Result<Stay> {
            let until = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, until.clone()).context("a signal handler")?;
            }
            Ok(Stay { until, drained: None })
        });
        return run_files(&args, origin, stay.transpose()?);
    };
    run_live(&args, iface, origin)
}

fn filter(args: &RunArgs) -> Result<Option<Vec<libc::sock_filter>>> {
    use canh_sensor::capture::bpf;
    if let Some(expr) = &args.filter {
        return Ok(Some(bpf::compile(expr)?));
    }
    if let Some(path) = &args.filter_bpf {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        return Ok(Some(bpf::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?));
    }
    Ok(None)
}

fn run_live(args: &RunArgs, iface: &str, origin: Origin) -> Result<i32> {
    use canh_sensor::capture::live::LiveOptions;
    use canh_sensor::live::LiveRun;
    // The replay's options give the engine, rules and logs: the same path as a capture file.
    let mut replay = ReplayArgs::of(vec!["-".into()], args.out.clone().unwrap_or_else(|| "-".into()));
    replay.rules = args.rules.clone();
    replay.sensor = origin.sensor.to_string();
    replay.org = origin.org.to_string();
    let (opts, alerts) = replay.options_with_rules()?;
    let stats = Arc::new(Mutex::new(Vec::<WorkerStats>::new()));
    let shipping = Shipping::of(args, &origin, WhenFull::DropOldest, Some(stats.clone()))?;
    let run = LiveRun {
        capture: LiveOptions {
            iface: iface.to_string(),
            buffer_bytes: (args.buffer_mib as usize) << 20,
            fanout_group: None,
            filter: filter(args)?,
        },
        workers: args.workers.max(1),
        engine: opts.engine,
        target: if args.out.is_some() { opts.target } else { Target::Discard },
        extract_dir: None,
        inspector: opts.inspector,
        sink: shipping.as_ref().map(Shipping::sink),
        packets: args.packet_store(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).context("a signal handler")?;
    }
    if let Some(seconds) = args.seconds {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(seconds));
            stop.store(true, Ordering::Relaxed);
        });
    }
    eprintln!(
        "sensor {} of {}: capturing on {} with {} worker(s); Ctrl-C to stop",
        terminal(&origin.sensor),
        terminal(&origin.org),
        terminal(iface),
        run.workers
    );
    let summary = canh_sensor::live::run(&run, &stop, &stats).with_context(|| format!("capturing on {iface}"))?;
    for (w, s) in summary.workers.iter().enumerate() {
        eprintln!(
            "worker {w}: received {}  dropped by the kernel {}  dropped by Canh 0  packets {}  bytes {}{}",
            s.capture.received,
            s.capture.kernel_dropped,
            s.packets,
            s.bytes,
            if s.kernel_timestamps { "" } else { "  (host clock: the kernel gave no timestamps)" }
        );
    }
    let records: Vec<String> = canh_sensor::record::LogType::ALL
        .iter()
        .map(|t| format!("{} {}", t.name(), summary.records[t.index()]))
        .collect();
    eprintln!("records  {}", records.join("  "));
    if let Some(log) = &alerts {
        eprint!("{}", render_alerts(log, summary.derived));
    }
    if let Some(path) = &args.stats_json {
        let json = serde_json::json!({
            "workers": summary.workers,
            "packets": summary.engine.packets,
            "bytes": summary.engine.bytes,
            "records": summary.records.iter().sum::<u64>(),
            "alerts": summary.derived,
            "elapsed_s": summary.elapsed.as_secs_f64(),
        });
        std::fs::write(path, serde_json::to_vec_pretty(&json)?).with_context(|| path.display().to_string())?;
    }
    let mut code = 0;
    if let Some(shipping) = shipping {
        let told = shipping.finish(Duration::from_secs(args.drain_seconds));
        if told.contains("waiting in") {
            code = 3;
        }
        eprint!("{told}");
    }
    Ok(code)
}

/// Ships NDJSON records as they are (`--records`): the spool, batches and transport of a
/// capture's records, without the capture.
fn run_records(args: &RunArgs, origin: Origin) -> Result<i32> {
    use std::io::BufRead as _;
    let Some(shipping) = Shipping::of(args, &origin, WhenFull::Wait, None)? else {
        bail!("--records ships records: give --server HOST:PORT or --nats URLS");
    };
    let sink = shipping.sink();
    let mut lines = 0u64;
    let mut chunk = Vec::with_capacity(1 << 20);
    let flush = |chunk: &mut Vec<u8>| -> Result<()> {
        sink.lock().map_err(|_| anyhow::anyhow!("the batcher failed"))?.write(chunk)?;
        chunk.clear();
        Ok(())
    };
    for path in &args.records {
        let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
        for line in std::io::BufReader::with_capacity(1 << 20, file).split(b'\n') {
            let line = line.with_context(|| path.display().to_string())?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            chunk.extend_from_slice(&line);
            chunk.push(b'\n');
            lines += 1;
            if chunk.len() >= 1 << 20 {
                flush(&mut chunk)?;
            }
        }
    }
    flush(&mut chunk)?;
    sink.lock().map_err(|_| anyhow::anyhow!("the batcher failed"))?.finish()?;
    eprintln!(
        "sensor {} of {}: {lines} records from {} files",
        terminal(&origin.sensor),
        terminal(&origin.org),
        args.records.len()
    );
    let told = shipping.finish(Duration::from_secs(args.drain_seconds));
    eprint!("{told}");
    Ok(if told.contains("waiting in") { 3 } else { 0 })
}

pub fn run_files(args: &RunArgs, origin: Origin, stay: Option<Stay>) -> Result<i32> {
    let mut replay = ReplayArgs::of(args.pcap.clone(), args.out.clone().unwrap_or_else(|| "-".into()));
    replay.rules = args.rules.clone();
    replay.workers = args.workers;
    replay.extract_files = args.extract_files.clone();
    replay.sensor = origin.sensor.to_string();
    replay.org = origin.org.to_string();
    let (mut opts, alerts) = replay.options_with_rules()?;
    if args.out.is_none() {
        opts.target = Target::Discard;
    }
    let shipping = Shipping::of(args, &origin, WhenFull::Wait, None)?;
    opts.sink = shipping.as_ref().map(Shipping::sink);
    opts.packets = args.packet_store();
    eprintln!("sensor {} of {}", terminal(&origin.sensor), terminal(&origin.org));
    let summary = run_replay(&opts)?;
    eprint!("{}", render_summary(&summary));
    if let Some(log) = &alerts {
        eprint!("{}", render_alerts(log, summary.derived));
    }
    let mut code = if summary.capture_errors.is_empty() { 0 } else { 2 };
    for e in &summary.capture_errors {
        eprintln!("error: {e}");
    }
    if let Some(shipping) = shipping {
        let mut drained = shipping.spool.drained(Duration::from_secs(args.drain_seconds));
        if let Some(stay) = stay {
            eprint!("{}", shipping.report(drained));
            eprintln!("the capture is done; answering the console's requests for packets until stopped");
            if let Some(tx) = stay.drained {
                let _ = tx.send(if drained { code } else { code.max(3) });
            }
            while !stay.until.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
            }
            drained = shipping.spool.drained(Duration::ZERO);
        }
        let told = shipping.stop(drained);
        if told.contains("waiting in") {
            code = code.max(3);
        }
        eprint!("{told}");
    }
    Ok(code)
}
