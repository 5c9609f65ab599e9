//! Conformance against real third-party captures (`../shared/corpus/`, see its MANIFEST.md):
//! the DNS query names, HTTP requests and TLS server names that Wireshark finds in the
//! suricata-verify captures must all be found, and nothing else may be — except the
//! disagreements listed below, each decided by looking at the bytes. Every capture of the
//! three corpora must replay without a panic or a hang.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use canh_sensor::record::Body;

/// Items Wireshark lists that Canh does not produce, each with the reason.
const KNOWN_MISSING: &[(&str, &str, &str)] = &[
    // `GET /uri afterspace HTTP/1.1`: Wireshark cuts the target at the first space; Canh logs
    // `/uri afterspace` (see KNOWN_EXTRA), as Zeek and libhtp do, so nothing is hidden.
    ("http-uri-spaces_input.pcap", "http", "127.0.0.1:8000 /uri"),
];

/// Items Canh produces that Wireshark does not list, with the reason Canh is right.
const KNOWN_EXTRA: &[(&str, &str, &str)] = &[
    ("http-uri-spaces_input.pcap", "http", "127.0.0.1:8000 /uri afterspace"),
    // HTTP/1.0 requests without a Host header on a port Wireshark does not dissect as HTTP;
    // the bytes are plain `GET /1 HTTP/1.0` requests that a server answers.
    ("http-gap-beyond-body_input.pcap", "http", " /1"),
    ("http-gap-beyond-body_input.pcap", "http", " /2"),
    ("http-gap-beyond-body_input.pcap", "http", " /3"),
    ("http-gap-whole-body_input.pcap", "http", " /1"),
    ("http-gap-whole-body_input.pcap", "http", " /2"),
    ("http-gap-whole-body_input.pcap", "http", " /3"),
    // `GET /` with no version and header fields after it: libhtp reads it as a request with
    // a missing protocol and its headers, Zeek as HTTP/0.9; Wireshark does not dissect it.
    ("http-not09_input.pcap", "http", "localhost /"),
    // mDNS announcements with no question: named by their first answer, as Zeek names
    // them; Wireshark lists the names of questions only.
    (
        "ipv6-evasion_ipv6-malformed-fragments-28_frag-28.pcap",
        "dns_queries",
        "John\\xe2\\x80\\x99s iMac._device-info._tcp.local",
    ),
    (
        "ipv6-evasion_ipv6-malformed-fragments-9_frag-9.pcap",
        "dns_queries",
        "John\\xe2\\x80\\x99s iMac._device-info._tcp.local",
    ),
    // TCP Fast Open: the request rides in the SYN, which Wireshark does not hand to HTTP.
    ("tcp-fastopen-06_tfo-s1.pcap", "http", " //index.php?page=../../../etc/passwd"),
    ("tcp-fastopen-07_tcp_fastopen_segmentation.pcap", "http", " /index.php"),
    ("tcp-fastopen-13_tfo.pcap", "http", " //index.php?page=../../../etc/passwd"),
    // A request the server reset before acknowledging: it was on the wire, so it is logged.
    ("tcp-rst-unacked-stream-05-http-nogap_input.pcap", "http", " /"),
    ("tcp-rst-unacked-stream-06-http-nogap-ips_input.pcap", "http", " /"),
    // DNS over HTTPS with GET, in cleartext HTTP/2: each query travels base64url-encoded in the
    // HPACK-compressed :path, so Wireshark lists no DNS request; the server's answers are DNS
    // messages in DATA frames, question included, and Canh logs them (unpaired responses).
    ("dns-over-http2_dns_over_https.pcap", "dns_queries", "www.gstatic.com"),
    ("dns-over-http2_dns_over_https.pcap", "dns_queries", "nav-edge.smartscreen.microsoft.com"),
    // Multicast DNS (UDP 5353): Wireshark names it MDNS, Zeek and Canh log it as DNS.
    ("ipv6-evasion_ipv6-malformed-fragments-9_frag-9.pcap", "dns_queries", "_apple-mobdev._tcp.local"),
    ("tls_tls-cert-issuer_tls.pcap", "dns_queries", "_daap._tcp.local"),
];

#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn wireshark_items_are_found_and_nothing_is_invented() {
    let dir = common::corpus();
    let expected = std::fs::read_to_string(dir.join("pcaps/expected.ndjson")).expect("expected.ndjson");
    let mut problems = Vec::new();
    let (mut found, mut listed) = (0, 0);
    let mut missing_as_known = Vec::new();
    let mut extra_as_known = BTreeSet::new();
    for line in expected.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        let file = v["file"].as_str().expect("file");
        let r = common::replay_file(&dir.join("pcaps").join(file), Default::default());
        let got_by_kind = [
            ("dns_queries", common::dns_queries(&r.records)),
            ("http", common::http_requests(&r.records)),
            ("tls_sni", common::tls_server_names(&r.records)),
        ];
        for (kind, got) in got_by_kind {
            let want: BTreeSet<String> =
                v[kind].as_array().expect("list").iter().map(|x| x.as_str().unwrap().to_string()).collect();
            let got: BTreeSet<String> = got.into_iter().collect();
            listed += want.len();
            for w in &want {
                if got.contains(w) {
                    found += 1;
                } else if KNOWN_MISSING.contains(&(file, kind, w.as_str())) {
                    missing_as_known.push((file.to_string(), kind, w.clone()));
                } else {
                    problems.push(format!("missing in {file}: {kind} {w}"));
                }
            }
            for g in got.difference(&want) {
                if KNOWN_EXTRA.contains(&(file, kind, g.as_str())) {
                    extra_as_known.insert((file.to_string(), kind, g.clone()));
                } else {
                    problems.push(format!("invented in {file}: {kind} {g}"));
                }
            }
        }
    }
    eprintln!("found {found} of {listed} items Wireshark lists");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    // Everything is found but the listed exceptions, each of which is still missing (an
    // exception that no longer applies is a stale reason, and fails too).
    let known: Vec<(String, &str, String)> =
        KNOWN_MISSING.iter().map(|(f, k, i)| (f.to_string(), *k, i.to_string())).collect();
    assert_eq!(missing_as_known, known);
    let known: BTreeSet<(String, &str, String)> =
        KNOWN_EXTRA.iter().map(|(f, k, i)| (f.to_string(), *k, i.to_string())).collect();
    assert_eq!(extra_as_known, known, "every known extra is still produced");
    assert_eq!(found + KNOWN_MISSING.len(), listed, "found {found} of {listed}");
}

/// Replays one capture on a thread; a capture that takes minutes is a hang.
fn replay_guarded(path: PathBuf) -> Result<common::Replayed, String> {
    let (tx, rx) = mpsc::channel();
    let name = path.display().to_string();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| common::replay_file(&path, Default::default()));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(_)) => Err(format!("{name}: panicked")),
        Err(_) => Err(format!("{name}: still running after 120 s (hang)")),
    }
}

#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn every_corpus_capture_replays_without_panic_or_hang() {
    let dir = common::corpus();
    let mut failures = Vec::new();
    let mut files = 0;
    let mut records = 0;
    let mut unreadable = 0;
    for sub in ["pcaps", "pcaps-arkime", "pcaps-tcpdump"] {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir.join(sub)).expect("corpus dir").map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries.into_iter().filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng")) {
            files += 1;
            match replay_guarded(path) {
                Ok(r) => {
                    records += r.records.len();
                    // A damaged file is reported with its name and offset, not silently cut.
                    if let Some(e) = &r.error {
                        unreadable += 1;
                        let text = e.to_string();
                        assert!(text.contains(".pcap"), "error without the file name: {text}");
                    }
                }
                Err(e) => failures.push(e),
            }
        }
    }
    eprintln!("{files} captures, {records} records, {unreadable} reported as damaged or not captures");
    assert!(files > 800, "only {files} captures found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// QUIC: the server names and JA4 come from Initial packets that Canh unprotects itself.
#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn quic_initials_yield_server_names_and_ja4() {
    let dir = common::corpus();
    let r = common::replay_file(&dir.join("pcaps/ja4-quic_input.pcap"), Default::default());
    let ssl: Vec<&canh_sensor::record::Ssl> =
        r.records.iter().filter_map(|rec| if let Body::Ssl(s) = &rec.body { Some(s) } else { None }).collect();
    assert_eq!(ssl.len(), 11);
    // Chrome over QUIC, as in FoxIO's JA4 documentation.
    assert!(ssl.iter().all(|s| s.ja4.as_deref() == Some("q13d0310h3_55b375c5d22e_cd85d2d88918")), "{ssl:?}");
    assert!(r.records.iter().any(|rec| matches!(&rec.body, Body::Conn(c) if c.service == Some("quic"))));
}

/// Community ID and JA3/JA4 agree with Arkime's independent implementation.
#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn community_id_and_fingerprints_match_arkime() {
    let dir = common::corpus();
    let mut compared = (0, 0, 0);
    for name in ["http-simple-get", "curl-enabled-tls13", "dns-udp", "http-basicauth"] {
        let arkime: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("pcaps-arkime/{name}.test.json"))).expect("arkime json"),
        )
        .expect("json");
        let r = common::replay_file(&dir.join(format!("pcaps-arkime/{name}.pcap")), Default::default());
        let ids: BTreeSet<String> = r.records.iter().map(|rec| rec.head.community_id.to_string()).collect();
        let ja4s: BTreeSet<String> = r
            .records
            .iter()
            .filter_map(|rec| if let Body::Ssl(s) = &rec.body { s.ja4.clone() } else { None })
            .collect();
        let ja3s: BTreeSet<String> = r
            .records
            .iter()
            .filter_map(|rec| if let Body::Ssl(s) = &rec.body { s.ja3.clone() } else { None })
            .collect();
        for session in arkime["sessions3"].as_array().expect("sessions") {
            let body = &session["body"];
            if let Some(cid) = body["network"]["community_id"].as_str() {
                assert!(ids.contains(cid), "{name}: community_id {cid} not produced; have {ids:?}");
                compared.0 += 1;
            }
            if let Some(ja4) = body["tls"]["ja4"].as_array().and_then(|a| a.first()).and_then(|v| v.as_str()) {
                assert!(ja4s.contains(ja4), "{name}: ja4 {ja4} not produced; have {ja4s:?}");
                compared.1 += 1;
            }
            if let Some(ja3) = body["tls"]["ja3"].as_array().and_then(|a| a.first()).and_then(|v| v.as_str()) {
                assert!(ja3s.contains(ja3), "{name}: ja3 {ja3} not produced; have {ja3s:?}");
                compared.2 += 1;
            }
        }
    }
    assert!(compared.0 > 0 && compared.1 > 0 && compared.2 > 0, "nothing compared: {compared:?}");
}

/// Captures whose sessions Arkime and Canh cut differently, with the reason and how many of
/// Arkime's sessions differ (no connection of the same endpoints, or other packet counts).
const ARKIME_SESSION_POLICY: &[(&str, &str, usize)] = &[
    // Arkime keeps one UDP session across long idle gaps; Canh, like Zeek, ends a UDP
    // connection after 60 s without packets, so the same 5-tuple becomes several.
    ("dns-wiresharkrepo.pcap", "udp idle timeout", 1),
    // Arkime cuts a session at its own maximum length; Canh's active timeout is one hour.
    ("long-session.pcap", "session length cap", 2),
    ("gtp-iphone.pcap", "udp idle timeout", 1),
    // Arkime's own decoder-stress capture of single crafted packets (port 0, broadcast DHCP,
    // replies without requests): Arkime groups them by rules of its own. Community IDs are
    // still compared. One more differs since Canh logs a UDP tunnel's outer flow as Zeek does
    // (Arkime keeps only the inner session): a Geneve request and the reply sent back from
    // port 6081 are one outer connection of two packets.
    ("arkime_synthetic.pcap", "crafted single packets", 7),
];

/// The flow table against Arkime's sessions: the same connections (by protocol and endpoints),
/// the same packets in each, the same Community ID.
#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn connections_match_arkime_sessions() {
    use std::collections::BTreeMap;
    let dir = common::corpus();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("pcaps-arkime/expected-summary.json")).unwrap())
            .unwrap();
    type Key = (u8, String, u16, String, u16);
    let key = |proto: u8, a: (String, u16), b: (String, u16)| -> Key {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        (proto, lo.0, lo.1, hi.0, hi.1)
    };
    let (mut sessions, mut agreed) = (0, 0);
    let mut differing: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for p in summary["pcaps"].as_array().unwrap() {
        let file = p["pcap"].as_str().unwrap();
        let r = common::replay_file(&dir.join("pcaps-arkime").join(file), Default::default());
        let mut canh: BTreeMap<Key, (Vec<u64>, String)> = BTreeMap::new();
        for rec in &r.records {
            if let Body::Conn(c) = &rec.body {
                let proto = match c.proto {
                    "tcp" => 6,
                    "udp" => 17,
                    _ => continue,
                };
                let k = key(
                    proto,
                    (rec.head.orig_h.to_string(), rec.head.orig_p),
                    (rec.head.resp_h.to_string(), rec.head.resp_p),
                );
                let e = canh.entry(k).or_insert_with(|| (Vec::new(), rec.head.community_id.to_string()));
                e.0.push(c.orig_pkts + c.resp_pkts);
            }
        }
        let mut arkime: BTreeMap<Key, (Vec<u64>, Option<String>)> = BTreeMap::new();
        for s in p["sessions"].as_array().unwrap() {
            let proto = s["ipProtocol"].as_u64().unwrap() as u8;
            // Non-IP sessions (ARP inside VXLAN) have no counterpart: Canh records IP only.
            if (proto != 6 && proto != 17) || s["protocol"].as_array().is_some_and(|a| a.iter().any(|x| x == "arp")) {
                continue;
            }
            let ep =
                |x: &serde_json::Value| (x["ip"].as_str().unwrap().to_string(), x["port"].as_u64().unwrap() as u16);
            let e = arkime
                .entry(key(proto, ep(&s["src"]), ep(&s["dst"])))
                .or_insert_with(|| (Vec::new(), s["community_id"].as_str().map(String::from)));
            e.0.push(s["src"]["packets"].as_u64().unwrap_or(0) + s["dst"]["packets"].as_u64().unwrap_or(0));
        }
        for (k, (mut want, cid)) in arkime {
            sessions += want.len();
            let policy = ARKIME_SESSION_POLICY.iter().any(|(f, _, _)| *f == file);
            let Some((got, got_cid)) = canh.get(&k) else {
                if policy {
                    eprintln!("{file}: no connection for {k:?} (policy)");
                    *differing.entry(file.to_string()).or_default() += want.len();
                } else {
                    problems.push(format!("{file}: no connection for {k:?}"));
                }
                continue;
            };
            if let Some(cid) = cid
                && &cid != got_cid
            {
                problems.push(format!("{file}: {k:?} community_id {cid} vs {got_cid}"));
            }
            let mut got = got.clone();
            want.sort_unstable();
            got.sort_unstable();
            // Arkime's summary leaves packet counts out for some synthetic sessions.
            if want.contains(&0) || want == got {
                agreed += want.len();
            } else if policy {
                eprintln!("{file}: {k:?} packets per session: arkime {want:?}, canh {got:?} (policy)");
                *differing.entry(file.to_string()).or_default() += want.len();
            } else {
                problems.push(format!("{file}: {k:?} packets per session: arkime {want:?}, canh {got:?}"));
            }
        }
    }
    eprintln!("{agreed} of {sessions} Arkime sessions agree; by policy, differing: {differing:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Each policy's sessions differ as many times as measured, no more and no fewer.
    let expected: BTreeMap<String, usize> =
        ARKIME_SESSION_POLICY.iter().filter(|(_, _, n)| *n > 0).map(|(f, _, n)| (f.to_string(), *n)).collect();
    assert_eq!(differing, expected);
    assert_eq!(agreed + expected.values().sum::<usize>(), sessions);
}
