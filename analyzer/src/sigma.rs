//! Sigma on records: each record meets the `product: zeek` rules of its own type and the
//! generic-category rules whose field map covers it (`rules/fieldmap.toml`), and nothing
//! else — sigma-rust costs microseconds per rule, so routing is what keeps detection cheap.

use canh_rules::fieldmap::{Category, FieldMap};
use canh_rules::sigma::{Logsource, SigmaRule, SigmaSet, event_from_fields, insert_json};
use canh_sensor::record::Record;
use serde_json::{Map, Value};
use sigma_rust::Event;

use crate::alert::Alert;
use crate::correlation::Correlator;
use canh_rules::correlation::CorrelationRule;

pub struct SigmaDetector {
    set: SigmaSet,
    map: FieldMap,
    correlator: Correlator,
}

impl SigmaDetector {
    pub fn new(set: SigmaSet, map: FieldMap) -> Self {
        Self { set, map, correlator: Correlator::new(Vec::new()) }
    }

    /// Adds correlation rules over this detector's rules.
    pub fn with_correlations(mut self, rules: Vec<CorrelationRule>) -> Self {
        self.correlator = Correlator::new(rules);
        self
    }

    pub fn rules(&self) -> usize {
        self.set.rules.len()
    }

    /// Appends an alert for every rule the record matches.
    pub fn detect(&self, rec: &Record, out: &mut Vec<Alert>) {
        let kind = rec.log_type().name();
        let zeek = Logsource { product: Some("zeek".into()), category: None, service: Some(kind.into()) };
        // (category, its rules) for every logsource that applies and has rules.
        let mut routes: Vec<(Option<&Category>, Vec<&SigmaRule>)> = Vec::new();
        let zeek_rules: Vec<&SigmaRule> = self.set.for_logsource(&zeek).collect();
        if !zeek_rules.is_empty() {
            routes.push((None, zeek_rules));
        }
        for (name, category) in self.map.categories_for(kind) {
            let ls = Logsource { product: None, category: Some(name.to_string()), service: None };
            let rules: Vec<&SigmaRule> = self.set.for_logsource(&ls).collect();
            if !rules.is_empty() {
                routes.push((Some(category), rules));
            }
        }
        if routes.is_empty() {
            return;
        }
        let fields = match serde_json::to_value(rec) {
            Ok(Value::Object(m)) => m,
            _ => return,
        };
        for (category, rules) in routes {
            let event = event_of(&fields, category);
            for r in rules {
                if r.rule.is_match(&event) {
                    out.push(alert(r, rec));
                    if !self.correlator.is_empty() {
                        self.correlator.observe(&r.id, r.name.as_deref(), rec, &fields, out);
                    }
                }
            }
        }
    }
}

fn alert(r: &SigmaRule, rec: &Record) -> Alert {
    Alert::for_record("sigma", &r.id, &r.title, r.level.as_deref().unwrap_or("medium"), &r.tags, rec)
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
