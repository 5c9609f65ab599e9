//! `canh demo`: Canh's main job on an embedded default. Generates an agency-LAN capture with
//! incidents in it and a province (organizations, accounts, information systems and dossiers,
//! the CA); starts the server; a sensor, enrolled with its own certificate, analyzes the capture
//! with Canh's own `vn-gov` rule pack and streams its records and alerts to the server over
//! mutual TLS, and the agency's servers send their syslog; then it shows how to search what was
//! stored, and serves the console.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use canh_traffic::{GenConfig, generate};
use clap::Args;

use super::demo_province;
use super::sensor_run::RunArgs;
use crate::config::Config;
use crate::state::State;

/// Canh's own pack, built into the binary ([`canh_rules::bundled`]).
pub fn bundled_pack() -> PathBuf {
    PathBuf::from("bundled:vn-gov")
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Working directory for the capture, logs and extracted files.
    #[arg(long, default_value = "canh-demo")]
    pub dir: PathBuf,
    /// Size of the generated capture, in MB.
    #[arg(long, default_value_t = GenConfig::default().target_bytes / 1_000_000)]
    pub size_mb: u64,
    /// Seed of the generated capture: the same seed and size give the same bytes.
    #[arg(long, default_value_t = GenConfig::default().seed)]
    pub seed: u64,
    /// Stop after analyzing and indexing, without serving the console (for scripts).
    #[arg(long)]
    pub no_serve: bool,
    /// Where the console listens.
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
}

/// The file that marks a data directory as the demo's own, which the next run may replace.
const MARKER: &str = ".canh-demo";

pub fn run(args: DemoArgs) -> Result<i32> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    let pcap = args.dir.join("agency-lan.pcap");
    // Dated an hour ago (a gigabyte of traffic spans about half an hour), so that the searches
    // an analyst tries first (`--since 24h`) find it.
    let an_hour_ago = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs().saturating_sub(3600));
    let cfg = GenConfig {
        seed: args.seed,
        target_bytes: args.size_mb * 1_000_000,
        start: an_hour_ago * 1_000_000,
        ..GenConfig::default()
    };
    let file = std::fs::File::create(&pcap).with_context(|| format!("creating {}", pcap.display()))?;
    let report = generate(&cfg, std::io::BufWriter::new(file))?;
    eprintln!("generated {} ({} packets, {} bytes)", pcap.display(), report.packets, report.bytes);
    eprintln!("planted incidents: {}", report.incidents.join(", "));
    let logs = args.dir.join("logs");
    let data = args.dir.join("data");
    // Each run starts its province afresh; a data directory the demo did not make is not
    // touched.
    if data.exists() {
        if !data.join(MARKER).exists() {
            anyhow::bail!("{} exists and is not a demo's: choose another --dir", data.display());
        }
        std::fs::remove_dir_all(&data).with_context(|| format!("removing the last demo's {}", data.display()))?;
    }
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    std::fs::write(data.join(MARKER), "made by canh demo; the next run replaces this directory\n")?;
    // The province first: its organizations, accounts and information systems, the CA and
    // the demo's sensor, enrolled and certified as an agency's would be.
    let mut state = State::open(&data)?;
    let accounts = demo_province::make(&mut state)?;
    let systems = super::demo_compliance::make(&mut state, crate::when::today_in_vietnam())?;
    let identity = args.dir.join("sensor");
    enroll_sensor(&mut state, &data, &identity)?;
    drop(state);
    eprintln!(
        "compliance: {systems} information systems of the province, their levels and dossiers (console: /systems, /dossiers)"
    );
    // The server takes the sensor's batches over mutual TLS and the hosts' syslog; the sensor
    // streams the capture to it on a thread of its own.
    let (sensor_port, syslog_port) = (free_tcp_port()?, free_udp_port()?);
    let mut config = Config::default();
    config.server.sensor_listen = ([127, 0, 0, 1], sensor_port).into();
    config.server.syslog_udp = Some(([127, 0, 0, 1], syslog_port).into());
    config.server.rules = vec![bundled_pack()];
    let sensor = RunArgs::parse(&[
        "--pcap",
        &pcap.display().to_string(),
        "--server",
        &format!("localhost:{sensor_port}"),
        "--identity",
        &identity.display().to_string(),
        "--out",
        &logs.display().to_string(),
        "--extract-files",
        &args.dir.join("files").display().to_string(),
        "--rules",
        "bundled:vn-gov",
        "--drain-seconds",
        "120",
    ]);
    // The commands as they run from here: this binary by its path (after `cargo run` it is in
    // the target directory, not on the PATH), the data directory as given.
    let canh = std::env::current_exe().map_or_else(|_| "canh".to_string(), |p| shell_word(&p.display().to_string()));
    let d = shell_word(&data.display().to_string());
    let tries = move || {
        eprintln!("try:  {canh} search --data {d} '_type:alert' --since 24h --limit 20");
        eprintln!("      {canh} search --data {d} '_type:alert' --agg terms:rule_id");
        eprintln!("      {canh} search --data {d} '_type:http AND method:POST' --csv");
        eprintln!(
            "      {canh} search --data {d} 'id.orig_h:10.10.0.0/16 AND id.resp_p:[1 TO 1024]' --agg terms:id.resp_h"
        );
        eprintln!("      {canh} store stats --data {d}");
        eprintln!("console:  {canh} server --data {d}");
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Result<i32>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let no_serve = args.no_serve;
    let data_for_sensor = data.clone();
    let streaming = std::thread::spawn(move || {
        let outcome = stream(sensor, sensor_port, syslog_port, &logs, &data_for_sensor, !no_serve);
        if outcome.is_ok() {
            tries();
        }
        let _ = done_tx.send(outcome);
        if no_serve {
            let _ = stop_tx.send(());
        }
    });
    if args.no_serve {
        super::server::serve_until(&data, ([127, 0, 0, 1], 0).into(), &config, |_, _| {}, async move {
            let _ = stop_rx.await;
        })?;
        let _ = streaming.join();
        let code = done_rx.recv().unwrap_or_else(|_| Ok(1))?;
        println!("{}", render_accounts(&accounts));
        return Ok(code);
    }
    super::server::serve(&data, args.listen, &config, |url, cert| {
        println!("{}", render_accounts(&accounts));
        println!("console: {url}  (a self-signed certificate, {}; Ctrl-C to stop)", cert.display());
    })?;
    done_rx.try_recv().unwrap_or(Ok(0))
}

/// The province CA, and the demo's sensor enrolled for the agency its capture is of, its key
/// and certificate in `identity` (what `canh sensor certify --out` writes).
fn enroll_sensor(state: &mut State, data: &std::path::Path, identity: &std::path::Path) -> Result<()> {
    use super::sensor_run::{CA, CERT, KEY};
    use crate::server::ca::{Ca, sensor_request};
    Ca::init(data, "Lâm Đồng")?;
    let ca = Ca::load(data)?;
    let actor = crate::state::Actor::cli();
    let token =
        state.change(|tx| crate::state::sensor::enroll(tx, &actor, "demo-sensor", demo_province::SENSOR_ORG))?;
    let (key, csr) = sensor_request("demo-sensor")?;
    let (_, pem) = state.change(|tx| crate::state::sensor::redeem(tx, &token, |n, o| ca.sign_sensor(&csr, n, o)))?;
    if identity.exists() {
        std::fs::remove_dir_all(identity).with_context(|| identity.display().to_string())?;
    }
    std::fs::create_dir_all(identity).with_context(|| identity.display().to_string())?;
    std::fs::write(identity.join(CERT), pem)?;
    std::fs::write(identity.join(CA), ca.cert_pem())?;
    crate::server::tls::write_private(&identity.join(KEY), key.as_bytes())?;
    Ok(())
}

fn free_tcp_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn free_udp_port() -> Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The sensor's part of the demo: waits for the server, streams the capture through the
/// mutual-TLS path, then sends the hosts' syslog. While the console serves (`stay`), the
/// sensor stays too, answering the console's requests for the packets behind an alert.
fn stream(
    sensor: RunArgs,
    sensor_port: u16,
    syslog_port: u16,
    logs: &std::path::Path,
    data: &std::path::Path,
    stay: bool,
) -> Result<i32> {
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", sensor_port)).is_err() {
        anyhow::ensure!(started.elapsed() < std::time::Duration::from_secs(30), "the demo server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let origin = super::sensor_run::origin(&sensor.identity)?;
    let code = if stay {
        let (tx, rx) = std::sync::mpsc::channel();
        // Never set: the demo's sensor lives as long as its server, until Ctrl-C.
        let until = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        std::thread::spawn(move || {
            let stay = super::sensor_run::Stay { until, drained: Some(tx) };
            if let Err(e) = super::sensor_run::run_files(&sensor, origin, Some(stay)) {
                eprintln!("the demo's sensor: {e:#}");
            }
        });
        rx.recv().context("the demo's sensor stopped before the end of its capture")?
    } else {
        super::sensor_run::run_files(&sensor, origin, None)?
    };
    eprintln!("logs: {}  (conn, dns, http, ssl, files, weird .ndjson; alerts.json)", logs.display());
    let sent = send_host_logs(syslog_port)?;
    eprintln!("host logs: {sent} syslog messages from the agency's servers sent to the server (UDP)");
    // The server writes them within a second or so; the demo goes on once the store has them.
    let store = canh_analyzer::store::Store::open(data)?;
    let query = canh_analyzer::store::query::Search { query: "_type:syslog".into(), limit: 1, ..Default::default() };
    let started = std::time::Instant::now();
    while store.search(&query).map_or(0, |h| h.total) < sent as u64 {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            eprintln!("host logs: not all stored after 20 s (UDP may have lost some)");
            break;
        }
        store.forget_gone_days();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(code)
}

/// Syslog from the demo LAN's servers (RFC 5424, each naming its host by address, as a relay
/// forwards them): routine sessions, and a password-guessing burst on root over SSH.
fn send_host_logs(port: u16) -> Result<usize> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?;
    let mut messages = Vec::new();
    for (host, n) in [("10.10.1.10", 1), ("10.10.1.11", 2)] {
        messages.push(format!(
            "<86>1 {now} {host} sudo {n}00 - - pam_unix(sudo:session): session opened for user root by admin(uid=1000)"
        ));
        messages.push(format!("<78>1 {now} {host} CRON {n}01 - - (root) CMD (/usr/local/bin/backup-qlvb.sh)"));
        messages.push(format!(
            "<38>1 {now} {host} sshd {n}02 - - Accepted publickey for deploy from 10.10.2.45 port 51022 ssh2"
        ));
    }
    for i in 0..12 {
        messages.push(format!(
            "<38>1 {now} 10.10.1.10 sshd 77{i:02} - - Failed password for root from 203.0.113.77 port {} ssh2",
            40_000 + i
        ));
    }
    for m in &messages {
        socket.send_to(m.as_bytes(), ("127.0.0.1", port))?;
    }
    Ok(messages.len())
}

/// The demo's accounts, as a table to sign in with.
fn render_accounts(accounts: &[demo_province::Account]) -> String {
    let mut out = String::from("accounts of the demo province (Lâm Đồng), made for this run:\n");
    out.push_str(&format!("  {:<14} {:<13} {:<15} {}\n", "user", "role", "organization", "password"));
    for a in accounts {
        out.push_str(&format!("  {:<14} {:<13} {:<15} {}\n", a.name, a.role.as_str(), a.org, a.password));
        if let Some((secret, url)) = &a.totp {
            out.push_str(&format!(
                "  {:<14} second factor (TOTP): secret {secret} — add it to an authenticator app ({url}), or `oathtool --totp -b {secret}`\n",
                ""
            ));
        }
    }
    out
}

/// A path as one word of a POSIX shell: as it is when it has nothing a shell reads, else in
/// single quotes.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:,@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
