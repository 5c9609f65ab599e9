//! The traffic generator round trip: a generated capture, replayed, yields exactly what was
//! planted in it — every DNS name, HTTP request and TLS server name, and each incident with
//! the evidence a detection rule will need — and the generator is deterministic.

mod common;

use std::collections::BTreeSet;
use std::io::Read;

use canh_sensor::engine::EngineConfig;
use canh_sensor::record::{Body, Record};
use canh_traffic::{GenConfig, Report, generate};

fn generated(seed: u64, size: u64) -> (Report, tempfile::TempPath) {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let report = generate(&GenConfig { seed, target_bytes: size, hosts: 30, ..GenConfig::default() }, file.as_file())
        .expect("generate");
    (report, file.into_temp_path())
}

fn with_artifacts() -> EngineConfig {
    let mut cfg = EngineConfig::default();
    cfg.app.keep_artifacts = true;
    cfg
}

fn http(records: &[Record]) -> impl Iterator<Item = (&Record, &canh_sensor::record::Http)> {
    records.iter().filter_map(|r| if let Body::Http(h) = &r.body { Some((r, h)) } else { None })
}

#[test]
fn replay_finds_exactly_what_was_planted() {
    let (report, path) = generated(7, 3_000_000);
    let r = common::replay_file(&path, with_artifacts());
    assert!(r.error.is_none(), "{:?}", r.error);
    let p = &report.planted;

    let dns: BTreeSet<String> = common::dns_queries(&r.records).into_iter().collect();
    assert_eq!(dns, p.dns_queries);
    let requests: BTreeSet<String> = common::http_requests(&r.records).into_iter().collect();
    let planted: BTreeSet<String> = p.http_requests.iter().map(|(h, u)| format!("{h} {u}")).collect();
    assert_eq!(requests, planted);
    let sni: BTreeSet<String> = common::tls_server_names(&r.records).into_iter().collect();
    assert_eq!(sni, p.tls_server_names);

    // Cleartext HTTP Basic login: the user is in the http record.
    for (host, uri, user) in &p.basic_logins {
        assert!(
            http(&r.records).any(|(_, h)| h.host.as_deref() == Some(host)
                && h.uri.as_deref() == Some(uri)
                && h.username.as_deref() == Some(user)
                && h.auth_scheme.as_deref() == Some("Basic")),
            "basic login {host}{uri} as {user} not found"
        );
    }
    // Cleartext FTP login: the connection is labelled ftp, and the client's stream head holds it.
    for (server, user) in &p.ftp_logins {
        let conn = r
            .records
            .iter()
            .find(|rec| {
                matches!(&rec.body, Body::Conn(c) if c.service == Some("ftp"))
                    && rec.head.resp_h == std::net::IpAddr::V4(*server)
            })
            .expect("ftp conn");
        let head = r
            .artifacts
            .iter()
            .find(|a| a.head.uid == conn.head.uid && a.is_orig && a.source == "TCP")
            .expect("ftp stream head");
        let text = String::from_utf8_lossy(&head.data);
        assert!(text.contains(&format!("USER {user}\r\n")) && text.contains("PASS "), "{text}");
    }
    // Documents marked TỐI MẬT leave as HTTP bodies; the DOCX is recognized and carries the mark.
    let docx =
        r.artifacts.iter().find(|a| a.filename.as_deref() == Some("bao-cao-quy-iv.docx")).expect("docx artifact");
    assert_eq!(
        docx.mime_type.as_deref(),
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&docx.data)).expect("a zip");
    let mut xml = String::new();
    zip.by_name("word/document.xml").expect("document part").read_to_string(&mut xml).unwrap();
    assert!(xml.contains("TỐI MẬT"));
    assert!(r.artifacts.iter().any(|a| a.mime_type.as_deref() == Some("text/plain")
        && String::from_utf8_lossy(&a.data).contains("Độ mật: TỐI MẬT")
        && a.head.resp_h.to_string().starts_with("198.")));
    // The CCCD list: a text body of 250 rows of 12-digit numbers, posted to an outside host.
    for (host, uri, rows) in &p.cccd_uploads {
        let (rec, h) = http(&r.records)
            .find(|(_, h)| h.host.as_deref() == Some(host) && h.uri.as_deref() == Some(uri))
            .expect("cccd post");
        let body = r
            .artifacts
            .iter()
            .find(|a| a.head.uid == rec.head.uid && a.is_orig && a.source == "HTTP")
            .expect("cccd body");
        let text = String::from_utf8_lossy(&body.data);
        let numbers = text
            .lines()
            .skip(1)
            .filter(|l| l.split(',').nth(1).is_some_and(|n| n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit())))
            .count();
        assert_eq!(numbers, *rows);
        assert_eq!(h.request_body_len, body.total_bytes);
    }
    // The scanner's probes, with its tools' user agents.
    for (host, scanner, uris) in &p.scans {
        let seen: BTreeSet<&str> = http(&r.records)
            .filter(|(rec, h)| rec.head.orig_h == std::net::IpAddr::V4(*scanner) && h.host.as_deref() == Some(host))
            .filter(|(_, h)| h.user_agent.as_deref().is_some_and(|ua| ua.contains("sqlmap") || ua.contains("Nikto")))
            .filter_map(|(_, h)| h.uri.as_deref())
            .collect();
        assert_eq!(seen, uris.iter().map(String::as_str).collect());
    }
    for name in &p.dyndns_queries {
        assert!(dns.contains(name));
    }
    // Request smuggling: the request framed two ways is a weird of its connection, and the
    // request hidden in its chunked body is logged (chunked wins, as RFC 9112 says).
    for (host, attacker, hidden) in &p.smuggling {
        let (smuggler, _) = http(&r.records)
            .find(|(rec, h)| rec.head.orig_h == std::net::IpAddr::V4(*attacker) && h.uri.as_deref() == Some(hidden))
            .expect("the smuggled request");
        assert!(
            r.records.iter().any(|rec| rec.head.uid == smuggler.head.uid
                && matches!(&rec.body, Body::Weird(w) if w.name == "HTTP_content_length_and_chunked" && w.source == "HTTP")),
            "no weird for the smuggling to {host}"
        );
    }
    // Nothing else on this clean traffic is weird.
    let weirds: Vec<&str> =
        r.records.iter().filter_map(|rec| if let Body::Weird(w) = &rec.body { Some(w.name) } else { None }).collect();
    assert_eq!(weirds, ["HTTP_content_length_and_chunked"]);
    assert_eq!(report.incidents.len(), 9);
}

#[test]
fn connections_are_well_formed() {
    let (_, path) = generated(11, 2_000_000);
    let r = common::replay_file(&path, EngineConfig::default());
    let conns: Vec<&canh_sensor::record::Conn> =
        r.records.iter().filter_map(|rec| if let Body::Conn(c) = &rec.body { Some(c) } else { None }).collect();
    assert!(conns.len() > 50);
    for c in &conns {
        assert!(matches!(c.conn_state, "SF" | "RSTO"), "{c:?}");
        assert_eq!(c.missed_bytes, 0, "{c:?}");
        if c.proto == "tcp" {
            assert!(c.history.starts_with("ShA"), "{c:?}");
        }
    }
    // Every files record names a connection that has a conn record.
    let uids: BTreeSet<&str> =
        r.records.iter().filter(|rec| matches!(rec.body, Body::Conn(_))).map(|rec| &*rec.head.uid).collect();
    assert!(r.records.iter().filter(|rec| matches!(rec.body, Body::Files(_))).all(|rec| uids.contains(&*rec.head.uid)));
}

#[test]
fn same_seed_same_bytes() {
    let digest = |seed| {
        let mut out = Vec::new();
        generate(&GenConfig { seed, target_bytes: 500_000, hosts: 10, ..GenConfig::default() }, &mut out)
            .expect("generate");
        out
    };
    assert_eq!(digest(3), digest(3));
    assert_ne!(digest(3), digest(4));
}

#[test]
fn several_files_replay_in_time_order() {
    use pcap_file::pcap::{PcapReader, PcapWriter};
    let (_, path) = generated(5, 1_000_000);
    let whole = common::replay_file(&path, EngineConfig::default());
    // Deal the packets alternately into two files, then replay both.
    let dir = tempfile::tempdir().unwrap();
    let names = [dir.path().join("a.pcap"), dir.path().join("b.pcap")];
    {
        let mut reader = PcapReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut writers: Vec<_> =
            names.iter().map(|n| PcapWriter::new(std::fs::File::create(n).unwrap()).unwrap()).collect();
        let mut i = 0;
        while let Some(p) = reader.next_packet() {
            writers[i % 2].write_packet(&p.unwrap()).unwrap();
            i += 1;
        }
    }
    let opts = canh_sensor::replay::ReplayOptions {
        files: names.iter().rev().map(|n| n.display().to_string()).collect(),
        target: canh_sensor::output::Target::Dir(dir.path().join("logs")),
        extract_dir: None,
        workers: 1,
        engine: EngineConfig::default(),
        inspector: None,
        sink: None,
        packets: None,
    };
    let summary = canh_sensor::replay::replay(&opts, &|_| {}).expect("replay");
    let count = |t: canh_sensor::record::LogType| whole.records.iter().filter(|r| r.log_type() == t).count() as u64;
    for t in canh_sensor::record::LogType::ALL {
        assert_eq!(summary.records_of(t), count(t), "{t:?}");
    }
    let conn_log = std::fs::read_to_string(dir.path().join("logs/conn.ndjson")).unwrap();
    assert_eq!(conn_log.lines().count() as u64, count(canh_sensor::record::LogType::Conn));
    assert!(!conn_log.contains("\"conn_state\":\"OTH\""));
}

#[test]
fn workers_give_the_same_records_as_one_thread() {
    let (_, path) = generated(9, 2_000_000);
    let run = |workers| {
        let dir = tempfile::tempdir().unwrap();
        let opts = canh_sensor::replay::ReplayOptions {
            files: vec![path.display().to_string()],
            target: canh_sensor::output::Target::Dir(dir.path().to_path_buf()),
            extract_dir: None,
            workers,
            engine: EngineConfig::default(),
            inspector: None,
            sink: None,
            packets: None,
        };
        canh_sensor::replay::replay(&opts, &|_| {}).expect("replay");
        let mut lines: Vec<String> =
            std::fs::read_to_string(dir.path().join("http.ndjson")).unwrap().lines().map(String::from).collect();
        lines.extend(std::fs::read_to_string(dir.path().join("conn.ndjson")).unwrap().lines().map(String::from));
        lines.sort();
        lines
    };
    let one = run(1);
    assert!(one.len() > 100);
    assert_eq!(one, run(2));
}
