//! The flow table against Zeek's definitions: conn_state, history, originator, timeouts,
//! eviction at the cap, port reuse, and missed bytes. Frames are built by hand.

use std::net::Ipv4Addr;

use canh_sensor::engine::{Engine, EngineConfig};
use canh_sensor::record::{Body, Conn, Record};
use canh_traffic::packets::{Host, icmp_frame, tcp_frame, udp_frame};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const PA: u8 = 0x18;

fn client() -> Host {
    Host::new(Ipv4Addr::new(10, 1, 0, 5))
}
fn server() -> Host {
    Host::new(Ipv4Addr::new(10, 1, 0, 80))
}

/// A frame from the client (`true`) or the server to port 80.
fn tcp(from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    if from_client {
        tcp_frame(&client(), 40000, &server(), 80, seq, ack, flags, 1, payload)
    } else {
        tcp_frame(&server(), 80, &client(), 40000, seq, ack, flags, 1, payload)
    }
}

fn run(cfg: EngineConfig, frames: &[(u64, Vec<u8>)]) -> Vec<Record> {
    let mut e = Engine::new(cfg);
    let mut out = Vec::new();
    for (t, f) in frames {
        e.packet(1_800_000_000_000_000 + t, 1, f, f.len() as u32);
        out.append(&mut e.drain().records);
    }
    e.finish();
    out.append(&mut e.drain().records);
    out
}

fn conns(records: &[Record]) -> Vec<(&Record, &Conn)> {
    records.iter().filter_map(|r| if let Body::Conn(c) = &r.body { Some((r, c)) } else { None }).collect()
}

fn state_and_history(frames: &[(u64, Vec<u8>)]) -> (String, String) {
    let records = run(EngineConfig::default(), frames);
    let c = conns(&records);
    assert_eq!(c.len(), 1, "{records:?}");
    (c[0].1.conn_state.to_string(), c[0].1.history.clone())
}

fn handshake() -> Vec<(u64, Vec<u8>)> {
    vec![
        (0, tcp(true, 100, 0, SYN, b"")),
        (1, tcp(false, 500, 101, SYN | ACK, b"")),
        (2, tcp(true, 101, 501, ACK, b"")),
    ]
}

#[test]
fn conn_states_follow_zeek() {
    assert_eq!(state_and_history(&[(0, tcp(true, 100, 0, SYN, b""))]), ("S0".into(), "S".into()));
    assert_eq!(
        state_and_history(&[(0, tcp(true, 100, 0, SYN, b"")), (1, tcp(false, 0, 101, RST | ACK, b""))]),
        ("REJ".into(), "Sr".into())
    );
    let mut f = handshake();
    f.push((3, tcp(true, 101, 501, PA, b"GET / HTTP/1.0\r\n\r\n")));
    f.push((4, tcp(false, 501, 119, PA, b"HTTP/1.0 200 OK\r\n\r\nhi")));
    f.push((5, tcp(true, 119, 521, FIN | ACK, b"")));
    f.push((6, tcp(false, 521, 120, FIN | ACK, b"")));
    f.push((7, tcp(true, 120, 522, ACK, b"")));
    assert_eq!(state_and_history(&f), ("SF".into(), "ShADdFf".into()));
    let mut f = handshake();
    f.push((3, tcp(true, 101, 501, RST | ACK, b"")));
    assert_eq!(state_and_history(&f).0, "RSTO");
    let mut f = handshake();
    f.push((3, tcp(false, 501, 101, RST | ACK, b"")));
    assert_eq!(state_and_history(&f).0, "RSTR");
    let mut f = handshake();
    f.push((3, tcp(true, 101, 501, FIN | ACK, b"")));
    assert_eq!(state_and_history(&f).0, "S2");
    assert_eq!(state_and_history(&handshake()).0, "S1");
    // Mid-stream: no SYN at all.
    assert_eq!(state_and_history(&[(0, tcp(true, 100, 500, PA, b"x")), (1, tcp(false, 500, 101, ACK, b""))]).0, "OTH");
}

#[test]
fn originator_is_the_syn_sender_even_when_the_syn_ack_comes_first() {
    let records =
        run(EngineConfig::default(), &[(0, tcp(false, 500, 101, SYN | ACK, b"")), (1, tcp(true, 101, 501, ACK, b""))]);
    let (rec, c) = conns(&records)[0];
    assert_eq!(rec.head.orig_h, std::net::IpAddr::V4(client().ip));
    assert_eq!(rec.head.resp_p, 80);
    assert!(c.history.starts_with('^'), "{}", c.history);
}

#[test]
fn udp_idle_timeout_splits_and_counts_both_directions() {
    let q = udp_frame(
        &client(),
        5000,
        &server(),
        53,
        1,
        b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01",
    );
    let r = udp_frame(
        &server(),
        53,
        &client(),
        5000,
        2,
        b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01",
    );
    let records = run(EngineConfig::default(), &[(0, q.clone()), (1000, r), (61_000_000, q)]);
    let c = conns(&records);
    assert_eq!(c.len(), 2);
    assert_eq!((c[0].1.conn_state, c[0].1.orig_pkts, c[0].1.resp_pkts), ("SF", 1, 1));
    assert_eq!((c[1].1.conn_state, c[1].1.orig_pkts), ("S0", 1));
    // The first was logged when it timed out, before the second began.
    let dns = records.iter().filter(|r| matches!(r.body, Body::Dns(_))).count();
    assert_eq!(dns, 2);
}

#[test]
fn flow_cap_evicts_and_logs_every_flow() {
    let cfg = EngineConfig { max_flows: 2, ..Default::default() };
    let frames: Vec<(u64, Vec<u8>)> =
        (0..5u16).map(|i| (u64::from(i), tcp_frame(&client(), 41000 + i, &server(), 80, 7, 0, SYN, 1, b""))).collect();
    let mut e = Engine::new(cfg);
    let mut records = Vec::new();
    for (t, f) in &frames {
        e.packet(*t, 1, f, f.len() as u32);
        assert!(e.flows_in_table() <= 2);
        records.append(&mut e.drain().records);
    }
    e.finish();
    records.append(&mut e.drain().records);
    assert_eq!(e.stats.flows_evicted, 3);
    assert_eq!(conns(&records).len(), 5);
}

#[test]
fn active_timeout_ends_long_connections() {
    let cfg = EngineConfig { active_timeout: 10_000_000, ..Default::default() };
    let mut f = handshake();
    for i in 0..30u32 {
        f.push((3 + u64::from(i) * 1_000_000, tcp(true, 101 + i, 501, PA, b"x")));
    }
    let c = run(cfg, &f);
    assert!(conns(&c).len() >= 2, "a 30 s connection with a 10 s active timeout must be cut");
}

#[test]
fn port_reuse_after_close_starts_a_new_connection_but_a_late_syn_does_not() {
    let mut f = handshake();
    f.push((3, tcp(true, 101, 501, FIN | ACK, b"")));
    f.push((4, tcp(false, 501, 102, FIN | ACK, b"")));
    f.push((5, tcp(true, 102, 502, ACK, b"")));
    let mut late = f.clone();
    late.push((6, tcp(true, 100, 0, SYN, b"")));
    assert_eq!(conns(&run(EngineConfig::default(), &late)).len(), 1);
    f.push((6, tcp(true, 9000, 0, SYN, b"")));
    let records = run(EngineConfig::default(), &f);
    let c = conns(&records);
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].1.conn_state, "S0");
    assert_ne!(c[0].0.head.uid, c[1].0.head.uid);
}

#[test]
fn out_of_order_and_lost_segments() {
    // The request arrives in three segments, the middle one late: HTTP still parses.
    let mut f = handshake();
    f.push((3, tcp(true, 101, 501, PA, b"GET /x HT")));
    f.push((4, tcp(true, 116, 501, PA, b"\r\nHost: a\r\n\r\n")));
    f.push((5, tcp(true, 110, 501, PA, b"TP/1.1")));
    let records = run(EngineConfig::default(), &f);
    assert!(
        records.iter().any(
            |r| matches!(&r.body, Body::Http(h) if h.uri.as_deref() == Some("/x") && h.host.as_deref() == Some("a"))
        )
    );
    // A segment the server acknowledged but the capture never saw counts as missed bytes.
    let mut f = handshake();
    f.push((3, tcp(true, 101, 501, PA, b"0123456789")));
    f.push((4, tcp(true, 121, 501, PA, b"abcdefghij")));
    f.push((5, tcp(false, 501, 131, ACK, b"")));
    let records = run(EngineConfig::default(), &f);
    let c = conns(&records);
    assert_eq!(c[0].1.missed_bytes, 10);
    assert_eq!(c[0].1.orig_bytes, 30);
    // The hole is Zeek's `g` in the originator's direction.
    assert!(c[0].1.history.contains('G'), "{}", c[0].1.history);
}

/// Zeek's definitions where they are clear: byte counts are payload only (SYN and FIN take a
/// sequence number each but carry no byte), a reset after both sides closed leaves `SF`, and
/// the history letters for a zero window (`w`), FIN with RST (`i`) and SYN with FIN (`q`).
#[test]
fn zeek_byte_counts_states_and_history_letters() {
    let mut f = handshake();
    f.push((3, tcp(true, 101, 501, PA, b"hello")));
    f.push((4, tcp(false, 501, 106, PA, b"hi")));
    f.push((5, tcp(true, 106, 503, FIN | ACK, b"")));
    f.push((6, tcp(false, 503, 107, FIN | ACK, b"")));
    f.push((7, tcp(true, 107, 504, RST, b"")));
    let records = run(EngineConfig::default(), &f);
    let (_, c) = conns(&records)[0];
    assert_eq!((c.orig_bytes, c.resp_bytes), (5, 2));
    assert_eq!((c.conn_state, c.history.as_str()), ("SF", "ShADdFfR"));
    // A zero window from the server, then a FIN with RST from the client.
    let mut f = handshake();
    let mut zero = tcp(false, 501, 101, ACK, b"");
    zero[14 + 20 + 14..14 + 20 + 16].copy_from_slice(&[0, 0]);
    f.push((3, zero));
    f.push((4, tcp(true, 101, 501, FIN | RST | ACK, b"")));
    let (_, history) = state_and_history(&f);
    assert!(history.contains('w') && history.contains('I'), "{history}");
    // SYN and FIN at once.
    let (_, history) = state_and_history(&[(0, tcp(true, 100, 0, SYN | FIN, b""))]);
    assert!(history.contains('Q'), "{history}");
}

/// The client of a UDP request/response service is the originator even when the server's
/// datagram comes first in the capture (DHCP: server 67, client 68).
#[test]
fn udp_services_are_originated_by_their_client() {
    let server_first = [
        (0, udp_frame(&server(), 67, &client(), 68, 1, b"offer")),
        (1, udp_frame(&client(), 68, &server(), 67, 2, b"request")),
    ];
    let records = run(EngineConfig::default(), &server_first);
    let (rec, c) = conns(&records)[0];
    assert_eq!((rec.head.orig_h, rec.head.orig_p, rec.head.resp_p), (std::net::IpAddr::V4(client().ip), 68, 67));
    assert!(c.history.starts_with('^'), "{}", c.history);
}

/// ICMP as Zeek logs it: the type as the originator's port and the counterpart type (or the
/// code) as the responder's; an error is a one-way flow of its own, never merged into the
/// echo exchange between the same hosts; `OTH`, no history, bytes without the 8-byte header.
#[test]
fn icmp_flows_follow_zeek() {
    let (a, b) = (client(), server());
    let data = [0x61u8; 56];
    let frames = [
        (0, icmp_frame(&a, &b, 8, 0, [0, 1, 0, 1], &data)),
        (1, icmp_frame(&b, &a, 0, 0, [0, 1, 0, 1], &data)),
        (2, icmp_frame(&a, &b, 8, 0, [0, 1, 0, 2], &data)),
        (3, icmp_frame(&b, &a, 0, 0, [0, 1, 0, 2], &data)),
        // Port unreachable from b about a datagram a sent: its IP header and first 8 bytes.
        (4, icmp_frame(&b, &a, 3, 3, [0; 4], &[0x45; 28])),
    ];
    let records = run(EngineConfig::default(), &frames);
    let c = conns(&records);
    assert_eq!(c.len(), 2, "{records:?}");
    let (echo, e) = c.iter().find(|(r, _)| r.head.orig_p == 8).expect("echo flow");
    assert_eq!((echo.head.orig_h, echo.head.resp_p), (std::net::IpAddr::V4(a.ip), 0));
    assert_eq!((e.proto, e.conn_state, e.history.as_str()), ("icmp", "OTH", ""));
    assert_eq!((e.orig_pkts, e.resp_pkts, e.orig_bytes, e.resp_bytes), (2, 2, 112, 112));
    assert_eq!((e.orig_ip_bytes, e.resp_ip_bytes), (168, 168));
    let (unreach, u) = c.iter().find(|(r, _)| r.head.orig_p == 3).expect("unreachable flow");
    assert_eq!((unreach.head.orig_h, unreach.head.resp_p), (std::net::IpAddr::V4(b.ip), 3));
    assert_eq!((u.orig_pkts, u.resp_pkts, u.orig_bytes, u.conn_state), (1, 0, 28, "OTH"));
    // Community ID pairs the echo's two directions and keeps the error one-way (spec values).
    assert_eq!(
        echo.head.community_id.as_ref(),
        canh_sensor::community_id::community_id(std::net::IpAddr::V4(b.ip), std::net::IpAddr::V4(a.ip), 1, 0, 8)
            .as_str()
    );
    assert_ne!(echo.head.uid, unreach.head.uid);
    // An echo reply seen alone is not flipped: Zeek logs it from the replier, 0 → 8.
    let records = run(EngineConfig::default(), &frames[1..2]);
    let (r, _) = conns(&records)[0];
    assert_eq!((r.head.orig_h, r.head.orig_p, r.head.resp_p), (std::net::IpAddr::V4(b.ip), 0, 8));
    // A message too short for the 8-byte header is a truncated-header weird, not a flow.
    let mut short = icmp_frame(&a, &b, 8, 0, [0; 4], b"");
    short.truncate(14 + 20 + 6);
    short[14 + 3] = 26;
    let records = run(EngineConfig::default(), &[(0, short)]);
    assert!(conns(&records).is_empty(), "{records:?}");
}

/// A tunnel as Zeek logs it: the outer UDP flow is a connection of its own (service
/// `vxlan`), a `tunnel` record names it when first seen, and the connection inside lists its
/// uid in `tunnel_parents`.
#[test]
fn udp_tunnels_log_their_outer_flow_and_parent() {
    let (vtep_a, vtep_b) = (Host::new(Ipv4Addr::new(10, 9, 0, 1)), Host::new(Ipv4Addr::new(10, 9, 0, 2)));
    let vxlan = |from: &Host, to: &Host, inner: Vec<u8>| {
        let mut payload = vec![0x08, 0, 0, 0, 0, 0x10, 0x01, 0];
        payload.extend_from_slice(&inner);
        udp_frame(from, 49152, to, 4789, 7, &payload)
    };
    let query = udp_frame(
        &client(),
        53000,
        &server(),
        53,
        1,
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x03gov\x02vn\x00\x00\x01\x00\x01",
    );
    let answer = udp_frame(
        &server(),
        53,
        &client(),
        53000,
        2,
        b"\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x03gov\x02vn\x00\x00\x01\x00\x01",
    );
    let frames = [(0, vxlan(&vtep_a, &vtep_b, query)), (1, vxlan(&vtep_b, &vtep_a, answer))];
    let records = run(EngineConfig::default(), &frames);
    let c = conns(&records);
    // Both VTEPs send to 4789 from 49152: one outer flow each way, as in Zeek.
    assert_eq!(c.len(), 3, "{records:?}");
    let outers: Vec<_> = c.iter().filter(|(r, _)| r.head.resp_p == 4789).collect();
    assert_eq!(outers.len(), 2);
    let (outer, o) = outers[0];
    assert_eq!((o.service, o.orig_pkts, o.orig_bytes), (Some("vxlan"), 1, 78));
    let (_, i) = c.iter().find(|(r, _)| r.head.resp_p == 53).expect("the inner flow");
    assert_eq!((i.service, i.orig_pkts, i.resp_pkts), (Some("dns"), 1, 1));
    let tunnels: Vec<&Record> = records.iter().filter(|r| matches!(r.body, Body::Tunnel(_))).collect();
    assert_eq!(tunnels.len(), 2, "one outer flow per direction here, each discovered once");
    let Body::Tunnel(t) = &tunnels[0].body else { unreachable!() };
    assert_eq!((t.tunnel_type, t.action), ("Tunnel::VXLAN", "Tunnel::DISCOVER"));
    assert!(tunnels.iter().any(|r| r.head.uid == outer.head.uid));
    let parents: Vec<String> = outers.iter().map(|(r, _)| r.head.uid.to_string()).collect();
    assert_eq!(i.tunnel_parents, parents);
    assert!(records.iter().any(|r| matches!(&r.body, Body::Dns(d) if d.query.as_deref() == Some("www.gov.vn"))));
}

#[test]
fn depth_limit_stops_parsing_but_not_counting() {
    let mut cfg = EngineConfig::default();
    cfg.stream.depth = 20;
    let mut f = handshake();
    f.push((3, tcp(true, 101, 501, PA, b"GET /a HTTP/1.1\r\nHost: example\r\n\r\n")));
    let records = run(cfg, &f);
    // The request head ends past byte 20, so it is never parsed; the bytes are still counted.
    assert!(!records.iter().any(|r| matches!(r.body, Body::Http(_))));
    assert_eq!(conns(&records)[0].1.orig_bytes, 34);
    // The analysis was cut short by a limit: Zeek's `X`.
    assert!(conns(&records)[0].1.history.contains('X'), "{}", conns(&records)[0].1.history);
    let records = run(EngineConfig::default(), &f);
    assert!(!conns(&records)[0].1.history.contains('X'));
    assert!(records.iter().any(|r| matches!(r.body, Body::Http(_))));
}
