//! `canh rules check PATH...` and `canh rules list PATH...`: rule packs as an author or an
//! administrator sees them.

use std::path::PathBuf;

use anyhow::Result;
use canh_rules::pack::load_packs;
use canh_rules::sigma::SigmaOptions;
use canh_rules::Severity;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Validate packs: every problem as `file:line:col: message`; exit 1 if any is an error
    /// (rules reported `unsupported` are listed but do not fail the check).
    Check(PackArgs),
    /// Show packs and their rule counts.
    List(PackArgs),
}

#[derive(Debug, Args)]
struct PackArgs {
    /// Pack directories (with pack.toml), rule directories or rule files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Sigma statuses not to load (repeatable).
    #[arg(long = "exclude-status", default_values = ["deprecated", "unsupported"])]
    exclude_status: Vec<String>,
}

pub fn run(args: RulesArgs) -> Result<i32> {
    let (check, pa) = match args.command {
        RulesCommand::Check(p) => (true, p),
        RulesCommand::List(p) => (false, p),
    };
    let opts = SigmaOptions { exclude_status: pa.exclude_status };
    let (packs, problems) = load_packs(&pa.paths, &opts);
    let errors = problems.iter().filter(|p| p.severity == Severity::Error).count();
    let unsupported = problems.iter().filter(|p| p.severity == Severity::Unsupported).count();
    if check {
        for p in &problems {
            println!("{p}");
        }
    }
    for pack in &packs {
        let m = &pack.manifest;
        eprintln!(
            "{} {} ({}): sigma {} usable, {} unsupported, {} excluded by status; yara {} files; iocs {}",
            m.name,
            m.version,
            pack.dir.display(),
            pack.sigma.len(),
            pack.sigma_unsupported,
            pack.sigma_excluded,
            pack.yara_files.len(),
            pack.iocs.len()
        );
    }
    if check {
        eprintln!("{errors} errors, {unsupported} unsupported");
    }
    Ok(if check && errors > 0 { 1 } else { 0 })
}
