//! Alerts: one schema for every engine (Sigma, YARA, IOC). An alert names the rule, carries
//! its severity and tags, and points at the records behind it (`uids`, `community_id`).

use std::hash::{DefaultHasher, Hash, Hasher};

use canh_sensor::record::{Body, Head, Record};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    /// Derived from rule and record, so replaying a capture twice gives the same ids.
    pub id: String,
    pub ts: f64,
    /// Always `alert`: the record type alerts have in the event store.
    #[serde(rename = "_type")]
    pub record_type: &'static str,
    /// "sigma", "yara" or "ioc".
    pub engine: &'static str,
    pub rule_id: String,
    pub title: String,
    /// informational, low, medium, high or critical (Sigma's levels).
    pub severity: String,
    pub tags: Vec<String>,
    #[serde(rename = "_sensor")]
    pub sensor: String,
    #[serde(rename = "_org")]
    pub org: String,
    pub uids: Vec<String>,
    pub community_id: String,
    pub src: String,
    pub dst: String,
    /// A short excerpt of what matched, for the analyst's first look.
    pub evidence: String,
}

const EVIDENCE_MAX: usize = 240;

impl Alert {
    /// An alert about one record.
    pub fn for_record(
        engine: &'static str,
        rule_id: &str,
        title: &str,
        severity: &str,
        tags: &[String],
        rec: &Record,
    ) -> Self {
        let mut alert = Self::new(engine, rule_id, title, severity, tags, &rec.head, rec.log_type().name());
        alert.evidence = evidence(rec);
        if alert.evidence.len() > EVIDENCE_MAX {
            let mut cut = EVIDENCE_MAX;
            while !alert.evidence.is_char_boundary(cut) {
                cut -= 1;
            }
            alert.evidence.truncate(cut);
            alert.evidence.push('…');
        }
        alert
    }

    /// An alert about something a connection carried (an artifact); evidence is the caller's.
    pub fn for_head(
        engine: &'static str,
        rule_id: &str,
        title: &str,
        severity: &str,
        tags: &[String],
        h: &Head,
    ) -> Self {
        Self::new(engine, rule_id, title, severity, tags, h, "artifact")
    }

    /// `what` tells apart alerts of one rule on different things of one connection.
    fn new(
        engine: &'static str,
        rule_id: &str,
        title: &str,
        severity: &str,
        tags: &[String],
        h: &Head,
        what: &str,
    ) -> Self {
        Self {
            id: alert_id(engine, rule_id, h, what),
            ts: h.ts,
            record_type: "alert",
            engine,
            rule_id: rule_id.to_string(),
            title: title.to_string(),
            severity: severity.to_string(),
            tags: tags.to_vec(),
            sensor: h.origin.sensor.to_string(),
            org: h.origin.org.to_string(),
            uids: vec![h.uid.to_string()],
            community_id: h.community_id.to_string(),
            src: format!("{}:{}", h.orig_h, h.orig_p),
            dst: format!("{}:{}", h.resp_h, h.resp_p),
            evidence: String::new(),
        }
    }
}

fn alert_id(engine: &str, rule_id: &str, h: &Head, what: &str) -> String {
    let mut hasher = DefaultHasher::new();
    (engine, rule_id, &*h.uid, h.ts.to_bits(), what).hash(&mut hasher);
    format!("A{:016x}", hasher.finish())
}

/// What an analyst wants to read first about a record.
fn evidence(rec: &Record) -> String {
    match &rec.body {
        Body::Http(x) => format!(
            "{} {}{} ({}) ua={}",
            x.method.as_deref().unwrap_or("-"),
            x.host.as_deref().unwrap_or(""),
            x.uri.as_deref().unwrap_or(""),
            x.status_code.map_or("-".into(), |s| s.to_string()),
            x.user_agent.as_deref().unwrap_or("-")
        ),
        Body::Dns(x) => format!(
            "{} {} -> {}",
            x.qtype_name.as_deref().unwrap_or("-"),
            x.query.as_deref().unwrap_or("-"),
            x.answers.join(",")
        ),
        Body::Ssl(x) => {
            format!("sni={} ja4={}", x.server_name.as_deref().unwrap_or("-"), x.ja4.as_deref().unwrap_or("-"))
        }
        Body::Conn(x) => {
            format!("{} {} {} bytes {}/{}", x.proto, x.service.unwrap_or("-"), x.conn_state, x.orig_bytes, x.resp_bytes)
        }
        Body::Files(x) => format!(
            "{} {} {} bytes sha256={}",
            x.filename.as_deref().unwrap_or("-"),
            x.mime_type.as_deref().unwrap_or("-"),
            x.seen_bytes,
            x.sha256
        ),
    }
}
