//! Real SigmaHQ rules on the sensor's records: the generated capture's planted incidents raise
//! the alerts those rules are written for, routed through the field map.

mod common;

use std::collections::BTreeMap;

use canh_analyzer::sigma::SigmaDetector;
use canh_rules::fieldmap::FieldMap;
use canh_rules::pack::load_pack;
use canh_rules::sigma::{SigmaOptions, SigmaSet};
use canh_sensor::engine::EngineConfig;
use canh_traffic::{GenConfig, generate};

#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn sigmahq_network_and_web_rules_fire_on_planted_incidents() {
    let dir = common::corpus();
    let mut problems = Vec::new();
    let mut rules = Vec::new();
    for sub in ["network", "web"] {
        rules.extend(load_pack(&dir.join("sigma/rules").join(sub), &SigmaOptions::default(), &mut problems).sigma);
    }
    let detector = SigmaDetector::new(SigmaSet::new(rules), FieldMap::bundled());
    let file = tempfile::NamedTempFile::new().unwrap();
    generate(&GenConfig { seed: 7, target_bytes: 2_000_000, hosts: 20, ..GenConfig::default() }, file.as_file())
        .unwrap();
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
    let scanner: std::net::IpAddr = "203.0.113.66".parse().unwrap();
    assert!(alerts.iter().any(|a| a.orig_h == Some(scanner) && a.evidence.contains("sqlmap")));
    // Every alert carries its record's identity.
    assert!(alerts.iter().all(|a| a.uids.len() == 1 && a.community_id.starts_with("1:") && !a.severity.is_empty()));
}

/// Alerts do not depend on threading: one engine or two, one YARA scanner thread or three,
/// the bundled pack raises the same alerts on the same records (YARA's come back from the
/// scanner pool later than Sigma's, in any order).
#[test]
fn alerts_are_the_same_whatever_the_threads() {
    use std::sync::Arc;

    use canh_analyzer::inspect::AlertLog;
    use canh_sensor::output::{Inspector, Target};
    use canh_sensor::replay::{ReplayOptions, replay};

    let capture = tempfile::NamedTempFile::new().unwrap();
    generate(&GenConfig { seed: 11, target_bytes: 3_000_000, hosts: 20, ..GenConfig::default() }, capture.as_file())
        .unwrap();
    let pack = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/packs/vn-gov");
    let mut runs = Vec::new();
    for (workers, scanners) in [(1, 1), (2, 3)] {
        let (log, problems) = AlertLog::load(std::slice::from_ref(&pack), SigmaOptions::default(), scanners);
        assert!(problems.is_empty(), "{problems:?}");
        let log = Arc::new(log);
        let out = tempfile::tempdir().unwrap();
        let mut engine = EngineConfig::default();
        engine.app.keep_artifacts = true;
        let opts = ReplayOptions {
            files: vec![capture.path().display().to_string()],
            target: Target::Dir(out.path().to_path_buf()),
            extract_dir: None,
            workers,
            engine,
            inspector: Some(log.clone() as Arc<dyn Inspector>),
            sink: None,
            packets: None,
        };
        let summary = replay(&opts, &|_| {}).unwrap();
        let mut alerts: Vec<(String, String, Vec<String>)> = std::fs::read_to_string(out.path().join("alerts.json"))
            .unwrap()
            .lines()
            .map(|l| {
                let a: serde_json::Value = serde_json::from_str(l).unwrap();
                let uids = a["uids"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect();
                (a["engine"].as_str().unwrap().to_string(), a["rule_id"].as_str().unwrap().to_string(), uids)
            })
            .collect();
        alerts.sort();
        assert_eq!(summary.derived, alerts.len() as u64);
        runs.push(alerts);
    }
    let engines: std::collections::BTreeSet<&str> = runs[0].iter().map(|a| a.0.as_str()).collect();
    assert!(engines.contains("sigma") && engines.contains("yara"), "{:?}", runs[0]);
    eprintln!("{} alerts in each run", runs[0].len());
    assert_eq!(runs[0], runs[1]);
}

/// The literal prefilter changes nothing but speed: over the records of every corpus capture
/// and of a generated one, SigmaHQ's network and web rules plus the bundled pack raise exactly
/// the same alerts with and without it (derived fields such as `c-uri-extension` included).
#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn prefilter_changes_no_alert_on_real_records() {
    let dir = common::corpus();
    let load = || {
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        for sub in ["network", "web"] {
            rules.extend(load_pack(&dir.join("sigma/rules").join(sub), &SigmaOptions::default(), &mut problems).sigma);
        }
        let pack = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/packs/vn-gov");
        rules.extend(load_pack(&pack, &SigmaOptions::default(), &mut problems).sigma);
        rules
    };
    let with = SigmaDetector::new(SigmaSet::new(load()), FieldMap::bundled());
    let without = SigmaDetector::new(SigmaSet::new(load()).without_prefilter(), FieldMap::bundled());
    let mut records = Vec::new();
    for sub in ["pcaps", "pcaps-arkime", "pcaps-tcpdump"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                records.extend(common::replay_file(&path, EngineConfig::default()).records);
            }
        }
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    generate(&GenConfig { seed: 5, target_bytes: 2_000_000, hosts: 20, ..GenConfig::default() }, file.as_file())
        .unwrap();
    records.extend(common::replay_file(file.path(), EngineConfig::default()).records);
    let run = |d: &SigmaDetector| {
        let mut alerts = Vec::new();
        for rec in &records {
            d.detect(rec, &mut alerts);
        }
        let mut ids: Vec<(String, Vec<String>)> = alerts.into_iter().map(|a| (a.rule_id, a.uids)).collect();
        ids.sort();
        ids
    };
    let (a, b) = (run(&with), run(&without));
    let rules: std::collections::BTreeSet<&str> = b.iter().map(|x| x.0.as_str()).collect();
    eprintln!("{} records, {} alerts of {} rules", records.len(), b.len(), rules.len());
    assert!(rules.len() >= 5, "too few rules fired to prove anything: {rules:?}");
    let hidden: Vec<_> = b.iter().filter(|x| !a.contains(x)).collect();
    assert!(hidden.is_empty() && a.len() == b.len(), "the prefilter hides {hidden:?}");
}

/// Every row of a generated citizens' CSV counts once as a CCCD number and once as a phone.
#[test]
fn generated_citizen_numbers_are_counted() {
    use rand_chacha::rand_core::SeedableRng;
    let csv = canh_traffic::cccd_csv(&mut rand_chacha::ChaCha8Rng::seed_from_u64(7), 40);
    let counts = canh_analyzer::pii::count(csv.as_bytes());
    assert_eq!((counts.cccd, counts.phone), (40, 40), "{csv}");
}

/// The analyzer's tables against the generator's, written apart from them: a CCCD number of
/// every province and a phone number of every mobile prefix count once each, and numbers of
/// every other three-digit start (no province, no mobile network) do not count at all.
#[test]
fn citizen_numbers_count_by_the_published_tables() {
    use canh_traffic::citizens::{CCCD_PROVINCES, is_province, mobile_prefixes};
    let prefixes: Vec<&str> = mobile_prefixes().collect();
    let (mut valid, mut near) = (String::new(), String::new());
    for (code, _) in CCCD_PROVINCES {
        valid.push_str(&format!("so_cccd,{code}199012345\n"));
    }
    for prefix in &prefixes {
        valid.push_str(&format!("dien_thoai,{prefix}1234567\n"));
    }
    for n in 0..100 {
        let code = format!("{n:03}");
        if !is_province(&code) {
            near.push_str(&format!("so_cccd,{code}199012345\n"));
        }
        if !prefixes.contains(&code.as_str()) {
            near.push_str(&format!("dien_thoai,{code}1234567\n"));
        }
    }
    // A province's code with a century digit past 3 (born after 2099) is no CCCD either.
    near.push_str("so_cccd,001499012345\n");
    let counts = canh_analyzer::pii::count(valid.as_bytes());
    assert_eq!((counts.cccd, counts.phone), (CCCD_PROVINCES.len() as i64, prefixes.len() as i64));
    let counts = canh_analyzer::pii::count(near.as_bytes());
    assert_eq!((counts.cccd, counts.phone), (0, 0), "{near}");
}
