//! The console in a real browser: Debian's chromium, headless, driven through chromedriver
//! (WebDriver, with fantoccini). `.ci/run` installs both; without them this test fails and
//! says which packages it needs.
//!
//! A capture whose URIs, user agents, DNS names, TLS server names and file names carry script
//! and markup payloads — and a host log line that does too — is replayed with Canh's own rule
//! pack and indexed; the console serves it over HTTPS. In the browser: an admin signs in with
//! TOTP; the queue, every alert's page, the search page over every record type, a case and the
//! audit trail are opened, and on each no payload runs (it would set `window.__pwned`, or add
//! an element) and the payloads are shown as text; the analyst of the demo's agency triages
//! one of the demo's alerts end to end (its generated capture indexed beside), runs a search
//! and exports it; the auditor finds those actions in the audit trail.
//!
//! The compliance desk, in a second browser: a system owner adds an information system
//! (its name a payload), classifies it with the wizard, records its risk assessment and files
//! its dossier; the appraiser returns it for completion; refiled, it is appraised, submitted
//! and approved by the approver — each in their own session, by the buttons their part gives.
//!
//! A screenshot is kept (in the test's temporary directory under the target directory) when a
//! step fails.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use canh_console::server::routes::{self, App};
use canh_console::state::session::Policy;
use canh_console::state::user::Role;
use canh_console::state::{Actor, State, org, totp, user};
use canh_traffic::packets::{Frames, Host, TcpSession, udp_frame};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const PASSWORD: &str = "Canh@2026test";

/// What attackers write into the fields the console shows. Each would set `window.__pwned`
/// or add an element if it ran.
const SCRIPT: &str = "<script>window.__pwned=1</script>";
const IMG: &str = "\"><img src=x onerror=window.__pwned=1>";
const JS_LINK: &str = "javascript:window.__pwned=1";
const TEMPLATE: &str = "{{7*7}}{% if 1 %}${7*7}";

fn http_request(uri: &str, ua: &str) -> Vec<u8> {
    format!("GET {uri} HTTP/1.1\r\nHost: dichvucong.tinh.gov.vn\r\nUser-Agent: {ua}\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = vec![(id >> 8) as u8, id as u8, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

/// The hostile capture, dated from `start` (microseconds since the epoch).
fn hostile_capture(path: &Path, start: u64) {
    let client = Host::new(Ipv4Addr::new(10, 10, 2, 66));
    let portal = Host::new(Ipv4Addr::new(10, 10, 1, 20));
    let resolver = Host::new(Ipv4Addr::new(10, 10, 0, 53));
    let outside = Host::new(Ipv4Addr::new(203, 0, 113, 9));
    let mut frames = Frames::new();
    let mut t = start;
    // Requests whose target and user agent carry the payloads (spaces cannot be in a request
    // target: the image payload rides in the user agent, and percent-encoded in the target).
    let requests = [
        (format!("/tra-cuu?q={SCRIPT}"), IMG.to_string()),
        ("/ho-so?id=1\"><img%20src=x%20onerror=window.__pwned=1>".to_string(), format!("Mozilla/5.0 {TEMPLATE}")),
        (format!("/chuyen?url={JS_LINK}"), SCRIPT.to_string()),
    ];
    for (i, (uri, ua)) in requests.iter().enumerate() {
        let mut s =
            TcpSession::open(client, 41000 + i as u16, portal, 80, t, 300, (1000 * i as u32, 9000), &mut frames);
        s.send(true, &http_request(uri, ua));
        s.send(false, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        t = s.close() + 10_000;
    }
    // A download whose file name is markup.
    let body = b"PK\x03\x04 not really a document, but named like one";
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{IMG}.docx\"\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut s = TcpSession::open(client, 42000, portal, 80, t, 300, (77, 88), &mut frames);
    s.send(true, &http_request("/tai-ve/bao-cao", "Mozilla/5.0"));
    let mut bytes = response.into_bytes();
    bytes.extend_from_slice(body);
    s.send(false, &bytes);
    t = s.close() + 10_000;
    // DNS names that are markup (and end in a dynamic-DNS domain, which raises an alert).
    for (i, name) in ["<script>window.__pwned=1<", "\"><img src=x onerror=window.__pwned=1>"].iter().enumerate() {
        let q = dns_query(0x4000 + i as u16, &format!("{name}.duckdns.org"));
        frames.push((t, udp_frame(&client, 53000 + i as u16, &resolver, 53, 7 + i as u16, &q)));
        t += 5_000;
    }
    // A TLS client hello naming a server that is markup.
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
    let hello = canh_traffic::content::client_hello(&mut rng, &format!("{IMG}.example"), 0);
    let mut s = TcpSession::open(client, 43000, outside, 443, t, 300, (5, 6), &mut frames);
    s.send(true, &hello);
    s.close();
    frames.sort_by_key(|(t, _)| *t);
    let file = std::fs::File::create(path).unwrap();
    let header = pcap_file::pcap::PcapHeader { datalink: pcap_file::DataLink::ETHERNET, ..Default::default() };
    let mut w = pcap_file::pcap::PcapWriter::with_header(file, header).unwrap();
    for (ts, data) in &frames {
        let packet = pcap_file::pcap::PcapPacket::new(Duration::from_micros(*ts), data.len() as u32, data);
        w.write_packet(&packet).unwrap();
    }
}

/// The data directory: the capture replayed and indexed, a host log line, a province.
fn prepare(dir: &Path) -> (Arc<App>, String) {
    let pcap = dir.join("hostile.pcap");
    let start = (canh_console::state::now_unix() as u64 - 600) * 1_000_000;
    hostile_capture(&pcap, start);
    let data = dir.join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_canh"))
        .args(["replay", "--rules", "bundled:vn-gov", "--org", "so-a", "--sensor", "s-hostile", "--out"])
        .arg(dir.join("logs"))
        .arg("--index")
        .arg(&data)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = json!({
        "ts": start as f64 / 1e6 + 30.0, "_type": "syslog", "_org": "so-a", "_sensor": "s-hostile",
        "host": SCRIPT, "program": "sshd", "message": format!("Failed password for {IMG} from 203.0.113.9 {TEMPLATE}"),
    });
    let lines = dir.join("host.ndjson");
    std::fs::write(&lines, format!("{log}\n")).unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_canh")).arg("ingest").arg("--data").arg(&data).arg(&lines).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The demo's own capture beside it (its org `so-khcn`): the analyst triages one of its alerts.
    let demo = dir.join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_canh"))
        .args(["demo", "--no-serve", "--size-mb", "2", "--dir"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut ingest = Command::new(env!("CARGO_BIN_EXE_canh"));
    ingest.arg("ingest").arg("--data").arg(&data);
    for name in ["conn.ndjson", "dns.ndjson", "http.ndjson", "ssl.ndjson", "files.ndjson", "alerts.json"] {
        ingest.arg(demo.join("logs").join(name));
    }
    let out = ingest.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut s = State::open(&data).unwrap();
    let a = Actor { name: "cli:test".into(), org: String::new() };
    s.change(|tx| {
        org::add(tx, &a, "tinh", "UBND tỉnh", None)?;
        org::add(tx, &a, "so-a", "Sở A", Some("tinh"))?;
        org::add(tx, &a, "so-khcn", "Sở Khoa học và Công nghệ", Some("tinh"))?;
        user::add(tx, &a, "quantri", Role::Admin, "tinh", PASSWORD)?;
        user::add(tx, &a, "an", Role::Analyst, "so-khcn", PASSWORD)?;
        user::add(tx, &a, "kiem", Role::Auditor, "tinh", PASSWORD)?;
        Ok(())
    })
    .unwrap();
    let (secret, _) = s.change(|tx| totp::enroll(tx, &a, "quantri", "Canh")).unwrap();
    let app = App::new(s, Policy::default());
    let taken = app.sync_alerts().unwrap();
    assert!(taken.added >= 5, "the payloads raise alerts: {taken:?}");
    (app, secret)
}

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Driver {
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is absent: the browser tests need Debian's chromium and chromium-driver (`apt-get install chromium chromium-driver`; .ci/run installs them)"
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver { child, url: format!("http://127.0.0.1:{port}") }
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--ignore-certificate-errors", "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    // chromedriver speaks plain HTTP on loopback.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("a chromium session")
}

type Step = Result<(), String>;

fn check(ok: bool, what: impl Into<String>) -> Step {
    if ok { Ok(()) } else { Err(what.into()) }
}

fn wd<T>(r: Result<T, fantoccini::error::CmdError>) -> Result<T, String> {
    r.map_err(|e| format!("webdriver: {e}"))
}

/// Opens `path` and checks that nothing an attacker wrote ran or became an element: no
/// `window.__pwned`, no image, no script but the console's own, no `javascript:` link.
async fn open_safely(c: &Client, base: &str, path: &str) -> Result<String, String> {
    wd(c.goto(&format!("{base}{path}")).await)?;
    let verdict = wd(c
        .execute(
            "return {pwned: window.__pwned !== undefined, imgs: document.images.length,
                     scripts: Array.from(document.scripts).map(s => s.src),
                     links: Array.from(document.links).map(a => a.protocol),
                     text: document.body.innerText};",
            vec![],
        )
        .await)?;
    check(verdict["pwned"] == false, format!("{path}: a payload ran"))?;
    check(verdict["imgs"] == 0, format!("{path}: an image element appeared"))?;
    let scripts = verdict["scripts"].as_array().cloned().unwrap_or_default();
    check(
        scripts.len() == 1 && scripts[0].as_str().is_some_and(|s| s.ends_with("/assets/console.js")),
        format!("{path}: scripts {scripts:?}"),
    )?;
    let links = verdict["links"].as_array().cloned().unwrap_or_default();
    check(links.iter().all(|p| p == "https:"), format!("{path}: a link that is not the console's: {links:?}"))?;
    Ok(verdict["text"].as_str().unwrap_or("").to_string())
}

/// Submits a form and waits for the page it leads to (a different address).
async fn submit(c: &Client, form: fantoccini::elements::Form) -> Result<String, String> {
    let before = wd(c.current_url().await)?;
    wd(form.submit().await)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = wd(c.current_url().await)?;
        let ready = wd(c.execute("return document.readyState", vec![]).await)?;
        if now != before && ready == "complete" {
            return Ok(now.path().to_string() + &now.query().map(|q| format!("?{q}")).unwrap_or_default());
        }
        if Instant::now() > deadline {
            return Err(format!("the form on {before} led nowhere"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many records the search page says it found.
fn found(text: &str) -> usize {
    let before = text.split(" records found").next().unwrap_or("");
    before.rsplit(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

async fn sign_in(c: &Client, base: &str, name: &str, code: Option<String>) -> Step {
    wd(c.goto(&format!("{base}/signin")).await)?;
    let form = wd(c.form(Locator::Css("form")).await)?;
    wd(form.set_by_name("name", name).await)?;
    wd(form.set_by_name("password", PASSWORD).await)?;
    if let Some(code) = code {
        wd(form.set_by_name("code", &code).await)?;
    }
    let url = submit(c, form).await?;
    check(url == "/", format!("{name}: signed in, at {url}"))
}

async fn sign_out(c: &Client, base: &str) -> Step {
    wd(c.goto(&format!("{base}/")).await)?;
    let form = wd(c.form(Locator::Css("form[action='/signout']")).await)?;
    submit(c, form).await.map(|_| ())
}

async fn walk(c: &Client, base: &str, app: &Arc<App>, secret: &str) -> Step {
    // The admin signs in with the second factor.
    let code = totp::of(secret).unwrap().generate(canh_console::state::now_unix() as u64).to_string();
    sign_in(c, base, "quantri", Some(code)).await?;

    // Every page that shows what the capture carried.
    let queue = open_safely(c, base, "/alerts?lang=en").await?;
    check(queue.contains("SQL injection, cross-site scripting"), "the injection alerts are queued")?;
    let list = open_safely(c, base, "/alerts/list?status=all").await?;
    check(list.contains(SCRIPT), format!("the script payload shown as text in the list: {list}"))?;
    let ids: Vec<String> = {
        let state = app.state.lock().unwrap();
        let (alerts, _) = canh_console::state::alerts::list(
            state.conn(),
            &None,
            &canh_console::state::alerts::Filter { status: "all".into(), ..Default::default() },
            100,
            0,
        )
        .map_err(|e| e.to_string())?;
        alerts.into_iter().map(|a| a.id).collect()
    };
    for id in &ids {
        open_safely(c, base, &format!("/alerts/{id}")).await?;
    }
    for q in ["_type:http", "_type:dns", "_type:ssl", "_type:files", "_type:syslog", "*"] {
        let text = open_safely(c, base, &format!("/search?q={}&lang=en", q.replace(':', "%3A"))).await?;
        check(found(&text) > 0, format!("{q}: found nothing"))?;
    }
    let text = open_safely(c, base, "/search?q=_type%3Asyslog").await?;
    check(text.contains("Failed password for \"><img src=x"), format!("the host log shown as text: {text}"))?;
    check(text.contains(TEMPLATE), "template syntax shown as text, not evaluated")?;
    // Every field of a record, opened.
    wd(c.execute("document.querySelectorAll('details').forEach(d => d.open = true)", vec![]).await)?;
    let opened = wd(c.execute("return window.__pwned === undefined && document.images.length === 0", vec![]).await)?;
    check(opened == true, "opening a record's fields ran nothing")?;
    sign_out(c, base).await?;

    // The analyst of the demo's agency triages one of the demo's alerts end to end: from the
    // queue to its page, escalated into a case, then closed with a verdict.
    sign_in(c, base, "an", None).await?;
    open_safely(c, base, "/alerts?lang=en").await?;
    let group = wd(c.find(Locator::LinkText("Bulk citizen identity numbers (CCCD) sent in cleartext")).await)?;
    wd(group.click().await)?;
    // By keyboard: j selects the first row, x ticks it, Enter opens it.
    let first = wd(c.find(Locator::Css("table.alerts tbody tr td:nth-child(2) a")).await)?;
    let href = wd(first.attr("href").await)?.unwrap_or_default();
    let body = wd(c.find(Locator::Css("body")).await)?;
    wd(body.send_keys("jx").await)?;
    let ticked = wd(c
        .execute(
            "const row = document.querySelector('table.alerts tbody tr');
             return row.classList.contains('selected') && row.querySelector('input[type=checkbox]').checked;",
            vec![],
        )
        .await)?;
    check(ticked == true, "j selects the first alert and x ticks it")?;
    wd(body.send_keys("\u{E007}").await)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while wd(c.current_url().await)?.path() != href {
        check(Instant::now() < deadline, format!("Enter opens the selected alert ({href})"))?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let alert_url = wd(c.current_url().await)?;
    let form = wd(c.form(Locator::Css("form[action='/alerts/act']")).await)?;
    wd(form.set_by_name("action", "escalate").await)?;
    wd(form.set_by_name("title", "Lộ danh sách CCCD ra ngoài").await)?;
    wd(form.set_by_name("comment", "kiểm tra máy này").await)?;
    let case_url = submit(c, form).await?;
    check(case_url.starts_with("/cases/"), format!("escalating opens the case: {case_url}"))?;
    let case_page = open_safely(c, base, &case_url).await?;
    check(case_page.contains("Lộ danh sách CCCD ra ngoài"), "the case page")?;
    wd(c.goto(alert_url.as_str()).await)?;
    let form = wd(c.form(Locator::Css("form[action='/alerts/act']")).await)?;
    wd(form.set_by_name("action", "close").await)?;
    wd(form.set_by_name("verdict", "true_positive").await)?;
    wd(form.set_by_name("comment", "đã thu hồi tệp").await)?;
    // Back to the alert's own page: the same address, so wait for the page to change.
    wd(form.submit().await)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let page = open_safely(c, base, &format!("{}?lang=en", alert_url.path())).await?;
    check(page.contains("Closed — True positive"), format!("the alert is closed: {page}"))?;
    check(page.contains("đã thu hồi tệp"), "the comment is in its history")?;

    // A search, and its export, through the browser's own session.
    wd(c.goto(&format!("{base}/search")).await)?;
    let form = wd(c.form(Locator::Css("form.search")).await)?;
    wd(form.set_by_name("q", "_type:http AND method:POST").await)?;
    let results = submit(c, form).await?;
    let text = open_safely(c, base, &results).await?;
    let posts =
        text.split(" records found").next().and_then(|t| t.rsplit(|c: char| !c.is_ascii_digit()).next()).unwrap_or("");
    check(posts.parse::<usize>().is_ok_and(|n| n > 0), format!("the demo's POSTs found: {text}"))?;
    let href = wd(wd(c.find(Locator::LinkText("CSV")).await)?.attr("href").await)?.unwrap_or_default();
    let csv = wd(c
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
            vec![json!(href)],
        )
        .await)?;
    let csv = csv.as_str().unwrap_or("");
    let rows = csv.lines().count().saturating_sub(1);
    check(
        csv.starts_with("ts,_type,") && rows.to_string() == posts,
        format!("the export has the {posts} records: {rows}"),
    )?;
    check(csv.contains("'=") || !csv.contains("\n="), "no cell starts a formula")?;
    sign_out(c, base).await?;

    // The auditor finds it all in the audit trail.
    sign_in(c, base, "kiem", None).await?;
    let trail = open_safely(c, base, "/audit?lang=en").await?;
    for action in ["signin", "alert.escalate", "alert.close", "case.open", "search", "search.export.csv", "alert.view"]
    {
        check(trail.contains(action), format!("the audit trail shows {action}: {trail}"))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let (app, secret) = prepare(dir.path());
    let console = Console::serve(&app, &dir.path().join("data")).await;
    let driver = chromedriver();
    let c = browser(&driver, &dir.path().join("profile")).await;
    let outcome = walk(&c, &console.base, &app, &secret).await;
    finish(c, outcome, "browser-failure.png").await;
    console.stop().await;
}

/// The console served over TLS on a free port of loopback, until stopped.
struct Console {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Console {
    async fn serve(app: &Arc<App>, data: &Path) -> Self {
        let (cert, key) = canh_console::server::tls::pair(data, None, None).unwrap();
        let tls = canh_console::server::tls::server_config(&cert, &key).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("https://localhost:{}", listener.local_addr().unwrap().port());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(canh_console::server::serve(listener, tls, routes::router(app.clone()), async {
            let _ = stopped.await;
        }));
        Self { base, stop, server }
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.server.await.unwrap().unwrap();
    }
}

/// Closes the browser; on a failed walk, keeps a screenshot (`shot`, in the test's temporary
/// directory under the target directory) and fails with where it was.
async fn finish(c: Client, outcome: Step, shot: &str) {
    if let Err(failure) = &outcome {
        let shot: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join(shot);
        if let Ok(png) = c.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let _ = c.close().await;
        panic!("{failure}\n(at {url}; screenshot: {})", shot.display());
    }
    c.close().await.unwrap();
}

/// The compliance desk's province: a root, the agency whose system is filed, the provincial
/// police as the cybersecurity unit (it appraises), and an account per part.
fn prepare_desk(dir: &Path) -> Arc<App> {
    let data = dir.join("desk");
    let mut s = State::open(&data).unwrap();
    let a = Actor { name: "cli:test".into(), org: String::new() };
    s.change(|tx| {
        org::add(tx, &a, "tinh", "UBND tỉnh", None)?;
        org::add(tx, &a, "so-khcn", "Sở Khoa học và Công nghệ", Some("tinh"))?;
        org::add(tx, &a, "cong-an", "Công an tỉnh", Some("tinh"))?;
        user::add(tx, &a, "chuquan", Role::SystemOwner, "so-khcn", PASSWORD)?;
        user::add(tx, &a, "thamdinh", Role::Appraiser, "cong-an", PASSWORD)?;
        user::add(tx, &a, "pheduyet", Role::Approver, "tinh", PASSWORD)?;
        canh_console::state::dossier::set_authority(tx, &a, 0, "cybersecurity_unit", "cong-an")?;
        let issued = time::Date::from_calendar_date(2026, time::Month::October, 1).unwrap();
        canh_console::state::dossier::set_regulation(tx, &a, "tinh", "25/2026/QĐ-UBND", issued, "UBND tỉnh")
    })
    .unwrap();
    App::new(s, Policy::default())
}

/// Clicks `button` and waits until the page's heading says `expect`.
async fn press(c: &Client, button: &str, expect: &str) -> Step {
    wd(wd(c.find(Locator::Css(button)).await)?.click().await)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let heading = wd(c.execute("return (document.querySelector('h1') || {}).innerText || ''", vec![]).await)?;
        if heading.as_str().is_some_and(|h| h.contains(expect)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let body = wd(c.execute("return document.body.innerText", vec![]).await)?;
            return Err(format!("after {button}: the heading is not `{expect}` but {heading}; page: {body}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Takes a dossier step by its button, with a reason when one is given.
async fn step(c: &Client, base: &str, dossier: &str, action: &str, reason: &str, expect: &str) -> Step {
    open_safely(c, base, dossier).await?;
    if !reason.is_empty() {
        wd(wd(c.find(Locator::Css("textarea[name=reason]")).await)?.send_keys(reason).await)?;
    }
    press(c, &format!("button[value='{action}']"), expect).await
}

async fn file_and_follow(c: &Client, base: &str, app: &Arc<App>) -> Step {
    // The system owner adds a system, its name carrying a payload.
    sign_in(c, base, "chuquan", None).await?;
    open_safely(c, base, "/systems").await?;
    wd(wd(c.find(Locator::LinkText("Thêm hệ thống")).await)?.click().await)?;
    let form = wd(c.form(Locator::Css("form[action='/systems']")).await)?;
    let name = format!("Cổng dịch vụ công cấp xã {IMG}");
    wd(form.set_by_name("code", "dvc-xa").await)?;
    wd(form.set_by_name("name", &name).await)?;
    wd(form.set_by_name("zones", "Máy chủ: 10.10.1.20/32").await)?;
    let system = submit(c, form).await?;
    check(system.starts_with("/systems/"), format!("the new system's page, not {system}"))?;
    let text = open_safely(c, base, &system).await?;
    check(text.contains(&name), "the payload in the name shows as text")?;

    // The classification wizard, step by step: type b, personal data, administrative
    // procedures, 40,000 data subjects.
    // One step at a time: step 2 is hidden until step 1 is answered and "next" pressed.
    wd(wd(c.find(Locator::LinkText("Xác định cấp độ")).await)?.click().await)?;
    let next = || async { wd(wd(c.find(Locator::Css("button.wizard-next")).await)?.click().await) };
    check(
        !wd(wd(c.find(Locator::Css("#step-2")).await)?.is_displayed().await)?,
        "the wizard shows one step at a time",
    )?;
    wd(wd(c.find(Locator::Css("input[name=system_type][value=citizen_service]")).await)?.click().await)?;
    next().await?;
    wd(wd(c.find(Locator::Css("input[name=information][value=personal]")).await)?.click().await)?;
    next().await?;
    wd(wd(c.find(Locator::Css("input[name=handles_administrative_procedures]")).await)?.click().await)?;
    let subjects = wd(c.find(Locator::Css("input[name=basic_subjects]")).await)?;
    wd(subjects.clear().await)?;
    wd(subjects.send_keys("40000").await)?;
    for _ in 0..3 {
        next().await?;
    }
    let form = wd(c.form(Locator::Css("form.wizard")).await)?;
    submit(c, form).await?;
    let text = open_safely(c, base, &system).await?;
    check(text.contains("Cấp độ 3 theo Nghị định số 331/2026/NĐ-CP"), format!("classified at level 3: {text}"))?;
    check(text.contains("điểm b khoản 2 Điều 13"), "the decisive clause, 13.2.b, is cited")?;

    // The risk assessment is recorded; the dossier opened and filed.
    wd(wd(c.find(Locator::Css("form.risk button")).await)?.click().await)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while wd(c.execute("return document.getElementById('risk').innerText", vec![]).await)?
        .as_str()
        .is_some_and(|t| t.starts_with("Chưa"))
    {
        check(Instant::now() < deadline, "the risk assessment was not recorded")?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let form = wd(c.form(Locator::Css("form[action='/dossiers']")).await)?;
    let dossier = submit(c, form).await?;
    check(dossier.starts_with("/dossiers/"), format!("the dossier's page, not {dossier}"))?;
    step(c, base, &dossier, "submit", "", "Đã gửi thẩm định").await?;
    let text = open_safely(c, base, &dossier).await?;
    check(text.contains("ngày làm việc còn lại"), "the 5-working-day completeness check is counted")?;
    check(!text.contains("Trả lại để hoàn thiện"), "the owner has no appraiser's button")?;
    sign_out(c, base).await?;

    // The appraiser returns it for completion.
    sign_in(c, base, "thamdinh", None).await?;
    let text = open_safely(c, base, "/dossiers").await?;
    check(text.contains("dvc-xa"), "the dossier is routed to the appraiser")?;
    step(c, base, &dossier, "return_for_completion", "Thiếu danh mục thiết bị chính", "Trả lại để hoàn thiện").await?;
    sign_out(c, base).await?;

    // Completed and refiled; appraised suitable; submitted for approval.
    sign_in(c, base, "chuquan", None).await?;
    step(c, base, &dossier, "submit", "Đã bổ sung danh mục thiết bị", "Đã gửi thẩm định").await?;
    sign_out(c, base).await?;
    sign_in(c, base, "thamdinh", None).await?;
    step(c, base, &dossier, "accept_complete", "", "Đang thẩm định").await?;
    step(c, base, &dossier, "appraise_suitable", "Cấp độ 3 phù hợp", "Đã thẩm định").await?;
    sign_out(c, base).await?;
    sign_in(c, base, "chuquan", None).await?;
    step(c, base, &dossier, "submit_for_approval", "", "Đã trình phê duyệt").await?;
    sign_out(c, base).await?;

    // The approver approves with the decision's number.
    sign_in(c, base, "pheduyet", None).await?;
    open_safely(c, base, &dossier).await?;
    wd(wd(c.find(Locator::Css("input[name=decision]")).await)?.send_keys("123/QĐ-UBND").await)?;
    press(c, "button[value='approve']", "Đã được phê duyệt").await?;
    let text = open_safely(c, base, &dossier).await?;
    check(text.contains("123/QĐ-UBND"), "the decision is shown")?;
    for step in ["Gửi thẩm định", "Trả lại để hoàn thiện", "Thẩm định: phù hợp", "Trình phê duyệt", "Phê duyệt"]
    {
        check(text.contains(step), format!("the steps list {step}"))?;
    }
    let text = open_safely(c, base, "/systems").await?;
    check(text.contains(&name), "the approver sees the system")?;
    sign_out(c, base).await?;

    // Every step is in the audit trail, by whom it was taken.
    let state = app.state.lock().unwrap();
    let trail: Vec<(String, String)> = canh_console::state::audit::recent(state.conn(), 500)
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == "ok")
        .map(|e| (e.actor, e.action))
        .collect();
    for (actor, action) in [
        ("chuquan", "system.add"),
        ("chuquan", "system.classify"),
        ("chuquan", "system.risk_assessed"),
        ("chuquan", "dossier.open"),
        ("chuquan", "dossier.submit"),
        ("thamdinh", "dossier.return_for_completion"),
        ("thamdinh", "dossier.appraise_suitable"),
        ("pheduyet", "dossier.approve"),
    ] {
        check(trail.iter().any(|(a, x)| a == actor && x == action), format!("the audit trail has {actor} {action}"))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compliance_desk_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let app = prepare_desk(dir.path());
    let console = Console::serve(&app, &dir.path().join("desk")).await;
    let driver = chromedriver();
    let c = browser(&driver, &dir.path().join("desk-profile")).await;
    let outcome = file_and_follow(&c, &console.base, &app).await;
    finish(c, outcome, "browser-desk-failure.png").await;
    console.stop().await;
}
