//! Anomalies are records: where a parser or the decoder gives up, a `weird` record says where
//! and why (Zeek's names), tied to its connection when there is one, and every one is counted.
//! Frames are built by hand.

use std::net::Ipv4Addr;

use canh_sensor::engine::{Engine, EngineConfig};
use canh_sensor::record::{Body, Record, Weird};
use canh_traffic::packets::{Host, tcp_frame, udp_frame};

fn client() -> Host {
    Host::new(Ipv4Addr::new(10, 1, 0, 5))
}
fn server() -> Host {
    Host::new(Ipv4Addr::new(10, 1, 0, 53))
}

fn run(frames: &[Vec<u8>]) -> (Vec<Record>, Engine) {
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        e.packet(1_800_000_000_000_000 + i as u64 * 1000, 1, f, f.len() as u32);
        out.append(&mut e.drain().records);
    }
    e.finish();
    out.append(&mut e.drain().records);
    (out, e)
}

fn weirds(records: &[Record]) -> Vec<(&Record, &Weird)> {
    records.iter().filter_map(|r| if let Body::Weird(w) = &r.body { Some((r, w)) } else { None }).collect()
}

#[test]
fn a_truncated_dns_question_is_a_weird_of_its_connection() {
    // Header says one question; the name ends, the type and class do not follow.
    let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend_from_slice(b"\x07example\x03com\x00\x00");
    let (records, _) = run(&[udp_frame(&client(), 40000, &server(), 53, 1, &query)]);
    let w = weirds(&records);
    assert_eq!(w.len(), 1, "{records:?}");
    let (rec, weird) = w[0];
    assert_eq!(
        (weird.name, weird.source, weird.addl.as_deref()),
        ("DNS_truncated_quest_too_short", "DNS", Some("message ends before byte 25"))
    );
    let conn = records.iter().find(|r| matches!(r.body, Body::Conn(_))).expect("conn");
    assert_eq!(rec.head.uid, conn.head.uid);
    // Zeek's field names, the connection's id included.
    let json: serde_json::Value = serde_json::to_value(rec).unwrap();
    for field in ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "name", "addl", "notice", "peer"] {
        assert!(json.get(field).is_some(), "{field} missing in {json}");
    }
    assert_eq!(json["_type"], "weird");
}

#[test]
fn a_tls_record_that_does_not_parse_is_a_weird() {
    let c = client();
    let s = Host::new(Ipv4Addr::new(10, 1, 0, 44));
    let tcp = |from_client: bool, seq, ack, flags, payload: &[u8]| {
        if from_client {
            tcp_frame(&c, 40001, &s, 443, seq, ack, flags, 1, payload)
        } else {
            tcp_frame(&s, 443, &c, 40001, seq, ack, flags, 1, payload)
        }
    };
    // A handshake record header announcing 20,000 bytes: more than TLS allows (2^14 + 2048).
    let bad = [0x16, 0x03, 0x01, 0x4e, 0x20, 0x01, 0x00];
    let frames = vec![
        tcp(true, 100, 0, 0x02, b""),
        tcp(false, 500, 101, 0x12, b""),
        tcp(true, 101, 501, 0x10, b""),
        tcp(true, 101, 501, 0x18, &bad),
        tcp(false, 501, 108, 0x10, b""),
    ];
    let (records, _) = run(&frames);
    let w = weirds(&records);
    assert_eq!(w.len(), 1, "{records:?}");
    assert_eq!((w[0].1.name, w[0].1.source), ("SSL_invalid_record", "SSL"));
    assert_eq!(w[0].1.addl.as_deref(), Some("content type 22, version 3.1, length 20000"));
}

#[test]
fn decoder_weirds_have_no_connection_and_are_sampled_as_zeek_does() {
    // An Ethernet frame whose IPv4 header is cut after 10 bytes, 30 times.
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&[0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6]);
    let (records, engine) = run(&vec![frame; 30]);
    let w = weirds(&records);
    // Every frame is counted; the first 25 are logged (then one in 1,000).
    assert_eq!(engine.stats.decode_errors_by_kind(), [("truncated_ipv4", 30)]);
    assert_eq!(w.len(), 25);
    let (rec, weird) = w[0];
    assert_eq!((weird.name, weird.source, weird.addl.as_deref()), ("truncated_IP", "decoder", Some("truncated_ipv4")));
    assert!(!rec.head.has_connection());
    let json: serde_json::Value = serde_json::to_value(rec).unwrap();
    assert!(json.get("uid").is_none() && json.get("id.orig_h").is_none(), "{json}");
}
