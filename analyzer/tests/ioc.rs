//! IOC matching against each place indicators appear in records, with near misses.

use std::path::Path;
use std::sync::Arc;

use canh_analyzer::ioc::IocDetector;
use canh_rules::ioc::IocSet;
use canh_sensor::record::{Body, Conn, Dns, FileRecord, Head, Http, Origin, Record, Ssl};

fn detector() -> IocDetector {
    let mut set = IocSet::default();
    let mut problems = Vec::new();
    set.load(
        Path::new("iocs.txt"),
        "evil.example\n203.0.113.66\n198.51.100.0/24\n2001:db8:bad::/48\nd41d8cd98f00b204e9800998ecf8427e\n",
        &mut problems,
    );
    assert!(problems.is_empty());
    IocDetector::new(vec![("test".into(), set)])
}

fn hits(d: &IocDetector, orig: &str, resp: &str, body: Body) -> Vec<String> {
    let head = Head {
        ts: 1.0,
        uid: Arc::from("Cx"),
        orig_h: orig.parse().unwrap(),
        orig_p: 1,
        resp_h: resp.parse().unwrap(),
        resp_p: 2,
        community_id: Arc::from("1:x"),
        origin: Origin::default(),
    };
    let mut out = Vec::new();
    d.detect(&Record { head, body }, &mut out);
    assert!(out.iter().all(|a| a.engine == "ioc" && a.severity == "high"));
    out.into_iter().map(|a| a.rule_id).collect()
}

#[test]
fn every_place_an_indicator_can_appear() {
    let d = detector();
    let lan = ("10.0.0.1", "10.0.0.53");
    let dns = |q: &str, answers: &[&str]| {
        Body::Dns(Dns {
            query: Some(q.into()),
            answers: answers.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
    };
    assert_eq!(hits(&d, lan.0, lan.1, dns("c2.evil.example", &[])), ["ioc:test:domain:evil.example"]);
    assert!(hits(&d, lan.0, lan.1, dns("notevil.example", &[])).is_empty());
    assert_eq!(hits(&d, lan.0, lan.1, dns("cdn.vn", &["198.51.100.7"])), ["ioc:test:cidr:198.51.100.0/24"]);
    let http = |host: &str| Body::Http(Http { host: Some(host.into()), ..Default::default() });
    assert_eq!(hits(&d, lan.0, lan.1, http("EVIL.example:8080")), ["ioc:test:domain:evil.example"]);
    assert_eq!(hits(&d, lan.0, lan.1, http("203.0.113.66")), ["ioc:test:ip:203.0.113.66"]);
    let sni = Body::Ssl(Ssl { server_name: Some("www.evil.example".into()), ..Default::default() });
    assert_eq!(hits(&d, lan.0, lan.1, sni), ["ioc:test:domain:evil.example"]);
    let conn = || Body::Conn(Conn { proto: "tcp", conn_state: "SF", ..Default::default() });
    assert_eq!(hits(&d, "203.0.113.66", "10.0.0.5", conn()), ["ioc:test:ip:203.0.113.66"]);
    assert_eq!(hits(&d, "10.0.0.5", "2001:db8:bad:1::9", conn()), ["ioc:test:cidr:2001:db8:bad::/48"]);
    assert!(hits(&d, "10.0.0.5", "198.51.101.1", conn()).is_empty());
    let file = |md5: &str| Body::Files(FileRecord { md5: md5.into(), ..Default::default() });
    assert_eq!(
        hits(&d, lan.0, lan.1, file("d41d8cd98f00b204e9800998ecf8427e")),
        ["ioc:test:hash:d41d8cd98f00b204e9800998ecf8427e"]
    );
    assert!(hits(&d, lan.0, lan.1, file("00000000000000000000000000000000")).is_empty());
}
