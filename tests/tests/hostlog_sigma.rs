//! Host log detection on SigmaHQ's material: every regression event (a real Windows event
//! record), routed by its channel and event id to a logsource, matches its own rule with all
//! the regression rules loaded together in the host-log detector — the routing keeps each rule
//! where its events are, and the rules of other logsources out.

mod common;

use std::path::PathBuf;

use canh_analyzer::hostlog::{HostLogDetector, Source};
use canh_rules::pack::load_pack;
use canh_rules::sigma::SigmaOptions;

#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn sigmahq_regression_events_meet_their_rule_through_routing() {
    let regression = common::corpus().join("sigma/regression");
    let opts = SigmaOptions { exclude_status: vec![] };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&regression).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    let mut rules = Vec::new();
    let mut cases = Vec::new();
    for dir in &dirs {
        let mut problems = Vec::new();
        let pack = load_pack(&dir.join("rule.yml"), &opts, &mut problems);
        let Some(rule) = pack.sigma.into_iter().next() else { continue };
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                for event in canh_rules::testing::read_events(&text).unwrap() {
                    cases.push((rule.id.clone(), rule.logsource.clone(), path.clone(), event));
                }
            }
        }
        rules.push(rule);
    }
    let detector = HostLogDetector::new(rules);
    assert!(detector.rules() >= 95, "{} rules", detector.rules());
    let mut failures = Vec::new();
    for (id, logsource, path, event) in &cases {
        let fields = canh_rules::windows::flatten(event).expect("a Windows event record");
        let source = Source::of_windows(&fields);
        let matched: Vec<&str> = detector.matching(&fields, &source).iter().map(|r| r.id.as_str()).collect();
        if !matched.contains(&id.as_str()) {
            failures.push(format!("{}: {id} ({logsource:?}) not met; routed as {source:?}", path.display()));
        }
    }
    eprintln!("{} events, {} not routed to their rule", cases.len(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
