//! DNS message parsing (RFC 1035 and the common RR types), pure and over byte slices.
//!
//! Hand-written rather than taken from a DNS crate because a passive sensor must keep what
//! it could read: a message whose answer section is corrupt still yields its header and
//! question (what analysts search for), with the error noted. Compression pointers must point
//! strictly backwards, which rules out loops; names are capped at 255 octets.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsError {
    /// Fewer than the 12 header bytes.
    ShortHeader,
    /// A name is malformed at this offset (bad label, forward pointer, too long).
    BadName(usize),
    /// A section ends before its declared records.
    Truncated(usize),
}

impl DnsError {
    /// Zeek's weird for it; `in_answers`: the question section was read, the answers were not.
    pub fn weird_name(self, in_answers: bool) -> &'static str {
        match self {
            Self::ShortHeader => "DNS_truncated_len_lt_hdr_len",
            Self::BadName(_) => "dns_invalid_name",
            Self::Truncated(_) if in_answers => "DNS_truncated_ans_too_short",
            Self::Truncated(_) => "DNS_truncated_quest_too_short",
        }
    }

    /// Where in the message it was, for the weird's `addl`.
    pub fn place(self) -> String {
        match self {
            Self::ShortHeader => "fewer than 12 bytes".into(),
            Self::BadName(at) => format!("name at byte {at}"),
            Self::Truncated(at) => format!("message ends before byte {at}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub name: String,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    /// The record's data as text, as Zeek writes it in `answers`; `None` for the types Zeek
    /// parses but logs nothing for (HINFO, CAA, SVCB, HTTPS).
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub id: u16,
    pub flags: u16,
    pub questions: Vec<Question>,
    pub answers: Vec<Answer>,
    /// Set when the message could be read only in part.
    pub error: Option<DnsError>,
}

impl Message {
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    pub fn z(&self) -> u8 {
        ((self.flags >> 4) & 0x7) as u8
    }
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
}

/// Most answers a message may yield; the rest are ignored (a response can claim 65,535).
const MAX_RECORDS: usize = 256;
const MAX_NAME: usize = 255;

/// Parses a DNS message. `Err` only when not even the header and question could be read.
pub fn parse(msg: &[u8]) -> Result<Message, DnsError> {
    if msg.len() < 12 {
        return Err(DnsError::ShortHeader);
    }
    let u16_at = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]);
    let mut m = Message { id: u16_at(0), flags: u16_at(2), ..Default::default() };
    let qd = usize::from(u16_at(4));
    let an = usize::from(u16_at(6));
    let mut pos = 12;
    for _ in 0..qd.min(MAX_RECORDS) {
        let (name, next) = read_name(msg, pos)?;
        let fixed = msg.get(next..next + 4).ok_or(DnsError::Truncated(next))?;
        m.questions.push(Question {
            name,
            qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
            qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
        });
        pos = next + 4;
    }
    for _ in 0..an.min(MAX_RECORDS) {
        match read_rr(msg, pos) {
            Ok((answer, next)) => {
                m.answers.push(answer);
                pos = next;
            }
            Err(e) => {
                m.error = Some(e);
                break;
            }
        }
    }
    Ok(m)
}

fn read_rr(msg: &[u8], pos: usize) -> Result<(Answer, usize), DnsError> {
    let (name, next) = read_name(msg, pos)?;
    let fixed = msg.get(next..next + 10).ok_or(DnsError::Truncated(next))?;
    let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let class = u16::from_be_bytes([fixed[2], fixed[3]]);
    let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let start = next + 10;
    let rdata = msg.get(start..start + rdlen).ok_or(DnsError::Truncated(start))?;
    let data = rdata_text(msg, rtype, start, rdata, &name)?;
    Ok((Answer { name, rtype, class, ttl, data }, start + rdlen))
}

/// The character-string (a length byte, then that many bytes) at `pos` of `rdata`, and the
/// position after it; `start` is where `rdata` begins in the message, for the error's place.
fn char_string(rdata: &[u8], pos: usize, start: usize) -> Result<(&[u8], usize), DnsError> {
    let len = usize::from(*rdata.get(pos).ok_or(DnsError::Truncated(start + pos))?);
    let s = rdata.get(pos + 1..pos + 1 + len).ok_or(DnsError::Truncated(start + pos))?;
    Ok((s, pos + 1 + len))
}

/// The character-strings of TXT and SPF data, each as Zeek writes it: `TXT 5 hello`.
fn character_strings(label: &str, start: usize, rdata: &[u8]) -> Result<String, DnsError> {
    let mut out = String::new();
    let mut pos = 0;
    while pos < rdata.len() {
        let (s, next) = char_string(rdata, pos, start)?;
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{label} {} ", s.len());
        escape_into(&mut out, s);
        pos = next;
    }
    Ok(out)
}

/// The text Zeek logs for a record's data (its `base/protocols/dns/main.zeek` handlers);
/// `None` for a type Zeek parses but logs nothing for.
fn rdata_text(msg: &[u8], rtype: u16, start: usize, rdata: &[u8], owner: &str) -> Result<Option<String>, DnsError> {
    let short = || DnsError::Truncated(start + rdata.len());
    let byte = |i: usize| rdata.get(i).copied().ok_or_else(short);
    let u16_at = |i: usize| Ok::<u16, DnsError>(u16::from_be_bytes([byte(i)?, byte(i + 1)?]));
    Ok(Some(match rtype {
        1 if rdata.len() == 4 => Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).to_string(),
        28 if rdata.len() == 16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(rdata);
            Ipv6Addr::from(o).to_string()
        }
        // CNAME, NS, PTR, DNAME: a name. SOA: the primary name server, as Zeek logs it.
        5 | 2 | 12 | 39 | 6 => read_name(msg, start)?.0,
        // MX: preference, then the exchange.
        15 if rdata.len() > 2 => read_name(msg, start + 2)?.0,
        // SRV: priority, weight, port, then the target.
        33 if rdata.len() > 6 => read_name(msg, start + 6)?.0,
        16 => character_strings("TXT", start, rdata)?,
        99 => character_strings("SPF", start, rdata)?,
        11 => String::new(),
        13 | 64 | 65 | 257 => return Ok(None),
        29 => format!("LOC:  {} {} {}", byte(1)?, byte(2)?, byte(3)?),
        35 => {
            // NAPTR: order, preference, then flags, services and regexp as character-strings,
            // then the replacement name.
            let (order, preference) = (u16_at(0)?, u16_at(2)?);
            let mut pos = 4;
            let mut texts = Vec::new();
            for _ in 0..3 {
                let (s, next) = char_string(rdata, pos, start)?;
                let mut t = String::new();
                escape_into(&mut t, s);
                texts.push(t);
                pos = next;
            }
            let replacement = read_name(msg, start + pos)?.0;
            let tail = [texts[2].as_str(), replacement.as_str()]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            format!("NAPTR {order} {preference} {} {} {tail}", texts[0], texts[1])
        }
        // DNSSEC: what Zeek logs of each (the signature, key and digest bytes are left out).
        43 => format!("DS {} {}", byte(2)?, byte(3)?),
        44 => {
            let mut s = String::from("SSHFP: ");
            for b in rdata.get(2..).ok_or_else(short)? {
                let _ = write!(s, "{b:02x}");
            }
            s
        }
        46 => {
            let signer = read_name(msg, start + 18)?.0;
            format!("RRSIG {} {}", u16_at(0)?, if signer.is_empty() { "<Root>" } else { &signer })
        }
        47 => format!("NSEC {owner} {}", read_name(msg, start)?.0),
        48 => format!("DNSKEY {}", byte(3)?),
        50 => "NSEC3".to_string(),
        51 => "NSEC3PARAM".to_string(),
        65534 => "BIND9 signing signal".to_string(),
        _ => format!("<unknown type={rtype}>"),
    }))
}

/// Reads a possibly compressed name at `pos`; returns it and the offset after it (after the
/// first pointer, when compressed).
pub fn read_name(msg: &[u8], mut pos: usize) -> Result<(String, usize), DnsError> {
    let mut name = String::new();
    let mut wire_len = 0;
    let mut after: Option<usize> = None;
    // Pointers must go strictly backwards: each jump lowers this bound, so no loop is possible.
    let mut bound = pos;
    loop {
        let len = *msg.get(pos).ok_or(DnsError::BadName(pos))?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    return Ok((name, after.unwrap_or(pos + 1)));
                }
                let label = msg.get(pos + 1..pos + 1 + usize::from(len)).ok_or(DnsError::BadName(pos))?;
                wire_len += 1 + label.len();
                if wire_len > MAX_NAME {
                    return Err(DnsError::BadName(pos));
                }
                if !name.is_empty() {
                    name.push('.');
                }
                escape_into(&mut name, label);
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or(DnsError::BadName(pos))?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                if target >= bound {
                    return Err(DnsError::BadName(pos));
                }
                after.get_or_insert(pos + 2);
                bound = target;
                pos = target;
            }
            _ => return Err(DnsError::BadName(pos)),
        }
    }
}

/// Printable ASCII as is, other bytes as `\xNN` (Zeek's escaping).
fn escape_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

pub fn qtype_name(t: u16) -> String {
    let name = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        24 => "SIG",
        25 => "KEY",
        28 => "AAAA",
        29 => "LOC",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        44 => "SSHFP",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        255 => "*",
        256 => "URI",
        257 => "CAA",
        _ => return format!("query-{t}"),
    };
    name.to_string()
}

pub fn qclass_name(c: u16) -> String {
    match c {
        1 => "C_INTERNET".to_string(),
        3 => "C_CHAOS".to_string(),
        4 => "C_HESIOD".to_string(),
        254 => "C_NONE".to_string(),
        255 => "C_ANY".to_string(),
        _ => format!("qclass-{c}"),
    }
}

pub fn rcode_name(r: u8) -> &'static str {
    match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "unknown",
    }
}

/// A strict plausibility check for DNS on a port that is not DNS's: one question, a sane
/// opcode, and names that parse. Keeps the sensor from inventing DNS records out of noise.
pub fn looks_like_dns(msg: &[u8]) -> bool {
    match parse(msg) {
        Ok(m) => {
            m.error.is_none()
                && m.questions.len() == 1
                && m.opcode() == 0
                && !m.questions[0].name.is_empty()
                && m.questions[0].qclass == 1
                && !m.questions[0].name.contains("\\x")
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response for www.example.com: CNAME to example.com, then an A record, compressed.
    fn response() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        // CNAME: name -> pointer to offset 12; rdata -> pointer to "example.com" at 16.
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 2, 0xc0, 16]);
        m.extend_from_slice(&[0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34]);
        m
    }

    #[test]
    fn parses_compressed_response() {
        let m = parse(&response()).unwrap();
        assert_eq!(m.id, 0x1234);
        assert!(m.is_response() && m.rd() && m.ra());
        assert_eq!(m.questions[0].name, "www.example.com");
        assert_eq!(m.answers.len(), 2);
        assert_eq!(m.answers[0].data.as_deref(), Some("example.com"));
        assert_eq!(m.answers[0].ttl, 3600);
        assert_eq!(m.answers[1].data.as_deref(), Some("93.184.216.34"));
        assert_eq!(m.error, None);
    }

    #[test]
    fn compression_loop_is_refused() {
        let mut m = vec![0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        // A pointer to itself, and one that points forward.
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(parse(&m), Err(DnsError::BadName(12)));
        let mut fwd = vec![0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        fwd.extend_from_slice(&[0xc0, 14, 0x01, b'a', 0, 0, 1, 0, 1]);
        assert_eq!(parse(&fwd), Err(DnsError::BadName(12)));
    }

    #[test]
    fn corrupt_answers_keep_the_question() {
        let mut m = response();
        m.truncate(m.len() - 3);
        let parsed = parse(&m).unwrap();
        assert_eq!(parsed.questions[0].name, "www.example.com");
        assert_eq!(parsed.answers.len(), 1);
        assert!(matches!(parsed.error, Some(DnsError::Truncated(_))));
    }

    #[test]
    fn txt_mx_srv_and_escaping() {
        let mut m = vec![0, 9, 0x81, 0x80, 0, 0, 0, 3, 0, 0, 0, 0];
        m.extend_from_slice(b"\x01a\x00\x00\x10\x00\x01\x00\x00\x00\x05\x00\x06\x02hi\x02\xffx");
        m.extend_from_slice(b"\x00\x00\x0f\x00\x01\x00\x00\x00\x05\x00\x05\x00\x0a\x01m\x00");
        m.extend_from_slice(b"\x00\x00\x21\x00\x01\x00\x00\x00\x05\x00\x09\x00\x01\x00\x02\x01\xbb\x01s\x00");
        let parsed = parse(&m).unwrap();
        let data: Vec<_> = parsed.answers.iter().map(|a| a.data.as_deref().unwrap()).collect();
        // Each character-string of a TXT record on its own, as Zeek writes them.
        assert_eq!(data, ["TXT 2 hi TXT 2 \\xffx", "m", "s"]);
    }

    /// One answer record with an uncompressed owner name.
    fn rr(owner: &[u8], rtype: u16, rdata: &[u8]) -> Vec<u8> {
        let mut r = owner.to_vec();
        r.extend_from_slice(&rtype.to_be_bytes());
        r.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(rdata);
        r
    }

    /// DNSSEC and the other named types as Zeek's DNS script writes them.
    #[test]
    fn named_types_render_as_zeek_writes_them() {
        let owner = b"\x01a\x07example\x00";
        let mut rrsig = vec![0, 1, 8, 2, 0, 0, 0x0e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34];
        rrsig.extend_from_slice(b"\x07example\x00\xde\xad");
        let mut root_rrsig = rrsig[..18].to_vec();
        root_rrsig.extend_from_slice(b"\x00\xbe\xef");
        root_rrsig[1] = 48;
        let records: Vec<(u16, Vec<u8>)> = vec![
            (46, rrsig),
            (46, root_rrsig),
            (48, vec![1, 1, 3, 8, 0xaa, 0xbb]),
            (43, vec![0x12, 0x34, 8, 2, 0xcc]),
            (47, b"\x01b\x07example\x00\x00\x01\x40".to_vec()),
            (99, b"\x0bv=spf1 -all\x04test".to_vec()),
            (44, vec![1, 2, 0xab, 0xcd]),
            (30, vec![1, 2, 3]),
            (13, b"\x03x86\x05Linux".to_vec()),
            (50, vec![1, 0, 0, 0]),
        ];
        let mut m = vec![0, 7, 0x81, 0x80, 0, 0, 0, records.len() as u8, 0, 0, 0, 0];
        for (t, data) in &records {
            m.extend_from_slice(&rr(owner, *t, data));
        }
        let parsed = parse(&m).unwrap();
        assert_eq!(parsed.error, None);
        let data: Vec<Option<&str>> = parsed.answers.iter().map(|a| a.data.as_deref()).collect();
        assert_eq!(
            data,
            [
                Some("RRSIG 1 example"),
                Some("RRSIG 48 <Root>"),
                Some("DNSKEY 8"),
                Some("DS 8 2"),
                Some("NSEC a.example b.example"),
                Some("SPF 11 v=spf1 -all SPF 4 test"),
                Some("SSHFP: abcd"),
                // NXT (obsolete): Zeek has no parser for it.
                Some("<unknown type=30>"),
                // HINFO: parsed by Zeek, logged by none of its scripts.
                None,
                Some("NSEC3"),
            ]
        );
    }

    #[test]
    fn long_names_are_refused() {
        let mut m = vec![0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for _ in 0..5 {
            m.push(63);
            m.extend_from_slice(&[b'a'; 63]);
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert!(matches!(parse(&m), Err(DnsError::BadName(_))));
        assert!(parse(&[0u8; 5]).is_err());
    }
}
