//! The shipper: sends the spool's batches, oldest first, to the server over mutual TLS, and
//! forgets a batch only when the server says a commit holds it (200) or that it held it
//! already (409). A server that cannot be reached, or answers 5xx, is tried again with a
//! growing pause (1 s to 30 s) while the spool keeps what comes meanwhile.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::spool::SharedSpool;
use super::wire;

/// The sensor's TLS identity and the CA it trusts the server by.
pub fn client_config(ca: &Path, cert: &Path, key: &Path) -> io::Result<Arc<rustls::ClientConfig>> {
    let bad = |p: &Path, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", p.display()))
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(|e| bad(ca, &e))? {
        roots.add(c.map_err(|e| bad(ca, &e))?).map_err(|e| bad(ca, &e))?;
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, &e))?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key_der)
        .map_err(|e| bad(key, &e))?;
    Ok(Arc::new(config))
}

/// What the shipper did, for the sensor's status and heartbeat.
#[derive(Debug, Default)]
pub struct ShipStats {
    pub batches: AtomicU64,
    pub records: AtomicU64,
    /// Batches the server held already (409).
    pub duplicates: AtomicU64,
    /// Failed attempts (unreachable, 5xx, refused).
    pub failures: AtomicU64,
    pub last_error: std::sync::Mutex<Option<String>>,
}

impl ShipStats {
    pub(crate) fn failed(&self, why: String) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!("shipping: {why}");
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }
}

pub struct Shipper {
    pub spool: SharedSpool,
    /// `host:port` of the server's sensor listener.
    pub server: String,
    pub tls: Arc<rustls::ClientConfig>,
    pub stats: Arc<ShipStats>,
    /// Why the last connection broke, as its task saw it.
    broke: Arc<std::sync::Mutex<Option<String>>>,
    /// What the heartbeat says of the capture (the shipper adds the clock, spool and
    /// shipping); none: no heartbeats.
    pub health: Option<Health>,
    /// The identity's files (CA, certificate, key), read again at each connection: a
    /// certificate renewed meanwhile is used from the next one on.
    pub identity: Option<[std::path::PathBuf; 3]>,
    /// The packet store, from which console users' requests for a flow's frames are answered;
    /// none: no requests are asked for.
    pub packets: Option<std::path::PathBuf>,
}

/// The capture's part of a heartbeat, asked for each time one is sent.
pub type Health = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

impl Shipper {
    pub fn new(spool: SharedSpool, server: String, tls: Arc<rustls::ClientConfig>, stats: Arc<ShipStats>) -> Self {
        Self { spool, server, tls, stats, broke: Arc::default(), health: None, identity: None, packets: None }
    }
}

const BACKOFF_MAX: Duration = Duration::from_secs(30);
const CONNECT: Duration = Duration::from_secs(10);
const ANSWER: Duration = Duration::from_secs(120);

enum Outcome {
    Delivered,
    Refused(String),
    Retry(String),
}

impl Shipper {
    /// Ships on a thread of its own until `stop` is set; then returns (what is left stays in
    /// the spool for the next run).
    pub fn spawn(self, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("canh-ship".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                rt.block_on(self.run(stop));
            })
            .expect("a thread")
    }

    async fn run(self, stop: Arc<AtomicBool>) {
        let mut conn: Option<SendRequest<Full<Bytes>>> = None;
        let mut backoff = Duration::from_secs(1);
        let mut heartbeat_due = tokio::time::Instant::now();
        let mut packets_due = tokio::time::Instant::now();
        while !stop.load(Ordering::Relaxed) {
            if let Some(dir) = &self.packets
                && tokio::time::Instant::now() >= packets_due
            {
                packets_due = tokio::time::Instant::now() + wire::PACKETS_POLL_EVERY;
                if let Err(e) = self.answer_packet_requests(&mut conn, dir).await {
                    conn = None;
                    self.stats.failed(format!("packet requests: {e}"));
                }
            }
            if self.health.is_some() && tokio::time::Instant::now() >= heartbeat_due {
                heartbeat_due = tokio::time::Instant::now() + wire::HEARTBEAT_EVERY;
                if let Err(e) = self.heartbeat(&mut conn).await {
                    conn = None;
                    self.stats.failed(format!("heartbeat: {e}"));
                }
            }
            let next = match self.spool.update(|s| s.take_oldest()) {
                Ok(n) => n,
                Err(e) => {
                    self.stats.failed(format!("reading the spool: {e}"));
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            };
            let Some((entry, body)) = next else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let outcome = match self.send(&mut conn, entry.seq, entry.records, body).await {
                Ok(o) => o,
                Err(e) => Outcome::Retry(e),
            };
            match outcome {
                Outcome::Delivered => {
                    backoff = Duration::from_secs(1);
                    self.stats.batches.fetch_add(1, Ordering::Relaxed);
                    self.stats.records.fetch_add(entry.records, Ordering::Relaxed);
                    if let Err(e) = self.spool.update(|s| s.ack(entry.seq)) {
                        self.stats.failed(format!("removing batch {} from the spool: {e}", entry.seq));
                    }
                }
                Outcome::Refused(why) => {
                    if let Err(e) = self.spool.update(|s| s.reject(entry.seq, &why)) {
                        self.stats.failed(format!("setting batch {} aside: {e}", entry.seq));
                    }
                }
                Outcome::Retry(why) => {
                    conn = None;
                    self.spool.update(|s| s.release());
                    self.stats.failed(why);
                    // Sleep in steps, so that a stop is seen.
                    let until = tokio::time::Instant::now() + backoff;
                    while tokio::time::Instant::now() < until && !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        self.spool.update(|s| s.release());
    }

    /// Why the connection ended, as its task saw it (waiting up to a second for it to say):
    /// a certificate the server refused shows only there.
    async fn why_broke(&self) -> String {
        for _ in 0..50 {
            if let Some(why) = self.broke.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return format!(" ({why})");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        String::new()
    }

    /// What a heartbeat says: the capture's health, the spool, shipping, and the clock.
    pub fn heartbeat_body(&self) -> serde_json::Value {
        let mut body = self.health.as_ref().map_or_else(|| serde_json::json!({}), |h| h());
        let spool = self.spool.lock();
        let (batches, bytes) = spool.depth();
        let dropped = spool.dropped();
        let sent_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        if let Some(o) = body.as_object_mut() {
            o.insert("sent_at".into(), sent_at.as_secs_f64().into());
            o.insert("spool_batches".into(), batches.into());
            o.insert("spool_bytes".into(), bytes.into());
            o.insert("spool_records".into(), spool.records_waiting().into());
            o.insert("spool_dropped_batches".into(), dropped.batches.into());
            o.insert("spool_dropped_records".into(), dropped.records.into());
            o.insert("shipped_records".into(), self.stats.records.load(Ordering::Relaxed).into());
        }
        body
    }

    async fn heartbeat(&self, conn: &mut Option<SendRequest<Full<Bytes>>>) -> Result<(), String> {
        let body = serde_json::to_vec(&self.heartbeat_body()).map_err(|e| e.to_string())?;
        let request = hyper::Request::post(wire::HEARTBEAT_PATH)
            .header(hyper::header::HOST, self.server.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let (status, _) = self.exchange(conn, request, CONNECT, "the heartbeat").await?;
        if !status.is_success() {
            return Err(format!("{}: heartbeat answered {status}", self.server));
        }
        Ok(())
    }

    /// One request on the kept connection (made first if there is none): the answer's status
    /// and body, or why there is none (`what` names the request in it).
    async fn exchange(
        &self,
        conn: &mut Option<SendRequest<Full<Bytes>>>,
        request: hyper::Request<Full<Bytes>>,
        within: Duration,
        what: &str,
    ) -> Result<(hyper::StatusCode, Bytes), String> {
        if conn.as_ref().is_none_or(|c| c.is_closed()) {
            *conn = Some(self.connect().await?);
        }
        let sender = conn.as_mut().expect("connected");
        sender.ready().await.map_err(|e| format!("{}: {e}", self.server))?;
        let answer = tokio::time::timeout(within, async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        })
        .await
        .map_err(|_| format!("{}: no answer to {what} within {within:?}", self.server))?;
        match answer {
            Ok(a) => Ok(a),
            Err(e) => Err(format!("{}: {what}: {e}{}", self.server, self.why_broke().await)),
        }
    }

    /// Asks the server for the packets console users want of this sensor, and answers each
    /// from the packet store (the extraction on a blocking thread).
    async fn answer_packet_requests(
        &self,
        conn: &mut Option<SendRequest<Full<Bytes>>>,
        dir: &Path,
    ) -> Result<(), String> {
        let request = hyper::Request::get(wire::PACKETS_PATH)
            .header(hyper::header::HOST, self.server.as_str())
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let (status, body) = self.exchange(conn, request, CONNECT, "the packet requests").await?;
        if !status.is_success() {
            return Err(format!("{}: packet requests answered {status}", self.server));
        }
        let wanted: Vec<wire::PacketRequest> =
            serde_json::from_slice(&body).map_err(|e| format!("{}: packet requests: {e}", self.server))?;
        for w in wanted {
            let ask = crate::packets::extract::Wanted {
                community_id: w.community_id.clone(),
                from: secs_to_micros(w.from),
                to: secs_to_micros(w.to),
            };
            let dir = dir.to_path_buf();
            let found = tokio::task::spawn_blocking(move || {
                let x = crate::packets::extract::extract(&dir, &ask, wire::MAX_PACKETS)?;
                let compressed = wire::compress(&x.pcap)?;
                Ok::<_, std::io::Error>((x, compressed))
            })
            .await
            .map_err(|e| e.to_string())?;
            let mut answer = hyper::Request::post(format!("{}/{}", wire::PACKETS_PATH, w.id))
                .header(hyper::header::HOST, self.server.as_str())
                .header(hyper::header::CONTENT_TYPE, "application/vnd.tcpdump.pcap");
            let body = match found {
                Ok((x, compressed)) if x.packets > 0 => {
                    answer = answer
                        .header(hyper::header::CONTENT_ENCODING, "zstd")
                        .header(wire::PACKETS, x.packets)
                        .header(wire::TRUNCATED, u16::from(x.truncated));
                    compressed
                }
                Ok(_) => {
                    answer = answer.header(
                        wire::PACKETS_ERROR,
                        "no frame of that flow in the packet store at that time (past its size or age limit, or not seen by this sensor)",
                    );
                    Vec::new()
                }
                Err(e) => {
                    answer = answer.header(wire::PACKETS_ERROR, header_text(&format!("the packet store: {e}")));
                    Vec::new()
                }
            };
            let answer = answer.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
            let (status, text) = self.exchange(conn, answer, ANSWER, "packets").await?;
            if !status.is_success() {
                tracing::warn!(
                    "packet request {}: the server answered {status}: {}",
                    w.id,
                    String::from_utf8_lossy(&text[..text.len().min(300)])
                );
            }
        }
        Ok(())
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let host = self.server.rsplit_once(':').map_or(self.server.as_str(), |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host}: {e}"))?;
        let tcp = tokio::time::timeout(CONNECT, tokio::net::TcpStream::connect(&self.server))
            .await
            .map_err(|_| format!("{}: no connection within {CONNECT:?}", self.server))?
            .map_err(|e| format!("{}: {e}", self.server))?;
        let _ = tcp.set_nodelay(true);
        let config = match &self.identity {
            Some([ca, cert, key]) => client_config(ca, cert, key).unwrap_or_else(|e| {
                tracing::warn!("the sensor's identity: {e}; the one read at start is used");
                self.tls.clone()
            }),
            None => self.tls.clone(),
        };
        let tls = tokio::time::timeout(CONNECT, tokio_rustls::TlsConnector::from(config).connect(name, tcp))
            .await
            .map_err(|_| format!("{}: TLS handshake timed out", self.server))?
            .map_err(|e| format!("{}: TLS: {e}", self.server))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| format!("{}: HTTP: {e}", self.server))?;
        let broke = self.broke.clone();
        tokio::spawn(async move {
            // A certificate the server refuses shows here (TLS 1.3 refuses it after the
            // handshake): kept to say why the next request failed.
            let why = match connection.await {
                Err(e) => std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| format!("{e}: {s}")),
                Ok(()) => "the server closed the connection".to_string(),
            };
            *broke.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        });
        Ok(sender)
    }

    async fn send(
        &self,
        conn: &mut Option<SendRequest<Full<Bytes>>>,
        seq: u64,
        records: u64,
        body: Vec<u8>,
    ) -> Result<Outcome, String> {
        let dropped = self.spool.lock().dropped();
        let request = hyper::Request::post(wire::PATH)
            .header(hyper::header::HOST, self.server.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/x-ndjson")
            .header(hyper::header::CONTENT_ENCODING, "zstd")
            .header(wire::SEQUENCE, seq)
            .header(wire::RECORDS, records)
            .header(wire::DROPPED_BATCHES, dropped.batches)
            .header(wire::DROPPED_RECORDS, dropped.records)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let (status, text) = self.exchange(conn, request, ANSWER, &format!("batch {seq}")).await?;
        let text = String::from_utf8_lossy(&text[..text.len().min(500)]).into_owned();
        Ok(match status.as_u16() {
            200 => Outcome::Delivered,
            409 => {
                self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                Outcome::Delivered
            }
            400 | 413 | 422 => Outcome::Refused(format!("{status}: {text}")),
            // 401/403: this sensor is not (or no longer) accepted; its batches wait for a
            // new certificate rather than being thrown away.
            _ => Outcome::Retry(format!("{}: batch {seq}: {status}: {text}", self.server)),
        })
    }
}

/// Unix seconds as microseconds (negative and non-numbers as 0).
fn secs_to_micros(s: f64) -> u64 {
    (s * 1e6).max(0.0) as u64
}

/// Text fit for an HTTP header: visible ASCII, at most 500 characters.
fn header_text(s: &str) -> String {
    s.chars().take(500).map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' }).collect()
}

/// One request to `server` on a connection of its own (a renewal, a tool): the status and the
/// body of the answer.
pub async fn request_once(
    server: &str,
    tls: Arc<rustls::ClientConfig>,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, Bytes), String> {
    let host = server.rsplit_once(':').map_or(server, |(h, _)| h).trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host}: {e}"))?;
    let tcp = tokio::time::timeout(CONNECT, tokio::net::TcpStream::connect(server))
        .await
        .map_err(|_| format!("{server}: no connection within {CONNECT:?}"))?
        .map_err(|e| format!("{server}: {e}"))?;
    let stream =
        tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.map_err(|e| format!("{server}: TLS: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("{server}: {e}"))?;
    tokio::spawn(connection);
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, server)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(ANSWER, sender.send_request(request))
        .await
        .map_err(|_| format!("{server}: no answer"))?
        .map_err(|e| format!("{server}: {e}"))?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(|e| format!("{server}: {e}"))?.to_bytes();
    Ok((status, body))
}
