//! The Windows field map: an event log record rendered as JSON (`Event.System`,
//! `Event.EventData`, as SigmaHQ's regression data and evtx converters write it) flattened into
//! the field names Sigma's Windows rules use: every `EventData` field at the top, plus
//! `EventID`, `Channel`, `Provider_Name`, `Computer`, `Level`, `Task`, `Opcode`, `Keywords`,
//! `EventRecordID` and `Version` from `System`. A data field whose name has spaces (Windows
//! Defender's `Threat Name`) is also given without them (`ThreatName`), as Sigma's rules name it.

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
                            insert(&mut out, k2, v2);
                        }
                    }
                    _ => insert(&mut out, k, v),
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

/// Adds a data field under its name, and under its name without spaces when it has some:
/// Windows Defender writes `Threat Name` where Sigma's rules read `ThreatName`.
fn insert(out: &mut Map<String, Value>, name: &str, value: &Value) {
    if name.contains(' ') {
        out.insert(name.replace(' ', ""), value.clone());
    }
    out.insert(name.to_string(), value.clone());
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

    #[test]
    fn names_with_spaces_are_also_read_without_them() {
        let v: Value = serde_json::from_str(
            r##"{"Event":{"System":{"EventID":1116,"Channel":"Microsoft-Windows-Windows Defender/Operational"},"EventData":{"Threat Name":"HackTool:Win32/Mimikatz","Severity Name":"High"}}}"##,
        )
        .unwrap();
        let m = flatten(&v).unwrap();
        assert_eq!(m["ThreatName"], "HackTool:Win32/Mimikatz");
        assert_eq!(m["Threat Name"], "HackTool:Win32/Mimikatz");
        assert_eq!(m["SeverityName"], "High");
    }
}
