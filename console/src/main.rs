//! `canh`: one binary for Canh's sensors, analyzer, console and compliance tools.

use canh_console::cmd;

// glibc's malloc serializes threads that free what another allocated (records parsed on one
// thread, indexed and dropped on tantivy's): its locks led ingest's profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "canh",
    version,
    about = "Canh: network security monitoring and security-level compliance for Vietnamese agencies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a capture with incidents, analyze it, and show where the results are.
    Demo(cmd::demo::DemoArgs),
    /// Analyze capture files offline into conn, dns, http, ssl and files logs.
    Replay(cmd::replay::ReplayArgs),
    /// Write a synthetic agency-LAN capture with planted incidents.
    Gen(cmd::generate::GenArgs),
    /// Validate and list rule packs (Sigma, YARA, IOC lists).
    Rules(cmd::rules::RulesArgs),
    /// Search the event store: records newest first, or an aggregation over them.
    Search(cmd::search::SearchArgs),
    /// The event store: days, records and bytes; retention.
    Store(cmd::store::StoreArgs),
    /// Put NDJSON records (logs of `canh replay`, host logs with a `ts`) into the event store.
    Ingest(cmd::ingest::IngestArgs),
    /// Measure the detection engines apart from decoding (Sigma records/s, YARA MB/s).
    Bench(cmd::bench::BenchArgs),
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("CANH_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Gen(a) => cmd::generate::run(a),
        Command::Rules(a) => cmd::rules::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Search(a) => cmd::search::run(a),
        Command::Store(a) => cmd::store::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
