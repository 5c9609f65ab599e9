//! Sigma rules: read, brought within what sigma-rust evaluates, compiled, and indexed by
//! logsource so that a record meets only the rules written for its kind.
//!
//! sigma-rust 0.7 lacks parts of the Sigma specification (ARCHITECTURE.md, "Detection with
//! sigma-rust"). A pre-pass over the YAML closes the gaps that have an exact rewrite:
//! - several YAML documents in one file (and `action: global` collections) become rules;
//! - `re|i`, `re|m`, `re|s` become inline flags `(?i)`, `(?m)`, `(?s)`;
//! - keywords (field-less values) match anywhere in a value, as the spec means, not the whole
//!   value as sigma-rust does: each becomes `*keyword*`;
//! - a `condition` list becomes one condition joined with `or`.
//!
//! What has no exact rewrite is reported per rule as `unsupported: reason`, never dropped
//! silently: the `expand` modifier (it needs placeholder values). Correlation rules are read
//! by [`crate::correlation`] and evaluated by the analyzer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::{Mapping, Value};

use crate::prefilter::{Need, Prefilter, need_of};
use crate::problem::{Problem, locate};

/// How rules are selected.
#[derive(Debug, Clone)]
pub struct SigmaOptions {
    /// Rules with these statuses are not loaded (counted as excluded).
    pub exclude_status: Vec<String>,
}

impl Default for SigmaOptions {
    fn default() -> Self {
        Self { exclude_status: vec!["deprecated".into(), "unsupported".into()] }
    }
}

/// A loaded, evaluable rule with the metadata alerts carry.
pub struct SigmaRule {
    pub id: String,
    pub title: String,
    /// Becomes the alert's severity.
    pub level: Option<String>,
    pub status: Option<String>,
    /// ATT&CK and other tags, kept on alerts.
    pub tags: Vec<String>,
    pub logsource: Logsource,
    /// The rule's `name`, by which correlation rules may refer to it.
    pub name: Option<String>,
    pub file: PathBuf,
    /// Line and column of its `id` in the file.
    pub at: (usize, usize),
    pub rule: sigma_rust::Rule,
    /// What a record must contain before the rule can match it.
    pub need: Need,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Logsource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

/// What loading a file gave.
#[derive(Default)]
pub struct Loaded {
    pub rules: Vec<SigmaRule>,
    pub correlations: Vec<crate::correlation::CorrelationRule>,
    /// Rules skipped for their status.
    pub excluded: usize,
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Loads every rule of one Sigma file; problems go to `problems`.
pub fn load_file(path: &Path, text: &str, opts: &SigmaOptions, problems: &mut Vec<Problem>) -> Loaded {
    let mut loaded = Loaded::default();
    let mut docs = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        match Value::deserialize(doc) {
            Ok(v) => docs.push(v),
            Err(e) => {
                let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
                problems.push(Problem::error(path, line, col, format!("not valid YAML: {e}")));
                return loaded;
            }
        }
    }
    for mut doc in with_globals(docs) {
        let id = str_of(&doc, "id");
        let (line, col) = id.as_deref().map_or((1, 1), |i| locate(text, i));
        let Some(id) = id else {
            problems.push(Problem::error(path, 1, 1, "rule has no id"));
            continue;
        };
        let status = str_of(&doc, "status");
        if status.as_ref().is_some_and(|s| opts.exclude_status.iter().any(|x| x == s)) {
            loaded.excluded += 1;
            continue;
        }
        if doc.get("correlation").is_some() {
            match crate::correlation::parse(&doc) {
                Ok(c) if matches!(c.op, crate::correlation::Op::Lt | crate::correlation::Op::Lte) => {
                    problems.push(Problem::unsupported(
                        path,
                        line,
                        col,
                        format!("rule {id}: lt/lte conditions are judged at the end of a window, which the streaming correlator does not do yet"),
                    ));
                }
                Ok(c) => loaded.correlations.push(c),
                Err(why) => problems.push(Problem::error(path, line, col, format!("rule {id}: {why}"))),
            }
            continue;
        }
        if let Err(reason) = prepare(&mut doc) {
            let (line, col) = reason.1.as_deref().map_or((line, col), |needle| locate(text, needle));
            problems.push(Problem::unsupported(path, line, col, format!("rule {id}: {}", reason.0)));
            continue;
        }
        let yaml = match serde_norway::to_string(&doc) {
            Ok(y) => y,
            Err(e) => {
                problems.push(Problem::error(path, line, col, format!("rule {id}: {e}")));
                continue;
            }
        };
        match sigma_rust::rule_from_yaml(&yaml) {
            Ok(rule) => {
                let ls = doc.get("logsource");
                let field = |k: &str| ls.and_then(|l| str_of(l, k)).map(|s| s.to_ascii_lowercase());
                loaded.rules.push(SigmaRule {
                    title: str_of(&doc, "title").unwrap_or_default(),
                    level: str_of(&doc, "level"),
                    status,
                    tags: doc
                        .get("tags")
                        .and_then(Value::as_sequence)
                        .map(|t| t.iter().filter_map(Value::as_str).map(str::to_string).collect())
                        .unwrap_or_default(),
                    name: str_of(&doc, "name"),
                    logsource: Logsource {
                        product: field("product"),
                        category: field("category"),
                        service: field("service"),
                    },
                    file: path.to_path_buf(),
                    at: (line, col),
                    need: doc.get("detection").map_or(Need::Always, need_of),
                    id,
                    rule,
                });
            }
            Err(e) => {
                // sigma-rust names the offending token in quotes; point at it when we can.
                let message = e.to_string();
                let token = message.split('\'').nth(1).filter(|t| !t.is_empty());
                let (line, col) = token.map_or((line, col), |t| locate(text, t));
                problems.push(Problem::error(path, line, col, format!("rule {id}: {message}")));
            }
        }
    }
    loaded
}

/// Sigma v1 rule collections: a first document with `action: global` is merged into each
/// following document.
fn with_globals(mut docs: Vec<Value>) -> Vec<Value> {
    let global = docs.first().is_some_and(|d| d.get("action").and_then(Value::as_str) == Some("global"));
    if !global || docs.len() < 2 {
        return docs;
    }
    let base = docs.remove(0);
    docs.into_iter()
        .map(|mut doc| {
            merge(&mut doc, &base);
            if let Some(m) = doc.as_mapping_mut() {
                m.remove("action");
            }
            doc
        })
        .collect()
}

fn merge(into: &mut Value, from: &Value) {
    if let (Some(into), Some(from)) = (into.as_mapping_mut(), from.as_mapping()) {
        for (k, v) in from {
            match into.get_mut(k) {
                Some(existing) if existing.is_mapping() && v.is_mapping() => merge(existing, v),
                Some(_) => {}
                None => {
                    into.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// An unsupported construct: the reason, and text to point the error at.
type Unsupported = (String, Option<String>);

/// Rewrites a rule into what sigma-rust evaluates with the meaning the spec gives it.
fn prepare(doc: &mut Value) -> Result<(), Unsupported> {
    let Some(detection) = doc.get_mut("detection").and_then(Value::as_mapping_mut) else {
        return Ok(());
    };
    if let Some(Value::Sequence(conditions)) = detection.get("condition") {
        let joined =
            conditions.iter().filter_map(Value::as_str).map(|c| format!("({c})")).collect::<Vec<_>>().join(" or ");
        detection.insert(Value::from("condition"), Value::from(joined));
    }
    let names: Vec<Value> =
        detection.keys().filter(|k| !matches!(k.as_str(), Some("condition" | "timeframe"))).cloned().collect();
    for name in names {
        if let Some(selection) = detection.get_mut(&name) {
            rewrite_selection(selection)?;
        }
    }
    Ok(())
}

fn rewrite_selection(sel: &mut Value) -> Result<(), Unsupported> {
    match sel {
        Value::Mapping(m) => rewrite_fields(m),
        Value::Sequence(items) if items.iter().all(|i| !i.is_mapping()) => {
            for item in items.iter_mut() {
                wrap_keyword(item);
            }
            Ok(())
        }
        Value::Sequence(items) => {
            for item in items.iter_mut() {
                if let Value::Mapping(m) = item {
                    rewrite_fields(m)?;
                }
            }
            Ok(())
        }
        Value::String(_) => {
            wrap_keyword(sel);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Keywords match anywhere in a value.
fn wrap_keyword(v: &mut Value) {
    if let Value::String(s) = v {
        if !s.starts_with('*') {
            s.insert(0, '*');
        }
        if !s.ends_with('*') || s.ends_with("\\*") {
            s.push('*');
        }
    }
}

fn rewrite_fields(m: &mut Mapping) -> Result<(), Unsupported> {
    let keys: Vec<Value> = m.keys().cloned().collect();
    for key in keys {
        let Some(name) = key.as_str() else { continue };
        let mut parts: Vec<&str> = name.split('|').collect();
        let mods = &parts[1..];
        if mods.contains(&"expand") {
            return Err((
                "the expand modifier needs placeholder values, which no pipeline supplies yet".into(),
                Some(name.to_string()),
            ));
        }
        if !mods.contains(&"re") {
            continue;
        }
        let flags: String = mods.iter().filter(|m| matches!(**m, "i" | "m" | "s")).copied().collect();
        if flags.is_empty() {
            continue;
        }
        parts.retain(|p| !matches!(*p, "i" | "m" | "s"));
        let new_key = Value::from(parts.join("|"));
        let mut value = m.remove(&key).unwrap_or(Value::Null);
        let prefix = |v: &mut Value| {
            if let Value::String(s) = v {
                s.insert_str(0, &format!("(?{flags})"));
            }
        };
        match &mut value {
            Value::Sequence(items) => items.iter_mut().for_each(prefix),
            other => prefix(other),
        }
        m.insert(new_key, value);
    }
    Ok(())
}

/// A flat record (field → JSON value) as a sigma-rust event. Integers stay integers (sigma-rust
/// compares types strictly); a list is read as its items joined with commas, since sigma-rust
/// never matches a list (ARCHITECTURE.md) and joining keeps `contains`, `startswith` and
/// `endswith` meaningful.
pub fn event_from_fields(fields: &serde_json::Map<String, serde_json::Value>) -> sigma_rust::Event {
    let mut event = sigma_rust::Event::new();
    for (k, v) in fields {
        insert_json(&mut event, k, v);
    }
    event
}

/// Adds one field to an event, with the conversions of [`event_from_fields`].
pub fn insert_json(event: &mut sigma_rust::Event, key: &str, v: &serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::String(s) => event.insert(key, s.as_str()),
        J::Bool(b) => event.insert(key, *b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => event.insert(key, i),
            (None, Some(f)) => event.insert(key, f),
            _ => {}
        },
        J::Array(items) => {
            let joined = items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(",");
            event.insert(key, joined);
        }
        J::Null | J::Object(_) => {}
    }
}

/// Rules indexed by their exact logsource (product, category, service), so that a detector can
/// route each kind of record to the rules written for it, with the literal [`Prefilter`] that
/// tells which of them a record could match.
pub struct SigmaSet {
    pub rules: Vec<SigmaRule>,
    index: HashMap<Logsource, Vec<usize>>,
    pub prefilter: Prefilter,
}

impl Default for SigmaSet {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl SigmaSet {
    pub fn new(rules: Vec<SigmaRule>) -> Self {
        let mut index: HashMap<Logsource, Vec<usize>> = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            index.entry(r.logsource.clone()).or_default().push(i);
        }
        let needs: Vec<Need> = rules.iter().map(|r| r.need.clone()).collect();
        Self { rules, index, prefilter: Prefilter::new(&needs) }
    }

    /// Rebuilds the prefilter for records whose fields a rule's field may read under other
    /// names (see [`Prefilter::with_fields`]).
    pub fn read_fields_as(&mut self, reads: impl Fn(&str) -> Vec<String>) {
        let needs: Vec<Need> = self.rules.iter().map(|r| r.need.clone()).collect();
        self.prefilter = Prefilter::with_fields(&needs, reads);
    }

    /// The same rules, each evaluated on every record of its logsource (benchmarks measure
    /// what the prefilter saves).
    pub fn without_prefilter(mut self) -> Self {
        self.rules.iter_mut().for_each(|r| r.need = Need::Always);
        self.prefilter = Prefilter::new(&vec![Need::Always; self.rules.len()]);
        self
    }

    /// Positions in `rules` of the rules written for exactly this logsource.
    pub fn indices(&self, ls: &Logsource) -> &[usize] {
        self.index.get(ls).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigma_rust::Event;

    fn load(text: &str) -> (Loaded, Vec<Problem>) {
        let mut problems = Vec::new();
        let loaded = load_file(Path::new("t.yml"), text, &SigmaOptions::default(), &mut problems);
        (loaded, problems)
    }

    const HEAD: &str =
        "title: t\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n  product: zeek\n  service: http\n";

    #[test]
    fn regex_flags_become_inline() {
        let (l, p) = load(&format!("{HEAD}detection:\n  sel:\n    uri|re|i: '/ADMIN/'\n  condition: sel\n"));
        assert!(p.is_empty(), "{p:?}");
        let r = &l.rules[0].rule;
        assert!(r.is_match(&Event::from([("uri", "/x/admin/y")])));
        assert!(!r.is_match(&Event::from([("uri", "/x/adm/y")])));
    }

    #[test]
    fn keywords_match_inside_values() {
        let (l, p) = load(&format!("{HEAD}detection:\n  keywords:\n    - 'sqlmap'\n  condition: keywords\n"));
        assert!(p.is_empty(), "{p:?}");
        let r = &l.rules[0].rule;
        assert!(r.is_match(&Event::from([("user_agent", "sqlmap/1.8.2#stable")])));
        assert!(!r.is_match(&Event::from([("user_agent", "curl/8")])));
    }

    #[test]
    fn condition_lists_are_ored() {
        let (l, p) = load(&format!(
            "{HEAD}detection:\n  a:\n    method: PUT\n  b:\n    method: DELETE\n  condition:\n    - a\n    - b\n"
        ));
        assert!(p.is_empty(), "{p:?}");
        let r = &l.rules[0].rule;
        assert!(r.is_match(&Event::from([("method", "DELETE")])));
        assert!(!r.is_match(&Event::from([("method", "GET")])));
    }

    #[test]
    fn expand_is_unsupported_and_correlations_are_read() {
        let (l, p) = load(&format!("{HEAD}detection:\n  sel:\n    host|expand: '%domain%'\n  condition: sel\n"));
        assert!(l.rules.is_empty());
        assert_eq!(
            p[0].to_string(),
            "t.yml:8:5: unsupported: rule 11111111-2222-3333-4444-555555555555: the expand modifier needs placeholder values, which no pipeline supplies yet"
        );
        let (l, p) = load(
            "title: c\nid: c1\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [id.orig_h]\n  timespan: 1h\n  condition:\n    gte: 10\n",
        );
        assert!(p.is_empty() && l.rules.is_empty(), "{p:?}");
        let c = &l.correlations[0];
        assert_eq!((c.timespan, c.limit, c.group_by.as_slice()), (3600.0, 10, ["id.orig_h".to_string()].as_slice()));
        let (_, p) = load(
            "title: c\nid: c2\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 1h\n  condition:\n    gte: 3\n",
        );
        assert!(
            p[0].to_string().starts_with("t.yml:2:5: error: rule c2: value_count needs condition.field"),
            "{}",
            p[0]
        );
    }

    #[test]
    fn syntax_and_semantic_errors_name_the_place() {
        let (_, p) = load("title: [unclosed\nid: x\n");
        assert!(p[0].to_string().starts_with("t.yml:"), "{}", p[0]);
        assert!(p[0].message.starts_with("not valid YAML"));
        let (_, p) = load(&format!("{HEAD}detection:\n  sel:\n    uri|bogusmod: x\n  condition: sel\n"));
        assert_eq!(p.len(), 1);
        assert!(p[0].to_string().starts_with("t.yml:8:"), "{}", p[0]);
    }

    #[test]
    fn global_collections_and_excluded_statuses() {
        let text = "action: global\ntitle: g\nstatus: test\nlogsource:\n  product: zeek\ndetection:\n  condition: sel\n---\nid: a1\nlogsource:\n  service: dns\ndetection:\n  sel:\n    query: x\n---\nid: a2\nstatus: deprecated\nlogsource:\n  service: http\ndetection:\n  sel:\n    uri: y\n";
        let (l, p) = load(text);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(l.rules.len(), 1);
        assert_eq!(l.excluded, 1);
        assert_eq!(
            l.rules[0].logsource,
            Logsource { product: Some("zeek".into()), category: None, service: Some("dns".into()) }
        );
    }
}
