//! The fields of the event index, and how a record (any flat JSON object: a sensor's record, an
//! alert, later a host log line) becomes a tantivy document.
//!
//! Each field of Canh's typed records is indexed as its type declares it ([`Role`], in
//! `canh_sensor::record` and [`crate::alert`]; [`Roles`] gathers them):
//!
//! - `ts` ([`Role::Time`]): date, microseconds, fast (time ranges, newest first);
//! - [`Role::Keyword`] (`_type`, `_sensor`, `_org`, `uid`, `community_id`, `rule_id`,
//!   `severity`): whole values, fast (filters, terms aggregations);
//! - [`Role::Address`] (`id.orig_h`, `id.resp_h`): IP addresses, fast (points, ranges, CIDR);
//!
//! Case: every string value is found whatever its case — keywords, words of text, `extra`
//! values alike (`method:post` finds `POST`, `_type:DNS` finds `dns`); what a search returns
//! keeps the case it came with.
//! - [`Role::Integer`] (ports, the byte counts analysts range over): integers, fast (ranges),
//!   with a term index for those looked up by value (`id.resp_p`);
//! - [`Role::Seconds`] (`duration`): seconds, fast (ranges);
//! - [`Role::Text`] (`uri`, `user_agent`, `filename`, …): lower-cased words, with positions for
//!   phrases; [`Role::Name`] (`query`, `host`, `server_name`) the same, and the whole name in
//!   `extra` too, where a wildcard reads it (`query:*.duckdns.org`);
//! - [`Role::Value`], and every field of a record that is not one of Canh's types (a host log
//!   line), in the JSON field `extra`, where the query language finds it under its own name
//!   (`method:POST` reads `extra.method`): a string is one case-insensitive keyword
//!   (`mime_type:application/pdf`, parts by wildcard: `subject:*gov.vn*`), an integer an
//!   integer; a fraction is not indexed;
//! - [`Role::Unindexed`] (measurements, fractions, DNS header fields, codes that have a name
//!   beside them): in the record only;
//! - `_raw`: the whole record as JSON, stored (what a search returns);
//! - `_id` and `_seq`: the record's id (128 bits of its hash, the high and the low 64, fast),
//!   which keeps a record ingested twice once; `_seq` is also the tie-breaker that makes the
//!   order (newest first) total, for search-after.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::LazyLock;

use canh_sensor::record::{LogType, Record, names};
use canh_sensor::schema::Fields as _;
pub use canh_sensor::schema::{Role, Unindexed};

use serde::Deserializer;
use serde::de::{MapAccess, Visitor};
use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, IndexRecordOption, IpAddrOptions, JsonObjectOptions, NumericOptions,
    STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, RemoveLongFilter, TextAnalyzer, TokenizerManager};
use tantivy::{DateTime, TantivyDocument};

use super::json::{Json, Key};
use crate::alert::Alert;

/// Every field of Canh's typed records — the sensor's log types and alerts — with its role,
/// as the types declare it ([`canh_sensor::record`], [`crate::alert::Alert`]): the store's
/// schema is derived from them, never listed apart.
pub struct Roles {
    fields: Vec<(&'static str, Role)>,
}

impl Roles {
    /// The roles of every typed record's fields; a name two types declare with different
    /// roles is an error (the store has one field of each name).
    pub fn derive() -> Result<Self, String> {
        let mut fields: Vec<(&'static str, Role)> = Vec::new();
        let typed = LogType::ALL.into_iter().flat_map(Record::fields).chain(Alert::FIELDS);
        for f in typed {
            match fields.iter().find(|(name, _)| *name == f.name) {
                Some((_, role)) if *role != f.role => {
                    return Err(format!("field `{}` is declared both {role:?} and {:?}", f.name, f.role));
                }
                Some(_) => {}
                None => fields.push((f.name, f.role)),
            }
        }
        match fields.iter().filter(|(_, r)| *r == Role::Time).map(|(n, _)| *n).collect::<Vec<_>>()[..] {
            [names::TS] => Ok(Self { fields }),
            ref other => Err(format!("the time field must be `ts` alone, found {other:?}")),
        }
    }

    /// A field's role, if a typed record declares it.
    pub fn of(&self, name: &str) -> Option<Role> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    /// The fields whose role `is` accepts, in declaration order.
    pub fn named<'a>(&'a self, is: impl Fn(Role) -> bool + 'a) -> impl Iterator<Item = &'static str> + 'a {
        self.fields.iter().filter(move |(_, r)| is(*r)).map(|(n, _)| *n)
    }

    /// Whether `name` is an integer field (ranges; a value read off its column).
    pub fn is_integer(&self, name: &str) -> bool {
        matches!(self.of(name), Some(Role::Integer { .. }))
    }

    pub fn is(&self, name: &str, role: Role) -> bool {
        self.of(name) == Some(role)
    }
}

/// The roles, derived once per process.
pub fn roles() -> &'static Roles {
    static ROLES: LazyLock<Roles> =
        LazyLock::new(|| Roles::derive().expect("the typed records agree on each field's role (tested)"));
    &ROLES
}

/// The store's own fields beside the records': a record's id (its high half) and the
/// tie-breaker of the order (the low half).
pub const ID: &str = "_id";
pub const SEQ: &str = "_seq";

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
    /// Fields of the typed records kept in the record only, and why.
    unindexed: HashMap<&'static str, Unindexed, foldhash::fast::RandomState>,
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
        // Keywords are found whatever their case, as every other value is (`_type:DNS` is
        // `_type:dns`); their columns keep the case, for aggregations and display.
        let exact = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(KEYWORD_TOKENIZER)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        );
        // Time ranges and order read the fast column; an inverted index of microsecond times
        // would hold one term per record for nothing.
        let ts = b.add_date_field(
            names::TS,
            DateOptions::default().set_fast().set_precision(DateTimePrecision::Microseconds),
        );
        let mut own = HashMap::default();
        let mut unindexed = HashMap::default();
        for (name, role) in roles().fields.iter().copied() {
            let field = match role {
                // `ts` is added above; `extra` holds the values.
                Role::Time | Role::Value => continue,
                Role::Unindexed(why) => {
                    unindexed.insert(name, why);
                    continue;
                }
                Role::Keyword => b.add_text_field(name, exact.clone().set_fast("raw")),
                Role::Address => b.add_ip_addr_field(name, IpAddrOptions::default().set_indexed().set_fast()),
                Role::Integer { term_index } => {
                    let options = NumericOptions::default().set_fast();
                    b.add_u64_field(name, if term_index { options.set_indexed() } else { options })
                }
                Role::Seconds => b.add_f64_field(name, FAST),
                Role::Text | Role::Name => b.add_text_field(name, words(IndexRecordOption::WithFreqsAndPositions)),
            };
            own.insert(name, (role, field));
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
        let id = b.add_u64_field(ID, FAST);
        let seq = b.add_u64_field(SEQ, FAST);
        Self { schema: b.build(), id, seq, ts, extra, raw, own, unindexed }
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
            (Some((Role::Integer { .. }, f)), Json::U64(p)) => doc.add_u64(*f, p),
            (Some((Role::Integer { .. }, f)), Json::I64(p)) if p >= 0 => doc.add_u64(*f, p as u64),
            (Some((Role::Seconds, f)), Json::F64(s)) => doc.add_f64(*f, s),
            (Some((Role::Seconds, f)), Json::U64(s)) => doc.add_f64(*f, s as f64),
            (Some((Role::Text, f)), Json::Str(s)) => doc.add_text(*f, s),
            (Some((Role::Name, f)), Json::Str(s)) => {
                // Its words in its own field, the whole name in `extra` for wildcards.
                doc.add_text(*f, &s);
                extra.push((name, Json::Str(s)));
            }
            (Some((Role::Text, f)), Json::Array(items)) => items.iter().for_each(|item| {
                if let Json::Str(s) = item {
                    doc.add_text(*f, s)
                }
            }),
            (Some(_), _) => {}
            (None, _) if self.unindexed.contains_key(name.as_ref()) => {}
            (None, value) => {
                if let Some(value) = searchable(value) {
                    extra.push((name, value))
                }
            }
        }
    }
}

impl Fields {
    /// Why a field of the typed records is kept unindexed, if it is; the query language says
    /// so when one is named ([`super::query::translate`]).
    pub fn unindexed(&self, name: &str) -> Option<Unindexed> {
        self.unindexed.get(name).copied()
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
            if name == names::TS {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's schema is derived from the typed records: each name has one role across
    /// every type that declares it, and the roles the query language leans on are these.
    #[test]
    fn roles_come_from_the_typed_records_and_agree() {
        let roles = Roles::derive().expect("one role per name");
        assert_eq!(roles.of(names::TS), Some(Role::Time));
        assert_eq!(roles.of(names::RESP_P), Some(Role::Integer { term_index: true }));
        assert_eq!(roles.of(names::ORIG_P), Some(Role::Integer { term_index: false }));
        assert_eq!(roles.of("rule_id"), Some(Role::Keyword));
        assert_eq!(roles.of("rcode"), Some(Role::Unindexed(Unindexed::Code { named: "rcode_name" })));
        // A code's name must be a field that is searched.
        for (name, role) in &roles.fields {
            if let Role::Unindexed(Unindexed::Code { named }) = role {
                assert_eq!(roles.of(named), Some(Role::Value), "{name} names {named}");
            }
        }
        // Every field of every type is in the schema or said to be unindexed.
        let fields = Fields::new();
        for t in LogType::ALL {
            for f in Record::fields(t) {
                let kept = fields.is_own(f.name) || f.role == Role::Value || fields.unindexed(f.name).is_some();
                assert!(kept || f.role == Role::Time, "{}: {}", t.name(), f.name);
            }
        }
    }
}
