//! Syslog messages: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`) and the BSD
//! format of RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, and the many ways senders bend
//! it), and the framing of RFC 6587 on a stream: octet counting (`LEN SP MSG`) or one message
//! per line.
//!
//! A message that fits neither format is an error naming the byte where reading stopped; the
//! receiver keeps such a line raw (nothing is dropped). Times without a zone (RFC 3164) are read
//! in the zone the receiver is told, and without a year in the year that puts them nearest to
//! now.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rfc5424,
    Rfc3164,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::Rfc5424 => "rfc5424",
            Self::Rfc3164 => "rfc3164",
        }
    }
}

/// One message, borrowed from its bytes where it can be.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<'a> {
    pub format: Format,
    pub facility: u8,
    pub severity: u8,
    /// Seconds since the epoch, when the message had a time.
    pub time: Option<f64>,
    pub hostname: Option<Cow<'a, str>>,
    pub app_name: Option<Cow<'a, str>>,
    pub proc_id: Option<Cow<'a, str>>,
    pub msg_id: Option<Cow<'a, str>>,
    /// RFC 5424 structured data, as sent (`[id k="v"]…`).
    pub structured_data: Option<Cow<'a, str>>,
    pub message: Cow<'a, str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the message where reading stopped.
    pub offset: usize,
    pub reason: &'static str,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// How to read times that do not say their zone or year.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// The senders' zone, in seconds east of UTC (Vietnam: +7 h).
    pub offset: i32,
}

impl Clock {
    pub const VIETNAM: i32 = 7 * 3600;

    pub fn now() -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        Self { now, offset: Self::VIETNAM }
    }
}

fn text(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

fn nil(b: &[u8]) -> Option<Cow<'_, str>> {
    (b != b"-").then(|| text(b))
}

/// Parses one message (without its framing).
pub fn parse<'a>(raw: &'a [u8], clock: &Clock) -> Result<Message<'a>, ParseError> {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let err = |offset, reason| ParseError { offset, reason };
    if raw.first() != Some(&b'<') {
        return Err(err(0, "no <PRI> at the start"));
    }
    let close = raw.iter().take(5).position(|b| *b == b'>').ok_or(err(1, "a <PRI> of 1 to 3 digits"))?;
    let pri: u16 = std::str::from_utf8(&raw[1..close])
        .ok()
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok())
        .filter(|p| *p <= 191)
        .ok_or(err(1, "a <PRI> from 0 to 191"))?;
    let (facility, severity) = ((pri / 8) as u8, (pri % 8) as u8);
    let rest = &raw[close + 1..];
    let at = close + 1;
    if rest.len() >= 2 && rest[0].is_ascii_digit() && rest[1] == b' ' {
        return parse_5424(rest, at, facility, severity);
    }
    Ok(parse_3164(rest, facility, severity, clock))
}

/// Splits off the next space-separated field.
fn field(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|c| *c == b' ') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &[]),
    }
}

fn parse_5424(rest: &[u8], at: usize, facility: u8, severity: u8) -> Result<Message<'_>, ParseError> {
    let err = |offset, reason| ParseError { offset, reason };
    let (version, r) = field(rest);
    if version != b"1" {
        return Err(err(at, "RFC 5424 version 1"));
    }
    let (ts, r) = field(r);
    let time = if ts == b"-" {
        None
    } else {
        let s = std::str::from_utf8(ts).map_err(|_| err(at + 2, "a timestamp"))?;
        let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map_err(|_| err(at + 2, "an RFC 3339 timestamp"))?;
        Some(t.unix_timestamp_nanos() as f64 / 1e9)
    };
    let (host, r) = field(r);
    let (app, r) = field(r);
    let (proc_id, r) = field(r);
    let (msg_id, r) = field(r);
    if msg_id.is_empty() {
        return Err(err(at + rest.len(), "the header ends early (HOSTNAME APP-NAME PROCID MSGID)"));
    }
    let sd_start = at + rest.len() - r.len();
    let (sd, msg) = if r.first() == Some(&b'-') {
        (None, r.get(2..).unwrap_or_default())
    } else if r.first() == Some(&b'[') {
        let end = structured_data_end(r).ok_or(err(sd_start, "structured data not closed"))?;
        (Some(text(&r[..end])), r.get(end + 1..).unwrap_or_default())
    } else {
        return Err(err(sd_start, "structured data: `-` or `[`"));
    };
    let msg = msg.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(msg);
    Ok(Message {
        format: Format::Rfc5424,
        facility,
        severity,
        time,
        hostname: nil(host),
        app_name: nil(app),
        proc_id: nil(proc_id),
        msg_id: nil(msg_id),
        structured_data: sd,
        message: text(msg),
    })
}

/// Where a run of `[…]` elements ends (escapes `\"`, `\\`, `\]` inside quoted values).
fn structured_data_end(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut quoted = false;
        i += 1;
        loop {
            match *b.get(i)? {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b']' if !quoted => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    Some(i)
}

const MONTHS: [&[u8]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// `Mmm dd hh:mm:ss` (a day below 10 padded with a space), in the clock's zone, in the year
/// nearest to now.
fn bsd_time(b: &[u8], clock: &Clock) -> Option<f64> {
    if b.len() < 15 || b[3] != b' ' || b[6] != b' ' || b[9] != b':' || b[12] != b':' {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == &b[..3])? as u8 + 1;
    let num = |s: &[u8]| -> Option<u8> { std::str::from_utf8(s).ok()?.trim().parse().ok() };
    let (day, h, m, s) = (num(&b[4..6])?, num(&b[7..9])?, num(&b[10..12])?, num(&b[13..15])?);
    let offset = time::UtcOffset::from_whole_seconds(clock.offset).ok()?;
    let now = time::OffsetDateTime::from_unix_timestamp(clock.now).ok()?.to_offset(offset);
    let at = |year: i32| -> Option<i64> {
        let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
        let t = time::PrimitiveDateTime::new(date, time::Time::from_hms(h, m, s).ok()?);
        Some(t.assume_offset(offset).unix_timestamp())
    };
    // December's messages read in January belong to last year.
    let this = at(now.year());
    let t = match this {
        Some(t) if t > clock.now + 86_400 => at(now.year() - 1)?,
        Some(t) => t,
        None => at(now.year() - 1)?,
    };
    Some(t as f64)
}

fn parse_3164<'a>(rest: &'a [u8], facility: u8, severity: u8, clock: &Clock) -> Message<'a> {
    let mut r = rest;
    let mut time = None;
    if let Some(t) = bsd_time(r, clock) {
        time = Some(t);
        r = r.get(16..).unwrap_or_default();
    } else {
        // Some senders write an RFC 3339 time where the BSD one goes (rsyslog's high precision).
        let (ts, after) = field(r);
        if let Some(t) = std::str::from_utf8(ts)
            .ok()
            .and_then(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
        {
            time = Some(t.unix_timestamp_nanos() as f64 / 1e9);
            r = after;
        }
    }
    // HOSTNAME, unless the next word is already the tag (`sshd[12]:`, `kernel:`).
    let mut hostname = None;
    let (word, after) = field(r);
    let is_tag = word.ends_with(b":") || word.contains(&b'[');
    if time.is_some() && !word.is_empty() && !is_tag && !after.is_empty() {
        hostname = Some(text(word));
        r = after;
    }
    // TAG[PID]: — a tag is at most 32 characters of letters, digits and a few marks.
    let (mut app_name, mut proc_id) = (None, None);
    let tag_end = r.iter().take(48).position(|c| *c == b':' || *c == b' ');
    if let Some(end) = tag_end.filter(|e| r.get(*e) == Some(&b':') && *e > 0) {
        let tag = &r[..end];
        let (name, pid) = match (tag.iter().position(|c| *c == b'['), tag.last()) {
            (Some(open), Some(b']')) => (&tag[..open], Some(&tag[open + 1..tag.len() - 1])),
            _ => (tag, None),
        };
        if !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || b"-_./@".contains(c)) {
            app_name = Some(text(name));
            proc_id = pid.map(text);
            r = &r[end + 1..];
            r = r.strip_prefix(b" ").unwrap_or(r);
        }
    }
    Message {
        format: Format::Rfc3164,
        facility,
        severity,
        time,
        hostname,
        app_name,
        proc_id,
        msg_id: None,
        structured_data: None,
        message: text(r),
    }
}

/// Splits a stream into messages by RFC 6587's framing: a frame starting with a digit is
/// octet-counted (`LEN SP MSG`), any other runs to the next LF. Returns the frames complete in
/// `buf` and how many bytes they took; a frame longer than `max` is cut into pieces of `max`
/// (kept, never dropped).
pub fn frames(buf: &[u8], max: usize) -> (Vec<&[u8]>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let b = &buf[at..];
        if b[0] == b'\n' || b[0] == b'\r' || b[0] == 0 {
            at += 1;
            continue;
        }
        if b[0].is_ascii_digit() {
            let digits = b.iter().take(10).take_while(|c| c.is_ascii_digit()).count();
            if b.get(digits) == Some(&b' ') {
                let len: usize =
                    std::str::from_utf8(&b[..digits]).ok().and_then(|d| d.parse().ok()).unwrap_or(usize::MAX);
                let len = len.min(max);
                let start = digits + 1;
                if b.len() < start + len {
                    break;
                }
                out.push(&b[start..start + len]);
                at += start + len;
                continue;
            }
            if digits == b.len() {
                // A count whose space has not come yet.
                break;
            }
        }
        match memchr::memchr(b'\n', &b[..b.len().min(max)]) {
            Some(i) => {
                out.push(&b[..i]);
                at += i + 1;
            }
            None if b.len() >= max => {
                out.push(&b[..max]);
                at += max;
            }
            None => break,
        }
    }
    (out, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-03 08:00:00 UTC.
    const CLOCK: Clock = Clock { now: 1_796_284_800, offset: Clock::VIETNAM };

    #[test]
    fn rfc5424_with_structured_data_and_bom() {
        let raw = b"<34>1 2026-12-03T14:05:03.123+07:00 mail.tinh.gov.vn su - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App\\]lication\"][x@1 a=\"b\"] \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8";
        let m = parse(raw, &CLOCK).unwrap();
        assert_eq!((m.format, m.facility, m.severity), (Format::Rfc5424, 4, 2));
        assert!((m.time.unwrap() - 1_796_281_503.123).abs() < 1e-6, "{:?}", m.time);
        assert_eq!(m.hostname.as_deref(), Some("mail.tinh.gov.vn"));
        assert_eq!(m.app_name.as_deref(), Some("su"));
        assert_eq!(m.proc_id, None);
        assert_eq!(m.msg_id.as_deref(), Some("ID47"));
        assert_eq!(
            m.structured_data.as_deref(),
            Some("[exampleSDID@32473 iut=\"3\" eventSource=\"App\\]lication\"][x@1 a=\"b\"]")
        );
        assert_eq!(m.message, "'su root' failed for lonvick on /dev/pts/8");
        let m = parse(b"<165>1 - - - - - -", &CLOCK).unwrap();
        assert_eq!((m.time, m.message.as_ref()), (None, ""));
    }

    #[test]
    fn rfc3164_in_its_usual_shapes() {
        // 3 Dec 15:00:01 in Vietnam = 08:00:01 UTC.
        let m = parse(
            b"<38>Dec  3 15:00:01 web01 sshd[2211]: Failed password for root from 203.0.113.9 port 50122 ssh2",
            &CLOCK,
        )
        .unwrap();
        assert_eq!((m.format, m.facility, m.severity), (Format::Rfc3164, 4, 6));
        assert_eq!(m.time, Some(1_796_284_801.0));
        assert_eq!(m.hostname.as_deref(), Some("web01"));
        assert_eq!((m.app_name.as_deref(), m.proc_id.as_deref()), (Some("sshd"), Some("2211")));
        assert_eq!(m.message, "Failed password for root from 203.0.113.9 port 50122 ssh2");
        // No hostname (as /dev/log writes it), a tag without a pid.
        let m = parse(b"<13>Dec  3 15:00:01 CRON: (root) CMD (run-parts)", &CLOCK).unwrap();
        assert_eq!((m.hostname, m.app_name.as_deref()), (None, Some("CRON")));
        // A December message read on 2 January is last year's.
        let jan = Clock { now: 1_798_848_000, ..CLOCK }; // 2027-01-02
        let m = parse(b"<13>Dec 31 23:59:59 h app: x", &jan).unwrap();
        assert_eq!(m.time, Some(1_798_736_399.0)); // 2026-12-31 16:59:59 UTC
        // No time at all: the whole rest is the message.
        let m = parse(b"<13>just words here", &CLOCK).unwrap();
        assert_eq!((m.time, m.message.as_ref()), (None, "just words here"));
    }

    #[test]
    fn what_is_not_syslog_is_named() {
        assert_eq!(parse(b"hello", &CLOCK).unwrap_err(), ParseError { offset: 0, reason: "no <PRI> at the start" });
        assert_eq!(parse(b"<999>1 x", &CLOCK).unwrap_err().reason, "a <PRI> from 0 to 191");
        assert_eq!(parse(b"<1", &CLOCK).unwrap_err().offset, 1);
        assert_eq!(parse(b"<34>1 2026-13-99T00:00:00Z h a p m -", &CLOCK).unwrap_err().reason, "an RFC 3339 timestamp");
        assert_eq!(
            parse(b"<34>1 - h a p m [unclosed x=\"]\"", &CLOCK).unwrap_err().reason,
            "structured data not closed"
        );
    }

    #[test]
    fn streams_are_framed_by_count_or_line() {
        let buf = b"11 <13>hello a<13>line one\n<13>line two\r\n9 <13>x";
        let (f, used) = frames(buf, 1024);
        assert_eq!(f, [&b"<13>hello a"[..], b"<13>line one", b"<13>line two\r"]);
        assert_eq!(&buf[used..], b"9 <13>x", "an incomplete frame waits");
        // A line longer than the limit is cut, not lost.
        let (f, used) = frames(b"<13>abcdefghij", 6);
        assert_eq!((f, used), (vec![&b"<13>ab"[..], b"cdefgh"], 12), "the rest waits for its line's end");
    }
}
