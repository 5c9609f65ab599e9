//! Sensors' health: heartbeats in (`POST /v1/heartbeat`, kept with the clock offset they
//! show), and a watch that raises an alert — into the event store, hence triage — when a sensor
//! falls silent, the kernel drops too much of its traffic, or its clock drifts; once per onset,
//! and again only after the condition cleared.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use canh_analyzer::alert::Alert;
use serde_json::json;

use super::{Ingest, refuse};
use crate::server::ClientCertificate;
use crate::state::sensor::{self, Status};

/// When a sensor's health is a problem.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// No heartbeat for this long: silent.
    pub silent: Duration,
    /// Frames the kernel dropped, of all it saw: above this, an alert.
    pub drop_rate: f64,
    /// The sensor's clock this far from the server's: an alert (records' times are its).
    pub clock_skew: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { silent: Duration::from_secs(300), drop_rate: 0.01, clock_skew: Duration::from_secs(5) }
    }
}

pub async fn heartbeat_handler(
    State(ingest): State<Arc<Ingest>>,
    Extension(cert): Extension<ClientCertificate>,
    body: Bytes,
) -> Response {
    let id = match super::sensor_of(&ingest.app, &cert) {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    if body.len() > canh_sensor::ship::wire::MAX_HEARTBEAT {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "a heartbeat over 64 KiB").into_response();
    }
    let data: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        Ok(_) => return refuse(StatusCode::BAD_REQUEST, "a heartbeat is a JSON object").into_response(),
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("heartbeat: {e}")).into_response(),
    };
    let now = now_f64();
    let app = ingest.app.clone();
    let kept =
        tokio::task::spawn_blocking(move || app.lock().change(|tx| sensor::heartbeat(tx, &id.name, &data, now))).await;
    match kept {
        Ok(Ok(offset)) => Json(json!({ "server_time": now, "clock_offset": offset })).into_response(),
        Ok(Err(e)) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn now_f64() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// A health problem of a sensor now: its name (`silent`, `drops`, `clock`), title and what
/// shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub condition: &'static str,
    pub title: &'static str,
    pub severity: &'static str,
    pub evidence: String,
}

/// What is wrong with a sensor at `now` (Unix seconds). A sensor never heard from, or revoked,
/// has nothing to watch.
pub fn problems(status: &Status, now: i64, limits: &Limits) -> Vec<Problem> {
    let Some(h) = &status.health else { return Vec::new() };
    if status.sensor.revoked.is_some() || h.received == 0 {
        return Vec::new();
    }
    let mut found = Vec::new();
    let quiet = now - h.received;
    if quiet >= limits.silent.as_secs() as i64 {
        found.push(Problem {
            condition: "silent",
            title: "Sensor silent: no heartbeat",
            severity: "high",
            evidence: format!("no heartbeat for {} min (limit {} min)", quiet / 60, limits.silent.as_secs() / 60),
        });
    }
    if h.drop_rate() > limits.drop_rate {
        found.push(Problem {
            condition: "drops",
            title: "Sensor dropping packets",
            severity: "medium",
            evidence: format!(
                "the kernel dropped {} of {} frames ({:.2} %, limit {:.2} %)",
                h.kernel_dropped(),
                h.kernel_dropped() + h.received_packets(),
                h.drop_rate() * 100.0,
                limits.drop_rate * 100.0
            ),
        });
    }
    if h.clock_offset.abs() > limits.clock_skew.as_secs_f64() {
        found.push(Problem {
            condition: "clock",
            title: "Sensor clock skewed",
            severity: "medium",
            evidence: format!(
                "the sensor's clock is {:+.1} s from the server's (limit ±{} s): its records' times are off",
                -h.clock_offset,
                limits.clock_skew.as_secs()
            ),
        });
    }
    found
}

/// A sensor's state in one word, as the status command and the sensors page show it:
/// `revoked`, `unheard` (no heartbeat yet), the first problem's condition, or `ok`.
pub fn state(status: &Status, problems: &[Problem]) -> &'static str {
    match (&status.sensor.revoked, &status.health, problems.first()) {
        (Some(_), _, _) => "revoked",
        (None, None, _) => "unheard",
        (None, Some(_), Some(p)) => p.condition,
        (None, Some(_), None) => "ok",
    }
}

fn alert(status: &Status, p: &Problem, now: f64) -> Alert {
    let rule_id = format!("canh.sensor.{}", p.condition);
    let id_source = format!("{rule_id}\0{}\0{now}", status.sensor.name);
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(id_source.as_bytes()));
    Alert {
        id: format!("H{}", &digest[..17]),
        ts: now,
        record_type: "alert",
        engine: "health",
        rule_id,
        title: p.title.to_string(),
        severity: p.severity.to_string(),
        tags: vec!["canh.sensor-health".into()],
        sensor: status.sensor.name.clone(),
        org: status.sensor.org.clone(),
        uids: Vec::new(),
        community_id: String::new(),
        orig_h: None,
        orig_p: None,
        resp_h: None,
        resp_p: None,
        evidence: p.evidence.clone(),
    }
}

/// How often the sensors are looked at, at most: a third of the silence allowed, so that a
/// silent sensor is told within a third of the limit past it.
const EVERY: Duration = Duration::from_secs(15);

/// Looks at every sensor now and then, until the process ends.
pub async fn watch(ingest: Arc<Ingest>, limits: Limits) {
    let every = EVERY.min(limits.silent / 3).max(Duration::from_millis(200));
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = check(&ingest, &limits).await {
            tracing::warn!("sensor health: {e:#}");
        }
    }
}

/// One look: alerts for conditions that began, and conditions that ended forgotten.
pub async fn check(ingest: &Arc<Ingest>, limits: &Limits) -> anyhow::Result<usize> {
    let statuses = sensor::statuses(&*ingest.app.read()?)?;
    let now = now_f64();
    let mut lines = Vec::new();
    let mut changes = Vec::new();
    for status in &statuses {
        let found = problems(status, now as i64, limits);
        let raised = status.health.as_ref().map(|h| h.raised.clone()).unwrap_or_default();
        let now_raised: Vec<String> = found.iter().map(|p| p.condition.to_string()).collect();
        for p in found.iter().filter(|p| !raised.iter().any(|r| r == p.condition)) {
            tracing::warn!(sensor = %status.sensor.name, "{}: {}", p.title, p.evidence);
            serde_json::to_writer(&mut lines, &alert(status, p, now))?;
            lines.push(b'\n');
        }
        if now_raised != raised {
            changes.push((status.sensor.name.clone(), now_raised));
        }
    }
    let raised = lines.iter().filter(|b| **b == b'\n').count();
    if !lines.is_empty() {
        ingest.committer.commit(lines).await.map_err(anyhow::Error::msg)?;
    }
    if !changes.is_empty() {
        let app = ingest.app.clone();
        tokio::task::spawn_blocking(move || {
            app.lock().change(|tx| {
                for (name, raised) in &changes {
                    sensor::set_raised(tx, name, raised)?;
                }
                Ok(())
            })
        })
        .await??;
    }
    Ok(raised)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::sensor::{Delivered, Health, Sensor};

    fn status(received: i64, offset: f64, data: serde_json::Value) -> Status {
        Status {
            sensor: Sensor {
                name: "s1".into(),
                org: "so-a".into(),
                serial: Some("ab".into()),
                not_after: None,
                revoked: None,
                token_expires: None,
            },
            delivered: Delivered::default(),
            health: Some(Health { received, clock_offset: offset, data, raised: Vec::new() }),
        }
    }

    #[test]
    fn silence_drops_and_skew_are_problems_at_their_limits() {
        let limits = Limits::default();
        let fine = status(1000, 0.2, json!({"received": 1000, "kernel_dropped": 10}));
        assert!(problems(&fine, 1000 + 299, &limits).is_empty());
        let names = |s: &Status, now| problems(s, now, &limits).iter().map(|p| p.condition).collect::<Vec<_>>();
        assert_eq!(names(&fine, 1000 + 300), ["silent"]);
        let dropping = status(1000, 0.0, json!({"received": 980, "kernel_dropped": 20}));
        assert_eq!(names(&dropping, 1001), ["drops"]);
        let skewed = status(1000, -5.5, json!({}));
        assert_eq!(names(&skewed, 1001), ["clock"]);
        assert!(problems(&skewed, 1001, &limits)[0].evidence.contains("+5.5 s"), "the sensor is ahead");
    }
}
