//! A sensor's batch as the server checks and stamps it: every line a JSON object with a
//! numeric `ts`, as many lines as the batch says, each carrying the `_sensor` and `_org` of the
//! certificate that sent it — whatever the line said. Pure over bytes (the server's side of
//! [`super::wire`]), and fuzzed.

use serde_json::{Map, Value};

use crate::record::names;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("line {line}: {message}")]
    Line { line: u64, message: String },
    #[error("the batch says {said} records and holds {found}")]
    Count { said: u64, found: u64 },
}

/// The batch's lines, stamped with `sensor` and `org` and written anew (the same line gives the
/// same text, so a resend gets the same store id).
pub fn stamp(ndjson: &[u8], sensor: &str, org: &str, said: u64) -> Result<Vec<u8>, BatchError> {
    let mut out = Vec::with_capacity(ndjson.len() + ndjson.len() / 16);
    let mut found = 0u64;
    for (i, line) in ndjson.split(|b| *b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let bad = |message: String| BatchError::Line { line: line_no, message };
        let mut object: Map<String, Value> =
            serde_json::from_slice(line).map_err(|e| bad(format!("not a JSON object: {e}")))?;
        if !object.get(names::TS).is_some_and(Value::is_number) {
            return Err(bad("no numeric `ts`".into()));
        }
        found += 1;
        // Always written anew, never kept as sent: a line naming `_sensor` twice would keep
        // the first for the store's reader and the last for this check.
        object.insert(names::SENSOR.into(), sensor.into());
        object.insert(names::ORG.into(), org.into());
        serde_json::to_writer(&mut out, &object).map_err(|e| bad(e.to_string()))?;
        out.push(b'\n');
    }
    if found != said {
        return Err(BatchError::Count { said, found });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_names_the_sensor_not_the_line() {
        let good = br#"{"ts":1.5,"_sensor":"s1","_org":"so-a","_type":"conn"}"#;
        // A key given twice: the store's reader would take the first.
        let twice = br#"{"ts":3,"_sensor":"other","_sensor":"s1","_org":"so-a"}"#;
        let out = String::from_utf8(stamp(twice, "s1", "so-a", 1).unwrap()).unwrap();
        assert_eq!(out.matches("_sensor").count(), 1, "{out}");
        assert!(!out.contains("other"), "{out}");
        let forged = br#"{"ts":2,"_sensor":"other","_org":"so-b","_type":"dns"}"#;
        let body = [&good[..], b"\n", forged, b"\n"].concat();
        let out = String::from_utf8(stamp(&body, "s1", "so-a", 2).unwrap()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let first: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first, serde_json::json!({"ts": 1.5, "_sensor": "s1", "_org": "so-a", "_type": "conn"}));
        assert_eq!(stamp(&body, "s1", "so-a", 2).unwrap(), out.as_bytes(), "the same text each time");
        let v: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(
            (v["_sensor"].as_str(), v["_org"].as_str(), v["_type"].as_str()),
            (Some("s1"), Some("so-a"), Some("dns"))
        );
    }

    #[test]
    fn a_bad_line_or_count_is_named() {
        assert_eq!(
            stamp(b"{\"ts\":1}\n[1,2]\n", "s", "o", 2),
            Err(BatchError::Line {
                line: 2,
                message: "not a JSON object: invalid type: sequence, expected a map at line 1 column 0".into()
            })
        );
        assert_eq!(
            stamp(b"{\"ts\":\"x\"}\n", "s", "o", 1),
            Err(BatchError::Line { line: 1, message: "no numeric `ts`".into() })
        );
        assert_eq!(stamp(b"{\"ts\":1}\n", "s", "o", 2), Err(BatchError::Count { said: 2, found: 1 }));
    }
}
