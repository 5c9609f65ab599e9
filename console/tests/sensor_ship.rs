//! Sensors shipping to the server through the `canh` binary, over mutual TLS: every record and
//! alert of a capture stored exactly once — also when the server is away for a while, or is
//! killed with SIGKILL mid-stream and restarted; unknown, expired and revoked certificates
//! refused; malformed, oversized and replayed batches answered 4xx while the server goes on.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use canh_sensor::ship::wire;

fn canh() -> Command {
    Command::new(env!("CARGO_BIN_EXE_canh"))
}

fn run(args: &[&str]) -> (i32, String) {
    let out = canh().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, text) = run(args);
    assert_eq!(code, 0, "canh {args:?}:\n{text}");
    text
}

/// A province: its data directory with a CA, an agency, and sensor `s1` certified.
struct Province {
    dir: tempfile::TempDir,
}

impl Province {
    fn new() -> Self {
        let p = Self { dir: tempfile::tempdir().unwrap() };
        ok(&["org", "add", "so-a", "--name", "Sở A", "--data", p.data()]);
        ok(&["ca", "init", "--data", p.data()]);
        p.certify("s1", "so-a", "id");
        p
    }

    fn data(&self) -> &str {
        self.path("data")
    }

    fn path(&self, name: &str) -> &str {
        let p: PathBuf = self.dir.path().join(name);
        Box::leak(p.to_str().unwrap().to_string().into_boxed_str())
    }

    /// Enrolls and certifies a sensor; its identity directory is `dir`.
    fn certify(&self, name: &str, org: &str, dir: &str) {
        let text = ok(&["sensor", "enroll", name, "--org", org, "--data", self.data()]);
        let token = text.lines().find(|l| l.starts_with("canh-enroll-")).unwrap();
        ok(&["sensor", "certify", "--token", token, "--out", self.path(dir), "--data", self.data()]);
    }

    /// A capture of the demo's generator (seeded, so the same bytes each run).
    fn capture(&self, mb: u32) -> &str {
        let out = self.path("t.pcap");
        if !Path::new(out).exists() {
            ok(&["gen", "--out", out, "--size-mb", &mb.to_string()]);
        }
        out
    }

    /// Records and alerts in the store.
    fn stored(&self) -> u64 {
        let out = canh().args(["search", "*", "--json", "--limit", "1", "--data", self.data()]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        v["total"].as_u64().unwrap()
    }
}

/// Records and alerts `canh replay` makes of the capture with the same rules.
fn expected(capture: &str) -> u64 {
    let out = canh().args(["replay", capture, "--out", "-", "--rules", "bundled:vn-gov"]).output().unwrap();
    assert!(out.status.success());
    out.stdout.iter().filter(|b| **b == b'\n').count() as u64
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `canh server` as a child process, its sensors' listener on `port`.
struct Server {
    child: Child,
}

impl Server {
    fn start(data: &str, port: u16) -> Self {
        Self::start_with(data, port, &[])
    }

    fn start_with(data: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let mut child = canh()
            .envs(env.iter().copied())
            .args([
                "server",
                "--data",
                data,
                "--listen",
                "127.0.0.1:0",
                "--sensor-listen",
                &format!("127.0.0.1:{port}"),
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        loop {
            let line = lines.next().expect("the server says where it listens").unwrap();
            if line.starts_with("sensors: https://") {
                break;
            }
        }
        // Keep reading what it says, so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child }
    }

    /// SIGKILL: no shutdown, no flush.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sensor(p: &Province, port: u16, id: &str, extra: &[&str]) -> Command {
    let mut c = canh();
    c.args(["sensor", "--pcap", p.capture(5), "--server", &format!("localhost:{port}"), "--identity", p.path(id)]);
    c.args(["--rules", "bundled:vn-gov"]).args(extra);
    c
}

fn output(mut c: Command) -> (i32, String) {
    let out = c.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_capture_is_stored_once_through_mutual_tls() {
    let p = Province::new();
    let want = expected(p.capture(5));
    assert!(want > 300, "{want}");
    let port = free_port();
    let _server = Server::start(p.data(), port);
    let (code, text) = output(sensor(&p, port, "id", &["--batch-kib", "64"]));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("({want} records) of")), "{text}");
    assert_eq!(p.stored(), want);
    // The same capture again: new batches (new sequences), the same records: stored once.
    let (code, text) = output(sensor(&p, port, "id", &["--batch-kib", "64"]));
    assert_eq!(code, 0, "{text}");
    assert_eq!(p.stored(), want);
    // Every record says the certificate's sensor and org.
    let text = ok(&["search", "NOT _sensor:s1 OR NOT _org:so-a", "--json", "--data", p.data()]);
    assert!(text.contains("\"total\": 0"), "{text}");
}

/// Records written earlier (a sensor's logs) shipped as they are: stored once each, with the
/// certificate's sensor and org.
#[test]
fn records_files_ship_as_they_are() {
    let p = Province::new();
    let logs = p.path("logs");
    ok(&["replay", p.capture(5), "--out", logs]);
    let files: Vec<String> = ["conn", "dns", "http"].iter().map(|t| format!("{logs}/{t}.ndjson")).collect();
    let want: usize = files.iter().map(|f| std::fs::read_to_string(f).unwrap().lines().count()).sum();
    let port = free_port();
    let _server = Server::start(p.data(), port);
    let mut c = canh();
    c.args(["sensor", "--server", &format!("localhost:{port}"), "--identity", p.path("id"), "--records"]).args(&files);
    let (code, text) = output(c);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("{want} records from 3 files")), "{text}");
    assert_eq!(p.stored(), want as u64);
    let text = ok(&["search", "NOT _sensor:s1", "--json", "--data", p.data()]);
    assert!(text.contains("\"total\": 0"), "{text}");
}

#[test]
fn the_server_away_then_back_loses_nothing() {
    let p = Province::new();
    let want = expected(p.capture(5));
    let port = free_port();
    // The sensor starts with no server: everything waits in its spool.
    let metrics = free_port();
    let child = sensor(&p, port, "id", &["--batch-kib", "32", "--drain-seconds", "120"])
        .args(["--metrics", &format!("127.0.0.1:{metrics}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let spool = Path::new(p.path("id")).join("spool");
    let waited = Instant::now();
    let spooled = || {
        std::fs::read_dir(&spool)
            .map(|d| d.filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".zst")).count())
            .unwrap_or(0)
    };
    while spooled() < 5 {
        assert!(waited.elapsed() < Duration::from_secs(60), "the sensor spooled nothing");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    // Its metrics say what waits and that the server is not reached.
    let scraped = scrape(metrics);
    assert!(scraped.contains("canh_sensor_spool_batches "), "{scraped}");
    assert!(!scraped.contains("canh_sensor_spool_batches 0\n"), "{scraped}");
    assert!(!scraped.contains("canh_sensor_ship_failures_total 0\n"), "{scraped}");
    let _server = Server::start(p.data(), port);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_eq!(spooled(), 0, "the spool drained");
    assert_eq!(p.stored(), want, "{text}");
}

#[test]
fn kill_9_of_the_server_mid_stream_stores_every_record_once() {
    let p = Province::new();
    let want = expected(p.capture(5));
    let port = free_port();
    let server = Server::start(p.data(), port);
    let child =
        sensor(&p, port, "id", &["--batch-kib", "4", "--drain-seconds", "120"]).stderr(Stdio::piped()).spawn().unwrap();
    // Some batches in, then SIGKILL.
    let waited = Instant::now();
    while p.stored() < want / 10 {
        assert!(waited.elapsed() < Duration::from_secs(60), "nothing reached the store");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let at_kill = p.stored();
    assert!(at_kill < want, "the kill came after the end: make batches smaller");
    std::thread::sleep(Duration::from_secs(1));
    let _server = Server::start(p.data(), port);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_eq!(p.stored(), want, "stored at the kill: {at_kill}\n{text}");
}

#[test]
fn unknown_expired_and_revoked_certificates_are_refused() {
    let p = Province::new();
    let port = free_port();
    let _server = Server::start(p.data(), port);
    // A certificate of another province's CA: refused in the handshake, the batches wait.
    let other = Province::new();
    let stranger = Path::new(other.path("id"));
    std::fs::copy(Path::new(p.data()).join("ca/ca.crt"), stranger.join("ca.crt")).unwrap();
    let mut c = sensor(&other, port, "id", &["--drain-seconds", "2"]);
    c.arg("--pcap").arg(p.capture(5));
    let (code, text) = output(c);
    assert_eq!(code, 3, "{text}");
    // Refused by TLS, before any answer in HTTP (the 403 of an enrolled name's wrong serial).
    let refused_by_tls = |text: &str| {
        text.contains("waiting in")
            && !text.contains("403")
            // The alert, or the connection the server closed after it (reset when the request
            // was already on its way).
            && ["fatal alert", "closed the connection", "reset by peer", "Broken pipe", "canceled"].iter().any(|w| text.contains(w))
    };
    assert!(refused_by_tls(&text), "{text}");
    // And a sensor that does not trust the server's certificate does not send.
    std::fs::copy(Path::new(other.data()).join("ca/ca.crt"), stranger.join("ca.crt")).unwrap();
    let mut c = sensor(&other, port, "id", &["--drain-seconds", "2"]);
    c.arg("--pcap").arg(p.capture(5));
    let (code, text) = output(c);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("invalid peer certificate"), "{text}");

    // Expired: a certificate of the right CA whose time is over.
    let expired = p.path("expired");
    std::fs::create_dir_all(expired).unwrap();
    let ca = canh_console::server::ca::Ca::load(Path::new(p.data())).unwrap();
    let (key, csr) = canh_console::server::ca::sensor_request("s1").unwrap();
    let (pem, _, _) = ca.sign_sensor_valid(&csr, "s1", "so-a", -2).unwrap();
    std::fs::write(Path::new(expired).join("sensor.crt"), pem).unwrap();
    std::fs::write(Path::new(expired).join("sensor.key"), key).unwrap();
    std::fs::copy(Path::new(p.data()).join("ca/ca.crt"), Path::new(expired).join("ca.crt")).unwrap();
    let (code, text) = output(sensor(&p, port, "expired", &["--drain-seconds", "2"]));
    assert_eq!(code, 3, "{text}");
    assert!(refused_by_tls(&text), "{text}");

    // Revoked: refused at once, nothing stored.
    ok(&["sensor", "revoke", "s1", "--data", p.data()]);
    let (code, text) = output(sensor(&p, port, "id", &["--drain-seconds", "2"]));
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("403"), "{text}");
    assert_eq!(p.stored(), 0);
}

/// One batch to the sensors' listener as sensor `s1`.
fn post(p: &Province, port: u16, headers: &[(&str, String)], body: Vec<u8>) -> (u16, String) {
    request(p, port, wire::PATH, headers, body)
}

/// One request to the sensors' listener as sensor `s1`.
fn request(p: &Province, port: u16, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> (u16, String) {
    exchange(p, port, "POST", path, headers, body)
}

fn exchange(
    p: &Province,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> (u16, String) {
    use http_body_util::BodyExt as _;
    let id = Path::new(p.path("id"));
    let tls =
        canh_sensor::ship::client::client_config(&id.join("ca.crt"), &id.join("sensor.crt"), &id.join("sensor.key"))
            .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.unwrap();
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        let mut req = hyper::Request::builder().method(method).uri(path).header("host", "localhost");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let res = send.send_request(req.body(http_body_util::Full::new(bytes::Bytes::from(body))).unwrap()).await;
        let res = res.unwrap();
        let status = res.status().as_u16();
        let text = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&text).into_owned())
    })
}

fn batch(seq: u64, records: u64) -> Vec<(&'static str, String)> {
    vec![(wire::SEQUENCE, seq.to_string()), (wire::RECORDS, records.to_string())]
}

#[test]
fn malformed_oversized_and_replayed_batches_get_4xx_and_the_server_goes_on() {
    let p = Province::new();
    let port = free_port();
    let _server = Server::start(p.data(), port);
    let good = |n: u64| {
        let lines: String =
            (0..n).map(|i| format!("{{\"ts\":1790000000.{i:06},\"_type\":\"syslog\",\"n\":{i}}}\n")).collect();
        wire::compress(lines.as_bytes()).unwrap()
    };
    assert_eq!(post(&p, port, &batch(1, 3), good(3)).0, 200);
    // Replayed.
    let (status, text) = post(&p, port, &batch(1, 3), good(3));
    assert_eq!(status, 409, "{text}");
    // Not zstd.
    assert_eq!(post(&p, port, &batch(2, 1), b"{\"ts\":1}\n".to_vec()).0, 400);
    // A line that is not a record, named.
    let (status, text) = post(&p, port, &batch(2, 2), wire::compress(b"{\"ts\":1}\nnot json\n").unwrap());
    assert_eq!(status, 400);
    assert!(text.contains("line 2"), "{text}");
    // Fewer lines than said.
    assert_eq!(post(&p, port, &batch(2, 5), good(3)).0, 400);
    // No sequence.
    assert_eq!(post(&p, port, &[(wire::RECORDS, "1".into())], good(1)).0, 400);
    // Too large compressed, and a bomb too large once decompressed.
    let big: Vec<u8> = (0..wire::MAX_COMPRESSED + 1).map(|i| (i * 7919 % 251) as u8).collect();
    assert_eq!(post(&p, port, &batch(2, 1), big).0, 413);
    let bomb = wire::compress(&vec![b' '; wire::MAX_DECOMPRESSED + 1]).unwrap();
    assert_eq!(post(&p, port, &batch(2, 1), bomb).0, 413);
    // And the next good batch is taken.
    let (status, text) = post(&p, port, &batch(2, 4), good(4));
    assert_eq!(status, 200, "{text}");
    assert_eq!(p.stored(), 4, "the second batch's 4 lines hold the first's 3");
}

fn status(p: &Province) -> serde_json::Value {
    let out = canh()
        .env("CANH_SERVER_SENSOR_SILENT_SECONDS", "3")
        .args(["sensor", "status", "--json", "--data", p.data()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn health_alerts(p: &Province, rule: &str) -> u64 {
    let out = canh()
        .args(["search", &format!("_type:alert AND rule_id:\"canh.sensor.{rule}\""), "--json", "--data", p.data()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["total"].as_u64().unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn heartbeats_tell_health_and_problems_raise_alerts_once() {
    let p = Province::new();
    let port = free_port();
    let _server = Server::start_with(p.data(), port, &[("CANH_SERVER_SENSOR_SILENT_SECONDS", "3")]);
    let (code, text) = output(sensor(&p, port, "id", &[]));
    assert_eq!(code, 0, "{text}");
    let s = &status(&p)[0];
    assert_eq!(s["name"], "s1");
    let h = &s["health"];
    assert!(h["clock_offset"].as_f64().unwrap().abs() < 2.0, "{s}");
    assert!(h["data"]["rules"].as_str().unwrap().contains("vn-gov"), "{s}");
    assert_eq!(h["data"]["spool_dropped_batches"], 0);
    assert!(s["delivered"]["records"].as_u64().unwrap() > 300, "{s}");
    // The sensor stopped: silent past 3 s, alerted once.
    wait_for("the silence alert", || health_alerts(&p, "silent") == 1);
    let s = &status(&p)[0];
    assert_eq!(s["problems"][0]["condition"], "silent", "{s}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(health_alerts(&p, "silent"), 1, "once per onset");
    // A heartbeat from a sensor 60 s behind, losing a third of its frames.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let beat = serde_json::json!({"sent_at": now - 60.0, "received": 200, "kernel_dropped": 100});
    let (code, text) = request(&p, port, wire::HEARTBEAT_PATH, &[], serde_json::to_vec(&beat).unwrap());
    assert_eq!(code, 200, "{text}");
    wait_for("the clock and drop alerts", || health_alerts(&p, "clock") == 1 && health_alerts(&p, "drops") == 1);
    let (code, _) = request(&p, port, wire::HEARTBEAT_PATH, &[], b"[1]".to_vec());
    assert_eq!(code, 400, "a heartbeat is an object");
    let text = ok(&["sensor", "status", "--data", p.data()]);
    assert!(text.contains("s1") && (text.contains("clock") || text.contains("drops")), "{text}");
}

#[test]
fn a_renewed_certificate_replaces_the_old_one_at_once() {
    let p = Province::new();
    let port = free_port();
    let _server = Server::start(p.data(), port);
    let (id, old) = (Path::new(p.path("id")), Path::new(p.path("old")));
    std::fs::create_dir_all(old).unwrap();
    for f in ["ca.crt", "sensor.crt", "sensor.key"] {
        std::fs::copy(id.join(f), old.join(f)).unwrap();
    }
    let text = ok(&["sensor", "renew", "--identity", p.path("id"), "--server", &format!("localhost:{port}")]);
    assert!(text.contains("renewed"), "{text}");
    assert_ne!(
        std::fs::read(id.join("sensor.key")).unwrap(),
        std::fs::read(old.join("sensor.key")).unwrap(),
        "a new key"
    );
    // The old certificate is refused; the new one ships.
    let (code, text) = output(sensor(&p, port, "old", &["--drain-seconds", "2"]));
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("403"), "{text}");
    assert_eq!(p.stored(), 0);
    let (code, text) = output(sensor(&p, port, "id", &[]));
    assert_eq!(code, 0, "{text}");
    assert!(p.stored() > 300);
    let audit = ok(&["audit", "list", "--data", p.data()]);
    assert!(audit.contains("sensor.renew"), "{audit}");
}

/// `GET /metrics` of a sensor (plain HTTP on loopback).
fn scrape(port: u16) -> String {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET /metrics HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text
}

/// The console's pages, in this process, over the data directory a `canh server` child
/// serves: the same routes, state and store.
struct Console {
    router: axum::Router,
    token: String,
    csrf: String,
}

impl Console {
    fn new(app: &std::sync::Arc<canh_console::server::routes::App>, user: &str) -> Self {
        use canh_console::state::session::{self, Policy};
        let opened = {
            let mut state = app.state.lock().unwrap();
            let now = canh_console::state::now_unix();
            session::sign_in(&mut state, &Policy::default(), user, PASSWORD, None, "10.0.0.1", now).unwrap().unwrap()
        };
        Self { router: canh_console::server::routes::router(app.clone()), token: opened.token, csrf: opened.csrf }
    }

    fn send(&self, method: &str, uri: &str, body: String) -> (u16, Vec<(String, String)>, Vec<u8>) {
        use tower::ServiceExt as _;
        let req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "console.test")
            .header("origin", "https://console.test")
            .header("cookie", format!("{}={}", canh_console::server::routes::SESSION_COOKIE, self.token))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let res = self.router.clone().oneshot(req).await.unwrap();
            let status = res.status().as_u16();
            let headers =
                res.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
            let body = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap().to_vec();
            (status, headers, body)
        })
    }

    fn get(&self, uri: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        self.send("GET", uri, String::new())
    }

    fn post(&self, uri: &str) -> u16 {
        self.send("POST", uri, format!("csrf={}", self.csrf)).0
    }
}

const PASSWORD: &str = "Canh@2026test";

/// The frames of a capture whose flow has Community ID `cid`, within `[from, to]` seconds.
fn frames_of_flow(capture: &[u8], cid: &str, from: f64, to: f64) -> Vec<(u64, Vec<u8>)> {
    let mut reader =
        canh_sensor::capture::CaptureReader::from_reader("capture", Box::new(std::io::Cursor::new(capture.to_vec())))
            .unwrap();
    let mut decoder = canh_sensor::decode::Decoder::default();
    let mut frames = Vec::new();
    while reader.advance().unwrap() {
        let p = &reader.packet;
        let t = p.ts as f64 / 1e6;
        if let Ok(Some(d)) = decoder.decode(p.linktype, &p.data, p.ts)
            && t >= from
            && t <= to
            && canh_sensor::community_id::community_id(d.src, d.dst, d.proto, d.sport, d.dport) == cid
        {
            frames.push((p.ts, p.data.clone()));
        }
    }
    frames
}

/// "Download PCAP" on an alert: the analyst asks, the sensor that saw the flow answers from
/// its packet store over its mutual-TLS channel, the analyst downloads exactly the flow's
/// frames; an auditor may do neither; both steps are audited.
#[test]
fn the_packets_behind_an_alert_come_from_its_sensor() {
    use canh_console::state::{Actor, State, packets, user};
    let p = Province::new();
    {
        let mut state = State::open(Path::new(p.data())).unwrap();
        let a = Actor { name: "cli:test".into(), org: String::new() };
        state
            .change(|tx| {
                user::add(tx, &a, "an", user::Role::Analyst, "so-a", PASSWORD)?;
                user::add(tx, &a, "kiem", user::Role::Auditor, "so-a", PASSWORD)
            })
            .unwrap();
    }
    let port = free_port();
    let _server = Server::start(p.data(), port);
    let mut sensor = sensor(&p, port, "id", &["--stay"]).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(sensor.stderr.take().unwrap()).lines();
    let mut said = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("answering the console's requests") {
            break;
        }
    }
    assert!(said.contains("answering the console's requests"), "{said}");
    std::thread::spawn(move || lines.for_each(drop));
    let on_disk = std::fs::read_dir(Path::new(p.path("id")).join("packets")).unwrap().count();
    assert!(on_disk >= 1, "the sensor kept its packets");

    let state = State::open(Path::new(p.data())).unwrap();
    let app = canh_console::server::routes::App::new(state, Default::default());
    let analyst = Console::new(&app, "an");
    let auditor = Console::new(&app, "kiem");
    // An alert of a flow, once the server has it in triage.
    let mut alert = serde_json::Value::Null;
    wait_for("an alert in triage", || {
        let (status, _, body) = analyst.get("/api/v1/alerts?status=all");
        assert_eq!(status, 200);
        let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let found = list["alerts"].as_array().and_then(|a| {
            a.iter()
                .find(|x| x["community_id"].as_str().is_some_and(|c| !c.is_empty()) && x["engine"] == "sigma")
                .cloned()
        });
        found.map(|f| alert = f).is_some()
    });
    let id = alert["id"].as_str().unwrap().to_string();
    let cid = alert["community_id"].as_str().unwrap().to_string();

    assert_eq!(auditor.post(&format!("/alerts/{id}/packets")), 403, "an auditor may not ask for packets");
    assert_eq!(analyst.post(&format!("/alerts/{id}/packets")), 303);
    let mut asked = None;
    wait_for("the sensor's answer", || {
        let reqs = packets::of_alert(State::open(Path::new(p.data())).unwrap().conn(), &id).unwrap();
        assert_eq!(reqs.len(), 1);
        asked = Some(reqs[0].clone());
        reqs[0].state != packets::State::Waiting
    });
    let asked = asked.unwrap();
    assert_eq!(asked.state, packets::State::Ready, "{asked:?}");
    assert_eq!((asked.sensor.as_str(), asked.community_id.as_str()), ("s1", cid.as_str()));

    let uri = format!("/alerts/{id}/packets/{}", asked.id);
    assert_eq!(auditor.get(&uri).0, 403, "an auditor may not read packets");
    let (status, headers, pcap) = analyst.get(&uri);
    assert_eq!(status, 200);
    assert!(headers.iter().any(|(k, v)| k == "content-type" && v == "application/vnd.tcpdump.pcap"), "{headers:?}");
    assert!(headers.iter().any(|(k, v)| k == "content-disposition" && v.starts_with("attachment")), "{headers:?}");
    // Exactly the flow's frames of the capture, in the window the console asked for.
    let capture = std::fs::read(p.capture(5)).unwrap();
    let want = frames_of_flow(&capture, &cid, asked.from, asked.to);
    let got = frames_of_flow(&pcap, &cid, 0.0, f64::MAX);
    assert!(!want.is_empty());
    assert_eq!(got, want);
    assert_eq!(asked.packets as usize, want.len());
    // The alert's page offers the file; the audit trail holds both steps, and the refusals.
    let (_, _, page) = analyst.get(&format!("/alerts/{id}"));
    assert!(String::from_utf8_lossy(&page).contains(&uri), "the page links the capture");
    let audit = ok(&["audit", "list", "--data", p.data()]);
    assert!(audit.contains("packets.request") && audit.contains("packets.download"), "{audit}");
    let _ = sensor.kill();
    let _ = sensor.wait();
}

/// A sensor's answers are checked: only the sensor a request names may answer it, once, with
/// a capture holding as many frames as it says.
#[test]
fn answers_to_packet_requests_are_checked() {
    use canh_console::state::{State, packets};
    let p = Province::new();
    p.certify("s2", "so-a", "id2");
    let port = free_port();
    let _server = Server::start(p.data(), port);
    let mut state = State::open(Path::new(p.data())).unwrap();
    let ask = |sensor: &'static str| packets::Ask {
        alert: "a1",
        sensor,
        org: "so-a",
        community_id: "1:x=",
        from: 1.0,
        to: 2.0,
        by: "an",
    };
    let (mine, _) = state.change(|tx| packets::request(tx, &ask("s1"))).unwrap();
    let (theirs, _) = state.change(|tx| packets::request(tx, &packets::Ask { alert: "a2", ..ask("s2") })).unwrap();
    // s1 is handed its own request only.
    let (code, text) = exchange(&p, port, "GET", wire::PACKETS_PATH, &[], Vec::new());
    assert_eq!(code, 200, "{text}");
    let wanted: Vec<wire::PacketRequest> = serde_json::from_str(&text).unwrap();
    assert_eq!(wanted.iter().map(|w| w.id).collect::<Vec<_>>(), vec![mine]);
    let path = |id: i64| format!("{}/{id}", wire::PACKETS_PATH);
    // Not a capture; a capture of 1 frame said to hold 2; another sensor's request.
    let (code, text) = request(&p, port, &path(mine), &[(wire::PACKETS, "1".into())], b"not a pcap".to_vec());
    assert_eq!(code, 400, "{text}");
    let one = std::fs::read(common_capture()).unwrap();
    let (code, text) = request(&p, port, &path(mine), &[(wire::PACKETS, "2".into())], one.clone());
    assert_eq!(code, 400, "{text}");
    let (code, text) = request(&p, port, &path(theirs), &[(wire::PACKETS, "1".into())], one.clone());
    assert_eq!(code, 404, "{text}");
    // Still waiting; then answered, once.
    assert_eq!(packets::get(state.conn(), mine).unwrap().unwrap().state, packets::State::Waiting);
    let (code, text) = request(&p, port, &path(mine), &[(wire::PACKETS, "1".into())], one.clone());
    assert_eq!(code, 200, "{text}");
    let (code, _) = request(&p, port, &path(mine), &[(wire::PACKETS, "1".into())], one.clone());
    assert_eq!(code, 404, "answered already");
    let r = packets::get(state.conn(), mine).unwrap().unwrap();
    assert_eq!((r.state, r.packets), (packets::State::Ready, 1));
    assert_eq!(std::fs::read(packets::file(Path::new(p.data()), mine)).unwrap(), one);
}

/// A capture of one frame.
fn common_capture() -> PathBuf {
    let path = std::env::temp_dir().join(format!("canh-one-frame-{}.pcap", std::process::id()));
    let mut w = pcap_file::pcap::PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    let frame = [0u8; 60];
    w.write_packet(&pcap_file::pcap::PcapPacket::new(Duration::from_secs(1_700_000_000), 60, &frame)).unwrap();
    path
}

/// A NATS JetStream cluster of three nodes on loopback, its clients' port requiring mutual
/// TLS with certificates of the province CA (the nodes' own certificate signed by it), removed
/// on drop.
struct NatsCluster {
    nodes: Vec<Option<Child>>,
    urls: String,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    fn start(p: &Province) -> Self {
        let (cert, key) = canh_console::server::ca::listener_pair(Path::new(p.data()), &[]).unwrap();
        let ca = Path::new(p.path("id")).join("ca.crt");
        let dir = tempfile::tempdir().unwrap();
        let client: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let route: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let routes: Vec<String> =
                (0..3).filter(|j| *j != i).map(|j| format!("nats-route://127.0.0.1:{}", route[j])).collect();
            let conf = dir.path().join(format!("n{i}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "server_name: n{i}\nlisten: 127.0.0.1:{}\nmax_payload: 8MB\n\
                     tls {{ cert_file: \"{}\", key_file: \"{}\", ca_file: \"{}\", verify: true }}\n\
                     jetstream {{ store_dir: \"{}\" }}\n\
                     cluster {{ name: canh, listen: 127.0.0.1:{}, routes: [{}] }}\n",
                    client[i],
                    cert.display(),
                    key.display(),
                    ca.display(),
                    dir.path().join(format!("n{i}")).display(),
                    route[i],
                    routes.join(", ")
                ),
            )
            .unwrap();
            let child = Command::new("nats-server")
                .args(["-c", conf.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("nats-server (Debian's package nats-server; .ci/run installs it)");
            nodes.push(Some(child));
        }
        let urls = client.iter().map(|p| format!("tls://localhost:{p}")).collect::<Vec<_>>().join(",");
        Self { nodes, urls, _dir: dir }
    }

    /// SIGKILL of node `i`.
    fn kill(&mut self, i: usize) {
        let mut node = self.nodes[i].take().unwrap();
        node.kill().unwrap();
        node.wait().unwrap();
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in self.nodes.iter_mut().flatten() {
            let _ = node.kill();
            let _ = node.wait();
        }
    }
}

fn stored_in(data: &str) -> u64 {
    let out = canh().args(["search", "*", "--json", "--limit", "1", "--data", data]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str::<serde_json::Value>(&text).map_or(0, |v| v["total"].as_u64().unwrap_or(0))
}

/// The scale-out transport: a sensor publishes to a three-node JetStream cluster, two
/// indexers consume it as one group, one node is killed mid-stream — and every record is
/// stored exactly once across the two indexers' stores.
#[test]
fn through_a_jetstream_cluster_with_a_node_killed_every_record_is_stored_once() {
    let p = Province::new();
    let capture = p.capture(20);
    let want = expected(capture);
    // The indexers' client certificate (the CA's, as a sensor's is).
    p.certify("indexers", "so-a", "idx-id");
    let mut cluster = NatsCluster::start(&p);
    // Without a certificate of the CA, no client gets in (it keeps trying, and never consumes).
    let log = p.path("outsider.log");
    let mut outsider = canh()
        .args(["indexer", "--nats", &cluster.urls, "--data", p.path("x")])
        .env("CANH_LOG", "warn")
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let _ = outsider.kill();
    let _ = outsider.wait();
    let said = std::fs::read_to_string(log).unwrap();
    assert!(!said.contains("consuming"), "{said}");
    let indexers: Vec<(Child, &str)> = ["i1", "i2"]
        .iter()
        .map(|name| {
            let data = p.path(name);
            let child = canh()
                .args(["indexer", "--nats", &cluster.urls, "--data", data, "--name", name, "--fetch", "16"])
                // What the killed node held unacknowledged comes again within 5 s.
                .args(["--ack-wait", "5", "--identity", p.path("idx-id")])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(format!("{data}.log")).unwrap())
                .spawn()
                .unwrap();
            (child, data)
        })
        .collect();
    let mut sensor = canh()
        .args(["sensor", "--pcap", capture, "--nats", &cluster.urls, "--identity", p.path("id")])
        // Small batches: a thousand, published while the node goes.
        .args(["--rules", "bundled:vn-gov", "--batch-kib", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Mid-stream: once the indexers have stored something, a node goes.
    let mut at_kill = 0;
    wait_for("the first records stored", || {
        at_kill = indexers.iter().map(|(_, d)| stored_in(d)).sum::<u64>();
        at_kill > 0
    });
    cluster.kill(0);
    let sensor_running = sensor.try_wait().unwrap().is_none();
    eprintln!("node 0 killed with {at_kill} of {want} records stored; the sensor still publishing: {sensor_running}");
    assert!(at_kill < want, "the node is killed mid-stream");
    let mut said = String::new();
    use std::io::Read as _;
    sensor.stderr.take().unwrap().read_to_string(&mut said).unwrap();
    assert!(sensor.wait().unwrap().success(), "{said}");
    let started = Instant::now();
    let total = || indexers.iter().map(|(_, d)| stored_in(d)).sum::<u64>();
    while total() < want && started.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_millis(500));
    }
    // Whatever is delivered again after the kill arrives within the consumer's wait: nothing
    // may come twice.
    std::thread::sleep(Duration::from_secs(3));
    let each: Vec<u64> = indexers.iter().map(|(_, d)| stored_in(d)).collect();
    assert_eq!(each.iter().sum::<u64>(), want, "stored by each indexer: {each:?}; the sensor said:\n{said}");
    // Which indexer takes what is the consumer's choice (one that talked to the killed node
    // may get nothing until it reconnects); both must still be serving.
    eprintln!("stored by each indexer: {each:?}");
    for (_, data) in &indexers {
        let text = ok(&["search", "NOT _sensor:s1 OR NOT _org:so-a", "--json", "--data", data]);
        assert!(text.contains("\"total\": 0"), "{text}");
    }
    for (mut child, data) in indexers {
        assert!(child.try_wait().unwrap().is_none(), "an indexer stopped");
        // SAFETY: a signal to a child process of this test.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = child.wait().unwrap();
        let said = std::fs::read_to_string(format!("{data}.log")).unwrap();
        assert!(status.success(), "{said}");
        let summary = said.lines().find(|l| l.contains("batches (")).unwrap_or_else(|| panic!("{said}"));
        eprintln!("{summary}");
        assert!(summary.ends_with(" 0 refused"), "{said}");
    }
}
