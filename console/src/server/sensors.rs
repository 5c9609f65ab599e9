//! The sensors page (`/sensors`): each sensor of the user's organizations with its last
//! heartbeat, capture counts, records per second, spool, rules, clock, and what is wrong —
//! what `canh sensor status` prints.

use std::sync::Arc;

use axum::extract::{Extension, State as AxState};
use axum::response::Response;

use crate::server::i18n::{Lang, Tr};
use crate::server::routes::{App, Principal, page};
use crate::server::triage::{Failure, blocking, scope};
use crate::state::{audit, sensor};

#[derive(askama::Template)]
#[template(path = "sensors.html")]
struct SensorsPage {
    t: Tr,
    rows: Vec<Row>,
}

struct Row {
    name: String,
    org: String,
    /// `ok`, `silent`, `drops`, `clock`, `revoked`, `unheard`.
    state: String,
    heard: String,
    received: u64,
    drop_percent: String,
    records_per_s: String,
    records: u64,
    spool: u64,
    dropped_records: u64,
    clock: String,
    rules: String,
    problems: Vec<String>,
}

pub async fn sensors_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    let zone = p.zone();
    let limits = *app.sensor_limits.lock().unwrap_or_else(|p| p.into_inner());
    let found = blocking(&app, move |app| {
        let all = statuses_in_scope(app, &scope(app, &p)?)?;
        app.audit(audit::Entry::done(&p.actor(), "sensor.status", "all"))?;
        Ok(all)
    })
    .await;
    let all = match found {
        Ok(all) => all,
        Err(f) => return f.page(lang),
    };
    let now = crate::state::now_unix();
    let rows = all
        .iter()
        .map(|s| {
            let problems = super::ingest::health::problems(s, now, &limits);
            let state = super::ingest::health::state(s, &problems);
            let h = s.health.as_ref();
            Row {
                name: s.sensor.name.clone(),
                org: s.sensor.org.clone(),
                state: state.to_string(),
                heard: h.map(|h| zone.seconds(h.received as f64)).unwrap_or_default(),
                received: h.map_or(0, sensor::Health::received_packets),
                drop_percent: h.map(|h| format!("{:.2}", h.drop_rate() * 100.0)).unwrap_or_default(),
                records_per_s: h.map(|h| format!("{:.0}", h.records_per_s())).unwrap_or_default(),
                records: s.delivered.records,
                spool: h.map_or(0, sensor::Health::spool_batches),
                dropped_records: s.delivered.dropped_records,
                clock: h.map(|h| format!("{:+.1} s", h.clock_ahead())).unwrap_or_default(),
                // A sensor says this: its controls and bidi overrides shown, not obeyed.
                rules: h.map(|h| crate::escape::terminal(h.rules()).into_owned()).unwrap_or_default(),
                problems: problems.into_iter().map(|p| p.evidence).collect(),
            }
        })
        .collect();
    page(&SensorsPage { t: Tr(lang), rows })
}

/// The sensors of the organizations `scope` holds (`None`: all), with their health.
pub(crate) fn statuses_in_scope(app: &App, scope: &Option<Vec<String>>) -> Result<Vec<sensor::Status>, Failure> {
    Ok(sensor::statuses(&*app.read()?)?
        .into_iter()
        .filter(|s| scope.as_ref().is_none_or(|orgs| orgs.contains(&s.sensor.org)))
        .collect())
}
