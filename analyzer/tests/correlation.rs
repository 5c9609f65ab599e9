//! Correlation rules over base Sigma matches: counts, distinct values and co-occurrence within
//! a time span, per group — and silence below the threshold, across groups, past the span.

use std::sync::Arc;

use canh_analyzer::alert::Alert;
use canh_analyzer::sigma::SigmaDetector;
use canh_rules::fieldmap::FieldMap;
use canh_rules::pack::load_packs;
use canh_rules::sigma::{SigmaOptions, SigmaSet};
use canh_sensor::record::{Body, Dns, Head, Http, Origin, Record};

const BASE: &str = "title: dyn\nid: base-dyn\nname: dyndns_lookup\nlogsource:\n  product: zeek\n  service: dns\ndetection:\n  sel:\n    query|endswith: '.duckdns.org'\n  condition: sel\n---\ntitle: basic\nid: base-basic\nlogsource:\n  product: zeek\n  service: http\ndetection:\n  sel:\n    auth_scheme: Basic\n  condition: sel\n";

fn detector(correlation: &str) -> SigmaDetector {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pack.toml"), "name = \"c\"\nversion = \"1\"\n").unwrap();
    std::fs::write(dir.path().join("base.yml"), BASE).unwrap();
    std::fs::write(dir.path().join("corr.yml"), correlation).unwrap();
    let (packs, problems) = load_packs(&[dir.path().to_path_buf()], &SigmaOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    let (mut rules, mut corr) = (Vec::new(), Vec::new());
    for p in packs {
        rules.extend(p.sigma);
        corr.extend(p.correlations);
    }
    SigmaDetector::new(SigmaSet::new(rules), FieldMap::bundled()).with_correlations(corr)
}

fn rec(ts: f64, host: &str, uid: &str, body: Body) -> Record {
    let head = Head {
        ts,
        uid: Arc::from(uid),
        orig_h: host.parse().unwrap(),
        orig_p: 1,
        resp_h: "10.10.0.53".parse().unwrap(),
        resp_p: 53,
        community_id: Arc::from("1:x"),
        origin: Origin::default(),
    };
    Record { head, body }
}

fn dns(name: &str) -> Body {
    Body::Dns(Dns { query: Some(name.into()), ..Default::default() })
}

fn correlated(d: &SigmaDetector, records: &[Record]) -> Vec<Alert> {
    let mut out = Vec::new();
    for r in records {
        d.detect(r, &mut out);
    }
    out.into_iter().filter(|a| a.rule_id == "corr").collect()
}

#[test]
fn event_count_per_host_within_the_span() {
    let d = detector(
        "title: burst\nid: corr\ncorrelation:\n  type: event_count\n  rules: [dyndns_lookup]\n  group-by: [id.orig_h]\n  timespan: 1m\n  condition:\n    gte: 3\nlevel: high\n",
    );
    let a = "10.10.2.10";
    let b = "10.10.2.11";
    // Three from host a within a minute fire once; host b's two and a late third do not.
    let records = [
        rec(0.0, a, "C1", dns("x.duckdns.org")),
        rec(1.0, b, "C2", dns("x.duckdns.org")),
        rec(2.0, a, "C3", dns("y.duckdns.org")),
        rec(3.0, b, "C4", dns("x.duckdns.org")),
        rec(4.0, a, "C5", dns("z.duckdns.org")),
        rec(100.0, b, "C6", dns("x.duckdns.org")),
    ];
    let alerts = correlated(&d, &records);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].uids, ["C1", "C3", "C5"]);
    assert_eq!(alerts[0].severity, "high");
    assert!(alerts[0].evidence.contains("10.10.2.10"));
}

#[test]
fn value_count_of_distinct_names() {
    let d = detector(
        "title: many names\nid: corr\ncorrelation:\n  type: value_count\n  rules: [base-dyn]\n  group-by: [id.orig_h]\n  timespan: 10m\n  condition:\n    field: query\n    gte: 3\n",
    );
    let a = "10.10.2.10";
    let same = [
        rec(0.0, a, "C1", dns("x.duckdns.org")),
        rec(1.0, a, "C2", dns("x.duckdns.org")),
        rec(2.0, a, "C3", dns("x.duckdns.org")),
    ];
    assert!(correlated(&d, &same).is_empty());
    let distinct = [
        rec(10.0, a, "C4", dns("p.duckdns.org")),
        rec(11.0, a, "C5", dns("q.duckdns.org")),
        rec(12.0, a, "C6", dns("r.duckdns.org")),
    ];
    assert_eq!(correlated(&d, &distinct).len(), 1);
}

#[test]
fn temporal_co_occurrence() {
    let d = detector(
        "title: both\nid: corr\ncorrelation:\n  type: temporal\n  rules: [base-dyn, base-basic]\n  group-by: [id.orig_h]\n  timespan: 10m\n",
    );
    let a = "10.10.2.10";
    let basic = || Body::Http(Http { auth_scheme: Some("Basic".into()), ..Default::default() });
    // Too far apart, then close together.
    assert!(correlated(&d, &[rec(0.0, a, "C1", dns("x.duckdns.org")), rec(1000.0, a, "C2", basic())]).is_empty());
    assert_eq!(correlated(&d, &[rec(2000.0, a, "C3", basic()), rec(2100.0, a, "C4", dns("x.duckdns.org"))]).len(), 1);
}
