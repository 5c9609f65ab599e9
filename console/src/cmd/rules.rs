//! `canh rules check PATH...` and `canh rules list PATH...`: rule packs as an author or an
//! administrator sees them.

use std::path::PathBuf;

use anyhow::Result;
use canh_analyzer::yara::YaraDetector;
use canh_rules::Severity;
use canh_rules::pack::{PackFile, load_packs};
use canh_rules::sigma::SigmaOptions;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Validate packs: every problem as `file:line:col: message`, YARA compiled as a replay
    /// compiles it; exit 1 if any is an error (rules reported `unsupported`, and warnings,
    /// are listed but do not fail the check).
    Check(PackArgs),
    /// Show packs and their rule counts.
    List(PackArgs),
    /// Run the rules of a pack (or one rule file) on JSON events; print each event's matching
    /// rule ids as a JSON line. Exit 1 if a rule cannot be loaded or an event cannot be read.
    Test(TestArgs),
}

#[derive(Debug, Args)]
struct TestArgs {
    /// A pack directory or a rule file.
    rules: PathBuf,
    /// JSON files: one event, an array of events, or events one after another.
    #[arg(required = true)]
    events: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct PackArgs {
    /// Pack directories (with pack.toml), rule directories or rule files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Sigma statuses not to load (repeatable).
    #[arg(long = "exclude-status", default_values_t = SigmaOptions::default().exclude_status)]
    exclude_status: Vec<String>,
}

pub fn run(args: RulesArgs) -> Result<i32> {
    let (check, pa) = match args.command {
        RulesCommand::Check(p) => (true, p),
        RulesCommand::List(p) => (false, p),
        RulesCommand::Test(t) => return test(t),
    };
    let opts = SigmaOptions { exclude_status: pa.exclude_status };
    let (packs, mut problems) = load_packs(&pa.paths, &opts);
    // YARA files are compiled as a replay compiles them, so that what fails there fails here.
    let yara: Vec<PackFile> = packs.iter().flat_map(|p| p.yara.clone()).collect();
    YaraDetector::compile(&yara, &mut problems);
    let errors = problems.iter().filter(|p| p.is_error()).count();
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
            pack.yara.len(),
            pack.iocs.len()
        );
    }
    if check {
        eprintln!("{errors} errors, {unsupported} unsupported");
    }
    Ok(if check && errors > 0 { 1 } else { 0 })
}

fn test(args: TestArgs) -> Result<i32> {
    // Nothing is excluded by status: a rule under test runs whatever its status.
    let opts = SigmaOptions { exclude_status: Vec::new() };
    let (packs, problems) = load_packs(std::slice::from_ref(&args.rules), &opts);
    for p in problems.iter().filter(|p| p.severity != Severity::Warning) {
        eprintln!("{p}");
    }
    // A rule that does not load is not tested: that is a failure, not an empty match list.
    let mut failed = problems.iter().any(|p| p.is_error());
    let rules = canh_rules::sigma::SigmaSet::new(packs.into_iter().flat_map(|p| p.sigma).collect());
    for file in &args.events {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", file.display());
                failed = true;
                continue;
            }
        };
        let events = match canh_rules::testing::read_events(&text) {
            Ok(v) => v,
            Err((line, col, msg)) => {
                eprintln!("{}:{line}:{col}: {msg}", file.display());
                failed = true;
                continue;
            }
        };
        for (index, event) in events.iter().enumerate() {
            let matches = canh_rules::testing::matching_rules(&rules, event);
            println!("{}", serde_json::json!({"file": file.display().to_string(), "event": index, "matches": matches}));
        }
    }
    Ok(if failed { 1 } else { 0 })
}
