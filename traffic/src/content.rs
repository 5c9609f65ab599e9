//! Application payloads for the generator: DNS messages, TLS handshakes, HTTP messages and the
//! documents an agency moves around (and must not leak).

use std::io::Write;
use std::net::Ipv4Addr;

use crate::citizens::{CCCD_PROVINCES, mobile_prefixes};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A DNS query (`response == None`) or response for `name`.
pub struct DnsAnswer {
    pub cname: Option<String>,
    pub addrs: Vec<Ipv4Addr>,
    pub rcode: u8,
}

fn push_name(buf: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        buf.push(label.len() as u8);
        buf.extend_from_slice(label.as_bytes());
    }
    buf.push(0);
}

pub fn dns_message(id: u16, name: &str, qtype: u16, answer: Option<&DnsAnswer>) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(&id.to_be_bytes());
    let (flags, ancount) = match answer {
        None => (0x0100u16, 0u16),
        Some(a) => (0x8180 | u16::from(a.rcode), a.addrs.len() as u16 + u16::from(a.cname.is_some())),
    };
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(&ancount.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    push_name(&mut m, name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    if let Some(a) = answer {
        // Answers point back at the question's name (offset 12).
        let mut owner: Vec<u8> = vec![0xc0, 12];
        if let Some(cname) = &a.cname {
            m.extend_from_slice(&owner);
            m.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0x0e, 0x10]);
            let at = m.len() + 2;
            let mut rdata = Vec::new();
            push_name(&mut rdata, cname);
            m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            m.extend_from_slice(&rdata);
            owner = vec![0xc0 | (at >> 8) as u8, at as u8];
        }
        for addr in &a.addrs {
            m.extend_from_slice(&owner);
            m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4]);
            m.extend_from_slice(&addr.octets());
        }
    }
    m
}

fn tls_record(content: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![kind, (body.len() >> 16) as u8, (body.len() >> 8) as u8, body.len() as u8];
    h.extend_from_slice(body);
    h
}

fn ext(out: &mut Vec<u8>, id: u16, body: &[u8]) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// Browser-like client profiles, so JA3/JA4 vary across the capture.
pub fn client_hello(rng: &mut ChaCha8Rng, sni: &str, profile: usize) -> Vec<u8> {
    let grease = 0x0a0a + 0x1010 * rng.random_range(0..15u16);
    let ciphers: &[u16] = match profile % 3 {
        0 => &[
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
            0x002f, 0x0035,
        ],
        1 => &[
            0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014,
            0x0033, 0x0039, 0x002f, 0x0035,
        ],
        _ => &[0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009e, 0x009f, 0xc027, 0xc028, 0x003c, 0x003d, 0x002f, 0x0035],
    };
    let mut body = vec![3, 3];
    let random: [u8; 32] = rng.random();
    body.extend_from_slice(&random);
    body.push(32);
    let sid: [u8; 32] = rng.random();
    body.extend_from_slice(&sid);
    let mut cs = Vec::new();
    if profile.is_multiple_of(3) {
        cs.extend_from_slice(&grease.to_be_bytes());
    }
    for c in ciphers {
        cs.extend_from_slice(&c.to_be_bytes());
    }
    body.extend_from_slice(&(cs.len() as u16).to_be_bytes());
    body.extend_from_slice(&cs);
    body.extend_from_slice(&[1, 0]);
    let mut e = Vec::new();
    if profile.is_multiple_of(3) {
        ext(&mut e, grease, &[]);
    }
    let mut sni_body = Vec::new();
    sni_body.extend_from_slice(&((sni.len() + 3) as u16).to_be_bytes());
    sni_body.push(0);
    sni_body.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sni_body.extend_from_slice(sni.as_bytes());
    ext(&mut e, 0x0000, &sni_body);
    ext(&mut e, 0x0017, &[]);
    ext(&mut e, 0xff01, &[0]);
    ext(&mut e, 0x000a, &[0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]);
    ext(&mut e, 0x000b, &[1, 0]);
    ext(&mut e, 0x0023, &[]);
    ext(&mut e, 0x0010, b"\x00\x0c\x02h2\x08http/1.1");
    ext(&mut e, 0x000d, &[0, 8, 4, 3, 8, 4, 4, 1, 5, 3]);
    if profile % 3 != 2 {
        let mut ks = vec![0, 0x26, 0, 0x1d, 0, 0x20];
        let key: [u8; 32] = rng.random();
        ks.extend_from_slice(&key);
        ext(&mut e, 0x0033, &ks);
        ext(&mut e, 0x002d, &[1, 1]);
        ext(&mut e, 0x002b, &[4, 3, 4, 3, 3]);
    }
    body.extend_from_slice(&(e.len() as u16).to_be_bytes());
    body.extend_from_slice(&e);
    tls_record(22, &handshake(1, &body))
}

/// The server's first flight. TLS 1.3: ServerHello, then encrypted records. TLS 1.2:
/// ServerHello, Certificate (the chain in clear), ServerHelloDone.
pub fn server_flight(rng: &mut ChaCha8Rng, tls13: bool, chain: &[&[u8]]) -> Vec<u8> {
    let mut body = vec![3, 3];
    let random: [u8; 32] = rng.random();
    body.extend_from_slice(&random);
    body.push(0);
    body.extend_from_slice(&(if tls13 { 0x1301u16 } else { 0xc02f }).to_be_bytes());
    body.push(0);
    let mut e = Vec::new();
    if tls13 {
        ext(&mut e, 0x002b, &[3, 4]);
        let mut ks = vec![0, 0x1d, 0, 0x20];
        let key: [u8; 32] = rng.random();
        ks.extend_from_slice(&key);
        ext(&mut e, 0x0033, &ks);
    } else {
        ext(&mut e, 0xff01, &[0]);
        ext(&mut e, 0x000b, &[1, 0]);
        ext(&mut e, 0x0010, b"\x00\x09\x08http/1.1");
    }
    body.extend_from_slice(&(e.len() as u16).to_be_bytes());
    body.extend_from_slice(&e);
    let mut out = tls_record(22, &handshake(2, &body));
    if tls13 {
        out.extend_from_slice(&tls_record(20, &[1]));
        out.extend_from_slice(&tls_record(23, &random_bytes(rng, 2400)));
    } else {
        let mut certs = Vec::new();
        for der in chain {
            certs.extend_from_slice(&[(der.len() >> 16) as u8, (der.len() >> 8) as u8, der.len() as u8]);
            certs.extend_from_slice(der);
        }
        let mut cbody = vec![(certs.len() >> 16) as u8, (certs.len() >> 8) as u8, certs.len() as u8];
        cbody.extend_from_slice(&certs);
        let mut flight = handshake(11, &cbody);
        flight.extend_from_slice(&handshake(14, &[]));
        out.extend_from_slice(&tls_record(22, &flight));
    }
    out
}

/// The client's finishing flight (TLS 1.2 key exchange or 1.3 Finished), then application data.
pub fn client_finish(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = tls_record(20, &[1]);
    out.extend_from_slice(&tls_record(23, &random_bytes(rng, 80)));
    out
}

/// Application data records totalling about `len` bytes.
pub fn app_data(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut left = len;
    while left > 0 {
        let n = left.min(16_384);
        out.extend_from_slice(&tls_record(23, &random_bytes(rng, n)));
        left -= n;
    }
    out
}

pub fn random_bytes(rng: &mut ChaCha8Rng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill(&mut v[..]);
    v
}

const WORDS: &[&str] = &[
    "ủy", "ban", "nhân", "dân", "tỉnh", "sở", "khoa", "học", "công", "nghệ", "văn", "bản", "hồ", "sơ", "thủ", "tục",
    "hành", "chính", "một", "cửa", "dịch", "vụ", "công", "trực", "tuyến", "báo", "cáo", "kế", "hoạch", "triển", "khai",
];

/// Vietnamese-looking text of about `n` bytes.
pub fn prose(rng: &mut ChaCha8Rng, n: usize) -> String {
    let mut s = String::with_capacity(n + 16);
    while s.len() < n {
        s.push_str(WORDS[rng.random_range(0..WORDS.len())]);
        s.push(if rng.random_range(0..12) == 0 { '\n' } else { ' ' });
    }
    s
}

pub fn html_page(rng: &mut ChaCha8Rng, title: &str, n: usize) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body><main><p>{}</p></main></body></html>\n",
        prose(rng, n)
    )
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}

pub fn chunked(data: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    for c in data.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A minimal but valid DOCX (Office Open XML) whose body carries the given paragraphs.
pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, String); 3] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#.to_string(),
        ),
        (
            "word/document.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{}</w:body></w:document>"#,
                paragraphs.iter().map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>")).collect::<String>()
            ),
        ),
    ];
    for (name, body) in parts {
        zip.start_file(name, opts).expect("in memory");
        zip.write_all(body.as_bytes()).expect("in memory");
    }
    zip.finish().expect("in memory").into_inner()
}

const SURNAMES: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"];
const GIVEN: &[&str] = &[
    "Văn An",
    "Thị Bình",
    "Minh Châu",
    "Quốc Dũng",
    "Thu Hà",
    "Đức Huy",
    "Thanh Lan",
    "Hữu Nam",
    "Ngọc Oanh",
    "Xuân Phúc",
];

/// A CSV of citizens with CCCD (citizen identity) numbers and mobile phone numbers, one of
/// each per row ([`crate::citizens`]).
pub fn cccd_csv(rng: &mut ChaCha8Rng, rows: usize) -> String {
    let prefixes: Vec<&str> = mobile_prefixes().collect();
    let mut s = String::from("ho_ten,so_cccd,ngay_sinh,so_dien_thoai\n");
    for _ in 0..rows {
        let province = CCCD_PROVINCES[rng.random_range(0..CCCD_PROVINCES.len())].0;
        let year: u32 = rng.random_range(1950..2006);
        let century_gender = if year < 2000 { rng.random_range(0..2) } else { 2 + rng.random_range(0..2) };
        s.push_str(&format!(
            "{} {},{}{}{:02}{:06},{:02}/{:02}/{},{}{:07}\n",
            SURNAMES[rng.random_range(0..SURNAMES.len())],
            GIVEN[rng.random_range(0..GIVEN.len())],
            province,
            century_gender,
            year % 100,
            rng.random_range(0..1_000_000),
            rng.random_range(1..29),
            rng.random_range(1..13),
            year,
            prefixes[rng.random_range(0..prefixes.len())],
            rng.random_range(0..10_000_000),
        ));
    }
    s
}
