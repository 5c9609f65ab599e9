//! HTTP/1.x message parsing: request and response heads (with `httparse`), body framing, and
//! the chunked transfer coding. Pure: no flow state, no records.

use base64::Engine as _;

/// A head may not grow past this; a longer one is treated as not HTTP (or an attack).
pub const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    BadHead,
    HeadTooLong,
    BadChunk,
}

/// What a head says that a correct peer would not. Parsing goes on (as servers differ in
/// how they read such a head, that is where request smuggling and evasions live); each one
/// becomes a `weird` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anomaly {
    /// `Content-Length` and `Transfer-Encoding: chunked` in one message: RFC 9112 §6.3 says
    /// chunked wins, and a front end that reads the length instead is smuggled a request.
    ContentLengthAndChunked,
    /// A `Content-Length` that is no number, or two that differ.
    BadContentLength,
}

impl Anomaly {
    /// Zeek's name for it.
    pub fn weird_name(self) -> &'static str {
        match self {
            Self::ContentLengthAndChunked => "HTTP_content_length_and_chunked",
            Self::BadContentLength => "HTTP_bad_content_length",
        }
    }
}

/// Header fields shared by requests and responses that decide framing and content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Common {
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub content_encoding: Option<String>,
    pub content_type: Option<String>,
    pub filename: Option<String>,
    pub connection_close: bool,
    /// What was wrong with the head, with the offending value.
    pub anomalies: Vec<(Anomaly, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub uri: String,
    pub version: String,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub origin: Option<String>,
    pub auth_scheme: Option<String>,
    /// The user of HTTP Basic authentication (the password is deliberately not kept).
    pub username: Option<String>,
    pub expect_continue: bool,
    pub common: Common,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub common: Common,
}

/// How the body after a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

fn version_text(v: Option<u8>) -> String {
    match v {
        Some(0) => "1.0".to_string(),
        _ => "1.1".to_string(),
    }
}

fn common_header(c: &mut Common, name: &str, value: &str) -> bool {
    if name.eq_ignore_ascii_case("content-length") {
        let length = value.trim().parse().ok();
        if length.is_none() || c.content_length.is_some_and(|first| Some(first) != length) {
            c.anomalies.push((Anomaly::BadContentLength, format!("Content-Length: {value}")));
        }
        // The first valid length is the one read (a second, different one is the anomaly).
        c.content_length = c.content_length.or(length);
    } else if name.eq_ignore_ascii_case("transfer-encoding") {
        c.chunked = value.to_ascii_lowercase().contains("chunked");
    } else if name.eq_ignore_ascii_case("content-encoding") {
        c.content_encoding = Some(value.trim().to_ascii_lowercase());
    } else if name.eq_ignore_ascii_case("content-type") {
        c.content_type = Some(value.trim().to_string());
    } else if name.eq_ignore_ascii_case("content-disposition") {
        c.filename = disposition_filename(value);
    } else if name.eq_ignore_ascii_case("connection") {
        c.connection_close = value.to_ascii_lowercase().contains("close");
    } else {
        return false;
    }
    true
}

/// Checks a head's framing headers together, once all of them are read.
fn framing_anomalies(c: &mut Common) {
    if let (true, Some(length)) = (c.chunked, c.content_length) {
        c.anomalies.push((Anomaly::ContentLengthAndChunked, format!("Content-Length: {length} with chunked")));
    }
}

/// `filename="x.docx"` or `filename*=UTF-8''x.docx` from a Content-Disposition value.
pub fn disposition_filename(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    if let Some(i) = lower.find("filename*=") {
        let rest = &value[i + 10..];
        let rest = rest.split(';').next().unwrap_or("").trim();
        let name = rest.rsplit("''").next().unwrap_or(rest);
        return Some(percent_decode(name.trim_matches('"')));
    }
    let i = lower.find("filename=")?;
    let rest = value[i + 9..].trim_start();
    let name = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.split('"').next().unwrap_or("")
    } else {
        rest.split(';').next().unwrap_or("").trim()
    };
    (!name.is_empty()).then(|| name.to_string())
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).trim().to_string()
}

/// Parses a request head. `Ok(None)`: incomplete, more bytes needed.
pub fn parse_request(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > MAX_HEAD { Err(HttpError::HeadTooLong) } else { Ok(None) };
        }
        Err(_) => return parse_request_lenient(buf),
    };
    let head = RequestHead {
        method: req.method.unwrap_or_default().to_string(),
        uri: req.path.unwrap_or_default().to_string(),
        version: version_text(req.version),
        ..Default::default()
    };
    Ok(Some((request_headers(head, req.headers), len)))
}

/// A request line that `httparse` refuses but servers accept, such as a target with spaces
/// (`GET /a b HTTP/1.1`): the target is everything between the method and the version, as
/// Zeek and libhtp log it — cutting at the space would hide what an attacker put after it.
fn parse_request_lenient(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HttpError> {
    let Some(line_end) = buf.iter().position(|&b| b == b'\n') else {
        return if buf.len() > MAX_HEAD { Err(HttpError::HeadTooLong) } else { Ok(None) };
    };
    let line = std::str::from_utf8(&buf[..line_end]).map_err(|_| HttpError::BadHead)?.trim_end_matches('\r');
    let (method, rest) = line.split_once(' ').ok_or(HttpError::BadHead)?;
    let (uri, version) = rest.rsplit_once(' ').ok_or(HttpError::BadHead)?;
    let version = version.strip_prefix("HTTP/1.").ok_or(HttpError::BadHead)?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) || uri.trim().is_empty() {
        return Err(HttpError::BadHead);
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let len = match httparse::parse_headers(&buf[line_end + 1..], &mut headers) {
        Ok(httparse::Status::Complete((n, _))) => line_end + 1 + n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > MAX_HEAD { Err(HttpError::HeadTooLong) } else { Ok(None) };
        }
        Err(_) => return Err(HttpError::BadHead),
    };
    let head = RequestHead {
        method: method.to_string(),
        uri: uri.trim().to_string(),
        version: if version == "0" { "1.0".into() } else { "1.1".into() },
        ..Default::default()
    };
    Ok(Some((request_headers(head, &headers), len)))
}

fn request_headers(mut head: RequestHead, headers: &[httparse::Header<'_>]) -> RequestHead {
    for h in headers.iter().take_while(|h| !h.name.is_empty()) {
        if common_header(&mut head.common, h.name, &text(h.value)) {
            continue;
        }
        let n = h.name;
        if n.eq_ignore_ascii_case("host") {
            head.host = Some(text(h.value));
        } else if n.eq_ignore_ascii_case("user-agent") {
            head.user_agent = Some(text(h.value));
        } else if n.eq_ignore_ascii_case("referer") {
            head.referrer = Some(text(h.value));
        } else if n.eq_ignore_ascii_case("origin") {
            head.origin = Some(text(h.value));
        } else if n.eq_ignore_ascii_case("expect") {
            head.expect_continue = text(h.value).eq_ignore_ascii_case("100-continue");
        } else if n.eq_ignore_ascii_case("authorization") {
            let value = text(h.value);
            let mut parts = value.splitn(2, ' ');
            let scheme = parts.next().unwrap_or("").to_string();
            if scheme.eq_ignore_ascii_case("basic") {
                head.username = basic_user(parts.next().unwrap_or(""));
            }
            head.auth_scheme = Some(scheme);
        }
    }
    framing_anomalies(&mut head.common);
    head
}

/// The user name of a Basic credential (`base64(user:password)`).
fn basic_user(token: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD.decode(token.trim()).ok()?;
    let creds = String::from_utf8_lossy(&raw);
    Some(creds.split(':').next().unwrap_or("").to_string())
}

/// Parses a response head. `Ok(None)`: incomplete.
pub fn parse_response(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > MAX_HEAD { Err(HttpError::HeadTooLong) } else { Ok(None) };
        }
        Err(_) => return Err(HttpError::BadHead),
    };
    let mut head = ResponseHead {
        version: version_text(resp.version),
        status: resp.code.unwrap_or(0),
        reason: resp.reason.unwrap_or_default().to_string(),
        ..Default::default()
    };
    for h in resp.headers.iter() {
        common_header(&mut head.common, h.name, &text(h.value));
    }
    framing_anomalies(&mut head.common);
    Ok(Some((head, len)))
}

/// Framing of a request body (RFC 9112 §6.3: no length means no body).
pub fn request_framing(head: &RequestHead) -> Framing {
    if head.common.chunked {
        Framing::Chunked
    } else {
        match head.common.content_length {
            Some(0) | None => Framing::None,
            Some(n) => Framing::Length(n),
        }
    }
}

/// Framing of a response body, which depends on the request method and the status.
pub fn response_framing(request_method: Option<&str>, head: &ResponseHead) -> Framing {
    if request_method == Some("HEAD") || (100..200).contains(&head.status) || head.status == 204 || head.status == 304 {
        return Framing::None;
    }
    if request_method == Some("CONNECT") && (200..300).contains(&head.status) {
        return Framing::None;
    }
    if head.common.chunked {
        Framing::Chunked
    } else {
        match head.common.content_length {
            Some(0) => Framing::None,
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        }
    }
}

/// Decoder of the chunked transfer coding, fed incrementally.
#[derive(Debug, Clone, Default)]
pub struct Chunked {
    state: ChunkState,
    line: Vec<u8>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data(u64),
    DataEnd,
    Trailer,
    Done,
}

impl Chunked {
    pub fn done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Consumes input; body bytes go to `data`. Returns how many input bytes were consumed
    /// (less than all only when the body ended: the rest is the next message).
    pub fn feed<'a>(&mut self, input: &'a [u8], data: &mut dyn FnMut(&'a [u8])) -> Result<usize, HttpError> {
        let mut pos = 0;
        while pos < input.len() {
            match self.state {
                ChunkState::Done => return Ok(pos),
                ChunkState::Data(left) => {
                    let n = (input.len() - pos).min(left as usize);
                    data(&input[pos..pos + n]);
                    pos += n;
                    self.state = if left == n as u64 { ChunkState::DataEnd } else { ChunkState::Data(left - n as u64) };
                }
                ChunkState::Size | ChunkState::DataEnd | ChunkState::Trailer => {
                    let Some(nl) = input[pos..].iter().position(|&b| b == b'\n') else {
                        self.line.extend_from_slice(&input[pos..]);
                        if self.line.len() > 4096 {
                            return Err(HttpError::BadChunk);
                        }
                        return Ok(input.len());
                    };
                    self.line.extend_from_slice(&input[pos..pos + nl]);
                    pos += nl + 1;
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    self.state = match self.state {
                        ChunkState::Size => {
                            let hex = line.split(|&b| b == b';').next().unwrap_or(&[]);
                            let hex = std::str::from_utf8(hex).map_err(|_| HttpError::BadChunk)?.trim();
                            let size = u64::from_str_radix(hex, 16).map_err(|_| HttpError::BadChunk)?;
                            if size == 0 { ChunkState::Trailer } else { ChunkState::Data(size) }
                        }
                        ChunkState::DataEnd if line.is_empty() => ChunkState::Size,
                        ChunkState::DataEnd => return Err(HttpError::BadChunk),
                        ChunkState::Trailer if line.is_empty() => ChunkState::Done,
                        ChunkState::Trailer => ChunkState::Trailer,
                        ChunkState::Data(_) | ChunkState::Done => unreachable!("handled above"),
                    };
                }
            }
        }
        Ok(pos)
    }
}

/// True when the bytes start like an HTTP request line (method, space).
pub fn looks_like_request(b: &[u8]) -> bool {
    const METHODS: [&[u8]; 14] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"CONNECT ",
        b"PATCH ",
        b"TRACE ",
        b"PROPFIND ",
        b"PROPPATCH ",
        b"MKCOL ",
        b"COPY ",
        b"MOVE ",
    ];
    METHODS.iter().any(|m| b.starts_with(m) || (b.len() < m.len() && m.starts_with(b) && !b.is_empty()))
}

pub fn looks_like_response(b: &[u8]) -> bool {
    b.starts_with(b"HTTP/1.") || (b.len() < 7 && !b.is_empty() && b"HTTP/1.".starts_with(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_head_fields() {
        let raw = b"POST /upload?x=1 HTTP/1.1\r\nHost: portal.gov.vn\r\nUser-Agent: curl/8\r\nReferer: http://a/\r\n\
Authorization: Basic YWRtaW46czNjcmV0\r\nContent-Length: 5\r\nContent-Type: text/csv\r\n\
Content-Disposition: attachment; filename=\"cccd.csv\"\r\n\r\nhello";
        let (h, n) = parse_request(raw).unwrap().unwrap();
        assert_eq!(n, raw.len() - 5);
        assert_eq!((h.method.as_str(), h.uri.as_str(), h.version.as_str()), ("POST", "/upload?x=1", "1.1"));
        assert_eq!(h.host.as_deref(), Some("portal.gov.vn"));
        assert_eq!(h.username.as_deref(), Some("admin"));
        assert_eq!(h.auth_scheme.as_deref(), Some("Basic"));
        assert_eq!(h.common.filename.as_deref(), Some("cccd.csv"));
        assert_eq!(request_framing(&h), Framing::Length(5));
    }

    #[test]
    fn partial_and_malformed_heads() {
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nHost: a"), Ok(None));
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nHo st: a\r\n\r\n"), Err(HttpError::BadHead));
        assert_eq!(parse_request(b"\x16\x03\x01\x02\x00\x01\r\n\r\n"), Err(HttpError::BadHead));
        let (h, _) = parse_request(b"GET /uri afterspace HTTP/1.1\r\nHost: a\r\n\r\n").unwrap().unwrap();
        assert_eq!((h.uri.as_str(), h.host.as_deref()), ("/uri afterspace", Some("a")));
        let huge = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &vec![b'a'; MAX_HEAD]].concat();
        assert_eq!(parse_request(&huge), Err(HttpError::HeadTooLong));
    }

    #[test]
    fn response_framing_rules() {
        let (h, _) = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap().unwrap();
        assert_eq!(response_framing(Some("GET"), &h), Framing::Chunked);
        assert_eq!(response_framing(Some("HEAD"), &h), Framing::None);
        let (h, _) = parse_response(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!(response_framing(Some("GET"), &h), Framing::UntilClose);
        let (h, _) = parse_response(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").unwrap().unwrap();
        assert_eq!(response_framing(Some("GET"), &h), Framing::None);
    }

    #[test]
    fn chunked_incremental_with_extensions_and_trailers() {
        let body = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\nNEXT";
        for split in 1..body.len() {
            let mut c = Chunked::default();
            let mut out = Vec::new();
            let mut used = c.feed(&body[..split], &mut |d| out.extend_from_slice(d)).unwrap();
            if !c.done() {
                used = split + c.feed(&body[split..], &mut |d| out.extend_from_slice(d)).unwrap();
            }
            assert_eq!(out, b"Wikipedia", "split at {split}");
            assert!(c.done());
            assert_eq!(&body[used..], b"NEXT", "split at {split}");
        }
        let mut c = Chunked::default();
        assert_eq!(c.feed(b"zz\r\n", &mut |_| {}), Err(HttpError::BadChunk));
    }

    #[test]
    fn disposition_forms() {
        assert_eq!(
            disposition_filename("attachment; filename*=UTF-8''b%C3%A1o%20c%C3%A1o.docx").as_deref(),
            Some("báo cáo.docx")
        );
        assert_eq!(disposition_filename("inline; filename=a.txt; size=3").as_deref(), Some("a.txt"));
        assert_eq!(disposition_filename("inline"), None);
    }
}
