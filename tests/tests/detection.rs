//! Real SigmaHQ rules on the sensor's records: the generated capture's planted incidents raise
//! the alerts those rules are written for, routed through the field map.

mod common;

use std::collections::BTreeMap;

use canh_analyzer::sigma::SigmaDetector;
use canh_rules::fieldmap::FieldMap;
use canh_rules::pack::load_pack;
use canh_rules::sigma::{SigmaOptions, SigmaSet};
use canh_sensor::engine::EngineConfig;
use canh_tests::traffic::{GenConfig, generate};

#[test]
fn sigmahq_network_and_web_rules_fire_on_planted_incidents() {
    let Some(dir) = common::corpus() else { return };
    let mut problems = Vec::new();
    let mut rules = Vec::new();
    for sub in ["network", "web"] {
        rules.extend(load_pack(&dir.join("sigma/rules").join(sub), &SigmaOptions::default(), &mut problems).sigma);
    }
    let detector = SigmaDetector::new(SigmaSet::new(rules), FieldMap::bundled());
    let file = tempfile::NamedTempFile::new().unwrap();
    generate(&GenConfig { seed: 7, target_bytes: 2_000_000, hosts: 20 }, file.as_file()).unwrap();
    let r = common::replay_file(file.path(), EngineConfig::default());
    let mut alerts = Vec::new();
    for rec in &r.records {
        detector.detect(rec, &mut alerts);
    }
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for a in &alerts {
        *by_rule.entry(format!("{} {}", a.rule_id, a.title)).or_default() += 1;
    }
    eprintln!("{} rules, {} alerts: {by_rule:#?}", detector.rules(), alerts.len());
    let fired = |needle: &str| by_rule.keys().any(|k| k.contains(needle));
    // The scanner's sqlmap and Nikto user agents, seen as a proxy and as a web server sees them.
    assert!(fired("Hack Tool User Agent"), "{by_rule:#?}");
    assert!(alerts.iter().any(|a| a.src.starts_with("203.0.113.66:") && a.evidence.contains("sqlmap")));
    // Every alert carries its record's identity.
    assert!(alerts.iter().all(|a| a.uids.len() == 1 && a.community_id.starts_with("1:") && !a.severity.is_empty()));
}
