//! The Windows field map: an event log record rendered as JSON (`Event.System`,
//! `Event.EventData`, as SigmaHQ's regression data and evtx converters write it) flattened into
//! the field names Sigma's Windows rules use: every `EventData` field at the top, plus
//! `EventID`, `Channel`, `Provider_Name`, `Computer`, `Level`, `Task`, `Opcode`, `Keywords`,
//! `EventRecordID` and `Version` from `System`.

use serde_json::{Map, Value};

/// `None` when the value is not a Windows event record.
pub fn flatten(v: &Value) -> Option<Map<String, Value>> {
    let event = v.get("Event")?;
    let system = event.get("System")?;
    let mut out = Map::new();
    for section in ["EventData", "UserData"] {
        if let Some(Value::Object(data)) = event.get(section) {
            for (k, v) in data {
                if k == "#attributes" {
                    continue;
                }
                // UserData nests one level more: its fields sit in a named element.
                match (section, v) {
                    ("UserData", Value::Object(inner)) => {
                        for (k2, v2) in inner.iter().filter(|(k2, _)| *k2 != "#attributes") {
                            out.insert(k2.clone(), v2.clone());
                        }
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    for key in ["EventID", "Channel", "Computer", "Level", "Task", "Opcode", "Keywords", "EventRecordID", "Version"] {
        if let Some(v) = system.get(key) {
            // Some converters write `{"#text": 4688, "#attributes": {...}}`.
            let v = v.get("#text").unwrap_or(v);
            out.insert(key.to_string(), v.clone());
        }
    }
    if let Some(name) = system.pointer("/Provider/#attributes/Name") {
        out.insert("Provider_Name".into(), name.clone());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_system_and_eventdata() {
        let v: Value = serde_json::from_str(
            r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":{"#text":1,"#attributes":{"Qualifiers":""}},"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\Windows\\System32\\reg.exe","CommandLine":"reg query x"}}}"##,
        )
        .unwrap();
        let m = flatten(&v).unwrap();
        assert_eq!(m["EventID"], 1);
        assert_eq!(m["Provider_Name"], "Microsoft-Windows-Sysmon");
        assert_eq!(m["Image"], "C:\\Windows\\System32\\reg.exe");
        assert!(flatten(&serde_json::json!({"query": "x"})).is_none());
    }
}
