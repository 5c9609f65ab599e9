//! The record schema's machinery: each typed record declares its fields once — Rust name,
//! wire name, and [`Role`] in the event store — with [`record_type!`], and everything else
//! reads them from there: the NDJSON writer (`Serialize`), Sigma detection and its prefilter
//! (a [`Visit`]or over the typed fields, no JSON map built per record), the event store's
//! schema (fields by role), and the tests that hold the field maps to the schema.
//!
//! A field whose value is absent (`None`, an empty list) is not visited and not written, as
//! Zeek leaves unset fields out of its JSON logs.

use std::net::IpAddr;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// How a field is kept in the event store and found by the query language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The record's time: a date column (ranges, newest first).
    Time,
    /// An exact value analysts filter and count by (`_type`, `uid`, `rule_id`): a keyword
    /// with a column (terms aggregations).
    Keyword,
    /// An IP address: points, ranges, networks.
    Address,
    /// An integer in a column (ranges); `term_index`: also looked up by exact value often
    /// enough to keep its terms (the service port), where the others' values (a client port,
    /// a byte count) are read off the column.
    Integer { term_index: bool },
    /// Seconds with fractions, in a column: ranges only (`duration:>3600`).
    Seconds,
    /// Words analysts type (a URI, a user agent, a title): lower-cased words, phrases.
    Text,
    /// A name (a DNS name, a host, a TLS server name): found by its words as [`Role::Text`],
    /// and by a wildcard over the whole value (`query:*.duckdns.org`).
    Name,
    /// Found by its exact value, case-insensitive, under its own name (`method:POST`).
    Value,
    /// Kept in the record, not indexed; naming it in a query is an error that says why.
    Unindexed(Unindexed),
}

/// Why a field stays in the record unindexed. Every value indexed is a term, and terms are
/// what the store's indexing time goes to (BENCHMARKS.md has the figures): a field no one
/// looks up by value is not worth one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unindexed {
    /// A size or a count (`orig_ip_bytes`, `resp_pkts`, `request_body_len`): analysts ask for
    /// a range of them, never one exact value, and nearly every value is a new term.
    Measurement,
    /// A fraction (a round-trip time, a TTL, a certificate's validity): a term of its own
    /// nearly every time, which a query would never name exactly.
    Fraction,
    /// A DNS message's header: its transaction id (random) and flag bits (`AA`, `TC`, `RD`,
    /// `RA`, `Z`, the same in nearly every record).
    DnsHeader,
    /// A numeric code whose name is indexed beside it: `qtype` (search `qtype_name:TXT`).
    Code { named: &'static str },
}

/// One field of a record type: its name on the wire and in queries, and its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub role: Role,
}

/// A field's value as a visitor sees it: borrowed from the record, never copied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Str(&'a str),
    U64(u64),
    F64(f64),
    Bool(bool),
    Addr(IpAddr),
    Strs(&'a [String]),
    F64s(&'a [f64]),
}

impl Value<'_> {
    /// The value as one string, lists joined with commas: how rules that compare text read
    /// it (sigma-rust never matches a list, ARCHITECTURE.md "Detection with sigma-rust"; joined, `contains`,
    /// `startswith` and `endswith` keep their meaning). Numbers as Rust writes them, which is
    /// how sigma-rust turns a number into text.
    pub fn write_text(&self, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Value::Str(s) => out.push_str(s),
            Value::U64(n) => {
                let _ = write!(out, "{n}");
            }
            Value::F64(f) => {
                let _ = write!(out, "{f}");
            }
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Addr(ip) => {
                let _ = write!(out, "{ip}");
            }
            Value::Strs(items) => {
                for (i, s) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(s);
                }
            }
            Value::F64s(items) => {
                for (i, f) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{f}");
                }
            }
        }
    }

    /// [`Value::write_text`] into a new string.
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Str(v) => s.serialize_str(v),
            Value::U64(v) => s.serialize_u64(*v),
            Value::F64(v) => s.serialize_f64(*v),
            Value::Bool(v) => s.serialize_bool(*v),
            Value::Addr(v) => s.collect_str(v),
            Value::Strs(v) => s.collect_seq(v.iter()),
            Value::F64s(v) => s.collect_seq(v.iter()),
        }
    }
}

/// Reads a record's fields in order: `index` is the field's place in its record type's field
/// list (see [`crate::record::Record::fields`]), so a reader can look up what it keeps per
/// field once per type instead of by name per record.
pub trait Visit {
    fn field(&mut self, index: usize, name: &'static str, value: Value<'_>);
}

impl<F: FnMut(usize, &'static str, Value<'_>)> Visit for F {
    fn field(&mut self, index: usize, name: &'static str, value: Value<'_>) {
        self(index, name, value)
    }
}

/// A record type's fields: their declarations, and a walk over a value's present fields.
pub trait Fields {
    /// Every field, in the order they are visited and written.
    const FIELDS: &'static [FieldSpec];
    /// Visits the present fields; the first has index `offset`.
    fn visit(&self, offset: usize, v: &mut impl Visit);
}

/// Writes the present fields of a value as one JSON object (any `serde` format's map):
/// `walk` visits them into the map.
pub fn serialize_fields<S: Serializer>(
    s: S,
    walk: impl FnOnce(&mut MapWriter<S::SerializeMap>),
) -> Result<S::Ok, S::Error> {
    let mut writer = MapWriter { map: s.serialize_map(None)?, failed: None };
    walk(&mut writer);
    match writer.failed {
        Some(e) => Err(e),
        None => writer.map.end(),
    }
}

/// A visitor that writes each field into a serializer's map, keeping the first error.
pub struct MapWriter<M: SerializeMap> {
    map: M,
    failed: Option<M::Error>,
}

impl<M: SerializeMap> Visit for MapWriter<M> {
    fn field(&mut self, _: usize, name: &'static str, value: Value<'_>) {
        if self.failed.is_none()
            && let Err(e) = self.map.serialize_entry(name, &value)
        {
            self.failed = Some(e);
        }
    }
}

/// A Rust type a record field may have, and how its value is seen (`None` when absent).
pub trait AsValue {
    fn as_value(&self) -> Option<Value<'_>>;
}

impl AsValue for &'static str {
    fn as_value(&self) -> Option<Value<'_>> {
        Some(Value::Str(self))
    }
}

impl AsValue for String {
    fn as_value(&self) -> Option<Value<'_>> {
        Some(Value::Str(self))
    }
}

impl AsValue for Arc<str> {
    fn as_value(&self) -> Option<Value<'_>> {
        Some(Value::Str(self))
    }
}

/// Unsigned integers of every width are seen as `u64`.
macro_rules! unsigned_as_value {
    ($($t:ty),*) => {$(
        impl AsValue for $t {
            fn as_value(&self) -> Option<Value<'_>> {
                Some(Value::U64(u64::from(*self)))
            }
        }
    )*};
}

unsigned_as_value!(u8, u16, u32, u64);

impl AsValue for f64 {
    fn as_value(&self) -> Option<Value<'_>> {
        Some(Value::F64(*self))
    }
}

impl AsValue for bool {
    fn as_value(&self) -> Option<Value<'_>> {
        Some(Value::Bool(*self))
    }
}

impl AsValue for IpAddr {
    fn as_value(&self) -> Option<Value<'_>> {
        Some(Value::Addr(*self))
    }
}

impl AsValue for Vec<String> {
    fn as_value(&self) -> Option<Value<'_>> {
        (!self.is_empty()).then_some(Value::Strs(self))
    }
}

impl AsValue for Vec<f64> {
    fn as_value(&self) -> Option<Value<'_>> {
        (!self.is_empty()).then_some(Value::F64s(self))
    }
}

impl<T: AsValue> AsValue for Option<T> {
    fn as_value(&self) -> Option<Value<'_>> {
        self.as_ref().and_then(AsValue::as_value)
    }
}

/// Declares a record type: the struct, and its [`Fields`] — each field with its wire name
/// and [`Role`] written beside it, once.
///
/// ```
/// use canh_sensor::record_type;
/// use canh_sensor::schema::{Fields, Role};
///
/// record_type! {
///     /// A host's login.
///     #[derive(Debug, Default)]
///     pub struct Login {
///         /// Who logged in.
///         pub user: String => "user", Role::Value;
///         pub source_ip: Option<std::net::IpAddr> => "id.orig_h", Role::Address;
///     }
/// }
/// assert_eq!(Login::FIELDS[1].name, "id.orig_h");
/// ```
#[macro_export]
macro_rules! record_type {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident : $ty:ty => $wire:expr, $role:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $crate::schema::Fields for $name {
            const FIELDS: &'static [$crate::schema::FieldSpec] = &[
                $( $crate::schema::FieldSpec { name: $wire, role: $role }, )*
            ];

            #[allow(unused_assignments, unused_mut, unused_variables)]
            fn visit(&self, offset: usize, v: &mut impl $crate::schema::Visit) {
                let mut index = offset;
                $(
                    if let Some(value) = $crate::schema::AsValue::as_value(&self.$field) {
                        v.field(index, $wire, value);
                    }
                    index += 1;
                )*
            }
        }
    };
}
