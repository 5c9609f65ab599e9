//! TLS handshake parsing: ClientHello (SNI, versions, ciphers, ALPN; JA3 and JA4),
//! ServerHello (chosen version and cipher; JA3S) and certificates (TLS ≤ 1.2 sends them in
//! clear). Messages are parsed with `tls-parser` and certificates with `x509-parser`; the
//! extension list is walked here so that fingerprints see every extension id, in order, even
//! when one extension's body is malformed.

use md5::{Digest as _, Md5};
use sha1::Sha1;
use sha2::Sha256;
use tls_parser::{TlsMessage, TlsMessageHandshake};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CONTENT_ALERT: u8 = 21;
pub const CONTENT_HANDSHAKE: u8 = 22;
pub const CONTENT_APPLICATION_DATA: u8 = 23;

const EXT_SNI: u16 = 0x0000;
const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
const EXT_EC_POINT_FORMATS: u16 = 0x000b;
const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
const EXT_ALPN: u16 = 0x0010;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;

/// GREASE values (RFC 8701) are random placeholders that fingerprints must ignore.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    pub version: u16,
    pub ciphers: Vec<u16>,
    pub extensions: Vec<u16>,
    pub server_name: Option<String>,
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub supported_versions: Vec<u16>,
    pub alpn: Vec<String>,
    pub signature_algorithms: Vec<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// The version in force: supported_versions when present (TLS 1.3), else the legacy field.
    pub version: u16,
    pub cipher: u16,
    pub extensions: Vec<u16>,
    pub alpn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Certificate {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    pub san_dns: Vec<String>,
    pub sha1: String,
}

/// A parsed handshake message of interest.
#[derive(Debug, Clone, PartialEq)]
pub enum Handshake {
    ClientHello(ClientHello),
    ServerHello(ServerHello),
    Certificates(Vec<Certificate>),
    Other,
}

/// Splits a handshake byte stream into messages: returns complete messages (type, whole
/// message with its 4-byte header) and how many bytes they took.
pub fn split_messages(buf: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut out = Vec::new();
    let mut pos = 0;
    while buf.len() >= pos + 4 {
        let len = (usize::from(buf[pos + 1]) << 16) | (usize::from(buf[pos + 2]) << 8) | usize::from(buf[pos + 3]);
        if buf.len() < pos + 4 + len {
            break;
        }
        out.push(&buf[pos..pos + 4 + len]);
        pos += 4 + len;
    }
    (out, pos)
}

/// Parses one handshake message (with its 4-byte header).
pub fn parse_handshake(msg: &[u8]) -> Handshake {
    match tls_parser::parse_tls_message_handshake(msg) {
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)))) => {
            let mut hello = ClientHello {
                version: ch.version.0,
                ciphers: ch.ciphers.iter().map(|c| c.0).collect(),
                ..Default::default()
            };
            for (id, body) in walk_extensions(ch.ext.unwrap_or(&[])) {
                hello.extensions.push(id);
                client_extension(&mut hello, id, body);
            }
            Handshake::ClientHello(hello)
        }
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh)))) => {
            let mut hello = ServerHello { version: sh.version.0, cipher: sh.cipher.0, ..Default::default() };
            for (id, body) in walk_extensions(sh.ext.unwrap_or(&[])) {
                hello.extensions.push(id);
                match id {
                    EXT_SUPPORTED_VERSIONS if body.len() == 2 => hello.version = u16::from_be_bytes([body[0], body[1]]),
                    EXT_ALPN => hello.alpn = string_list(body).into_iter().next(),
                    _ => {}
                }
            }
            Handshake::ServerHello(hello)
        }
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::Certificate(c)))) => {
            Handshake::Certificates(c.cert_chain.iter().filter_map(|raw| certificate(raw.data)).collect())
        }
        _ => Handshake::Other,
    }
}

/// (id, body) of each extension in an extensions block, in order; stops at the first
/// malformed length.
fn walk_extensions(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let id = u16::from_be_bytes([b[0], b[1]]);
        let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        let Some(body) = b.get(4..4 + len) else { break };
        out.push((id, body));
        b = &b[4 + len..];
    }
    out
}

/// The u16 items of a list with a `prefix`-byte length (1 or 2), as in supported_groups,
/// signature_algorithms (2) and supported_versions (1).
fn u16_list(body: &[u8], prefix: usize) -> Vec<u16> {
    body.get(prefix..).unwrap_or(&[]).chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect()
}

/// The strings of a list of 1-byte-length strings after a 2-byte list length (ALPN).
fn string_list(body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 2;
    while let Some(&n) = body.get(i) {
        let Some(s) = body.get(i + 1..i + 1 + usize::from(n)) else { break };
        out.push(String::from_utf8_lossy(s).into_owned());
        i += 1 + usize::from(n);
    }
    out
}

/// The host_name entry of a server_name extension.
fn server_name(body: &[u8]) -> Option<String> {
    let mut i = 2;
    while i + 3 <= body.len() {
        let n = usize::from(u16::from_be_bytes([body[i + 1], body[i + 2]]));
        let name = body.get(i + 3..i + 3 + n)?;
        if body[i] == 0 {
            return Some(String::from_utf8_lossy(name).into_owned());
        }
        i += 3 + n;
    }
    None
}

fn client_extension(hello: &mut ClientHello, id: u16, body: &[u8]) {
    match id {
        EXT_SNI => hello.server_name = server_name(body),
        EXT_SUPPORTED_GROUPS => hello.groups = u16_list(body, 2),
        EXT_EC_POINT_FORMATS => hello.point_formats = body.get(1..).unwrap_or(&[]).to_vec(),
        EXT_SIGNATURE_ALGORITHMS => hello.signature_algorithms = u16_list(body, 2),
        EXT_SUPPORTED_VERSIONS => hello.supported_versions = u16_list(body, 1),
        EXT_ALPN => hello.alpn = string_list(body),
        _ => {}
    }
}

fn join<T: ToString>(items: impl Iterator<Item = T>, sep: &str) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(sep)
}

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

impl ClientHello {
    /// JA3: version, ciphers, extensions, groups, point formats — GREASE removed.
    pub fn ja3_string(&self) -> String {
        let keep = |v: &&u16| !is_grease(**v);
        format!(
            "{},{},{},{},{}",
            self.version,
            join(self.ciphers.iter().filter(keep), "-"),
            join(self.extensions.iter().filter(keep), "-"),
            join(self.groups.iter().filter(keep), "-"),
            join(self.point_formats.iter(), "-"),
        )
    }

    pub fn ja3(&self) -> String {
        md5_hex(&self.ja3_string())
    }

    /// The highest version offered: supported_versions when present, else the legacy field.
    pub fn max_version(&self) -> u16 {
        self.supported_versions.iter().copied().filter(|v| !is_grease(*v)).max().unwrap_or(self.version)
    }

    /// JA4 (FoxIO, BSD-3): `t13d1516h2_<sorted ciphers hash>_<sorted extensions + sigalgs hash>`.
    pub fn ja4(&self) -> String {
        self.ja4_over('t')
    }

    /// JA4 with the transport's letter: `t` for TCP, `q` for QUIC.
    pub fn ja4_over(&self, transport: char) -> String {
        let version = match self.max_version() {
            0x0304 => "13",
            0x0303 => "12",
            0x0302 => "11",
            0x0301 => "10",
            0x0300 => "s3",
            0x0002 => "s2",
            0xfeff => "d1",
            0xfefd => "d2",
            0xfefc => "d3",
            _ => "00",
        };
        let sni = if self.extensions.contains(&EXT_SNI) { 'd' } else { 'i' };
        let ciphers: Vec<u16> = self.ciphers.iter().copied().filter(|c| !is_grease(*c)).collect();
        let exts: Vec<u16> = self.extensions.iter().copied().filter(|e| !is_grease(*e)).collect();
        let alpn = match self.alpn.first().map(|s| s.as_bytes()) {
            Some([first, .., last]) if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() => {
                format!("{}{}", *first as char, *last as char)
            }
            Some([single]) if single.is_ascii_alphanumeric() => format!("{0}{0}", *single as char),
            Some(b) if !b.is_empty() => {
                let h = hex::encode(b);
                format!("{}{}", &h[..1], &h[h.len() - 1..])
            }
            _ => "00".to_string(),
        };
        let hash12 = |s: &str| {
            if s.is_empty() {
                "000000000000".to_string()
            } else {
                hex::encode(Sha256::digest(s.as_bytes()))[..12].to_string()
            }
        };
        let mut sorted_ciphers = ciphers.clone();
        sorted_ciphers.sort_unstable();
        let cipher_list = join(sorted_ciphers.iter().map(|c| format!("{c:04x}")), ",");
        let mut sorted_exts: Vec<u16> = exts.iter().copied().filter(|e| *e != EXT_SNI && *e != EXT_ALPN).collect();
        sorted_exts.sort_unstable();
        let mut ext_list = join(sorted_exts.iter().map(|e| format!("{e:04x}")), ",");
        if !self.signature_algorithms.is_empty() && !ext_list.is_empty() {
            ext_list.push('_');
            ext_list.push_str(&join(self.signature_algorithms.iter().map(|s| format!("{s:04x}")), ","));
        }
        format!(
            "{transport}{version}{sni}{:02}{:02}{alpn}_{}_{}",
            ciphers.len().min(99),
            exts.len().min(99),
            hash12(&cipher_list),
            hash12(&ext_list)
        )
    }
}

impl ServerHello {
    /// JA3S: version, cipher, extensions.
    pub fn ja3s(&self, legacy_version: u16) -> String {
        md5_hex(&format!("{},{},{}", legacy_version, self.cipher, join(self.extensions.iter(), "-")))
    }
}

/// Zeek's version names.
pub fn version_name(v: u16) -> String {
    match v {
        0x0002 => "SSLv2".into(),
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv10".into(),
        0x0302 => "TLSv11".into(),
        0x0303 => "TLSv12".into(),
        0x0304 => "TLSv13".into(),
        0xfeff => "DTLSv10".into(),
        0xfefd => "DTLSv12".into(),
        0xfefc => "DTLSv13".into(),
        v if v >> 8 == 0x7f => format!("TLSv13-draft{}", v & 0xff),
        v => format!("unknown-{v}"),
    }
}

pub fn cipher_name(id: u16) -> String {
    tls_parser::TlsCipherSuite::from_id(id).map_or_else(|| format!("unknown-{id}"), |c| c.name.to_string())
}

pub fn group_name(id: u16) -> Option<String> {
    Some(
        match id {
            23 => "secp256r1",
            24 => "secp384r1",
            25 => "secp521r1",
            29 => "x25519",
            30 => "x448",
            0x11ec => "X25519MLKEM768",
            _ => return None,
        }
        .to_string(),
    )
}

/// A distinguished name as Zeek writes it: most specific first, comma-separated.
fn dn(name: &x509_parser::x509::X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let mut parts: Vec<String> = Vec::new();
    for rdn in name.iter_rdn() {
        for attr in rdn.iter() {
            let key = x509_parser::objects::oid2abbrev(attr.attr_type(), registry)
                .map(|s| s.to_string())
                .unwrap_or_else(|_| attr.attr_type().to_id_string());
            let value = attr.as_str().map(|s| s.to_string()).unwrap_or_else(|_| hex::encode(attr.attr_value().data));
            parts.push(format!("{key}={value}"));
        }
    }
    parts.reverse();
    parts.join(",")
}

/// Parses one DER certificate; `None` if it is not one.
pub fn certificate(der: &[u8]) -> Option<Certificate> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut san_dns = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(d) = name {
                san_dns.push(d.to_string());
            }
        }
    }
    Some(Certificate {
        subject: dn(cert.subject()),
        issuer: dn(cert.issuer()),
        serial: cert.raw_serial_as_string().replace(':', "").to_uppercase(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        san_dns,
        sha1: hex::encode(Sha1::digest(der)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello for example.com with GREASE, ALPN h2/http1.1 and TLS 1.3 offered.
    pub(crate) fn client_hello() -> Vec<u8> {
        let mut ext = Vec::new();
        let mut push = |id: u16, body: &[u8]| {
            ext.extend_from_slice(&id.to_be_bytes());
            ext.extend_from_slice(&(body.len() as u16).to_be_bytes());
            ext.extend_from_slice(body);
        };
        push(0x1a1a, b"");
        push(0x0000, b"\x00\x0e\x00\x00\x0bexample.com");
        push(0x000a, b"\x00\x06\x2a\x2a\x00\x1d\x00\x17");
        push(0x000b, b"\x01\x00");
        push(0x000d, b"\x00\x04\x04\x03\x08\x04");
        push(0x0010, b"\x00\x0c\x02h2\x08http/1.1");
        push(0x002b, b"\x06\x3a\x3a\x03\x04\x03\x03");
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[7u8; 32]);
        body.push(0);
        body.extend_from_slice(&[0x00, 0x08, 0x4a, 0x4a, 0x13, 0x01, 0xc0, 0x2f, 0x00, 0x9c]);
        body.extend_from_slice(&[0x01, 0x00]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut msg = vec![0x01, 0, (body.len() >> 8) as u8, body.len() as u8];
        msg.extend_from_slice(&body);
        msg
    }

    #[test]
    fn client_hello_fields_and_fingerprints() {
        let Handshake::ClientHello(ch) = parse_handshake(&client_hello()) else { panic!("not a ClientHello") };
        assert_eq!(ch.server_name.as_deref(), Some("example.com"));
        assert_eq!(ch.alpn, ["h2", "http/1.1"]);
        assert_eq!(ch.supported_versions, [0x3a3a, 0x0304, 0x0303]);
        assert_eq!(ch.max_version(), 0x0304);
        assert_eq!(ch.ja3_string(), "771,4865-49199-156,0-10-11-13-16-43,29-23,0");
        // Counted by hand: 3 ciphers and 6 extensions without GREASE; ALPN "h2".
        assert!(ch.ja4().starts_with("t13d0306h2_"), "{}", ch.ja4());
        let b = &ch.ja4()[11..23];
        assert_eq!(b, &hex::encode(Sha256::digest(b"009c,1301,c02f"))[..12]);
    }

    #[test]
    fn malformed_hellos_do_not_panic() {
        let full = client_hello();
        for cut in 0..full.len() {
            let _ = parse_handshake(&full[..cut]);
        }
        let (msgs, used) = split_messages(&full);
        assert_eq!((msgs.len(), used), (1, full.len()));
        assert_eq!(split_messages(&full[..full.len() - 1]).1, 0);
    }

    #[test]
    fn certificate_fields() {
        // The test leaf certificate the traffic generator serves (traffic/data/leaf.der).
        let c = certificate(include_bytes!("../../../traffic/data/leaf.der")).expect("a certificate");
        assert_eq!(c.subject, "CN=dichvucong.tinh.gov.vn,O=Cong Dich vu cong,ST=Ha Noi,C=VN");
        assert_eq!(c.issuer, "CN=Canh Test Root CA,O=Canh Test CA,C=VN");
        assert_eq!(c.serial, "1A2B3C");
        assert_eq!(c.san_dns, ["dichvucong.tinh.gov.vn", "motcua.tinh.gov.vn"]);
        assert_eq!(c.sha1, "42f236bb47ebf9ef74d2b9663b36248c11f84e28");
        assert_eq!(c.not_after - c.not_before, 3650 * 86400);
        assert!(certificate(b"not DER").is_none());
    }

    #[test]
    fn server_hello_tls13_version_from_extension() {
        // ServerHello: legacy 1.2, cipher 0x1301, supported_versions = 1.3.
        let mut body = vec![3, 3];
        body.extend_from_slice(&[1u8; 32]);
        body.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4]);
        let mut msg = vec![2, 0, 0, body.len() as u8];
        msg.extend_from_slice(&body);
        let Handshake::ServerHello(sh) = parse_handshake(&msg) else { panic!("not a ServerHello") };
        assert_eq!((sh.version, sh.cipher, sh.extensions.as_slice()), (0x0304, 0x1301, [0x002b].as_slice()));
        assert_eq!(version_name(sh.version), "TLSv13");
        assert_eq!(cipher_name(sh.cipher), "TLS_AES_128_GCM_SHA256");
    }

    #[test]
    fn grease_detection() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa));
        assert!(!is_grease(0x0a0b) && !is_grease(0x1301));
    }
}
