//! The SigmaHQ rules of ../shared/corpus/sigma: each loads or is reported unsupported with a
//! reason, never dropped silently; the network and web rules are (nearly) all usable.

use std::path::{Path, PathBuf};

use canh_rules::sigma::SigmaOptions;
use canh_rules::{Severity, pack::load_pack};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/sigma/rules");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent (the shared corpus sits beside the checkout in CI)", dir.display());
        None
    }
}

/// Rule documents in the files under `dir` (a file may hold several).
fn documents(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml") {
                n += std::fs::read_to_string(&p)
                    .unwrap()
                    .split("\n---")
                    .filter(|d| d.contains("detection:") || d.contains("correlation:"))
                    .count();
            }
        }
    }
    n
}

#[test]
fn sigmahq_rules_load_or_say_why() {
    let Some(root) = corpus() else { return };
    // Nothing excluded by status here: every rule must be accounted for.
    let opts = SigmaOptions { exclude_status: vec![] };
    for (sub, min_usable_percent) in [("network", 95.0), ("web", 95.0), ("linux", 0.0), ("application", 0.0)] {
        let dir = root.join(sub);
        let mut problems = Vec::new();
        let pack = load_pack(&dir, &opts, &mut problems);
        let errors: Vec<String> = problems
            .iter()
            .filter(|p| p.severity == Severity::Error && !p.message.contains("pack.toml"))
            .map(|p| p.to_string())
            .collect();
        let unsupported = problems.iter().filter(|p| p.severity == Severity::Unsupported).count();
        let docs = documents(&dir);
        let usable = pack.sigma.len();
        eprintln!("{sub}: {docs} rules, {usable} usable, {unsupported} unsupported, {} errors", errors.len());
        for e in &errors {
            eprintln!("  {e}");
        }
        assert_eq!(usable + unsupported + errors.len(), docs, "{sub}: every rule is loaded or reported");
        let percent = 100.0 * usable as f64 / docs as f64;
        assert!(percent >= min_usable_percent, "{sub}: only {percent:.1}% usable");
    }
}

/// SigmaHQ's regression events (real Windows event log records) each match their rule,
/// through the Windows field map and the pre-pass (some use `re` sub-flags sigma-rust lacks).
#[test]
fn sigmahq_regression_events_match_their_rules() {
    let Some(root) = corpus() else { return };
    let regression = root.join("../regression");
    let opts = SigmaOptions { exclude_status: vec![] };
    let (mut events_checked, mut rules_checked) = (0, 0);
    let mut failures = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&regression).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    for dir in dirs {
        let mut problems = Vec::new();
        let pack = load_pack(&dir.join("rule.yml"), &opts, &mut problems);
        let Some(rule) = pack.sigma.first() else {
            failures.push(format!("{}: rule did not load: {problems:?}", dir.display()));
            continue;
        };
        rules_checked += 1;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let events =
                canh_rules::testing::read_events(&std::fs::read_to_string(&path).unwrap()).expect("valid JSON");
            for (i, event) in events.iter().enumerate() {
                events_checked += 1;
                if !canh_rules::testing::matching_rules(&pack.sigma, event).contains(&rule.id.as_str()) {
                    failures.push(format!("{}#{i}: does not match {} ({})", path.display(), rule.id, rule.title));
                }
            }
        }
    }
    eprintln!("{rules_checked} rules, {events_checked} events, {} failures", failures.len());
    assert!(rules_checked >= 95 && events_checked >= rules_checked, "{rules_checked} rules, {events_checked} events");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
