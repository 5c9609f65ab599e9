//! Alerts: one schema for every engine (Sigma, YARA, IOC). An alert names the rule, carries
//! its severity and tags, and points at the records behind it (`uids`, `community_id`).

use canh_sensor::ids;
use std::net::IpAddr;

use canh_sensor::record::{Body, CLIENT_PORT, Head, Record, SERVICE_PORT, names};
use canh_sensor::record_type;
use canh_sensor::schema::{Fields, Role, serialize_fields};
use serde::Serialize;

record_type! {
    /// One alert (`_type` `alert` in the event store).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Alert {
        /// Derived from rule and record, so replaying a capture twice gives the same ids.
        pub id: String => "id", Role::Value;
        pub ts: f64 => names::TS, Role::Time;
        /// Always `alert`: the record type alerts have in the event store.
        pub record_type: &'static str => names::TYPE, Role::Keyword;
        /// "sigma", "yara" or "ioc".
        pub engine: &'static str => "engine", Role::Value;
        pub rule_id: String => "rule_id", Role::Keyword;
        pub title: String => "title", Role::Text;
        /// informational, low, medium, high or critical (Sigma's levels).
        pub severity: String => "severity", Role::Keyword;
        pub tags: Vec<String> => "tags", Role::Value;
        pub sensor: String => names::SENSOR, Role::Keyword;
        pub org: String => names::ORG, Role::Keyword;
        /// The connections behind the alert.
        pub uids: Vec<String> => "uids", Role::Value;
        pub community_id: String => names::COMMUNITY_ID, Role::Keyword;
        /// The connection's endpoints, in the records' own fields (found by the same network
        /// and port queries); none for a flowless record.
        pub orig_h: Option<IpAddr> => names::ORIG_H, Role::Address;
        pub orig_p: Option<u16> => names::ORIG_P, CLIENT_PORT;
        pub resp_h: Option<IpAddr> => names::RESP_H, Role::Address;
        pub resp_p: Option<u16> => names::RESP_P, SERVICE_PORT;
        /// A short excerpt of what matched, for the analyst's first look.
        pub evidence: String => "evidence", Role::Text;
    }
}

impl Serialize for Alert {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_fields(s, |map| self.visit(0, map))
    }
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
            // A flowless record (a weird of the decoder) has no connection to point at.
            uids: if h.has_connection() { vec![h.uid.to_string()] } else { Vec::new() },
            community_id: h.community_id.to_string(),
            orig_h: h.has_connection().then_some(h.orig_h),
            orig_p: h.has_connection().then_some(h.orig_p),
            resp_h: h.has_connection().then_some(h.resp_h),
            resp_p: h.has_connection().then_some(h.resp_p),
            evidence: String::new(),
        }
    }
}

/// `A` and 17 base62 digits of SHA-256 over `"canh-alert-v1" 0x00 engine 0x00 rule_id 0x00
/// uid 0x00 what 0x00 ts_micros` (8 bytes big-endian; see [`canh_sensor::ids`]): stable
/// across runs and toolchains, so the store keeps a re-raised alert once.
fn alert_id(engine: &str, rule_id: &str, h: &Head, what: &str) -> String {
    let micros = (h.ts * 1e6).round() as u64;
    let d = ids::digest(
        "canh-alert-v1",
        &[
            engine.as_bytes(),
            &[0],
            rule_id.as_bytes(),
            &[0],
            h.uid.as_bytes(),
            &[0],
            what.as_bytes(),
            &[0],
            &micros.to_be_bytes(),
        ],
    );
    ids::base62_id('A', &d)
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
        Body::Weird(x) => format!("{} ({}) {}", x.name, x.source, x.addl.as_deref().unwrap_or("")),
        Body::Tunnel(x) => format!("{} {}", x.tunnel_type, x.action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_id_vector() {
        // Computed apart from this code, with Python's hashlib, from the documented bytes.
        let mut h = canh_sensor::record::Head {
            ts: 1_764_633_600.123456,
            uid: "C8hvtJcEjqcFKL0ZIK".into(),
            orig_h: "10.10.1.5".parse().unwrap(),
            orig_p: 51234,
            resp_h: "203.0.113.7".parse().unwrap(),
            resp_p: 443,
            community_id: "1:x".into(),
            origin: Default::default(),
        };
        assert_eq!(alert_id("sigma", "rule-1", &h, "http"), "AwkSNGkfFTqaFw7v9c");
        h.ts += 0.000001;
        assert_ne!(alert_id("sigma", "rule-1", &h, "http"), "AwkSNGkfFTqaFw7v9c");
    }
}
