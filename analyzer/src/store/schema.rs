//! The fields of the event index, and how a record (any flat JSON object: a sensor's record, an
//! alert, later a host log line) becomes a tantivy document.
//!
//! - `ts`: date, microseconds, fast (time ranges, newest first);
//! - `_type`, `_sensor`, `_org`, `uid`, `community_id`, `rule_id`, `severity`: exact strings,
//!   fast (filters, terms aggregations);
//! - `id.orig_h`, `id.resp_h`: IP addresses, fast (points, ranges, CIDR);
//! - `id.orig_p`, `id.resp_p`: integers, fast (ranges);
//! - `query`, `host`, `uri`, `user_agent`, `server_name`, `filename`, `message`, `title`: text,
//!   lower-cased words, with positions for phrases;
//! - every other field in the JSON field `extra` (text, lower-cased words), where the query
//!   language finds it under its own name (`method:POST` reads `extra.method`);
//! - `_raw`: the whole record as JSON, stored (what a search returns);
//! - `_id`: the record's id, for replacing a record ingested twice.

use std::net::{IpAddr, Ipv6Addr};

use serde_json::{Map, Value};
use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, INDEXED, JsonObjectOptions, STORED, STRING, Schema, TEXT,
};
use tantivy::{DateTime, TantivyDocument};

/// Exact strings, fast.
pub const KEYWORDS: [&str; 7] = ["_type", "_sensor", "_org", "uid", "community_id", "rule_id", "severity"];
/// IP addresses, fast.
pub const ADDRESSES: [&str; 2] = ["id.orig_h", "id.resp_h"];
/// Integers, fast.
pub const PORTS: [&str; 2] = ["id.orig_p", "id.resp_p"];
/// Words analysts type.
pub const TEXTS: [&str; 8] = ["query", "host", "uri", "user_agent", "server_name", "filename", "message", "title"];

/// The schema and its fields by role.
#[derive(Clone)]
pub struct Fields {
    pub schema: Schema,
    pub id: Field,
    pub ts: Field,
    pub extra: Field,
    pub raw: Field,
    keywords: Vec<(&'static str, Field)>,
    addresses: Vec<(&'static str, Field)>,
    ports: Vec<(&'static str, Field)>,
    texts: Vec<(&'static str, Field)>,
}

impl Default for Fields {
    fn default() -> Self {
        Self::new()
    }
}

impl Fields {
    pub fn new() -> Self {
        let mut b = Schema::builder();
        let id = b.add_text_field("_id", STRING);
        let ts = b.add_date_field(
            "ts",
            DateOptions::default().set_indexed().set_fast().set_precision(DateTimePrecision::Microseconds),
        );
        let keywords = KEYWORDS.iter().map(|n| (*n, b.add_text_field(n, STRING | FAST))).collect();
        let addresses = ADDRESSES.iter().map(|n| (*n, b.add_ip_addr_field(n, INDEXED | FAST))).collect();
        let ports = PORTS.iter().map(|n| (*n, b.add_u64_field(n, INDEXED | FAST))).collect();
        let texts = TEXTS.iter().map(|n| (*n, b.add_text_field(n, TEXT))).collect();
        let extra = b.add_json_field("extra", JsonObjectOptions::from(TEXT));
        let raw = b.add_text_field("_raw", STORED);
        Self { schema: b.build(), id, ts, extra, raw, keywords, addresses, ports, texts }
    }

    /// Whether `name` is a field of its own (not under `extra`).
    pub fn is_own(&self, name: &str) -> bool {
        self.schema.get_field(name).is_ok()
    }

    /// The document of a record; `raw` is its JSON text, `id` its id. `None` without a `ts`.
    pub fn document(&self, id: &str, record: &Map<String, Value>, raw: &str) -> Option<TantivyDocument> {
        let ts = timestamp(record.get("ts")?)?;
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, id);
        doc.add_date(self.ts, ts);
        doc.add_text(self.raw, raw);
        let mut extra = std::collections::BTreeMap::new();
        for (name, value) in record {
            if name == "ts" {
                continue;
            }
            if let Some((_, f)) = self.keywords.iter().find(|(n, _)| n == name) {
                if let Some(s) = value.as_str() {
                    doc.add_text(*f, s);
                }
            } else if let Some((_, f)) = self.addresses.iter().find(|(n, _)| n == name) {
                if let Some(ip) = value.as_str().and_then(|s| s.parse::<IpAddr>().ok()) {
                    doc.add_ip_addr(*f, ipv6(ip));
                }
            } else if let Some((_, f)) = self.ports.iter().find(|(n, _)| n == name) {
                if let Some(p) = value.as_u64() {
                    doc.add_u64(*f, p);
                }
            } else if let Some((_, f)) = self.texts.iter().find(|(n, _)| n == name) {
                match value {
                    Value::String(s) => doc.add_text(*f, s),
                    Value::Array(items) => items.iter().filter_map(Value::as_str).for_each(|s| doc.add_text(*f, s)),
                    _ => {}
                }
            } else if !value.is_null() {
                extra.insert(name.clone(), tantivy::schema::OwnedValue::from(value.clone()));
            }
        }
        if !extra.is_empty() {
            doc.add_object(self.extra, extra);
        }
        Some(doc)
    }
}

/// An address as tantivy keeps it (IPv4 mapped into IPv6).
pub fn ipv6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// A record's `ts` (seconds since the epoch, with fractions) as a date.
pub fn timestamp(v: &Value) -> Option<DateTime> {
    let secs = v.as_f64()?;
    (secs.is_finite() && secs >= 0.0).then(|| DateTime::from_timestamp_micros((secs * 1e6).round() as i64))
}
