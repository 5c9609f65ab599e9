//! Sigma on records: each record meets the `product: zeek` rules of its own type and the
//! generic-category rules whose field map covers it (`rules/fieldmap.toml`), and nothing
//! else — sigma-rust costs microseconds per rule, so routing is what keeps detection cheap.
//! Within a route, the set's literal prefilter (one Aho-Corasick pass over the record's folded
//! values) leaves only the rules the record could match; most records meet none, and never
//! become a sigma-rust event at all.

use canh_rules::fieldmap::{Category, FieldMap};
use canh_rules::prefilter::RecordText;
use canh_rules::sigma::{Logsource, SigmaRule, SigmaSet, event_from_fields, insert_json};
use std::cell::RefCell;
use std::collections::HashMap;

use canh_sensor::record::{LogType, Record};
use serde_json::{Map, Value};
use sigma_rust::Event;

use crate::alert::Alert;
use crate::correlation::Correlator;
use canh_rules::correlation::CorrelationRule;

/// The rules a record type meets through one logsource, with the field map of its category.
struct Route {
    category: Option<Category>,
    rules: Vec<usize>,
}

pub struct SigmaDetector {
    set: SigmaSet,
    /// Per record type, computed once: every record of that type takes the same routes.
    routes: HashMap<LogType, Vec<Route>>,
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
        let index = |ls: &Logsource| set.indices(ls).to_vec();
        let mut routes: HashMap<LogType, Vec<Route>> = HashMap::new();
        for kind in LogType::ALL {
            let mut list = Vec::new();
            let zeek = Logsource { product: Some("zeek".into()), category: None, service: Some(kind.name().into()) };
            list.push(Route { category: None, rules: index(&zeek) });
            for (name, category) in map.categories_for(kind.name()) {
                let ls = Logsource { product: None, category: Some(name.to_string()), service: None };
                list.push(Route { category: Some(category.clone()), rules: index(&ls) });
            }
            list.retain(|r| !r.rules.is_empty());
            routes.insert(kind, list);
        }
        Self { set, routes, correlator: Correlator::new(Vec::new()) }
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
        let Some(routes) = self.routes.get(&rec.log_type()) else { return Vec::new() };
        let Ok(Value::Object(fields)) = serde_json::to_value(rec) else { return Vec::new() };
        let (mut text, mut candidates) = (RecordText::default(), Vec::new());
        self.record_text(&fields, &mut text);
        self.set.prefilter.candidates(&mut text, &mut candidates);
        routes.iter().flat_map(|r| &r.rules).filter(|i| candidates[**i]).map(|i| &self.set.rules[*i]).collect()
    }

    /// The prefilter's text of a record: its values, and the derived ones (an anchored literal
    /// such as `\0exe\0` for `c-uri-extension: exe` must find them whole).
    fn record_text(&self, fields: &Map<String, Value>, text: &mut RecordText) {
        self.set.prefilter.text_of(fields, text);
        if fields.contains_key("uri") {
            for name in DERIVED {
                if let Some(v) = field(fields, name) {
                    self.set.prefilter.push(text, name, &v);
                }
            }
        }
    }

    /// Appends an alert for every rule the record matches.
    pub fn detect(&self, rec: &Record, out: &mut Vec<Alert>) {
        let routes = match self.routes.get(&rec.log_type()) {
            Some(r) if !r.is_empty() => r,
            _ => return,
        };
        let fields = match serde_json::to_value(rec) {
            Ok(Value::Object(m)) => m,
            _ => return,
        };
        SCRATCH.with_borrow_mut(|(text, candidates)| {
            self.record_text(&fields, text);
            self.set.prefilter.candidates(text, candidates);
            for route in routes {
                let mut chosen = route.rules.iter().filter(|i| candidates[**i]).peekable();
                if chosen.peek().is_none() {
                    continue;
                }
                let event = event_of(&fields, route.category.as_ref());
                for r in chosen.map(|i| &self.set.rules[*i]) {
                    if r.rule.is_match(&event) {
                        out.push(alert(r, rec));
                        if !self.correlator.is_empty() {
                            self.correlator.observe(&r.id, r.name.as_deref(), rec, &fields, out);
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

thread_local! {
    /// Per thread, reused across records: the folded text and the candidate flags.
    static SCRATCH: RefCell<(RecordText, Vec<bool>)> = RefCell::new((RecordText::default(), Vec::new()));
}

/// A record's fields as a sigma-rust event; with a category, its Sigma names are added too.
fn event_of(fields: &Map<String, Value>, category: Option<&Category>) -> Event {
    let mut event = event_from_fields(fields);
    if let Some(c) = category {
        for (sigma_name, record_field) in &c.fields {
            if let Some(v) = field(fields, record_field) {
                insert_json(&mut event, sigma_name, &v);
            }
        }
    }
    event
}

/// Fields the field map may use that are not the record's own but derived from them.
const DERIVED: [&str; 3] = ["uri.path", "uri.query", "uri.extension"];

/// A record field, or one of the derived `uri.path`, `uri.query`, `uri.extension`.
fn field(fields: &Map<String, Value>, name: &str) -> Option<Value> {
    if let Some(v) = fields.get(name) {
        return Some(v.clone());
    }
    let uri = fields.get("uri")?.as_str()?;
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let derived = match name {
        "uri.path" => path.to_string(),
        "uri.query" => query.to_string(),
        "uri.extension" => {
            path.rsplit('/').next().and_then(|seg| seg.rsplit_once('.')).map(|(_, e)| e.to_string()).unwrap_or_default()
        }
        _ => return None,
    };
    Some(Value::from(derived))
}
