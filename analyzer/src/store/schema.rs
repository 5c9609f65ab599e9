//! The fields of the event index, and how a record (any flat JSON object: a sensor's record, an
//! alert, later a host log line) becomes a tantivy document.
//!
//! - `ts`: date, microseconds, fast (time ranges, newest first);
//! - `_type`, `_sensor`, `_org`, `uid`, `community_id`, `rule_id`, `severity`: exact strings,
//!   fast (filters, terms aggregations);
//! - `id.orig_h`, `id.resp_h`: IP addresses, fast (points, ranges, CIDR);
//! - `id.orig_p`, `id.resp_p`, `orig_bytes`, `resp_bytes`, `total_bytes`: integers, fast
//!   (ranges), with a term index for the one looked up by value (`id.resp_p`); `duration`:
//!   seconds, fast (ranges);
//! - `query`, `host`, `uri`, `user_agent`, `server_name`, `filename`, `message`, `title`,
//!   `evidence`: text, lower-cased words, with positions for phrases;
//! - every other field in the JSON field `extra`, where the query language finds it under its
//!   own name (`method:POST` reads `extra.method`): a string is one case-insensitive keyword
//!   (`mime_type:application/pdf`, parts by wildcard: `subject:*gov.vn*`), an integer an
//!   integer, except what no one looks up by value — measurements (`*_bytes`, `*_pkts`,
//!   `*_len`), fractions, DNS header fields and codes that have a name beside them
//!   ([`unindexed`]) — which stay in the record only;
//! - `_raw`: the whole record as JSON, stored (what a search returns);
//! - `_id` and `_seq`: the record's id (128 bits of its hash, the high and the low 64, fast),
//!   which keeps a record ingested twice once; `_seq` is also the tie-breaker that makes the
//!   order (newest first) total, for search-after.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use serde::Deserializer;
use serde::de::{MapAccess, Visitor};
use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, IndexRecordOption, IpAddrOptions, JsonObjectOptions, NumericOptions,
    STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, RemoveLongFilter, TextAnalyzer, TokenizerManager};
use tantivy::{DateTime, TantivyDocument};

use super::json::{Json, Key};

/// Exact strings, fast.
pub const KEYWORDS: [&str; 7] = ["_type", "_sensor", "_org", "uid", "community_id", "rule_id", "severity"];
/// IP addresses, fast.
pub const ADDRESSES: [&str; 2] = ["id.orig_h", "id.resp_h"];
/// Integers, fast: ports, and the byte counts analysts range over (`orig_bytes:>10000000`).
pub const PORTS: [&str; 5] = ["id.orig_p", "id.resp_p", "orig_bytes", "resp_bytes", "total_bytes"];
/// Of [`PORTS`], those with a term index as well: the service port, looked up by value
/// (`id.resp_p:3389`), with few values. The client's port and the byte counts are ranged over
/// and each takes nearly a new value per record, that is a new term: leaving their terms out
/// made ingest 4–7 % faster. A value of theirs is found on their fast column
/// ([`super::leaves`]).
const INDEXED_PORTS: [&str; 1] = ["id.resp_p"];
/// Seconds, fast (`duration:>3600`, a long connection): ranges only.
pub const SECONDS: [&str; 1] = ["duration"];
/// Words analysts type.
pub const TEXTS: [&str; 9] =
    ["query", "host", "uri", "user_agent", "server_name", "filename", "message", "title", "evidence"];

/// The tokenizer of `extra`'s strings: the whole value, lower-cased. A value is one term
/// whatever its length (a cipher list, a certificate subject), where words made several: the
/// terms of a record are what tantivy's indexing time goes to.
const KEYWORD_TOKENIZER: &str = "keyword";

/// Longest `extra` value indexed, in bytes; a longer one is stored (and shown) but not found
/// by its value.
const LONGEST_KEYWORD: usize = 512;

/// Tantivy's tokenizers and Canh's, for indexes and query parsers alike.
pub fn tokenizers() -> TokenizerManager {
    let manager = TokenizerManager::default();
    manager.register(
        KEYWORD_TOKENIZER,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(RemoveLongFilter::limit(LONGEST_KEYWORD))
            .filter(LowerCaser)
            .build(),
    );
    manager
}

/// How a record field of its own is indexed.
#[derive(Clone, Copy)]
enum Role {
    Keyword,
    Address,
    Port,
    Seconds,
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
    own: HashMap<&'static str, (Role, Field), foldhash::fast::RandomState>,
}

impl Default for Fields {
    fn default() -> Self {
        Self::new()
    }
}

impl Fields {
    pub fn new() -> Self {
        let mut b = Schema::builder();
        // Nothing is ranked by relevance (results come newest first): no field norms anywhere.
        let words = |record| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default().set_tokenizer("default").set_index_option(record).set_fieldnorms(false),
            )
        };
        let exact = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        );
        // Time ranges and order read the fast column; an inverted index of microsecond times
        // would hold one term per record for nothing.
        let ts =
            b.add_date_field("ts", DateOptions::default().set_fast().set_precision(DateTimePrecision::Microseconds));
        let mut own = HashMap::default();
        for n in KEYWORDS {
            own.insert(n, (Role::Keyword, b.add_text_field(n, exact.clone().set_fast("raw"))));
        }
        for n in ADDRESSES {
            own.insert(n, (Role::Address, b.add_ip_addr_field(n, IpAddrOptions::default().set_indexed().set_fast())));
        }
        for n in PORTS {
            let options = NumericOptions::default().set_fast();
            let options = if INDEXED_PORTS.contains(&n) { options.set_indexed() } else { options };
            own.insert(n, (Role::Port, b.add_u64_field(n, options)));
        }
        for n in SECONDS {
            own.insert(n, (Role::Seconds, b.add_f64_field(n, FAST)));
        }
        for n in TEXTS {
            own.insert(n, (Role::Text, b.add_text_field(n, words(IndexRecordOption::WithFreqsAndPositions))));
        }
        let extra_indexing = TextFieldIndexing::default()
            .set_tokenizer(KEYWORD_TOKENIZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false);
        let extra = b.add_json_field("extra", JsonObjectOptions::default().set_indexing_options(extra_indexing));
        let raw = b.add_text_field("_raw", STORED);
        // Last, as they come last to a document: tantivy sorts each document's values by field
        // before indexing them, and values already in order leave that sort nothing to move.
        // The record's id, 128 bits of its content hash, in two 64-bit columns: read back only
        // when a day is opened for writing (super::known), so no term index. (Tantivy's one
        // 128-bit column, the IP address's, searches a compact encoding for each segment's
        // values, which random ids never have: that search was 5 % of ingest's profile.)
        let id = b.add_u64_field("_id", FAST);
        let seq = b.add_u64_field("_seq", FAST);
        Self { schema: b.build(), id, seq, ts, extra, raw, own }
    }

    /// Whether `name` is a field of its own (not under `extra`).
    pub fn is_own(&self, name: &str) -> bool {
        self.schema.get_field(name).is_ok()
    }

    /// Whether the field of its own `name` has a term index (else it is found on its fast
    /// column only).
    pub fn has_term_index(&self, name: &str) -> bool {
        self.schema.get_field(name).is_ok_and(|f| self.schema.get_field_entry(f).is_indexed())
    }

    /// A record's document, read straight from its JSON text (no map of the record in
    /// between: a record's fields are allocated once, in the document), and its `ts`. The
    /// id is added by [`Fields::identify`] once the record is known to be taken.
    pub fn document(&self, raw: &str) -> Result<(Option<DateTime>, TantivyDocument), serde_json::Error> {
        let mut reader = serde_json::Deserializer::from_str(raw);
        let parsed = reader.deserialize_map(RecordVisitor { fields: self, raw })?;
        reader.end()?;
        Ok(parsed)
    }

    /// Gives a document its id: the high 64 bits in `_id`, the low 64 in `_seq`, which are
    /// also the tie-breaker of the order.
    pub fn identify(&self, doc: &mut TantivyDocument, id: u128) {
        doc.add_u64(self.id, (id >> 64) as u64);
        doc.add_u64(self.seq, id as u64);
    }

    /// Adds one field of a record to its document (or to its `extra` fields).
    fn add<'de>(
        &self,
        doc: &mut TantivyDocument,
        extra: &mut Vec<(Cow<'de, str>, Json<'de>)>,
        name: Cow<'de, str>,
        value: Json<'de>,
    ) {
        match (self.own.get(name.as_ref()), value) {
            (Some((Role::Keyword, f)), Json::Str(s)) => doc.add_text(*f, s),
            (Some((Role::Address, f)), Json::Str(s)) => {
                if let Ok(ip) = s.parse::<IpAddr>() {
                    doc.add_ip_addr(*f, ipv6(ip));
                }
            }
            (Some((Role::Port, f)), Json::U64(p)) => doc.add_u64(*f, p),
            (Some((Role::Port, f)), Json::I64(p)) if p >= 0 => doc.add_u64(*f, p as u64),
            (Some((Role::Seconds, f)), Json::F64(s)) => doc.add_f64(*f, s),
            (Some((Role::Seconds, f)), Json::U64(s)) => doc.add_f64(*f, s as f64),
            (Some((Role::Text, f)), Json::Str(s)) => doc.add_text(*f, s),
            (Some((Role::Text, f)), Json::Array(items)) => items.iter().for_each(|item| {
                if let Json::Str(s) = item {
                    doc.add_text(*f, s)
                }
            }),
            (Some(_), _) => {}
            (None, _) if unindexed(&name).is_some() => {}
            (None, value) => {
                if let Some(value) = searchable(value) {
                    extra.push((name, value))
                }
            }
        }
    }
}

/// Why an `extra` field stays in the record unindexed. Every value indexed is a term, and
/// terms are what tantivy's indexing time goes to (the more values a field takes, the more
/// its terms cost; BENCHMARKS.md has the figures): a field no one looks up by value is not
/// worth one.
#[derive(Debug)]
pub enum Unindexed {
    /// A size or a count (`orig_ip_bytes`, `resp_pkts`, `request_body_len`): analysts ask for
    /// a range of them (which `extra` does not offer), never one exact value, and nearly every
    /// value is a new term (all of `extra`'s integers together took 8 % of a million-record
    /// ingest).
    Measurement,
    /// A DNS message's header: its transaction id (random) and flag bits (`AA`, `TC`, `RD`,
    /// `RA`, `Z`, the same in nearly every record). The flags and `rejected` took 3–5 % of
    /// ingest's time with DNS a sixth of the records; `rejected`, rare and telling, stays.
    DnsHeader,
    /// A numeric code whose name is indexed beside it: `qtype` (search `qtype_name:TXT`),
    /// `qclass`, `rcode`.
    Code { named: &'static str },
}

/// Whether an `extra` field is left unindexed, and why. The query language says so when one
/// is named ([`super::query::translate`]).
pub fn unindexed(name: &str) -> Option<Unindexed> {
    match name {
        "trans_id" | "AA" | "TC" | "RD" | "RA" | "Z" => Some(Unindexed::DnsHeader),
        "qtype" => Some(Unindexed::Code { named: "qtype_name" }),
        "qclass" => Some(Unindexed::Code { named: "qclass_name" }),
        "rcode" => Some(Unindexed::Code { named: "rcode_name" }),
        _ if ["_bytes", "_pkts", "_len"].iter().any(|suffix| name.ends_with(suffix)) => Some(Unindexed::Measurement),
        _ => None,
    }
}

/// What of an `extra` value is indexed: strings, integers, booleans. A fraction (a duration,
/// a round-trip time, a TTL) is a term of its own nearly every time, which a query would
/// never name exactly: it stays in the record, not in the index.
fn searchable(value: Json) -> Option<Json> {
    match value {
        Json::Null | Json::F64(_) => None,
        Json::Array(items) => {
            let items: Vec<Json> = items.into_iter().filter_map(searchable).collect();
            (!items.is_empty()).then_some(Json::Array(items))
        }
        other => Some(other),
    }
}

/// Reads a record (a JSON object) into a document.
struct RecordVisitor<'f> {
    fields: &'f Fields,
    raw: &'f str,
}

impl<'de> Visitor<'de> for RecordVisitor<'_> {
    type Value = (Option<DateTime>, TantivyDocument);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut doc = TantivyDocument::default();
        let mut ts = None;
        let mut extra = Vec::new();
        while let Some(Key(name)) = map.next_key()? {
            if name == "ts" {
                ts = timestamp(map.next_value()?);
                if let Some(t) = ts {
                    doc.add_date(self.fields.ts, t);
                }
                continue;
            }
            let value: Json = map.next_value()?;
            self.fields.add(&mut doc, &mut extra, name, value);
        }
        if !extra.is_empty() {
            doc.add_field_value(self.fields.extra, &Json::Object(extra));
        }
        doc.add_text(self.fields.raw, self.raw);
        Ok((ts, doc))
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
fn timestamp(v: Json) -> Option<DateTime> {
    let secs = match v {
        Json::F64(s) => s,
        Json::U64(s) => s as f64,
        Json::I64(s) => s as f64,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| DateTime::from_timestamp_micros((secs * 1e6).round() as i64))
}
