//! `canh demo`: Canh's main job on an embedded default. Generates an agency-LAN capture with
//! incidents in it, replays it into logs with Canh's own `vn-gov` rule pack, and prints what
//! was found, indexes every record and alert into an event store, and shows how to search it.
//! (The web console joins this command as its issue lands.)

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use canh_traffic::{GenConfig, generate};
use clap::Args;

use super::demo_province;
use super::replay::{Indexing, ReplayArgs, render_alerts, render_summary, run_replay};
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
    let replay = ReplayArgs {
        extract_files: Some(args.dir.join("files")),
        sensor: "demo-sensor".into(),
        org: demo_province::SENSOR_ORG.into(),
        rules: vec![bundled_pack()],
        index: Some(Some(data.clone())),
        ..ReplayArgs::of(vec![pcap.display().to_string()], logs.display().to_string())
    };
    let (mut opts, alerts) = replay.options_with_rules()?;
    let indexing = Indexing::open(data.clone(), &Config::default())?;
    opts.sink = Some(indexing.sink());
    let summary = run_replay(&opts)?;
    eprint!("{}", render_summary(&summary));
    if let Some(log) = &alerts {
        eprint!("{}", render_alerts(log, summary.derived));
    }
    eprint!("{}", indexing.render());
    eprintln!("logs: {}  (conn, dns, http, ssl, files, weird .ndjson; alerts.json)", logs.display());
    eprintln!("extracted files: {}", args.dir.join("files").display());
    // The commands as they run from here: this binary by its path (after `cargo run` it is in
    // the target directory, not on the PATH), the data directory as given.
    let canh = std::env::current_exe().map_or_else(|_| "canh".to_string(), |p| shell_word(&p.display().to_string()));
    let d = shell_word(&data.display().to_string());
    eprintln!("try:  {canh} search --data {d} '_type:alert' --since 24h --limit 20");
    eprintln!("      {canh} search --data {d} '_type:alert' --agg terms:rule_id");
    eprintln!("      {canh} search --data {d} '_type:http AND method:POST' --csv");
    eprintln!(
        "      {canh} search --data {d} 'id.orig_h:10.10.0.0/16 AND id.resp_p:[1 TO 1024]' --agg terms:id.resp_h"
    );
    eprintln!("      {canh} store stats --data {d}");
    let mut state = State::open(&data)?;
    let accounts = demo_province::make(&mut state)?;
    let systems = super::demo_compliance::make(&mut state, crate::when::today_in_vietnam())?;
    drop(state);
    eprintln!(
        "compliance: {systems} information systems of the province, their levels and dossiers (console: /systems, /dossiers)"
    );
    let code = if summary.capture_errors.is_empty() { 0 } else { 2 };
    if args.no_serve {
        println!("{}", render_accounts(&accounts));
        eprintln!("console:  {canh} server --data {d}");
        return Ok(code);
    }
    super::server::serve(&data, args.listen, &Config::default(), |url, cert| {
        println!("{}", render_accounts(&accounts));
        println!("console: {url}  (a self-signed certificate, {}; Ctrl-C to stop)", cert.display());
    })?;
    Ok(code)
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
