//! Sigma on records: each record meets the `product: zeek` rules of its own type and the
//! generic-category rules whose field map covers it (`rules/fieldmap.toml`), and nothing
//! else — sigma-rust costs microseconds per rule, so routing is what keeps detection cheap.
//! Within a route, the set's literal prefilter (one Aho-Corasick pass over the record's folded
//! values) leaves only the rules the record could match; most records meet none, and never
//! become a sigma-rust event at all.
//!
//! Fields are read from the typed record by its visitor ([`Record::visit`]): what each field
//! is to the prefilter and to a category's rules is worked out once per record type, by the
//! field's place in its type's list, so a record costs no map of its fields and no lookup by
//! name.

use std::cell::RefCell;

use canh_rules::correlation::CorrelationRule;
use canh_rules::fieldmap::FieldMap;
use canh_rules::prefilter::RecordText;
use canh_rules::sigma::{Logsource, SigmaRule, SigmaSet};
use canh_sensor::record::{Body, LogType, Record};
use canh_sensor::schema::Value;
use sigma_rust::Event;

use crate::alert::Alert;
use crate::correlation::Correlator;

/// Fields the field map may use that are not a record's own but parts of its `uri`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriPart {
    /// `uri.path`: before the `?`.
    Path,
    /// `uri.query`: after the `?`, without it.
    Query,
    /// `uri.extension`: of the path's last segment, without the dot.
    Extension,
}

impl UriPart {
    pub const ALL: [UriPart; 3] = [Self::Path, Self::Query, Self::Extension];

    pub fn name(self) -> &'static str {
        match self {
            Self::Path => "uri.path",
            Self::Query => "uri.query",
            Self::Extension => "uri.extension",
        }
    }

    pub fn of(self, uri: &str) -> &str {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        match self {
            Self::Path => path,
            Self::Query => query,
            Self::Extension => path.rsplit('/').next().and_then(|seg| seg.rsplit_once('.')).map_or("", |(_, e)| e),
        }
    }
}

/// The URI a record's derived fields are cut from.
fn uri_of(rec: &Record) -> Option<&str> {
    match &rec.body {
        Body::Http(h) => h.uri.as_deref(),
        _ => None,
    }
}

/// The rules a record type meets through one logsource, and the names its category's rules
/// read each field under.
struct Route {
    rules: Vec<usize>,
    /// Per field of the record type (by its place in [`Record::fields`]): the Sigma names of
    /// the category that read it.
    aliases: Vec<Vec<String>>,
    /// Parts of the URI the category's Sigma names read.
    uri_aliases: Vec<(UriPart, String)>,
}

/// What detection knows of one record type, worked out once.
#[derive(Default)]
struct TypeRoutes {
    routes: Vec<Route>,
    /// Per field: its bit in the prefilter's text, when a literal reads it.
    bits: Vec<Option<u64>>,
    /// The URI parts a literal reads, with their bits.
    uri_bits: Vec<(UriPart, u64)>,
}

pub struct SigmaDetector {
    set: SigmaSet,
    /// By [`LogType::index`].
    types: Vec<TypeRoutes>,
    correlator: Correlator,
}

impl SigmaDetector {
    pub fn new(mut set: SigmaSet, map: FieldMap) -> Self {
        // A rule's field reads the record field of its name, and whatever a category maps it
        // to (the event of a category's route carries both): its literals count there.
        let reads = |field: &str| {
            let mut names = vec![field.to_string()];
            names.extend(map.category.values().filter_map(|c| c.fields.get(field)).cloned());
            names
        };
        set.read_fields_as(reads);
        let types = LogType::ALL
            .iter()
            .map(|&kind| {
                let fields: Vec<&str> = Record::fields(kind).map(|f| f.name).collect();
                let mut routes = Vec::new();
                let zeek =
                    Logsource { product: Some("zeek".into()), category: None, service: Some(kind.name().into()) };
                routes.push(Route {
                    rules: set.indices(&zeek).to_vec(),
                    aliases: vec![Vec::new(); fields.len()],
                    uri_aliases: Vec::new(),
                });
                for (name, category) in map.categories_for(kind.name()) {
                    let ls = Logsource { product: None, category: Some(name.to_string()), service: None };
                    let mut route = Route {
                        rules: set.indices(&ls).to_vec(),
                        aliases: vec![Vec::new(); fields.len()],
                        uri_aliases: Vec::new(),
                    };
                    for (sigma_name, record_field) in &category.fields {
                        if let Some(i) = fields.iter().position(|f| f == record_field) {
                            route.aliases[i].push(sigma_name.clone());
                        } else if let Some(part) = UriPart::ALL.into_iter().find(|p| p.name() == record_field) {
                            route.uri_aliases.push((part, sigma_name.clone()));
                        }
                        // Else the map names a field this type does not have: the field map's
                        // tests refuse that.
                    }
                    routes.push(route);
                }
                routes.retain(|r| !r.rules.is_empty());
                let bits = fields.iter().map(|f| set.prefilter.bit(f)).collect();
                let uri_bits = if fields.contains(&"uri") {
                    UriPart::ALL.into_iter().filter_map(|p| Some((p, set.prefilter.bit(p.name())?))).collect()
                } else {
                    Vec::new()
                };
                TypeRoutes { routes, bits, uri_bits }
            })
            .collect();
        Self { set, types, correlator: Correlator::new(Vec::new()) }
    }

    /// Adds correlation rules over this detector's rules.
    pub fn with_correlations(mut self, rules: Vec<CorrelationRule>) -> Self {
        self.correlator = Correlator::new(rules);
        self
    }

    pub fn rules(&self) -> usize {
        self.set.rules.len()
    }

    /// The rule of this id.
    pub fn rule(&self, id: &str) -> Option<&SigmaRule> {
        self.set.rules.iter().find(|r| r.id == id)
    }

    /// The rules a record meets: those of its routes that the prefilter lets through (what
    /// `canh bench sigma` reports as the hot rules).
    pub fn evaluated(&self, rec: &Record) -> Vec<&SigmaRule> {
        let typed = &self.types[rec.log_type().index()];
        SCRATCH.with_borrow_mut(|scratch| {
            self.candidates(rec, typed, scratch);
            typed
                .routes
                .iter()
                .flat_map(|r| &r.rules)
                .filter(|i| scratch.candidates[**i])
                .map(|i| &self.set.rules[*i])
                .collect()
        })
    }

    /// Marks in the scratch the rules the prefilter lets through for this record.
    fn candidates(&self, rec: &Record, typed: &TypeRoutes, scratch: &mut Scratch) {
        let Scratch { text, value, candidates } = scratch;
        text.clear();
        rec.visit(&mut |i: usize, _: &'static str, v: Value<'_>| {
            let Some(bit) = typed.bits[i] else { return };
            match v {
                Value::Str(s) => text.push(bit, s),
                other => {
                    value.clear();
                    other.write_text(value);
                    text.push(bit, value);
                }
            }
        });
        // The URI's parts are values of their own: an anchored literal (`\0exe\0` for
        // `c-uri-extension: exe`) must find them whole.
        if let Some(uri) = uri_of(rec) {
            for (part, bit) in &typed.uri_bits {
                text.push(*bit, part.of(uri));
            }
        }
        self.set.prefilter.candidates(text, candidates);
    }

    /// Appends an alert for every rule the record matches.
    pub fn detect(&self, rec: &Record, out: &mut Vec<Alert>) {
        let typed = &self.types[rec.log_type().index()];
        if typed.routes.is_empty() {
            return;
        }
        SCRATCH.with_borrow_mut(|scratch| {
            self.candidates(rec, typed, scratch);
            for route in &typed.routes {
                let mut chosen = route.rules.iter().filter(|i| scratch.candidates[**i]).peekable();
                if chosen.peek().is_none() {
                    continue;
                }
                let event = event_of(rec, route);
                for r in chosen.map(|i| &self.set.rules[*i]) {
                    if r.rule.is_match(&event) {
                        out.push(alert(r, rec));
                        if !self.correlator.is_empty() {
                            self.correlator.observe(&r.id, r.name.as_deref(), rec, out);
                        }
                    }
                }
            }
        });
    }
}

fn alert(r: &SigmaRule, rec: &Record) -> Alert {
    Alert::for_record("sigma", &r.id, &r.title, r.level.as_deref().unwrap_or("medium"), &r.tags, rec)
}

/// Per thread, reused across records: the folded text, a value's text, the candidate flags.
#[derive(Default)]
struct Scratch {
    text: RecordText,
    value: String,
    candidates: Vec<bool>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A record as a sigma-rust event: its fields under their own names, and under the names its
/// route's category reads them by.
fn event_of(rec: &Record, route: &Route) -> Event {
    let mut event = Event::new();
    rec.visit(&mut |i: usize, name: &'static str, v: Value<'_>| {
        for alias in &route.aliases[i] {
            insert(&mut event, alias, v);
        }
        insert(&mut event, name, v);
    });
    if let Some(uri) = uri_of(rec) {
        for (part, name) in &route.uri_aliases {
            event.insert(name.as_str(), part.of(uri));
        }
    }
    event
}

/// Adds one field to an event. Integers stay integers (sigma-rust compares types strictly:
/// a rule's `80` is an `i64`); addresses and lists become text ([`Value::write_text`]).
fn insert(event: &mut Event, key: &str, v: Value<'_>) {
    match v {
        Value::Str(s) => event.insert(key, s),
        Value::U64(n) => match i64::try_from(n) {
            Ok(i) => event.insert(key, i),
            Err(_) => event.insert(key, n),
        },
        Value::F64(f) => event.insert(key, f),
        Value::Bool(b) => event.insert(key, b),
        other => event.insert(key, other.text()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field map is data written apart from the records: every record type it routes a
    /// category to must exist, and every record field it maps to must be a field of one of
    /// those types (or a part of `uri` where the type has one). A field renamed in the record
    /// types and not in the map fails here.
    #[test]
    fn the_field_map_names_only_fields_the_records_have() {
        let map = FieldMap::bundled();
        let mut problems = Vec::new();
        for (name, category) in &map.category {
            let types: Vec<LogType> = category
                .records
                .iter()
                .filter_map(|r| {
                    let t = LogType::ALL.into_iter().find(|t| t.name() == r);
                    if t.is_none() {
                        problems.push(format!("{name}: no record type `{r}`"));
                    }
                    t
                })
                .collect();
            for (sigma, field) in &category.fields {
                let known = types.iter().any(|t| {
                    let fields: Vec<&str> = Record::fields(*t).map(|f| f.name).collect();
                    fields.contains(&field.as_str())
                        || (fields.contains(&"uri") && UriPart::ALL.iter().any(|p| p.name() == field))
                });
                if !known {
                    problems.push(format!("{name}.{sigma}: `{field}` is no field of {:?}", category.records));
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn uri_parts() {
        let uri = "/a/b.PHP?x=1?y";
        assert_eq!(UriPart::ALL.map(|p| p.of(uri)), ["/a/b.PHP", "x=1?y", "PHP"]);
        assert_eq!(UriPart::Extension.of("/dir.d/file"), "");
    }
}
