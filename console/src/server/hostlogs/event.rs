//! Host log events as records: a syslog message (or a line that is not one, kept raw), or a
//! JSON event an agent sent (a Windows event record is flattened by the Windows field map).
//! Each gets `_type` by its source, the receiver's time (`received`: two identical lines are
//! two events), the sender, and the organization its address belongs to; and the Sigma
//! logsource it is routed by.

use std::net::IpAddr;

use canh_analyzer::hostlog::Source;
use canh_sensor::proto::syslog::Message;
use serde_json::{Map, Value};

/// A host log event ready for detection and the store.
#[derive(Debug, Clone)]
pub struct Event {
    pub fields: Map<String, Value>,
    pub source: Source,
    pub ts: f64,
    pub sender: Option<IpAddr>,
}

fn put(m: &mut Map<String, Value>, k: &str, v: impl Into<Value>) {
    m.insert(k.to_string(), v.into());
}

/// A syslog message received from `sender` at `received`.
pub fn syslog(m: &Message<'_>, sender: IpAddr, transport: &str, received: f64) -> Event {
    let mut f = Map::new();
    let ts = m.time.unwrap_or(received);
    put(&mut f, "ts", ts);
    put(&mut f, "_type", "syslog");
    put(&mut f, "received", received);
    put(&mut f, "sender", sender.to_string());
    put(&mut f, "transport", transport);
    put(&mut f, "format", m.format.name());
    put(&mut f, "facility", m.facility);
    put(&mut f, "severity", m.severity);
    if let Some(h) = &m.hostname {
        put(&mut f, "host", h.as_ref());
    }
    if let Some(a) = &m.app_name {
        put(&mut f, "program", a.as_ref());
    }
    if let Some(p) = &m.proc_id {
        put(&mut f, "pid", p.as_ref());
    }
    if let Some(i) = &m.msg_id {
        put(&mut f, "msgid", i.as_ref());
    }
    if let Some(sd) = &m.structured_data {
        put(&mut f, "structured_data", sd.as_ref());
    }
    put(&mut f, "message", m.message.as_ref());
    let source = Source::of_syslog(m.app_name.as_deref(), m.facility);
    Event { fields: f, source, ts, sender: Some(sender) }
}

/// A line that is not syslog (or, from an agent, not JSON): kept whole (as text) under
/// `kind`, marked, counted by the caller.
pub fn raw(line: &[u8], why: &str, kind: &str, sender: Option<IpAddr>, transport: &str, received: f64) -> Event {
    let mut f = Map::new();
    put(&mut f, "ts", received);
    put(&mut f, "_type", kind);
    put(&mut f, "received", received);
    if let Some(s) = sender {
        put(&mut f, "sender", s.to_string());
    }
    put(&mut f, "transport", transport);
    put(&mut f, "malformed", why);
    put(&mut f, "message", String::from_utf8_lossy(line).into_owned());
    Event { fields: f, source: Source::default(), ts: received, sender }
}

/// A JSON line an agent sent under `kind` (`winlog`, or a name of the agent's choosing). A
/// Windows event record is flattened; its time is its `TimeCreated`, else the line's `ts`,
/// `@timestamp` or `timestamp`, else the receiver's.
pub fn json(value: Value, kind: &str, received: f64) -> Result<Event, &'static str> {
    let time = value
        .pointer("/Event/System/TimeCreated/#attributes/SystemTime")
        .or_else(|| value.get("ts"))
        .or_else(|| value.get("@timestamp"))
        .or_else(|| value.get("timestamp"))
        .and_then(|t| match t {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|t| t.unix_timestamp_nanos() as f64 / 1e9),
            _ => None,
        });
    let (mut fields, source) = match canh_rules::windows::flatten(&value) {
        Some(flat) => {
            let source = Source::of_windows(&flat);
            (flat, source)
        }
        None => match value {
            Value::Object(m) => (m, Source::default()),
            _ => return Err("not a JSON object"),
        },
    };
    let ts = time.unwrap_or(received);
    put(&mut fields, "ts", ts);
    put(&mut fields, "_type", kind);
    put(&mut fields, "received", received);
    Ok(Event { fields, source, ts, sender: None })
}
