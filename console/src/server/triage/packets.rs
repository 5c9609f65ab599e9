//! "Download PCAP" on an alert: an analyst asks for the frames of the alert's flow; the sensor
//! that saw it answers from its packet store ([`crate::server::ingest::packets`]); the analyst
//! downloads the capture. Both steps need the triage permission and the alert within the
//! user's organizations, and both are in the audit trail (packets hold whatever the network
//! carried: citizens' data included).

use std::sync::Arc;

use axum::extract::{Extension, Path, State as AxState};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::{Failure, blocking, quoted, scope};
use crate::server::i18n::Lang;
use crate::server::routes::{App, Principal};
use crate::state::{alerts, audit, packets, sensor};

/// How far before and after the alert a flow's frames are looked for when its connection's
/// record does not say when it began and ended (the flow may still be going on).
const AROUND_SECONDS: f64 = 600.0;
/// Slack on a connection record's span: the frames' and the record's clocks are the same, but
/// the record's start is its first frame's time rounded to a microsecond.
const SLACK_SECONDS: f64 = 2.0;

/// `POST /alerts/{id}/packets`.
pub async fn request_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    let target = id.clone();
    match blocking(&app, move |app| request(app, &p, &id)).await {
        Ok(_) => Redirect::to(&format!("/alerts/{}#packets", encode(&target))).into_response(),
        Err(f) => f.page(lang),
    }
}

/// Asks the alert's sensor for its flow's frames; returns the request's id.
pub fn request(app: &App, p: &Principal, id: &str) -> Result<i64, Failure> {
    let scope = scope(app, p)?;
    let actor = p.actor();
    let alert = {
        let conn = app.read()?;
        alerts::get(&conn, &scope, id)?
    };
    let Some(alert) = alert else {
        app.audit(
            audit::Entry::new(&actor, "packets.request", id, audit::Outcome::Denied).detail("not found in scope"),
        )?;
        return Err(Failure::NotFound(format!("no alert `{id}`")));
    };
    if alert.community_id.is_empty() || alert.sensor.is_empty() {
        return Err(Failure::Invalid("the alert names no flow and sensor: there are no packets to fetch".into()));
    }
    if sensor::get(&*app.read()?, &alert.sensor)?.is_none_or(|s| s.revoked.is_some() || s.serial.is_none()) {
        return Err(Failure::Invalid(format!(
            "sensor `{}` is not an enrolled sensor: it cannot be asked for packets",
            alert.sensor
        )));
    }
    let (from, to) = window(app, &alert, scope)?;
    let ask = packets::Ask {
        alert: &alert.id,
        sensor: &alert.sensor,
        org: &alert.org,
        community_id: &alert.community_id,
        from,
        to,
        by: &actor.name,
    };
    let (request, new) = app.lock().change(|tx| packets::request(tx, &ask))?;
    app.audit(audit::Entry::done(&actor, "packets.request", id).detail(&format!(
        "request #{request}{} to sensor {} for {} from {from:.6} to {to:.6}",
        if new { "" } else { " (waiting already)" },
        alert.sensor,
        alert.community_id
    )))?;
    Ok(request)
}

/// The time the flow's frames are in: its connection record's span when the store has it,
/// else around the alert.
fn window(app: &App, alert: &alerts::Alert, scope: Option<Vec<String>>) -> Result<(f64, f64), Failure> {
    let ts = alert.ts as f64 / 1e6;
    let search = canh_analyzer::store::query::Search {
        query: format!("_type:conn AND community_id:{}", quoted(&alert.community_id)),
        since: Some(alert.ts - 86_400 * 1_000_000),
        until: Some(alert.ts + 86_400 * 1_000_000),
        limit: 50,
        orgs: scope,
        ..Default::default()
    };
    let store = app.store().map_err(|e| Failure::Internal(e.to_string()))?;
    let conns = store.search(&search).map_err(|e| Failure::Internal(e.to_string()))?.records;
    // The connection the alert fell in (a Community ID is reused by a later connection of the
    // same five-tuple): the one whose span holds the alert's time, else the nearest.
    let span = |r: &serde_json::Value| {
        let start = r.get("ts").and_then(|v| v.as_f64())?;
        Some((start, start + r.get("duration").and_then(|v| v.as_f64()).unwrap_or(0.0)))
    };
    let distance = |(start, end): (f64, f64)| if ts < start { start - ts } else { (ts - end).max(0.0) };
    let nearest = conns.iter().filter_map(span).min_by(|a, b| distance(*a).total_cmp(&distance(*b)));
    Ok(match nearest {
        Some((start, end)) if distance((start, end)) <= AROUND_SECONDS => {
            (start.min(ts) - SLACK_SECONDS, end.max(ts) + SLACK_SECONDS)
        }
        _ => (ts - AROUND_SECONDS, ts + AROUND_SECONDS),
    })
}

/// `GET /alerts/{id}/packets/{request}`: the capture, as a file.
pub async fn download(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path((id, request)): Path<(String, String)>,
) -> Response {
    match blocking(&app, move |app| capture(app, &p, &id, &request)).await {
        Ok((name, bytes)) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.tcpdump.pcap"));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        Err(f) => f.page(lang),
    }
}

/// The capture of request `request` of alert `id`, and the file name it is offered under.
fn capture(app: &App, p: &Principal, id: &str, request: &str) -> Result<(String, Vec<u8>), Failure> {
    let scope = scope(app, p)?;
    let actor = p.actor();
    let found = {
        let conn = app.read()?;
        let alert = alerts::get(&conn, &scope, id)?;
        let asked = request.parse::<i64>().ok().map(|n| packets::get(&conn, n)).transpose()?.flatten();
        alert.zip(asked.filter(|r| r.alert == id && r.state == packets::State::Ready))
    };
    let Some((alert, asked)) = found else {
        app.audit(
            audit::Entry::new(&actor, "packets.download", id, audit::Outcome::Denied)
                .detail(&format!("request {request}: not found in scope, or not ready")),
        )?;
        return Err(Failure::NotFound(format!("no packets `{request}` of alert `{id}`")));
    };
    let path = packets::file(&app.data, asked.id);
    let bytes = std::fs::read(&path).map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
    app.audit(audit::Entry::done(&actor, "packets.download", id).detail(&format!(
        "request #{}: {} frames, {} bytes, from sensor {}",
        asked.id, asked.packets, asked.bytes, alert.sensor
    )))?;
    // The alert's id is the store's (hex); anything else is left out of a file name.
    let safe: String = alert.id.chars().filter(|c| c.is_ascii_alphanumeric()).take(40).collect();
    Ok((format!("canh-alert-{safe}-{}.pcap", asked.id), bytes))
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
