//! `canh bench console --data DIR`: the console's latency under load, on an event store made by
//! `canh bench events | canh ingest` (10M records by default). Alerts are topped up to
//! `--alerts` (copies of the store's own alerts with new ids, sources and times) and taken into
//! triage; the server runs in this process over TLS on loopback, and `--clients` connections
//! (each its own TLS session, HTTP/1.1 keep-alive, one request at a time) ask for the alert
//! queue, an alert's detail (a different alert each time) and a search (a different host each
//! time) for `--seconds` each. Prints requests/s and p50, p95, p99 and max latency per call,
//! and the bytes of a first page load (the queue's HTML, the stylesheet and the script).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Body;
use canh_analyzer::store::Store;
use canh_analyzer::store::aggregate::{Agg, AggResult};
use canh_analyzer::store::query::Search;
use canh_analyzer::store::writer::{CommitPolicy, StoreWriter};
use clap::Args;
use hyper_util::rt::TokioIo;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::bench::percentile;
use crate::server;
use crate::state::session::{self, Policy};
use crate::state::user::Role;
use crate::state::{Actor, State, org, user};

#[derive(Debug, Args)]
pub struct ConsoleBenchArgs {
    /// Alerts the store should hold (topped up when it holds fewer).
    #[arg(long, default_value_t = 100_000)]
    pub alerts: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Seconds of load on each call.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    #[command(flatten)]
    pub data: crate::config::DataArgs,
}

const USER: &str = "bench.analyst";
const PASSWORD: &str = "Canh@bench2026";

pub fn run(args: ConsoleBenchArgs) -> Result<i32> {
    let config = args.data.load()?;
    let data = args.data.data_dir(&config);
    let store = Store::open(&data)?;
    let records: u64 = store.stats()?.iter().map(|d| d.records).sum();
    if records == 0 {
        bail!("{}: the store is empty (make one with `canh bench events` and `canh ingest`)", data.display());
    }
    top_up_alerts(&store, args.alerts)?;
    let (app, token, ids, hosts) = prepare(&data, &store)?;
    let alerts: i64 = app.lock().conn().query_row("SELECT COUNT(*) FROM alerts", [], |r| r.get(0))?;
    eprintln!("store: {records} records, {alerts} alerts in triage");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(load(app, &data, token, ids, hosts, &args))?;
    Ok(0)
}

/// Adds copies of the store's alerts (new ids, sources, destinations and times within the
/// store's days) until it holds `want`.
fn top_up_alerts(store: &Store, want: u64) -> Result<()> {
    let held = store.search(&Search { query: "_type:alert".into(), limit: 1000, ..Default::default() })?;
    if held.total >= want {
        return Ok(());
    }
    if held.records.is_empty() {
        bail!("the store holds no alert to copy");
    }
    let days = store.days();
    let first = canh_analyzer::store::day_start(&days[0]).unwrap_or(0);
    let last =
        canh_analyzer::store::day_start(days.last().expect("a day")).unwrap_or(0) + canh_analyzer::store::DAY_MICROS;
    let mut rng = SmallRng::seed_from_u64(2026);
    let mut w = StoreWriter::new(store, CommitPolicy { records: 50_000, interval: Duration::from_secs(600) });
    let missing = want - held.total;
    for i in 0..missing {
        let mut a = held.records[rng.random_range(0..held.records.len())].clone();
        let Value::Object(m) = &mut a else { continue };
        m.insert("id".into(), Value::String(format!("Bench{i:012}")));
        let ts = rng.random_range(first..last) as f64 / 1e6;
        m.insert("ts".into(), ts.into());
        // A few thousand sources (scanners, infected hosts), a few hundred destinations.
        let src =
            format!("10.{}.{}.{}", 20 + rng.random_range(0..4u8), rng.random_range(0..8u8), rng.random_range(1..250u8));
        let dst = format!("10.10.{}.{}", rng.random_range(0..4u8), rng.random_range(1..100u8));
        m.insert("id.orig_h".into(), src.into());
        m.insert("id.resp_h".into(), dst.into());
        w.add_line(&a.to_string()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    w.commit()?;
    eprintln!("added {missing} alerts (copies of the store's own)");
    Ok(())
}

/// The app, the session's token, and samples of alert ids, their sources and their rules.
type Prepared = (Arc<server::routes::App>, String, Vec<String>, Vec<(String, String)>);

/// The console's state for the run: the store's organizations under one root, an analyst at
/// the root (who sees everything: the largest answers), the alerts taken into triage.
fn prepare(data: &Path, store: &Store) -> Result<Prepared> {
    let mut state = State::open(data)?;
    let actor = Actor::cli();
    let search = Search { query: "*".into(), ..Default::default() };
    let orgs = match store.aggregate(&search, &Agg::Terms { field: "_org".into(), size: 100 })? {
        AggResult::Terms { buckets, .. } => buckets.into_iter().map(|(o, _)| o).collect(),
        _ => Vec::new(),
    };
    state.change(|tx| {
        if org::id_of(tx, "bench-root").is_err() {
            org::add(tx, &actor, "bench-root", "Bench province", None)?;
        }
        for o in &orgs {
            if org::id_of(tx, o).is_err() {
                org::add(tx, &actor, o, o, Some("bench-root"))?;
            }
        }
        if user::get(tx, USER).is_err() {
            user::add(tx, &actor, USER, Role::Analyst, "bench-root", PASSWORD)?;
        }
        Ok(())
    })?;
    let now = crate::state::now_unix();
    let opened = session::sign_in(&mut state, &Policy::default(), USER, PASSWORD, None, "127.0.0.1", now)?
        .map_err(|r| anyhow::anyhow!("signing the bench user in: {r:?}"))?;
    let app = server::routes::App::new(state, Policy::default());
    let started = Instant::now();
    let taken = app.sync_alerts()?;
    eprintln!("triage took {} alerts in {:.1} s", taken.added, started.elapsed().as_secs_f64());
    let (ids, hosts): (Vec<String>, Vec<(String, String)>) = {
        let state = app.lock();
        let mut stmt = state.conn().prepare("SELECT id, src, rule_id FROM alerts ORDER BY random() LIMIT 5000")?;
        let rows: Vec<(String, String, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
        rows.into_iter().map(|(id, src, rule)| (id, (src, rule))).unzip()
    };
    if ids.is_empty() {
        bail!("no alert in triage");
    }
    Ok((app, opened.token, ids, hosts))
}

/// One client: a TLS connection and HTTP/1.1 over it.
async fn connect(
    addr: std::net::SocketAddr,
    tls: &tokio_rustls::TlsConnector,
) -> Result<hyper::client::conn::http1::SendRequest<Body>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let stream = tls.connect("localhost".try_into()?, tcp).await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Body>,
    path: &str,
    cookie: &str,
) -> Result<(u16, usize)> {
    sender.ready().await?;
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, "localhost")
        .header(hyper::header::COOKIE, cookie)
        .body(Body::empty())?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(Body::new(res.into_body()), usize::MAX).await?;
    Ok((status, bytes.len()))
}

/// The figures of one call under load.
struct Figures {
    requests: usize,
    errors: usize,
    per_second: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

async fn load(
    app: Arc<server::routes::App>,
    data: &Path,
    token: String,
    ids: Vec<String>,
    hosts: Vec<(String, String)>,
    args: &ConsoleBenchArgs,
) -> Result<()> {
    let (cert, key) = server::tls::pair(data, None, None)?;
    let tls = server::tls::server_config(&cert, &key)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(listener, tls, server::routes::router(app), async {
        let _ = stopped.await;
    }));
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from_pem_file(&cert).context("the console's certificate")?)?;
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let cookie = format!("{}={token}", server::routes::SESSION_COOKIE);

    // A first page load: the queue's HTML, the stylesheet and the script.
    let mut one = connect(addr, &connector).await?;
    let mut first = 0;
    for path in ["/alerts", "/assets/console.css", "/assets/console.js"] {
        let (status, bytes) = get(&mut one, path, &cookie).await?;
        if status != 200 {
            bail!("{path}: {status}");
        }
        first += bytes;
    }
    println!("first page load (/alerts with its stylesheet and script): {first} bytes, uncompressed");

    let ids = Arc::new(ids);
    let hosts = Arc::new(hosts);
    println!("{} clients, {} s each call", args.clients, args.seconds);
    println!("| call | requests | errors | requests/s | p50 | p95 | p99 | max |");
    println!("|---|---|---|---|---|---|---|---|");
    // `queue`: the default queue, which every client asks for (answered from the cache until
    // alerts change); `queue-filtered`: each request for one rule and one source drawn from
    // the alerts (mostly not cached): what the query itself costs.
    for call in ["queue", "queue-filtered", "detail", "search"] {
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for k in 0..args.clients {
            let (connector, cookie, ids, hosts) = (connector.clone(), cookie.clone(), ids.clone(), hosts.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = SmallRng::seed_from_u64(k as u64);
                let mut sender = connect(addr, &connector).await?;
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let path = match call {
                        "queue" => "/api/v1/alerts/queue".to_string(),
                        "queue-filtered" => {
                            let (src, rule) = &hosts[rng.random_range(0..hosts.len())];
                            format!("/api/v1/alerts/queue?rule_id={rule}&src={src}&by=dst")
                        }
                        "detail" => format!("/api/v1/alerts/{}", ids[rng.random_range(0..ids.len())]),
                        _ => format!(
                            "/api/v1/search?q=id.orig_h%3A{}&since=90d&limit=50",
                            hosts[rng.random_range(0..hosts.len())].0
                        ),
                    };
                    let t = Instant::now();
                    match get(&mut sender, &path, &cookie).await {
                        Ok((200, _)) => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            sender = connect(addr, &connector).await?;
                        }
                    }
                }
                anyhow::Ok((latencies, errors))
            }));
        }
        let (mut all, mut errors) = (Vec::new(), 0);
        for t in tasks {
            let (l, e) = t.await??;
            all.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_by(f64::total_cmp);
        if all.is_empty() {
            bail!("{call}: no request answered");
        }
        let f = Figures {
            requests: all.len(),
            errors,
            per_second: all.len() as f64 / elapsed,
            p50: percentile(&all, 0.50),
            p95: percentile(&all, 0.95),
            p99: percentile(&all, 0.99),
            max: *all.last().expect("one at least"),
        };
        println!(
            "| {call} | {} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
            f.requests, f.errors, f.per_second, f.p50, f.p95, f.p99, f.max
        );
    }
    stop.send(()).ok();
    serving.await??;
    Ok(())
}
