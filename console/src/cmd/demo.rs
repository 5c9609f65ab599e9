//! `canh demo`: Canh's main job on an embedded default. Generates an agency-LAN capture with
//! incidents in it, replays it into logs and prints where everything is. (Rule matching, the
//! event index and the console join this command as their issues land.)

use std::path::PathBuf;

use anyhow::{Context, Result};
use canh_tests::traffic::{GenConfig, generate};
use clap::Args;

use super::replay::{ReplayArgs, render_summary, run_replay};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Working directory for the capture, logs and extracted files.
    #[arg(long, default_value = "canh-demo")]
    pub dir: PathBuf,
    /// Size of the generated capture, in MB.
    #[arg(long, default_value_t = 20)]
    pub size_mb: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(args: DemoArgs) -> Result<i32> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    let pcap = args.dir.join("agency-lan.pcap");
    let cfg = GenConfig { seed: args.seed, target_bytes: args.size_mb * 1_000_000, hosts: 60 };
    let file = std::fs::File::create(&pcap).with_context(|| format!("creating {}", pcap.display()))?;
    let report = generate(&cfg, std::io::BufWriter::new(file))?;
    eprintln!("generated {} ({} packets, {} bytes)", pcap.display(), report.packets, report.bytes);
    eprintln!("planted incidents: {}", report.incidents.join(", "));
    let logs = args.dir.join("logs");
    let replay = ReplayArgs {
        files: vec![pcap.display().to_string()],
        out: logs.display().to_string(),
        extract_files: Some(args.dir.join("files")),
        workers: 1,
        stream_head_kib: 64,
        depth_mib: 8,
        max_flows: 250_000,
        reassembly_memcap_mib: 256,
        artifact_memcap_mib: 256,
        sensor: "demo-sensor".into(),
        org: "so-khcn-demo".into(),
        summary_json: None,
        rules: Vec::new(),
    };
    let summary = run_replay(&replay.options())?;
    eprint!("{}", render_summary(&summary));
    eprintln!("logs: {}  (conn, dns, http, ssl, files .ndjson)", logs.display());
    eprintln!("extracted files: {}", args.dir.join("files").display());
    eprintln!("try:  grep -h '\"username\"' {}/http.ndjson", logs.display());
    eprintln!("      grep -l 'TỐI MẬT' {}/*", args.dir.join("files").display());
    Ok(if summary.capture_errors.is_empty() { 0 } else { 2 })
}
