//! Trying rules on sample events (`canh rules test`): which rules each event matches. Events
//! are JSON — one object, an array of objects, or objects one after another — either flat
//! records or Windows event log records (flattened with [`crate::windows`]).

use serde_json::Value;

use crate::prefilter::RecordText;
use crate::sigma::{SigmaSet, event_from_fields};
use crate::windows;

/// The events of a file. On bad JSON, the line and column where reading stopped.
pub fn read_events(text: &str) -> Result<Vec<Value>, (usize, usize, String)> {
    let mut events = Vec::new();
    for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        match v {
            Ok(Value::Array(items)) => events.extend(items),
            Ok(v) => events.push(v),
            Err(e) => return Err((e.line(), e.column(), e.to_string())),
        }
    }
    Ok(events)
}

/// The ids of the rules an event matches. Rules go through the set's literal prefilter as in
/// detection, so a test also proves the prefilter lets its rule through.
pub fn matching_rules<'a>(set: &'a SigmaSet, event: &Value) -> Vec<&'a str> {
    let fields = match windows::flatten(event) {
        Some(m) => m,
        None => match event {
            Value::Object(m) => m.clone(),
            _ => return Vec::new(),
        },
    };
    let e = event_from_fields(&fields);
    let (mut text, mut candidates) = (RecordText::default(), Vec::new());
    set.prefilter.text_of(&fields, &mut text);
    set.prefilter.candidates(&mut text, &mut candidates);
    set.rules.iter().zip(candidates).filter(|(r, c)| *c && r.rule.is_match(&e)).map(|(r, _)| r.id.as_str()).collect()
}
