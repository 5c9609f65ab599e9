//! Host logs through the `canh` binary: syslog over UDP, TCP (octet-counted and line-framed)
//! and TLS, in RFC 5424 and RFC 3164, and JSON lines from an agent over mutual TLS, become
//! searchable records of their sender's organization; a Sigma host rule raises its alert;
//! lines that are not syslog or JSON are kept raw and counted.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn canh() -> Command {
    Command::new(env!("CARGO_BIN_EXE_canh"))
}

fn ok(args: &[&str]) -> String {
    let out = canh().args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "canh {args:?}:\n{text}");
    text
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Sigma rule in SigmaHQ's shape for sshd (product linux, service sshd).
const SSHD_RULE: &str = r#"title: SSH login as root failed
id: 9f1e0c61-5f0e-4d7e-9c0a-6a1f2f6d2b01
status: test
logsource:
    product: linux
    service: sshd
detection:
    keywords:
        - 'Failed password for root'
    condition: keywords
level: medium
"#;

/// A rule for Windows process creation (Security 4688 or Sysmon 1).
const WIN_RULE: &str = r#"title: Encoded PowerShell
id: 3c7d6f52-1e0b-4b6e-8d1a-2c9e7b5a4f10
status: test
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        CommandLine|contains: ' -enc '
    condition: selection
level: high
"#;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn search(data: &str, query: &str) -> serde_json::Value {
    let out = canh().args(["search", query, "--json", "--limit", "100", "--data", data]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn wait_total(data: &str, query: &str, want: u64) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let v = search(data, query);
        if v["total"].as_u64() == Some(want) {
            return v;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "`{query}`: {} of {want}", v["total"]);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn syslog_and_agents_json_become_records_of_their_org_with_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    ok(&["org", "add", "so-a", "--name", "Sở A", "--data", data]);
    ok(&["ca", "init", "--data", data]);
    // The sender's address belongs to an information system of so-a.
    let inventory = dir.path().join("inventory.csv");
    std::fs::write(
        &inventory,
        "Mã hệ thống,Tên hệ thống thông tin,Đơn vị,Loại hệ thống,Loại thông tin,Vùng mạng\nmay-chu,Máy chủ nội bộ,so-a,a,riêng,LAN: 127.0.0.0/8\n",
    )
    .unwrap();
    ok(&["system", "import", inventory.to_str().unwrap(), "--data", data]);
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(pack.join("sshd.yml"), SSHD_RULE).unwrap();
    std::fs::write(pack.join("win.yml"), WIN_RULE).unwrap();
    let token = ok(&["sensor", "enroll", "agent-1", "--org", "so-a", "--data", data]);
    let token = token.lines().find(|l| l.starts_with("canh-enroll-")).unwrap();
    let id = dir.path().join("agent");
    ok(&["sensor", "certify", "--token", token, "--out", id.to_str().unwrap(), "--data", data]);

    let (udp, tcp, tls, sensors) = (free_port(), free_port(), free_port(), free_port());
    let mut child = canh()
        .args(["server", "--data", data, "--listen", "127.0.0.1:0"])
        .args(["--sensor-listen", &format!("127.0.0.1:{sensors}")])
        .args(["--syslog-udp", &format!("127.0.0.1:{udp}"), "--syslog-tcp", &format!("127.0.0.1:{tcp}")])
        .args(["--syslog-tls", &format!("127.0.0.1:{tls}"), "--rules", pack.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = String::new();
    while !said.contains("sensors: https://") {
        said.push_str(&lines.next().expect("the server starts").unwrap());
        said.push('\n');
    }
    std::thread::spawn(move || lines.for_each(drop));
    let _server = Server(child);
    assert!(said.contains("host log rules: 2 Sigma rules"), "{said}");

    // UDP: RFC 3164 from sshd (the rule's), and a line that is not syslog.
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    u.send_to(
        b"<38>Dec  3 15:00:01 web01 sshd[2211]: Failed password for root from 203.0.113.9 port 50122 ssh2",
        ("127.0.0.1", udp),
    )
    .unwrap();
    u.send_to(b"not syslog at all \x01\xff", ("127.0.0.1", udp)).unwrap();
    // TCP: octet-counted RFC 5424, then a newline-framed line, the same text twice (two events).
    let mut t = std::net::TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    let m = "<86>1 2026-12-03T15:00:02+07:00 app01 sudo 411 - - pam_unix(sudo:session): session opened for user root";
    write!(t, "{} {m}<13>Dec  3 15:00:03 app01 cron: twice\n<13>Dec  3 15:00:03 app01 cron: twice\n", m.len()).unwrap();
    drop(t);
    // TLS (RFC 5425), trusting the province CA.
    let ca = Path::new(data).join("ca/ca.crt");
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::pem::PemObject::pem_file_iter(&ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut s = rustls::StreamOwned::new(conn, std::net::TcpStream::connect(("127.0.0.1", tls)).unwrap());
    let m = "<38>1 2026-12-03T15:00:04+07:00 web02 sshd 99 - - Accepted publickey for deploy";
    write!(s, "{} {m}", m.len()).unwrap();
    s.flush().unwrap();
    s.conn.send_close_notify();
    let _ = s.flush();
    // A graceful close: the server's session tickets read, so that closing sends no reset
    // (which would discard what the server has not read yet).
    let _ = s.sock.shutdown(std::net::Shutdown::Write);
    let _ = std::io::Read::read_to_end(&mut s, &mut Vec::new());
    drop(s);

    let all = wait_total(data, "_type:syslog", 6);
    let records = all["records"].as_array().unwrap();
    assert!(records.iter().all(|r| r["_org"] == "so-a" && r["_sensor"] == "canh-server"), "{all}");
    let raw: Vec<_> = records.iter().filter(|r| r["malformed"].is_string()).collect();
    assert_eq!(raw.len(), 1, "the line that is not syslog is kept: {all}");
    assert!(raw[0]["message"].as_str().unwrap().starts_with("not syslog at all"), "{all}");
    let transports: std::collections::BTreeSet<&str> = records.iter().filter_map(|r| r["transport"].as_str()).collect();
    assert_eq!(transports.into_iter().collect::<Vec<_>>(), ["tcp", "tls", "udp"]);
    wait_total(data, "_type:syslog AND program:cron AND message:twice", 2);
    wait_total(data, "_type:syslog AND format:rfc5424 AND host:web02", 1);
    let alert = wait_total(data, "_type:alert AND rule_id:\"9f1e0c61-5f0e-4d7e-9c0a-6a1f2f6d2b01\"", 1);
    assert_eq!(alert["records"][0]["_org"], "so-a", "{alert}");

    // An agent's Windows events, as JSON lines over mutual TLS (one line broken).
    let event = serde_json::json!({"Event": {"System": {"EventID": 4688, "Channel": "Security", "Computer": "ws-07",
        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
        "TimeCreated": {"#attributes": {"SystemTime": "2026-12-03T08:00:05.000Z"}}},
        "EventData": {"NewProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "CommandLine": "powershell.exe -nop -enc SQBFAFgA"}}});
    let body = format!("{event}\n{{broken\n");
    let tls =
        canh_sensor::ship::client::client_config(&id.join("ca.crt"), &id.join("sensor.crt"), &id.join("sensor.key"))
            .unwrap();
    let conn = rustls::ClientConnection::new(tls, "localhost".try_into().unwrap()).unwrap();
    let mut s = rustls::StreamOwned::new(conn, std::net::TcpStream::connect(("127.0.0.1", sensors)).unwrap());
    write!(
        s,
        "POST /v1/logs/winlog HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-ndjson\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut s, &mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"accepted\":2") && answer.contains("\"malformed\":1") && answer.contains("\"alerts\":1"),
        "{answer}"
    );
    let win = wait_total(data, "_type:winlog", 2);
    let records = win["records"].as_array().unwrap();
    let e = records.iter().find(|r| r["Computer"] == "ws-07").expect("the flattened event");
    assert_eq!(
        (e["_sensor"].as_str(), e["_org"].as_str(), e["EventID"].as_u64()),
        (Some("agent-1"), Some("so-a"), Some(4688))
    );
    assert_eq!(e["ts"].as_f64(), Some(1_796_284_805.0), "its time is TimeCreated");
    assert!(records.iter().any(|r| r["malformed"].is_string() && r["message"] == "{broken"), "{win}");
    wait_total(data, "_type:alert AND rule_id:\"3c7d6f52-1e0b-4b6e-8d1a-2c9e7b5a4f10\"", 1);
}
