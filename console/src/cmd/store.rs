//! `canh store stats` and `canh store prune`: what the event store holds, day by day, and
//! retention enforced on it.

use anyhow::{Result, bail};
use canh_analyzer::store::Store;
use canh_analyzer::store::retention::Pruned;
use clap::{Args, Subcommand};
use time::OffsetDateTime;

use crate::config::DataArgs;

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Days held, with their records and bytes on disk, and the retention in force.
    Stats {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Enforce retention: drop the days past their age, delete expired records of a type or
    /// org from days kept for others, then keep under the disk budget.
    Prune {
        /// Say what would go; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Bytes for people: 1.5 GB, 320.0 MB.
pub fn human_bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", units[u]) }
}

/// Today in UTC, as the store names days.
pub fn today() -> String {
    let d = OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn open(data: &DataArgs) -> Result<(Store, crate::config::Config)> {
    let config = data.load()?;
    let dir = data.data_dir(&config);
    if !dir.join("events").is_dir() {
        bail!("{}: no event store here (fill one with `canh replay --index` or `canh ingest`)", dir.display());
    }
    Ok((Store::open(&dir)?, config))
}

pub fn run(args: StoreArgs) -> Result<i32> {
    match args.command {
        StoreCommand::Stats { json, data } => {
            let (store, config) = open(&data)?;
            let days = store.stats()?;
            let retention = config.retention();
            if json {
                let doc = serde_json::json!({
                    "days": days,
                    "records": days.iter().map(|d| d.records).sum::<u64>(),
                    "bytes": days.iter().map(|d| d.bytes).sum::<u64>(),
                    "retention": {
                        "default_days": retention.default_days,
                        "orgs": retention.orgs,
                        "types": retention.types,
                        "disk_budget": retention.disk_budget,
                    },
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(0);
            }
            println!("{:<10}  {:>12}  {:>10}", "day (UTC)", "records", "bytes");
            for d in &days {
                println!("{:<10}  {:>12}  {:>10}", d.day, d.records, human_bytes(d.bytes));
            }
            let (records, bytes): (u64, u64) =
                (days.iter().map(|d| d.records).sum(), days.iter().map(|d| d.bytes).sum());
            println!("{:<10}  {:>12}  {:>10}", format!("{} days", days.len()), records, human_bytes(bytes));
            println!();
            println!("retention: {} days unless an org or a type says otherwise", retention.default_days);
            for (org, d) in &retention.orgs {
                println!("  org {org}: {d} days");
            }
            for (t, d) in &retention.types {
                println!("  type {t}: {d} days");
            }
            if let Some(b) = retention.disk_budget {
                println!("  disk budget: {}", human_bytes(b));
            }
            for w in config.retention_warnings() {
                eprintln!("warning: {w}");
            }
            Ok(0)
        }
        StoreCommand::Prune { dry_run, data } => {
            let (store, config) = open(&data)?;
            for w in config.retention_warnings() {
                eprintln!("warning: {w}");
            }
            let pruned = store.prune(&config.retention(), &today(), dry_run)?;
            print!("{}", render_pruned(&pruned, dry_run));
            Ok(0)
        }
    }
}

pub fn render_pruned(p: &Pruned, dry_run: bool) -> String {
    let verb = if dry_run { "would drop" } else { "dropped" };
    let mut out = String::new();
    for d in &p.expired_days {
        out.push_str(&format!("{verb} {d}: past its retention\n"));
    }
    for (d, t, o, n) in &p.expired_records {
        let org = if o.is_empty() { "(no org)" } else { o };
        out.push_str(&format!("{verb} {n} {t} records of {org} from {d}: past their retention\n"));
    }
    for d in &p.budget_days {
        out.push_str(&format!("{verb} {d}: over the disk budget (before its retention ended)\n"));
    }
    for d in &p.busy_days {
        out.push_str(&format!("kept {d} for now: a writer (an ingest or a replay) holds it open\n"));
    }
    if out.is_empty() {
        out.push_str("nothing past its retention\n");
    } else {
        out.push_str(&format!("{} {}\n", if dry_run { "would free" } else { "freed" }, human_bytes(p.bytes_freed)));
    }
    out
}
