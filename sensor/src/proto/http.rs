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
    /// A header continued on the next line (RFC 9112 §5.2 obsolete line folding), which
    /// servers join differently: the value is the field's name.
    ObsoleteLineFolding,
    /// A header line with no colon, passed over: the value is the line.
    HeaderWithoutColon,
    /// A request line with no version followed by header fields (libhtp's "missing
    /// protocol"): neither a simple HTTP/0.9 request nor a full one.
    MissingProtocol,
}

impl Anomaly {
    /// Zeek's name for it.
    pub fn weird_name(self) -> &'static str {
        match self {
            Self::ContentLengthAndChunked => "HTTP_content_length_and_chunked",
            Self::BadContentLength => "HTTP_bad_content_length",
            Self::ObsoleteLineFolding => "HTTP_obsolete_line_folding",
            Self::HeaderWithoutColon => "HTTP_header_without_colon",
            Self::MissingProtocol => "HTTP_request_missing_protocol",
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
    let fields = req.headers.iter().map(|h| (h.name, h.value));
    Ok(Some((request_headers(head, fields), len)))
}

/// Zeek's HTTP token characters (RFC 2616 `token`): what a method may be made of.
fn is_token_char(b: u8) -> bool {
    b > 31 && b < 127 && !b" \t()<>@,;:\\\"/[]?={}".contains(&b)
}

/// A request `httparse` refuses but servers (and Zeek, and libhtp) accept: a target with
/// spaces (`GET /a b HTTP/1.1`, logged whole — cutting at the space would hide what an
/// attacker put after it), an HTTP/0.9 simple request (`GET /path`, no version and no
/// headers), and headers continued on the next line (obsolete line folding, joined with a
/// space and reported).
fn parse_request_lenient(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HttpError> {
    let incomplete = || if buf.len() > MAX_HEAD { Err(HttpError::HeadTooLong) } else { Ok(None) };
    let Some(line_end) = buf.iter().position(|&b| b == b'\n') else { return incomplete() };
    let line = std::str::from_utf8(&buf[..line_end]).map_err(|_| HttpError::BadHead)?.trim_end_matches('\r');
    let RequestLine { method, target, version } = request_line(line).ok_or(HttpError::BadHead)?;
    let Some(version) = version else {
        // HTTP/0.9 (no version): as Zeek requires, a method of three letters or more and a
        // target. A simple request is this one line; when more than blanks follows it,
        // libhtp reads header fields after it ("missing protocol"), and so does Canh, so a
        // scanner's Host and User-Agent are not lost. The reply is read as 0.9 either way
        // (no head unless it starts with one), as servers answer such a request.
        if method.len() < 3 || target.contains(' ') {
            return Err(HttpError::BadHead);
        }
        let head =
            RequestHead { method: method.into(), uri: target.into(), version: "0.9".into(), ..Default::default() };
        let after = &buf[line_end + 1..];
        if after.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Some((request_headers(head, std::iter::empty::<(&str, &[u8])>()), line_end + 1)));
        }
        let Some((fields, odd, len)) = lenient_fields(buf, line_end + 1)? else { return incomplete() };
        let mut head = request_headers(head, fields.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
        head.common.anomalies.insert(0, (Anomaly::MissingProtocol, line.to_string()));
        head.common.anomalies.extend(odd);
        return Ok(Some((head, len)));
    };
    let Some((fields, odd, len)) = lenient_fields(buf, line_end + 1)? else { return incomplete() };
    let head = RequestHead { method: method.into(), uri: target.into(), version: version.into(), ..Default::default() };
    let mut head = request_headers(head, fields.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    head.common.anomalies.extend(odd);
    Ok(Some((head, len)))
}

/// A request line's parts, as Zeek and libhtp split it: a method (any token), the target
/// (everything up to the version, spaces included), and the version after `HTTP/` (`d.d`);
/// no version is the HTTP/0.9 form.
struct RequestLine<'a> {
    method: &'a str,
    target: &'a str,
    version: Option<&'a str>,
}

fn request_line(line: &str) -> Option<RequestLine<'_>> {
    let method_len = line.bytes().take_while(|&b| is_token_char(b)).count();
    let (method, rest) = line.split_at(method_len);
    if method.is_empty() || !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim();
    let versioned = rest.rsplit_once([' ', '\t']).and_then(|(t, v)| Some((t.trim(), v.strip_prefix("HTTP/")?)));
    match versioned {
        Some((target, version)) => {
            let v = version.as_bytes();
            let ok =
                v.len() == 3 && v[0].is_ascii_digit() && v[1] == b'.' && v[2].is_ascii_digit() && !target.is_empty();
            ok.then_some(RequestLine { method, target, version: Some(version) })
        }
        None => (!rest.is_empty()).then_some(RequestLine { method, target: rest, version: None }),
    }
}

/// Header fields from `start` to the empty line, joining continuation lines (a line that
/// starts with a space or tab) to the field before and passing over lines with no colon, as
/// libhtp does. Returns the fields, what was odd about them, and where the head ends; `None`
/// when the empty line has not come yet. A name that is no token (`Ho st:`) is an error:
/// servers split such a head differently, which is how requests are smuggled.
#[allow(clippy::type_complexity)]
fn lenient_fields(
    buf: &[u8],
    start: usize,
) -> Result<Option<(Vec<(String, Vec<u8>)>, Vec<(Anomaly, String)>, usize)>, HttpError> {
    let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
    let mut odd: Vec<(Anomaly, String)> = Vec::new();
    let mut pos = start;
    loop {
        let Some(n) = buf[pos..].iter().position(|&b| b == b'\n') else { return Ok(None) };
        let line = &buf[pos..pos + n];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += n + 1;
        if line.is_empty() {
            return Ok(Some((fields, odd, pos)));
        }
        if fields.len() >= MAX_HEADERS {
            return Err(HttpError::BadHead);
        }
        if line[0] == b' ' || line[0] == b'\t' {
            let (name, value) = fields.last_mut().ok_or(HttpError::BadHead)?;
            value.push(b' ');
            value.extend_from_slice(line.trim_ascii());
            if !odd.iter().any(|(a, n)| *a == Anomaly::ObsoleteLineFolding && n == name) {
                odd.push((Anomaly::ObsoleteLineFolding, name.clone()));
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            odd.push((Anomaly::HeaderWithoutColon, String::from_utf8_lossy(line).into_owned()));
            continue;
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_token_char(b)) {
            return Err(HttpError::BadHead);
        }
        let name = String::from_utf8_lossy(name).into_owned();
        fields.push((name, line[colon + 1..].trim_ascii().to_vec()));
    }
}

fn request_headers<'a>(mut head: RequestHead, headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> RequestHead {
    for (n, value) in headers {
        if common_header(&mut head.common, n, &text(value)) {
            continue;
        }
        if n.eq_ignore_ascii_case("host") {
            head.host = Some(text(value));
        } else if n.eq_ignore_ascii_case("user-agent") {
            head.user_agent = Some(text(value));
        } else if n.eq_ignore_ascii_case("referer") {
            head.referrer = Some(text(value));
        } else if n.eq_ignore_ascii_case("origin") {
            head.origin = Some(text(value));
        } else if n.eq_ignore_ascii_case("expect") {
            head.expect_continue = text(value).eq_ignore_ascii_case("100-continue");
        } else if n.eq_ignore_ascii_case("authorization") {
            let value = text(value);
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
        || is_request_line(b)
}

/// A whole first line of the shape `TOKEN target HTTP/d.d`: a request with any method
/// (QUERY, CCM_POST, M-SEARCH, a lower-case `get`), as servers accept them.
fn is_request_line(b: &[u8]) -> bool {
    let Some(end) = b.iter().take(MAX_HEAD).position(|&c| c == b'\n') else { return false };
    let line = b[..end].strip_suffix(b"\r").unwrap_or(&b[..end]);
    std::str::from_utf8(line).ok().and_then(request_line).is_some_and(|r| r.version.is_some())
}

pub fn looks_like_response(b: &[u8]) -> bool {
    b.starts_with(b"HTTP/1.") || (b.len() < 7 && !b.is_empty() && b"HTTP/1.".starts_with(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_method_in_a_whole_request_line_is_http() {
        for yes in [
            &b"CCM_POST /x HTTP/1.1\r\n"[..],
            b"QUERY /q HTTP/1.1\r\nHost: a",
            b"get / HTTP/1.0\n",
            b"GE",
            b"GET /a\r\n",
        ] {
            assert!(looks_like_request(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [&b"EHLO mail.gov.vn\r\n"[..], b"SSH-2.0-OpenSSH_9.6\r\n", b"CCM_POST /x HTTP/1.1", b"X HTTP/1.1\r\n"]
        {
            assert!(!looks_like_request(no), "{}", String::from_utf8_lossy(no));
        }
    }

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
