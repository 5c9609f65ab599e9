//! `canh ingest FILES...`: NDJSON records (Canh's own logs, or any JSON lines with a `ts`)
//! into the event store. Prints each acknowledgement as it happens — a record counts as
//! acknowledged once a commit holds it, and a sender can drop it then.

use std::io::{BufRead, BufReader, Write};

use anyhow::{Context, Result};
use canh_analyzer::store::Store;
use canh_analyzer::store::ingest::LineIngest;
use canh_analyzer::store::writer::StoreWriter;
use clap::Args;

use crate::config::DataArgs;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// NDJSON files; `-` reads stdin.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Commit after this many records [default: the config's `store.commit_records`].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub commit_records: Option<u64>,
    /// Indexing threads (tantivy builds segments on them while this one parses).
    #[arg(long, default_value_t = StoreWriter::DEFAULT_THREADS)]
    pub threads: usize,
    /// Print `acknowledged N` on stdout after every commit.
    #[arg(long)]
    pub acks: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(args: IngestArgs) -> Result<i32> {
    let config = args.data.load()?;
    let data = args.data.data_dir(&config);
    let store = Store::open(&data)?;
    let mut policy = config.commit_policy();
    if let Some(n) = args.commit_records {
        policy.records = usize::try_from(n).unwrap_or(usize::MAX);
    }
    let mut rejected = 0;
    let mut accepted = 0;
    let started = std::time::Instant::now();
    let mut writer = Some(StoreWriter::new(&store, policy).with_threads(args.threads));
    for file in &args.files {
        // Reads of 1 MiB: a pipe or a file read 8 KiB at a time cost a system call per 15 records.
        let input: Box<dyn BufRead> = if file == "-" {
            Box::new(BufReader::with_capacity(1 << 20, std::io::stdin().lock()))
        } else {
            Box::new(BufReader::with_capacity(
                1 << 20,
                std::fs::File::open(file).with_context(|| format!("opening {file}"))?,
            ))
        };
        let name = if file == "-" { "stdin" } else { file.as_str() };
        let mut ingest = LineIngest::new(writer.take().expect("writer"), name);
        let stdout = std::io::stdout();
        let acks = args.acks;
        let result = ingest.read(input, |n| {
            if acks {
                let mut out = stdout.lock();
                let _ = writeln!(out, "acknowledged {n}");
                let _ = out.flush();
            }
        });
        for e in &ingest.errors {
            eprintln!("skipped {e}");
        }
        if ingest.rejected > ingest.errors.len() as u64 {
            eprintln!("… and {} more lines skipped in {name}", ingest.rejected - ingest.errors.len() as u64);
        }
        // Whatever went wrong, what was taken is committed before the error is told.
        let acknowledged = ingest.finish()?;
        result?;
        rejected += ingest.rejected;
        accepted += ingest.accepted;
        if args.acks {
            println!("acknowledged {acknowledged}");
        }
        writer = Some(ingest.into_writer());
    }
    let secs = started.elapsed().as_secs_f64();
    let duplicates = writer.as_ref().map_or(0, StoreWriter::duplicates);
    eprintln!(
        "ingested {accepted} records into {} ({:.0} records/s): {} stored, {duplicates} held already (duplicates){}",
        data.join("events").display(),
        accepted as f64 / secs.max(1e-9),
        accepted - duplicates,
        if rejected > 0 { format!("; {rejected} lines skipped") } else { String::new() }
    );
    Ok(if rejected > 0 { 2 } else { 0 })
}
