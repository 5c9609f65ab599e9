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
//! - `_id`: the record's id, for replacing a record ingested twice; `_seq`, 64 bits of it,
//!   fast: the tie-breaker that makes the order (newest first) total, for search-after.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};

use serde_json::{Map, Value};
use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, INDEXED, JsonObjectOptions, OwnedValue, STORED, STRING, Schema, TEXT,
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

/// How a record field of its own is indexed.
#[derive(Clone, Copy)]
enum Role {
    Keyword,
    Address,
    Port,
    Text,
}

/// The schema and its fields by role.
#[derive(Clone)]
pub struct Fields {
    pub schema: Schema,
    pub id: Field,
    pub seq: Field,
    pub ts: Field,
    pub extra: Field,
    pub raw: Field,
    /// Record field name → how it is indexed, and where; names not here go to `extra`.
    own: HashMap<&'static str, (Role, Field)>,
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
        let seq = b.add_u64_field("_seq", FAST);
        let ts = b.add_date_field(
            "ts",
            DateOptions::default().set_indexed().set_fast().set_precision(DateTimePrecision::Microseconds),
        );
        let mut own = HashMap::new();
        for n in KEYWORDS {
            own.insert(n, (Role::Keyword, b.add_text_field(n, STRING | FAST)));
        }
        for n in ADDRESSES {
            own.insert(n, (Role::Address, b.add_ip_addr_field(n, INDEXED | FAST)));
        }
        for n in PORTS {
            own.insert(n, (Role::Port, b.add_u64_field(n, INDEXED | FAST)));
        }
        for n in TEXTS {
            own.insert(n, (Role::Text, b.add_text_field(n, TEXT)));
        }
        let extra = b.add_json_field("extra", JsonObjectOptions::from(TEXT));
        let raw = b.add_text_field("_raw", STORED);
        Self { schema: b.build(), id, seq, ts, extra, raw, own }
    }

    /// Whether `name` is a field of its own (not under `extra`).
    pub fn is_own(&self, name: &str) -> bool {
        self.schema.get_field(name).is_ok()
    }

    /// The document of a record at time `ts`; `raw` is its JSON text, `id` its id and `seq`
    /// its tie-breaker.
    pub fn document(
        &self,
        (id, seq): (&str, u64),
        ts: DateTime,
        record: &Map<String, Value>,
        raw: &str,
    ) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, id);
        doc.add_u64(self.seq, seq);
        doc.add_date(self.ts, ts);
        doc.add_text(self.raw, raw);
        let mut extra = BTreeMap::new();
        for (name, value) in record {
            if name == "ts" {
                continue;
            }
            match (self.own.get(name.as_str()), value) {
                (Some((Role::Keyword, f)), Value::String(s)) => doc.add_text(*f, s),
                (Some((Role::Address, f)), Value::String(s)) => {
                    if let Ok(ip) = s.parse::<IpAddr>() {
                        doc.add_ip_addr(*f, ipv6(ip));
                    }
                }
                (Some((Role::Port, f)), Value::Number(n)) => {
                    if let Some(p) = n.as_u64() {
                        doc.add_u64(*f, p);
                    }
                }
                (Some((Role::Text, f)), Value::String(s)) => doc.add_text(*f, s),
                (Some((Role::Text, f)), Value::Array(items)) => {
                    items.iter().filter_map(Value::as_str).for_each(|s| doc.add_text(*f, s))
                }
                (Some(_), _) | (None, Value::Null) => {}
                (None, v) => {
                    extra.insert(name.clone(), OwnedValue::from(v.clone()));
                }
            }
        }
        if !extra.is_empty() {
            doc.add_object(self.extra, extra);
        }
        doc
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
