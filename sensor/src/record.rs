//! Records: the structured events the sensor emits, with Zeek's field names (flat dotted keys)
//! plus Canh's `_type`, `_sensor`, `_org` and `community_id`. Serialized as one JSON object per
//! line; the analyzer's Sigma rules and the event index read exactly these names.

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

/// The log types of the sensor, one NDJSON file each. The declaration order is the order of
/// `ALL` (and so of per-type arrays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogType {
    Conn,
    Dns,
    Http,
    Ssl,
    Files,
}

impl LogType {
    pub const ALL: [LogType; 5] = [Self::Conn, Self::Dns, Self::Http, Self::Ssl, Self::Files];

    pub fn name(self) -> &'static str {
        match self {
            Self::Conn => "conn",
            Self::Dns => "dns",
            Self::Http => "http",
            Self::Ssl => "ssl",
            Self::Files => "files",
        }
    }
}

/// Who produced a record: the sensor's name and the organization (agency) it watches.
#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    #[serde(rename = "_sensor")]
    pub sensor: Arc<str>,
    #[serde(rename = "_org")]
    pub org: Arc<str>,
}

impl Default for Origin {
    fn default() -> Self {
        Self { sensor: Arc::from("canh"), org: Arc::from("local") }
    }
}

/// The fields every network record shares: when, which connection, and its endpoints.
#[derive(Debug, Clone, Serialize)]
pub struct Head {
    pub ts: f64,
    pub uid: Arc<str>,
    #[serde(rename = "id.orig_h")]
    pub orig_h: IpAddr,
    #[serde(rename = "id.orig_p")]
    pub orig_p: u16,
    #[serde(rename = "id.resp_h")]
    pub resp_h: IpAddr,
    #[serde(rename = "id.resp_p")]
    pub resp_p: u16,
    pub community_id: Arc<str>,
    #[serde(flatten)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    #[serde(flatten)]
    pub head: Head,
    #[serde(flatten)]
    pub body: Body,
}

impl Record {
    pub fn log_type(&self) -> LogType {
        match self.body {
            Body::Conn(_) => LogType::Conn,
            Body::Dns(_) => LogType::Dns,
            Body::Http(_) => LogType::Http,
            Body::Ssl(_) => LogType::Ssl,
            Body::Files(_) => LogType::Files,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "_type", rename_all = "lowercase")]
pub enum Body {
    Conn(Conn),
    Dns(Dns),
    Http(Http),
    Ssl(Ssl),
    Files(FileRecord),
}

/// conn.log
#[derive(Debug, Clone, Serialize, Default)]
pub struct Conn {
    pub proto: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<&'static str>,
    pub duration: f64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub conn_state: &'static str,
    pub missed_bytes: u64,
    pub history: String,
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
}

/// dns.log
#[derive(Debug, Clone, Serialize, Default)]
pub struct Dns {
    pub proto: &'static str,
    pub trans_id: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qclass: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qclass_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qtype: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qtype_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcode: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcode_name: Option<&'static str>,
    #[serde(rename = "AA")]
    pub aa: bool,
    #[serde(rename = "TC")]
    pub tc: bool,
    #[serde(rename = "RD")]
    pub rd: bool,
    #[serde(rename = "RA")]
    pub ra: bool,
    #[serde(rename = "Z")]
    pub z: u8,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<String>,
    #[serde(rename = "TTLs", skip_serializing_if = "Vec::is_empty")]
    pub ttls: Vec<f64>,
    pub rejected: bool,
}

/// http.log
#[derive(Debug, Clone, Serialize, Default)]
pub struct Http {
    pub trans_depth: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    pub request_body_len: u64,
    pub response_body_len: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_msg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info_msg: Option<String>,
    /// Zeek's `username`: the user of HTTP Basic authentication. The password is never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Canh: the scheme of the Authorization header (Basic, Bearer, Digest, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_scheme: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orig_fuids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orig_mime_types: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resp_fuids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resp_mime_types: Vec<String>,
}

/// ssl.log, with the first certificate's fields of Zeek's x509.log folded in.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Ssl {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    pub resumed: bool,
    pub established: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_protocol: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_alpn: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_versions: Vec<String>,
    /// Cipher suites the client offered (GREASE removed), by IANA name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_ciphers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3s: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_not_valid_before: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_not_valid_after: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub san_dns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cert_chain_fps: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<String>,
}

/// files.log: one artifact seen on the wire (an HTTP body, or the head of a TCP stream).
#[derive(Debug, Clone, Serialize, Default)]
pub struct FileRecord {
    pub fuid: String,
    /// "HTTP", or "TCP" for a stream head.
    pub source: &'static str,
    pub is_orig: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub duration: f64,
    pub seen_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<u64>,
    pub missing_bytes: u64,
    pub overflow_bytes: u64,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extracted: Option<String>,
}

/// A record head for unit tests of the modules that build records.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn head() -> Head {
        Head {
            ts: 0.0,
            uid: Arc::from("CtestUid"),
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p: 40000,
            resp_h: "10.0.0.2".parse().unwrap(),
            resp_p: 80,
            community_id: Arc::from("1:test"),
            origin: Origin::default(),
        }
    }
}
