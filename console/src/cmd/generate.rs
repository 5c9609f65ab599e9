//! `canh gen`: write a synthetic agency-LAN capture with planted incidents.

use std::path::PathBuf;

use anyhow::{Context, Result};
use canh_traffic::{GenConfig, generate};
use clap::Args;

#[derive(Debug, Args)]
pub struct GenArgs {
    /// The pcap file to write.
    #[arg(long, default_value = "canh-demo.pcap")]
    pub out: PathBuf,
    /// Seed: the same seed and size give the same bytes.
    #[arg(long, default_value_t = GenConfig::default().seed)]
    pub seed: u64,
    /// Approximate capture size in MB (background traffic grows to reach it).
    #[arg(long, default_value_t = GenConfig::default().target_bytes / 1_000_000)]
    pub size_mb: u64,
    /// Hosts on the agency LAN.
    #[arg(long, default_value_t = GenConfig::default().hosts)]
    pub hosts: u32,
}

pub fn run(args: GenArgs) -> Result<i32> {
    let cfg = GenConfig {
        seed: args.seed,
        target_bytes: args.size_mb * 1_000_000,
        hosts: args.hosts,
        ..GenConfig::default()
    };
    let file = std::fs::File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let report = generate(&cfg, std::io::BufWriter::new(file))?;
    eprintln!(
        "{}: {} packets, {} bytes; planted: {}",
        args.out.display(),
        report.packets,
        report.bytes,
        report.incidents.join(", ")
    );
    Ok(0)
}
