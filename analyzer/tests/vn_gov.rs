//! Canh's own `vn-gov` pack: every rule fires on a record it is written for and stays quiet
//! on a close one that is harmless.

use std::path::Path;
use std::sync::Arc;

use canh_analyzer::sigma::SigmaDetector;
use canh_rules::fieldmap::FieldMap;
use canh_rules::pack::load_packs;
use canh_rules::sigma::{SigmaOptions, SigmaSet};
use canh_sensor::record::{Body, Conn, Dns, Head, Http, Origin, Record, Weird};

fn detector() -> SigmaDetector {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/packs/vn-gov");
    let (packs, problems) = load_packs(&[pack], &SigmaOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    SigmaDetector::new(SigmaSet::new(packs.into_iter().flat_map(|p| p.sigma).collect()), FieldMap::bundled())
}

fn record(body: Body) -> Record {
    let head = Head {
        ts: 1_793_581_200.0,
        uid: Arc::from("Ctest"),
        orig_h: "10.10.2.10".parse().unwrap(),
        orig_p: 40000,
        resp_h: "10.10.1.20".parse().unwrap(),
        resp_p: 80,
        community_id: Arc::from("1:x"),
        origin: Origin::default(),
    };
    Record { head, body }
}

fn fired(d: &SigmaDetector, body: Body) -> Vec<String> {
    let mut alerts = Vec::new();
    d.detect(&record(body), &mut alerts);
    alerts.into_iter().map(|a| a.title).collect()
}

fn http(f: impl FnOnce(&mut Http)) -> Body {
    let mut h = Http {
        method: Some("GET".into()),
        host: Some("dichvucong.tinh.gov.vn".into()),
        uri: Some("/".into()),
        user_agent: Some("Mozilla/5.0".into()),
        ..Default::default()
    };
    f(&mut h);
    Body::Http(h)
}

#[test]
fn dyndns_queries() {
    let d = detector();
    let q = |name: &str| Body::Dns(Dns { proto: "udp", query: Some(name.into()), ..Default::default() });
    assert_eq!(fired(&d, q("cap-nhat-he-thong.duckdns.org")), ["DNS query for a dynamic-DNS provider"]);
    // A lookalike that is not the provider's zone.
    assert!(fired(&d, q("duckdns.org.tinh.gov.vn")).is_empty());
}

#[test]
fn http_basic_in_cleartext() {
    let d = detector();
    assert_eq!(fired(&d, http(|h| h.auth_scheme = Some("Basic".into()))), ["HTTP Basic credentials sent in cleartext"]);
    assert!(fired(&d, http(|h| h.auth_scheme = Some("Bearer".into()))).is_empty());
}

#[test]
fn web_scanners() {
    let d = detector();
    let ua = |s: &str| http(|h| h.user_agent = Some(s.into()));
    assert_eq!(
        fired(&d, ua("sqlmap/1.8.2#stable (https://sqlmap.org)")),
        ["Web vulnerability scanner against a web application"]
    );
    assert_eq!(fired(&d, ua("Mozilla/5.00 (Nikto/2.5.0) (Evasions:None)")).len(), 1);
    assert!(fired(&d, ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0")).is_empty());
}

#[test]
fn injections_and_traversal() {
    let d = detector();
    let uri = |s: &str| http(|h| h.uri = Some(s.into()));
    let title = "SQL injection, cross-site scripting or path traversal in a request";
    for bad in [
        "/index.php?id=1%27%20OR%20%271%27=%271",
        "/tracuu?ma=1%20UNION%20SELECT%20a,b--",
        "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/../../../../etc/passwd",
        "/download?file=..%2F..%2Fetc%2Fshadow",
    ] {
        assert_eq!(fired(&d, uri(bad)), [title], "{bad}");
    }
    for good in ["/tracuu?ma=H1234", "/search?q=selection+union", "/static/app.js", "/vanban/chitiet?id=12345"] {
        assert!(fired(&d, uri(good)).is_empty(), "{good}");
    }
}

#[test]
fn cleartext_ftp_sessions() {
    let d = detector();
    let conn = |service| Body::Conn(Conn { proto: "tcp", service, conn_state: "SF", ..Default::default() });
    assert_eq!(fired(&d, conn(Some("ftp"))), ["FTP session in cleartext"]);
    assert!(fired(&d, conn(Some("ssh"))).is_empty());
}

#[test]
fn http_request_smuggling_weirds() {
    let d = detector();
    let weird = |name| Body::Weird(Weird { name, source: "HTTP", ..Default::default() });
    let title = "HTTP message framed two ways (request smuggling)";
    assert_eq!(fired(&d, weird("HTTP_content_length_and_chunked")), [title]);
    assert_eq!(fired(&d, weird("HTTP_bad_content_length")), [title]);
    assert!(fired(&d, weird("HTTP_bad_chunk_size")).is_empty());
}
