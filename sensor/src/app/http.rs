//! HTTP/1.x transactions of one connection: requests paired with responses in order
//! (pipelining, keep-alive), bodies framed (Content-Length, chunked, until close), decoded
//! (gzip, deflate) and turned into artifacts, one `http` record per transaction.

use std::collections::VecDeque;
use std::io::Write;

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

use crate::files::FileBuilder;
use crate::proto::http::{self, Chunked, Common, Framing, HttpError, RequestHead, ResponseHead};
use crate::record::{Body, Http};
use crate::time::Micros;

use super::Ctx;

const ORIG: usize = 0;
const RESP: usize = 1;
/// Transactions waiting for their response; a flood of requests beyond this is logged as is.
const MAX_PENDING: usize = 128;

#[derive(Debug, Default)]
struct Tx {
    depth: u32,
    ts: Micros,
    req: Option<RequestHead>,
    resp: Option<ResponseHead>,
    info: Option<(u16, String)>,
    req_done: bool,
    resp_done: bool,
    rec: Http,
}

/// Writes decoded body bytes into the artifact, refusing past the decode cap.
struct Sink {
    file: FileBuilder,
    ts: Micros,
    left: u64,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("decoded body over the cap"));
        }
        let n = buf.len().min(self.left as usize);
        self.file.update(&buf[..n], self.ts);
        self.left -= n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Content {
    Identity(FileBuilder),
    /// Decoding starts with the first bytes, which tell zlib from raw deflate; `true` is gzip.
    Pending(bool, FileBuilder),
    Gzip(GzDecoder<Sink>),
    Zlib(ZlibDecoder<Sink>),
    Deflate(DeflateDecoder<Sink>),
    /// Decoding failed: the rest of the body is counted, not decoded.
    Broken(FileBuilder),
}

struct BodyReader {
    framing: Framing,
    left: u64,
    chunked: Chunked,
    content: Option<Content>,
    depth: u32,
    filename: Option<String>,
}

impl BodyReader {
    fn new(framing: Framing, common: &Common, depth: u32, ctx: &Ctx<'_>) -> Self {
        let file = FileBuilder::new(ctx.cfg.kept(ctx.cfg.artifact_bytes), ctx.ts, &ctx.out.retain);
        let content = match common.content_encoding.as_deref() {
            Some(e) if e.contains("gzip") => Content::Pending(true, file),
            Some(e) if e.contains("deflate") => Content::Pending(false, file),
            _ => Content::Identity(file),
        };
        let left = if let Framing::Length(n) = framing { n } else { 0 };
        Self {
            framing,
            left,
            chunked: Chunked::default(),
            content: Some(content),
            depth,
            filename: common.filename.clone(),
        }
    }

    /// Feeds body bytes (already unframed) through the content decoder into the artifact.
    fn content(&mut self, data: &[u8], ctx: &Ctx<'_>) {
        let ts = ctx.ts;
        let cap = ctx.cfg.max_decoded_body;
        let content = self.content.take().expect("content present");
        let next = match content {
            Content::Identity(mut f) => {
                f.update(data, ts);
                Content::Identity(f)
            }
            Content::Broken(mut f) => {
                f.gap(data.len() as u64);
                Content::Broken(f)
            }
            Content::Pending(gzip, file) => {
                let sink = Sink { file, ts, left: cap };
                let started = if gzip {
                    Content::Gzip(GzDecoder::new(sink))
                } else if data.first().is_some_and(|b| b & 0x0f == 8)
                    && data.len() >= 2
                    && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0
                {
                    Content::Zlib(ZlibDecoder::new(sink))
                } else {
                    Content::Deflate(DeflateDecoder::new(sink))
                };
                self.content = Some(started);
                return self.content(data, ctx);
            }
            Content::Gzip(mut d) => match d.write_all(data) {
                Ok(()) => Content::Gzip(d),
                Err(_) => Content::Broken(take_file(d.get_mut())),
            },
            Content::Zlib(mut d) => match d.write_all(data) {
                Ok(()) => Content::Zlib(d),
                Err(_) => Content::Broken(take_file(d.get_mut())),
            },
            Content::Deflate(mut d) => match d.write_all(data) {
                Ok(()) => Content::Deflate(d),
                Err(_) => Content::Broken(take_file(d.get_mut())),
            },
        };
        self.content = Some(next);
    }

    /// Reads framed body bytes; returns (consumed, finished).
    fn feed(&mut self, data: &[u8], ctx: &Ctx<'_>) -> Result<(usize, bool), ()> {
        match self.framing {
            Framing::None => Ok((0, true)),
            Framing::Length(_) => {
                let n = data.len().min(self.left as usize);
                self.content(&data[..n], ctx);
                self.left -= n as u64;
                Ok((n, self.left == 0))
            }
            Framing::UntilClose => {
                self.content(data, ctx);
                Ok((data.len(), false))
            }
            Framing::Chunked => {
                let mut pieces: Vec<&[u8]> = Vec::new();
                let used = self.chunked.feed(data, &mut |d| pieces.push(d)).map_err(|_| ())?;
                for piece in pieces {
                    self.content(piece, ctx);
                }
                Ok((used, self.chunked.done()))
            }
        }
    }

    fn finish(mut self) -> FileBuilder {
        match self.content.take().expect("content present") {
            Content::Identity(f) | Content::Pending(_, f) | Content::Broken(f) => f,
            // A truncated stream keeps what was decoded before the cut.
            Content::Gzip(mut d) => {
                let _ = d.try_finish();
                take_file(d.get_mut())
            }
            Content::Zlib(mut d) => {
                let _ = d.try_finish();
                take_file(d.get_mut())
            }
            Content::Deflate(mut d) => {
                let _ = d.try_finish();
                take_file(d.get_mut())
            }
        }
    }
}

/// Weirds for what a head's framing headers got wrong.
fn anomalies(common: &Common, ctx: &mut Ctx<'_>) {
    for (anomaly, value) in &common.anomalies {
        ctx.weird("HTTP", anomaly.weird_name(), Some(value.clone()));
    }
}

/// What a head that does not parse looked like: its first line, or that it never ended.
fn head_error(e: HttpError, buf: &[u8]) -> String {
    match e {
        HttpError::HeadTooLong => format!("head longer than {} bytes", http::MAX_HEAD),
        _ => {
            let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
            String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned()
        }
    }
}

/// Takes the artifact out of a decoder (finished, or failed part-way).
fn take_file(sink: &mut Sink) -> FileBuilder {
    let empty = FileBuilder::new(0, sink.ts, sink.file.budget());
    std::mem::replace(&mut sink.file, empty)
}

enum Phase {
    Head,
    Body(Box<BodyReader>),
    /// Not HTTP (any more): after a protocol switch, a parse error or a hole in the stream.
    Dead,
}

/// The HTTP state of one connection.
pub struct HttpConn {
    phase: [Phase; 2],
    bufs: [Vec<u8>; 2],
    txs: VecDeque<Tx>,
    next_depth: u32,
}

impl Default for HttpConn {
    fn default() -> Self {
        Self { phase: [Phase::Head, Phase::Head], bufs: [Vec::new(), Vec::new()], txs: VecDeque::new(), next_depth: 1 }
    }
}

impl HttpConn {
    pub fn data(&mut self, dir: usize, mut data: &[u8], ctx: &mut Ctx<'_>) {
        while !data.is_empty() {
            match &mut self.phase[dir] {
                Phase::Dead => return,
                Phase::Head => {
                    if self.bufs[dir].is_empty() {
                        match self.head(dir, data, ctx) {
                            Some(n) => data = &data[n..],
                            None => {
                                if !matches!(self.phase[dir], Phase::Dead) {
                                    self.bufs[dir].extend_from_slice(data);
                                }
                                return;
                            }
                        }
                    } else {
                        let mut buf = std::mem::take(&mut self.bufs[dir]);
                        buf.extend_from_slice(data);
                        match self.head(dir, &buf, ctx) {
                            Some(n) => {
                                // The rest of the buffer (and so of `data`) follows the head.
                                let rest = buf.split_off(n);
                                self.data(dir, &rest, ctx);
                            }
                            None => {
                                if !matches!(self.phase[dir], Phase::Dead) {
                                    self.bufs[dir] = buf;
                                }
                            }
                        }
                        return;
                    }
                }
                Phase::Body(reader) => match reader.feed(data, ctx) {
                    Ok((used, done)) => {
                        data = &data[used..];
                        if done {
                            self.end_body(dir, ctx);
                        }
                    }
                    Err(()) => {
                        ctx.weird("HTTP", "HTTP_bad_chunk_size", None);
                        self.end_body(dir, ctx);
                        self.phase[dir] = Phase::Dead;
                        return;
                    }
                },
            }
        }
    }

    /// Parses a head at the start of `buf`; returns its length, or `None` if incomplete (or
    /// the direction just died).
    fn head(&mut self, dir: usize, buf: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        if dir == ORIG {
            match http::parse_request(buf) {
                Ok(Some((head, n))) => {
                    self.request(head, ctx);
                    Some(n)
                }
                Ok(None) => None,
                Err(e) => {
                    ctx.weird("HTTP", "bad_HTTP_request", Some(head_error(e, buf)));
                    self.phase[ORIG] = Phase::Dead;
                    None
                }
            }
        } else {
            let answering_09 = self.txs.iter().find(|t| t.resp.is_none()).and_then(|t| t.req.as_ref());
            if answering_09.is_some_and(|r| r.version == "0.9") && !http::looks_like_response(buf) {
                // An HTTP/0.9 reply has no head: all the server sends until it closes is the
                // body (Zeek logs its version as 0.9 and no status).
                let head = ResponseHead { version: "0.9".into(), ..Default::default() };
                self.response(head, ctx);
                return Some(0);
            }
            match http::parse_response(buf) {
                Ok(Some((head, n))) => {
                    self.response(head, ctx);
                    Some(n)
                }
                Ok(None) => None,
                Err(e) => {
                    ctx.weird("HTTP", "bad_HTTP_reply", Some(head_error(e, buf)));
                    self.phase[RESP] = Phase::Dead;
                    None
                }
            }
        }
    }

    fn request(&mut self, head: RequestHead, ctx: &mut Ctx<'_>) {
        anomalies(&head.common, ctx);
        if head.version == "0.9" && head.method != "GET" {
            ctx.weird("HTTP", "invalid_http_09_request_method", Some(head.method.clone()));
        }
        if self.txs.len() >= MAX_PENDING
            && let Some(tx) = self.txs.pop_front()
        {
            emit(tx, ctx);
        }
        let depth = self.next_depth;
        self.next_depth += 1;
        let framing = http::request_framing(&head);
        let mut tx = Tx { depth, ts: ctx.ts, ..Default::default() };
        tx.req_done = framing == Framing::None;
        if !tx.req_done {
            let reader = BodyReader::new(framing, &head.common, depth, ctx);
            self.phase[ORIG] = Phase::Body(Box::new(reader));
        }
        tx.req = Some(head);
        self.txs.push_back(tx);
    }

    fn response(&mut self, head: ResponseHead, ctx: &mut Ctx<'_>) {
        anomalies(&head.common, ctx);
        let index = match self.txs.iter().position(|t| t.resp.is_none()) {
            Some(i) => i,
            None => {
                // A response without a request (the capture began mid-connection).
                let depth = self.next_depth;
                self.next_depth += 1;
                self.txs.push_back(Tx { depth, ts: ctx.ts, req_done: true, ..Default::default() });
                self.txs.len() - 1
            }
        };
        let tx = &mut self.txs[index];
        let method = tx.req.as_ref().map(|r| r.method.as_str());
        if (100..200).contains(&head.status) && head.status != 101 {
            tx.info = Some((head.status, head.reason));
            return;
        }
        let framing = http::response_framing(method, &head);
        let switching = head.status == 101 || (method == Some("CONNECT") && (200..300).contains(&head.status));
        let depth = tx.depth;
        if framing == Framing::None {
            tx.resp_done = true;
        } else {
            let reader = BodyReader::new(framing, &head.common, depth, ctx);
            self.phase[RESP] = Phase::Body(Box::new(reader));
        }
        tx.resp = Some(head);
        if switching {
            // What follows is another protocol (WebSocket, a tunnel): stop parsing HTTP.
            self.phase = [Phase::Dead, Phase::Dead];
        }
        self.flush_done(ctx);
    }

    fn end_body(&mut self, dir: usize, ctx: &mut Ctx<'_>) {
        let Phase::Body(reader) = std::mem::replace(&mut self.phase[dir], Phase::Head) else { return };
        if matches!(reader.content, Some(Content::Broken(_))) {
            // The declared encoding did not decode (or decoded past the cap): the body's
            // bytes are counted, its content is not seen.
            ctx.weird("HTTP", "HTTP_content_decoding_failed", None);
        }
        let depth = reader.depth;
        let filename = reader.filename.clone();
        let file = reader.finish();
        let is_orig = dir == ORIG;
        let fuid = ctx.fuid(if is_orig { "http-req" } else { "http-resp" }, u64::from(depth));
        let (record, artifact) =
            file.finish(ctx.head, fuid.clone(), "HTTP", Some("http"), is_orig, filename, ctx.cfg.keep_artifacts);
        let ts = artifact.head.ts;
        if let Some(tx) = self.txs.iter_mut().find(|t| t.depth == depth) {
            let mime = record.mime_type.clone();
            if is_orig {
                tx.rec.request_body_len = record.seen_bytes;
                tx.rec.orig_fuids.push(fuid);
                tx.rec.orig_mime_types.extend(mime);
                tx.req_done = true;
            } else {
                tx.rec.response_body_len = record.seen_bytes;
                tx.rec.resp_fuids.push(fuid);
                tx.rec.resp_mime_types.extend(mime);
                tx.resp_done = true;
            }
        }
        if record.seen_bytes > 0 {
            let mut head = ctx.head.clone();
            head.ts = ts;
            ctx.out.records.push(crate::record::Record { head, body: Body::Files(record) });
            if ctx.cfg.keep_artifacts {
                ctx.out.artifacts.push(artifact);
            }
        }
        self.flush_done(ctx);
    }

    /// Logs the transactions at the front of the queue that are complete.
    fn flush_done(&mut self, ctx: &mut Ctx<'_>) {
        while self.txs.front().is_some_and(|t| t.req_done && t.resp_done) {
            let tx = self.txs.pop_front().expect("front exists");
            emit(tx, ctx);
        }
    }

    /// A hole in one direction: a body of known length goes on (counting the hole);
    /// anything else loses its framing, and the direction stops.
    pub fn gap(&mut self, dir: usize, len: u64, ctx: &mut Ctx<'_>) {
        if let Phase::Body(reader) = &mut self.phase[dir] {
            if let Framing::Length(_) = reader.framing {
                let n = len.min(reader.left);
                reader.left -= n;
                if let Some(Content::Identity(f)) = reader.content.as_mut() {
                    f.gap(n);
                }
                if reader.left == 0 {
                    self.end_body(dir, ctx);
                }
                return;
            }
            if let Framing::UntilClose = reader.framing {
                if let Some(Content::Identity(f)) = reader.content.as_mut() {
                    f.gap(len);
                }
                return;
            }
            self.end_body(dir, ctx);
        }
        self.bufs[dir].clear();
        self.phase[dir] = Phase::Dead;
    }

    /// The connection ended: bodies delimited by the close end here; every transaction is
    /// logged, complete or not.
    pub fn finish(&mut self, ctx: &mut Ctx<'_>) {
        for dir in [ORIG, RESP] {
            if matches!(self.phase[dir], Phase::Body(_)) {
                self.end_body(dir, ctx);
            }
        }
        while let Some(tx) = self.txs.pop_front() {
            emit(tx, ctx);
        }
    }
}

fn emit(tx: Tx, ctx: &mut Ctx<'_>) {
    let mut rec = tx.rec;
    rec.trans_depth = tx.depth;
    if let Some(req) = tx.req {
        rec.method = Some(req.method);
        rec.uri = Some(req.uri);
        rec.version = Some(req.version);
        rec.host = req.host;
        rec.user_agent = req.user_agent;
        rec.referrer = req.referrer;
        rec.origin = req.origin;
        rec.username = req.username;
        rec.auth_scheme = req.auth_scheme;
    }
    if let Some(resp) = tx.resp {
        // An HTTP/0.9 reply has no status line.
        if resp.status != 0 {
            rec.status_code = Some(resp.status);
            rec.status_msg = Some(resp.reason);
        }
        if rec.version.is_none() {
            rec.version = Some(resp.version);
        }
    }
    if let Some((code, msg)) = tx.info {
        rec.info_code = Some(code);
        rec.info_msg = Some(msg);
    }
    ctx.emit(tx.ts, Body::Http(rec));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AppConfig, Output};
    use crate::record::tests_support::head;

    fn run(orig: &[&[u8]], resp: &[&[u8]]) -> Output {
        let h = head();
        let cfg = AppConfig { keep_artifacts: true, ..Default::default() };
        let mut out = Output::new(crate::files::RetainBudget::new(usize::MAX));
        let mut conn = HttpConn::default();
        let mut ctx = Ctx { head: &h, ts: 1_000_000, cfg: &cfg, out: &mut out };
        for o in orig {
            conn.data(ORIG, o, &mut ctx);
        }
        for r in resp {
            conn.data(RESP, r, &mut ctx);
        }
        conn.finish(&mut ctx);
        out
    }

    fn http_records(out: &Output) -> Vec<&Http> {
        out.records.iter().filter_map(|r| if let Body::Http(h) = &r.body { Some(h) } else { None }).collect()
    }

    fn weirds(out: &Output) -> Vec<(&'static str, Option<&str>)> {
        out.records
            .iter()
            .filter_map(|r| if let Body::Weird(w) = &r.body { Some((w.name, w.addl.as_deref())) } else { None })
            .collect()
    }

    #[test]
    fn smuggling_framing_and_bad_heads_are_weirds() {
        // CL.TE: a front end reading the length would see one request, chunked reading two.
        let out = run(
            &[b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n"],
            &[],
        );
        assert_eq!(weirds(&out), [("HTTP_content_length_and_chunked", Some("Content-Length: 6 with chunked"))]);
        // Chunked wins (RFC 9112 §6.3): the smuggled request is seen and logged.
        assert_eq!(http_records(&out).iter().filter_map(|h| h.uri.as_deref()).collect::<Vec<_>>(), ["/a", "/admin"]);
        let out = run(&[b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"], &[]);
        assert_eq!(weirds(&out), [("HTTP_bad_content_length", Some("Content-Length: 2"))]);
        let out = run(&[b"GET / HTTP/1.1\r\nHo st: a\r\n\r\n"], &[]);
        assert_eq!(weirds(&out), [("bad_HTTP_request", Some("GET / HTTP/1.1"))]);
        let out = run(
            &[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"],
            &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
        );
        assert_eq!(weirds(&out), [("HTTP_bad_chunk_size", None)]);
        // A clean exchange has none.
        let out = run(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"], &[b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"]);
        assert!(weirds(&out).is_empty());
    }

    /// Requests as leniently as Zeek and libhtp read them, each one logged.
    #[test]
    fn lenient_requests_are_logged() {
        // HTTP/0.9: a bare request line, and a reply that is all body until the close.
        let out = run(&[b"GET /index.html\r\n"], &[b"<html>cu</html>"]);
        let recs = http_records(&out);
        assert_eq!(
            (recs[0].method.as_deref(), recs[0].uri.as_deref(), recs[0].version.as_deref(), recs[0].status_code),
            (Some("GET"), Some("/index.html"), Some("0.9"), None)
        );
        assert_eq!(recs[0].response_body_len, 15);
        assert!(weirds(&out).is_empty());
        let out = run(&[b"POST /x\r\n"], &[]);
        assert_eq!(weirds(&out), [("invalid_http_09_request_method", Some("POST"))]);
        // More than blanks after it: header fields, read as libhtp reads them (a line with no
        // colon passed over), and the reply still without a head.
        let out = run(&[b"GET /\nFakeHeader\nHost: localhost\nUser-Agent: myscript\n\n"], &[b"<html>"]);
        let recs = http_records(&out);
        assert_eq!(
            (recs[0].host.as_deref(), recs[0].user_agent.as_deref(), recs[0].version.as_deref()),
            (Some("localhost"), Some("myscript"), Some("0.9"))
        );
        assert_eq!(recs[0].response_body_len, 6);
        assert_eq!(
            weirds(&out),
            [("HTTP_request_missing_protocol", Some("GET /")), ("HTTP_header_without_colon", Some("FakeHeader"))]
        );
        // Any token is a method (WebDAV, Cisco CCM, the QUERY draft), lower case included.
        for method in ["PROPFIND", "CCM_POST", "QUERY", "get", "M-SEARCH"] {
            let req = format!("{method} /a HTTP/1.1\r\nHost: x\r\n\r\n");
            let out = run(&[req.as_bytes()], &[b"HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n"]);
            let recs = http_records(&out);
            assert_eq!((recs[0].method.as_deref(), recs[0].status_code), (Some(method), Some(207)), "{method}");
        }
        // A target with spaces is kept whole, even with a method httparse would take.
        let out = run(&[b"CCM_POST /a b HTTP/1.1\r\nHost: x\r\n\r\n"], &[]);
        assert_eq!(http_records(&out)[0].uri.as_deref(), Some("/a b"));
        // Obsolete line folding: the value joined with a space, and reported.
        let out = run(&[b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl\r\n\t(folded)\r\n\r\n"], &[]);
        assert_eq!(http_records(&out)[0].user_agent.as_deref(), Some("curl (folded)"));
        assert_eq!(weirds(&out), [("HTTP_obsolete_line_folding", Some("User-Agent"))]);
        // CONNECT logs its authority-form target, and the tunnel after a 200 is not HTTP.
        let out = run(
            &[b"CONNECT portal.gov.vn:443 HTTP/1.1\r\nHost: portal.gov.vn:443\r\n\r\n", b"\x16\x03\x01\x02\x00"],
            &[b"HTTP/1.1 200 Connection established\r\n\r\n", b"\x16\x03\x03\x00\x10"],
        );
        let recs = http_records(&out);
        assert_eq!(recs.len(), 1);
        assert_eq!(
            (recs[0].method.as_deref(), recs[0].uri.as_deref(), recs[0].status_code),
            (Some("CONNECT"), Some("portal.gov.vn:443"), Some(200))
        );
        assert!(weirds(&out).is_empty(), "{:?}", weirds(&out));
        // An oversize Content-Length is no length (Zeek reads it as 0): the request hidden
        // behind it is logged too.
        let out = run(
            &[b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n"],
            &[],
        );
        assert_eq!(http_records(&out).iter().filter_map(|h| h.uri.as_deref()).collect::<Vec<_>>(), ["/a", "/admin"]);
        assert_eq!(weirds(&out), [("HTTP_bad_content_length", Some("Content-Length: 99999999999999999999999"))]);
    }

    #[test]
    fn pipelined_requests_pair_in_order() {
        let out = run(
            &[b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"],
            &[b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"],
        );
        let recs = http_records(&out);
        assert_eq!(recs.len(), 2);
        assert_eq!(
            (recs[0].uri.as_deref(), recs[0].status_code, recs[0].response_body_len),
            (Some("/a"), Some(200), 3)
        );
        assert_eq!((recs[1].uri.as_deref(), recs[1].status_code, recs[1].trans_depth), (Some("/b"), Some(404), 2));
    }

    #[test]
    fn chunked_gzip_body_is_decoded_and_hashed() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"<html>TOI MAT</html>").unwrap();
        let gz = gz.finish().unwrap();
        let mut resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
        resp.extend_from_slice(format!("{:x}\r\n", gz.len()).as_bytes());
        resp.extend_from_slice(&gz);
        resp.extend_from_slice(b"\r\n0\r\n\r\n");
        // Deliver byte by byte: framing and decoding must not depend on segment boundaries.
        let pieces: Vec<&[u8]> = resp.chunks(1).collect();
        let out = run(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"], &pieces);
        let recs = http_records(&out);
        assert_eq!(recs[0].response_body_len, 20);
        assert_eq!(recs[0].resp_mime_types, ["text/html"]);
        assert_eq!(out.artifacts.len(), 1);
        assert_eq!(out.artifacts[0].data, b"<html>TOI MAT</html>");
    }

    #[test]
    fn deflate_bodies_zlib_wrapped_and_raw() {
        for zlib in [true, false] {
            let body = b"<html>van ban</html>";
            let encoded = if zlib {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(body).unwrap();
                e.finish().unwrap()
            } else {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(body).unwrap();
                e.finish().unwrap()
            };
            let mut resp =
                format!("HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n", encoded.len())
                    .into_bytes();
            resp.extend_from_slice(&encoded);
            let out = run(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"], &[&resp]);
            assert_eq!(out.artifacts[0].data, body, "zlib={zlib}");
            assert_eq!(http_records(&out)[0].response_body_len, body.len() as u64);
        }
    }

    #[test]
    fn body_until_close_and_head_responses() {
        let out = run(&[b"HEAD / HTTP/1.0\r\n\r\n"], &[b"HTTP/1.0 200 OK\r\nContent-Length: 999\r\n\r\n"]);
        assert_eq!(http_records(&out)[0].response_body_len, 0);
        let out = run(&[b"GET / HTTP/1.0\r\n\r\n"], &[b"HTTP/1.0 200 OK\r\n\r\nhello ", b"world"]);
        assert_eq!(http_records(&out)[0].response_body_len, 11);
    }

    #[test]
    fn garbage_kills_the_direction_without_records() {
        let out = run(&[b"\x16\x03\x01garbage\r\n\r\n"], &[]);
        assert!(http_records(&out).is_empty());
    }

    #[test]
    fn continue_then_final_response() {
        let out = run(
            &[b"POST /u HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"],
            &[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"],
        );
        let recs = http_records(&out);
        assert_eq!((recs[0].info_code, recs[0].status_code, recs[0].request_body_len), (Some(100), Some(201), 2));
    }
}
