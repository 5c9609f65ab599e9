//! Records: the structured events the sensor emits, with Zeek's field names (flat dotted keys)
//! plus Canh's `_type`, `_sensor`, `_org` and `community_id`. Serialized as one JSON object per
//! line.
//!
//! This module is the single source of every record field's name and [`Role`]: each type
//! declares its fields once with [`record_type!`](crate::record_type), and the NDJSON writer,
//! Sigma detection, the event store's schema and the field maps' tests read them from here
//! (see [`crate::schema`]). Adding a log type is one line in [`log_types!`] and its struct.

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::record_type;
use crate::schema::Unindexed::{Code, DnsHeader, Fraction, Measurement};
use crate::schema::{FieldSpec, Fields, Role, Value, Visit};

/// Names of the fields every network record shares, for code that reads them by name (the
/// event store's time order, filters by type and org).
pub mod names {
    pub const TS: &str = "ts";
    pub const UID: &str = "uid";
    pub const ORIG_H: &str = "id.orig_h";
    pub const ORIG_P: &str = "id.orig_p";
    pub const RESP_H: &str = "id.resp_h";
    pub const RESP_P: &str = "id.resp_p";
    pub const COMMUNITY_ID: &str = "community_id";
    pub const SENSOR: &str = "_sensor";
    pub const ORG: &str = "_org";
    /// The record's log type (`conn`, `dns`, …, `alert`).
    pub const TYPE: &str = "_type";
}

/// A client port: ranged over, rarely looked up by value, nearly a new value per record.
pub const CLIENT_PORT: Role = Role::Integer { term_index: false };
/// The service port: looked up by value (`id.resp_p:3389`), few values.
pub const SERVICE_PORT: Role = Role::Integer { term_index: true };
/// A byte count analysts range over (`orig_bytes:>10000000`).
const BYTE_COUNT: Role = Role::Integer { term_index: false };

/// Who produced a record: the sensor's name and the organization (agency) it watches.
#[derive(Debug, Clone)]
pub struct Origin {
    pub sensor: Arc<str>,
    pub org: Arc<str>,
}

impl Origin {
    /// The sensor name of records whose sensor was not named (`--sensor`, `CANH_SENSOR`).
    pub const DEFAULT_SENSOR: &str = "canh";
    /// The org of records whose org was not named (`--org`, `CANH_ORG`).
    pub const DEFAULT_ORG: &str = "local";
}

impl Default for Origin {
    fn default() -> Self {
        Self { sensor: Arc::from(Self::DEFAULT_SENSOR), org: Arc::from(Self::DEFAULT_ORG) }
    }
}

/// The fields every network record shares: when, which connection, and its endpoints.
#[derive(Debug, Clone)]
pub struct Head {
    /// Time of the event (for a connection, its first packet), seconds since the epoch.
    pub ts: f64,
    /// The connection's id, shared by every record about it ([`crate::ids::uid`]).
    pub uid: Arc<str>,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    /// Community ID v1 of the 5-tuple, to join with other tools' logs.
    pub community_id: Arc<str>,
    pub origin: Origin,
}

impl Head {
    /// The head of a record about a packet that never reached a connection (a weird of the
    /// decoder: a truncated IP header). It has no `uid`, endpoints or Community ID, and they
    /// are left out of its JSON, as in Zeek's `weird.log`.
    pub fn flowless(ts: f64, origin: Origin) -> Self {
        let nowhere = IpAddr::from([0, 0, 0, 0]);
        Self {
            ts,
            uid: Arc::from(""),
            orig_h: nowhere,
            orig_p: 0,
            resp_h: nowhere,
            resp_p: 0,
            community_id: Arc::from(""),
            origin,
        }
    }

    /// Whether the record is about a connection (every record but a flowless weird).
    pub fn has_connection(&self) -> bool {
        !self.uid.is_empty()
    }
}

impl Fields for Head {
    const FIELDS: &'static [FieldSpec] = &[
        FieldSpec { name: names::TS, role: Role::Time },
        FieldSpec { name: names::UID, role: Role::Keyword },
        FieldSpec { name: names::ORIG_H, role: Role::Address },
        FieldSpec { name: names::ORIG_P, role: CLIENT_PORT },
        FieldSpec { name: names::RESP_H, role: Role::Address },
        FieldSpec { name: names::RESP_P, role: SERVICE_PORT },
        FieldSpec { name: names::COMMUNITY_ID, role: Role::Keyword },
        FieldSpec { name: names::SENSOR, role: Role::Keyword },
        FieldSpec { name: names::ORG, role: Role::Keyword },
    ];

    fn visit(&self, offset: usize, v: &mut impl Visit) {
        v.field(offset, names::TS, Value::F64(self.ts));
        if self.has_connection() {
            v.field(offset + 1, names::UID, Value::Str(&self.uid));
            v.field(offset + 2, names::ORIG_H, Value::Addr(self.orig_h));
            v.field(offset + 3, names::ORIG_P, Value::U64(self.orig_p.into()));
            v.field(offset + 4, names::RESP_H, Value::Addr(self.resp_h));
            v.field(offset + 5, names::RESP_P, Value::U64(self.resp_p.into()));
            v.field(offset + 6, names::COMMUNITY_ID, Value::Str(&self.community_id));
        }
        v.field(offset + 7, names::SENSOR, Value::Str(&self.origin.sensor));
        v.field(offset + 8, names::ORG, Value::Str(&self.origin.org));
    }
}

/// The `_type` field, between the head and the body.
pub const TYPE_FIELD: FieldSpec = FieldSpec { name: names::TYPE, role: Role::Keyword };

/// Declares the log types: the [`LogType`] enum (its `ALL` and `COUNT` counted from the list),
/// and the [`Body`] enum of their records.
macro_rules! log_types {
    ($( $(#[$doc:meta])* $variant:ident($body:ident) = $name:literal, )*) => {
        /// The log types of the sensor, one NDJSON file each. The declaration order is the
        /// order of `ALL` (and so of per-type arrays).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum LogType {
            $( $(#[$doc])* $variant, )*
        }

        impl LogType {
            /// How many log types there are.
            pub const COUNT: usize = [$($name),*].len();
            pub const ALL: [LogType; Self::COUNT] = [$(Self::$variant),*];

            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                }
            }

            /// The body fields of this type's records (after the head and `_type`).
            pub fn body_fields(self) -> &'static [FieldSpec] {
                match self {
                    $( Self::$variant => <$body as Fields>::FIELDS, )*
                }
            }

            /// Position in per-type arrays (the order of [`LogType::ALL`]).
            pub fn index(self) -> usize {
                self as usize
            }
        }

        /// A record's own fields, by its log type.
        #[derive(Debug, Clone)]
        pub enum Body {
            $( $variant($body), )*
        }

        impl Body {
            pub fn log_type(&self) -> LogType {
                match self {
                    $( Self::$variant(_) => LogType::$variant, )*
                }
            }

            fn visit(&self, offset: usize, v: &mut impl Visit) {
                match self {
                    $( Self::$variant(b) => b.visit(offset, v), )*
                }
            }
        }
    };
}

log_types! {
    Conn(Conn) = "conn",
    Dns(Dns) = "dns",
    Http(Http) = "http",
    Ssl(Ssl) = "ssl",
    Files(FileRecord) = "files",
    Weird(Weird) = "weird",
    Tunnel(TunnelRecord) = "tunnel",
}

/// One record: the shared head, and the fields of its log type.
#[derive(Debug, Clone)]
pub struct Record {
    pub head: Head,
    pub body: Body,
}

impl Record {
    pub fn log_type(&self) -> LogType {
        self.body.log_type()
    }

    /// Every field a record of type `t` may have, in order: the head's, `_type`, the body's.
    /// A visitor's `index` is a place in this list.
    pub fn fields(t: LogType) -> impl Iterator<Item = &'static FieldSpec> {
        Head::FIELDS.iter().chain(std::iter::once(&TYPE_FIELD)).chain(t.body_fields())
    }

    /// Visits the present fields, in the order of [`Record::fields`].
    pub fn visit(&self, v: &mut impl Visit) {
        self.head.visit(0, v);
        let t = Head::FIELDS.len();
        v.field(t, names::TYPE, Value::Str(self.log_type().name()));
        self.body.visit(t + 1, v);
    }

    /// The value of the field `name` as text (lists joined with commas), if present.
    pub fn text_of(&self, name: &str) -> Option<String> {
        let mut found = None;
        self.visit(&mut |_, field: &'static str, value: Value<'_>| {
            if found.is_none() && field == name {
                found = Some(value.text());
            }
        });
        found
    }
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::schema::serialize_fields(s, |map| self.visit(map))
    }
}

record_type! {
    /// conn.log: one connection (a TCP session, a UDP or ICMP exchange).
    #[derive(Debug, Clone, Default)]
    pub struct Conn {
        /// Transport: tcp, udp, icmp.
        pub proto: &'static str => "proto", Role::Value;
        /// Application protocol, as detected from the content (http, ssl, dns, …).
        pub service: Option<&'static str> => "service", Role::Value;
        /// Seconds from the first packet to the last.
        pub duration: f64 => "duration", Role::Seconds;
        /// Payload bytes the originator sent (TCP: by sequence numbers).
        pub orig_bytes: u64 => "orig_bytes", BYTE_COUNT;
        pub resp_bytes: u64 => "resp_bytes", BYTE_COUNT;
        /// Zeek's connection state (S0, SF, REJ, RSTO, …).
        pub conn_state: &'static str => "conn_state", Role::Value;
        /// Bytes missed in gaps of the TCP streams.
        pub missed_bytes: u64 => "missed_bytes", Role::Unindexed(Measurement);
        /// Zeek's history letters (ShADadFf…).
        pub history: String => "history", Role::Value;
        pub orig_pkts: u64 => "orig_pkts", Role::Unindexed(Measurement);
        pub orig_ip_bytes: u64 => "orig_ip_bytes", Role::Unindexed(Measurement);
        pub resp_pkts: u64 => "resp_pkts", Role::Unindexed(Measurement);
        pub resp_ip_bytes: u64 => "resp_ip_bytes", Role::Unindexed(Measurement);
        /// The uids of the tunnels this connection was carried in (the outer flow of a UDP
        /// tunnel, or an IP/GRE tunnel's own uid), as in Zeek's conn.log.
        pub tunnel_parents: Vec<String> => "tunnel_parents", Role::Keyword;
    }
}

record_type! {
    /// tunnel.log: a tunnel seen carrying traffic (VXLAN, Geneve, GTP-U, Teredo, AYIYA, GRE,
    /// IP in IP). The head is the outer flow's; inner connections name its `uid` in their
    /// `tunnel_parents`.
    #[derive(Debug, Clone, Default)]
    pub struct TunnelRecord {
        /// Zeek's name of the type: `Tunnel::VXLAN`, `Tunnel::GENEVE`, `Tunnel::GTPv1`,
        /// `Tunnel::TEREDO`, `Tunnel::AYIYA`, `Tunnel::GRE`, `Tunnel::IP`.
        pub tunnel_type: &'static str => "tunnel_type", Role::Value;
        /// `Tunnel::DISCOVER` when first seen.
        pub action: &'static str => "action", Role::Value;
    }
}

record_type! {
    /// dns.log: one DNS transaction (a query and its answer, when seen).
    #[derive(Debug, Clone, Default)]
    pub struct Dns {
        /// Transport: udp or tcp.
        pub proto: &'static str => "proto", Role::Value;
        pub trans_id: u16 => "trans_id", Role::Unindexed(DnsHeader);
        /// Seconds from the query to the answer.
        pub rtt: Option<f64> => "rtt", Role::Unindexed(Fraction);
        pub query: Option<String> => "query", Role::Name;
        pub qclass: Option<u16> => "qclass", Role::Unindexed(Code { named: "qclass_name" });
        pub qclass_name: Option<String> => "qclass_name", Role::Value;
        pub qtype: Option<u16> => "qtype", Role::Unindexed(Code { named: "qtype_name" });
        pub qtype_name: Option<String> => "qtype_name", Role::Value;
        pub rcode: Option<u8> => "rcode", Role::Unindexed(Code { named: "rcode_name" });
        pub rcode_name: Option<&'static str> => "rcode_name", Role::Value;
        pub aa: bool => "AA", Role::Unindexed(DnsHeader);
        pub tc: bool => "TC", Role::Unindexed(DnsHeader);
        pub rd: bool => "RD", Role::Unindexed(DnsHeader);
        pub ra: bool => "RA", Role::Unindexed(DnsHeader);
        pub z: u8 => "Z", Role::Unindexed(DnsHeader);
        /// The answers' data (addresses, names, texts).
        pub answers: Vec<String> => "answers", Role::Value;
        #[doc = "Seconds each answer may be cached."]
        pub ttls: Vec<f64> => "TTLs", Role::Unindexed(Fraction);
        /// The server refused the query (REFUSED, or an answer to nothing asked).
        pub rejected: bool => "rejected", Role::Value;
    }
}

record_type! {
    /// http.log: one HTTP/1.x request and its response.
    #[derive(Debug, Clone, Default)]
    pub struct Http {
        /// The transaction's place in its connection (1, 2, … with keep-alive).
        pub trans_depth: u32 => "trans_depth", Role::Value;
        pub method: Option<String> => "method", Role::Value;
        pub host: Option<String> => "host", Role::Name;
        pub uri: Option<String> => "uri", Role::Text;
        pub referrer: Option<String> => "referrer", Role::Value;
        pub version: Option<String> => "version", Role::Value;
        pub user_agent: Option<String> => "user_agent", Role::Text;
        pub origin: Option<String> => "origin", Role::Value;
        /// Bytes of the request body, after transfer decoding.
        pub request_body_len: u64 => "request_body_len", Role::Unindexed(Measurement);
        pub response_body_len: u64 => "response_body_len", Role::Unindexed(Measurement);
        pub status_code: Option<u16> => "status_code", Role::Value;
        pub status_msg: Option<String> => "status_msg", Role::Value;
        /// The last 1xx status before the final one.
        pub info_code: Option<u16> => "info_code", Role::Value;
        pub info_msg: Option<String> => "info_msg", Role::Value;
        /// Zeek's `username`: the user of HTTP Basic authentication. The password is never logged.
        pub username: Option<String> => "username", Role::Value;
        /// Canh: the scheme of the Authorization header (Basic, Bearer, Digest, …).
        pub auth_scheme: Option<String> => "auth_scheme", Role::Value;
        /// The `fuid`s of the request's and the response's bodies, and their MIME types.
        pub orig_fuids: Vec<String> => "orig_fuids", Role::Value;
        pub orig_mime_types: Vec<String> => "orig_mime_types", Role::Value;
        pub resp_fuids: Vec<String> => "resp_fuids", Role::Value;
        pub resp_mime_types: Vec<String> => "resp_mime_types", Role::Value;
    }
}

record_type! {
    /// ssl.log: one TLS (or QUIC) handshake, with the first certificate's fields of Zeek's
    /// x509.log folded in.
    #[derive(Debug, Clone, Default)]
    pub struct Ssl {
        pub version: Option<String> => "version", Role::Value;
        pub cipher: Option<String> => "cipher", Role::Value;
        pub curve: Option<String> => "curve", Role::Value;
        /// The Server Name Indication the client sent.
        pub server_name: Option<String> => "server_name", Role::Name;
        pub resumed: bool => "resumed", Role::Value;
        pub established: bool => "established", Role::Value;
        /// The ALPN protocol the server chose.
        pub next_protocol: Option<String> => "next_protocol", Role::Value;
        pub client_alpn: Vec<String> => "client_alpn", Role::Value;
        pub client_versions: Vec<String> => "client_versions", Role::Value;
        /// Cipher suites the client offered (GREASE removed), by IANA name.
        pub client_ciphers: Vec<String> => "client_ciphers", Role::Value;
        pub ja3: Option<String> => "ja3", Role::Value;
        pub ja3s: Option<String> => "ja3s", Role::Value;
        pub ja4: Option<String> => "ja4", Role::Value;
        /// The server certificate's subject and issuer (RFC 4514).
        pub subject: Option<String> => "subject", Role::Value;
        pub issuer: Option<String> => "issuer", Role::Value;
        pub cert_serial: Option<String> => "cert_serial", Role::Value;
        pub cert_not_valid_before: Option<f64> => "cert_not_valid_before", Role::Unindexed(Fraction);
        pub cert_not_valid_after: Option<f64> => "cert_not_valid_after", Role::Unindexed(Fraction);
        pub san_dns: Vec<String> => "san_dns", Role::Value;
        /// SHA-256 fingerprints of the chain's certificates.
        pub cert_chain_fps: Vec<String> => "cert_chain_fps", Role::Value;
        pub validation_status: Option<String> => "validation_status", Role::Value;
    }
}

record_type! {
    /// files.log: one file seen on the wire (an HTTP body), hashed whole.
    #[derive(Debug, Clone, Default)]
    pub struct FileRecord {
        /// The file's id ([`crate::ids::fuid`]), named in its HTTP record's fuids.
        pub fuid: String => "fuid", Role::Value;
        /// The protocol that carried it: "HTTP".
        pub source: &'static str => "source", Role::Value;
        /// Sent by the connection's originator.
        pub is_orig: bool => "is_orig", Role::Value;
        /// Sniffed from the content, not taken from the headers.
        pub mime_type: Option<String> => "mime_type", Role::Value;
        pub filename: Option<String> => "filename", Role::Text;
        pub duration: f64 => "duration", Role::Seconds;
        pub seen_bytes: u64 => "seen_bytes", Role::Unindexed(Measurement);
        /// The size announced (Content-Length), when there was one.
        pub total_bytes: Option<u64> => "total_bytes", BYTE_COUNT;
        pub missing_bytes: u64 => "missing_bytes", Role::Unindexed(Measurement);
        /// Bytes past the decoding limit, hashed but not decoded.
        pub overflow_bytes: u64 => "overflow_bytes", Role::Unindexed(Measurement);
        pub md5: String => "md5", Role::Value;
        pub sha1: String => "sha1", Role::Value;
        pub sha256: String => "sha256", Role::Value;
        /// The name it was extracted under (`--extract-files`).
        pub extracted: Option<String> => "extracted", Role::Value;
    }
}

record_type! {
    /// weird.log: something unexpected on the wire — a malformed DNS message, an HTTP message
    /// framed two ways at once (request smuggling), a TLS record that does not parse, a
    /// truncated header. Parsers stop at such places; the record says where and why, which is
    /// where evasions hide. Names are Zeek's where Zeek has one.
    #[derive(Debug, Clone, Default)]
    pub struct Weird {
        /// What was unexpected (`bad_HTTP_request`, `HTTP_content_length_and_chunked`,
        /// `DNS_truncated_quest_too_short`, `truncated_IP`).
        pub name: &'static str => "name", Role::Value;
        /// More about it: the offending value, or where it was.
        pub addl: Option<String> => "addl", Role::Value;
        /// Whether it is also a notice; Canh's own weirds are not (rules raise alerts on them).
        pub notice: bool => "notice", Role::Value;
        /// The sensor that saw it (Zeek's node name).
        pub peer: Arc<str> => "peer", Role::Value;
        /// The layer that found it: a protocol analyzer (`DNS`, `HTTP`, `SSL`) or the packet
        /// decoder (`decoder`).
        pub source: &'static str => "source", Role::Value;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of each type with every field present.
    fn full(t: LogType) -> Record {
        let s = || Some("x".to_string());
        let v = || vec!["a".to_string(), "b".to_string()];
        let body = match t {
            LogType::Conn => Body::Conn(Conn { service: Some("http"), tunnel_parents: v(), ..Default::default() }),
            LogType::Dns => Body::Dns(Dns {
                rtt: Some(0.5),
                query: s(),
                qclass: Some(1),
                qclass_name: s(),
                qtype: Some(1),
                qtype_name: s(),
                rcode: Some(0),
                rcode_name: Some("NOERROR"),
                answers: v(),
                ttls: vec![60.0, 1.5],
                ..Default::default()
            }),
            LogType::Http => Body::Http(Http {
                method: s(),
                host: s(),
                uri: s(),
                referrer: s(),
                version: s(),
                user_agent: s(),
                origin: s(),
                status_code: Some(200),
                status_msg: s(),
                info_code: Some(100),
                info_msg: s(),
                username: s(),
                auth_scheme: s(),
                orig_fuids: v(),
                orig_mime_types: v(),
                resp_fuids: v(),
                resp_mime_types: v(),
                ..Default::default()
            }),
            LogType::Ssl => Body::Ssl(Ssl {
                version: s(),
                cipher: s(),
                curve: s(),
                server_name: s(),
                next_protocol: s(),
                client_alpn: v(),
                client_versions: v(),
                client_ciphers: v(),
                ja3: s(),
                ja3s: s(),
                ja4: s(),
                subject: s(),
                issuer: s(),
                cert_serial: s(),
                cert_not_valid_before: Some(1.0),
                cert_not_valid_after: Some(2.0),
                san_dns: v(),
                cert_chain_fps: v(),
                validation_status: s(),
                ..Default::default()
            }),
            LogType::Files => Body::Files(FileRecord {
                mime_type: s(),
                filename: s(),
                total_bytes: Some(5),
                extracted: s(),
                ..Default::default()
            }),
            LogType::Weird => Body::Weird(Weird { name: "x", addl: s(), ..Default::default() }),
            LogType::Tunnel => Body::Tunnel(TunnelRecord { tunnel_type: "Tunnel::VXLAN", action: "Tunnel::DISCOVER" }),
        };
        Record { head: tests_support::head(), body }
    }

    #[test]
    fn a_full_record_visits_and_writes_every_declared_field_in_order() {
        for t in LogType::ALL {
            let rec = full(t);
            let declared: Vec<&str> = Record::fields(t).map(|f| f.name).collect();
            let mut visited = Vec::new();
            rec.visit(&mut |i: usize, name: &'static str, _: Value<'_>| visited.push((i, name)));
            let expected: Vec<(usize, &str)> = declared.iter().copied().enumerate().collect();
            assert_eq!(visited, expected, "{}", t.name());
            let json: serde_json::Value = serde_json::to_value(&rec).unwrap();
            let written: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
            let mut sorted = declared.clone();
            sorted.sort();
            let mut written_sorted = written.clone();
            written_sorted.sort();
            assert_eq!(written_sorted, sorted, "{}", t.name());
        }
    }

    #[test]
    fn absent_fields_are_left_out_and_values_keep_their_json_types() {
        let rec =
            Record { head: tests_support::head(), body: Body::Dns(Dns { ttls: vec![60.0], ..Default::default() }) };
        let line = serde_json::to_string(&rec).unwrap();
        assert_eq!(
            line,
            r#"{"ts":0.0,"uid":"CtestUid","id.orig_h":"10.0.0.1","id.orig_p":40000,"id.resp_h":"10.0.0.2","id.resp_p":80,"community_id":"1:test","_sensor":"canh","_org":"local","_type":"dns","proto":"","trans_id":0,"AA":false,"TC":false,"RD":false,"RA":false,"Z":0,"TTLs":[60.0],"rejected":false}"#
        );
        assert_eq!(rec.text_of("TTLs").as_deref(), Some("60"));
        assert_eq!(rec.text_of("id.resp_p").as_deref(), Some("80"));
        assert_eq!(rec.text_of("query"), None);
    }

    #[test]
    fn a_flowless_record_leaves_out_the_connection() {
        let head = Head::flowless(1.5, Origin::default());
        let rec =
            Record { head, body: Body::Weird(Weird { name: "truncated_IP", source: "decoder", ..Default::default() }) };
        assert_eq!(
            serde_json::to_string(&rec).unwrap(),
            r#"{"ts":1.5,"_sensor":"canh","_org":"local","_type":"weird","name":"truncated_IP","notice":false,"peer":"","source":"decoder"}"#
        );
    }

    #[test]
    fn log_types_are_counted_from_the_enum() {
        assert_eq!(LogType::COUNT, LogType::ALL.len());
        for (i, t) in LogType::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
    }
}
