//! The dashboard: alerts over time, top rules, sources and destinations, alerts by severity
//! and status (from the triage table), records per type and per organization (from the event
//! store) — over a time range, within the caller's organizations. Charts are SVG drawn here;
//! no script draws them and nothing is fetched from elsewhere.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Extension, Query, State as AxState};
use axum::response::Response;
use canh_analyzer::store::aggregate::{Agg, AggResult};
use canh_analyzer::store::query::Search;

use super::i18n::{Lang, Tr};
use super::routes::{App, Principal, page};
use super::triage::{Failure, query_string, quoted};
use crate::state::alerts::{self, Filter, Spread};
use crate::state::{audit, org};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DashboardParams {
    /// An age, a date or a time; empty: the last 7 days.
    pub since: String,
}

/// The range shown when none is given.
const DEFAULT_SINCE: &str = "7d";

#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// Microseconds since the epoch.
    pub since: i64,
    /// The width of a bar of `alerts.over_time`, in microseconds.
    pub bucket: i64,
    pub alerts: Spread,
    /// Records (alerts included) per `_type` and per `_org`, most first.
    pub records_by_type: Vec<(String, u64)>,
    pub records_by_org: Vec<(String, u64)>,
}

/// A bucket that gives at most 48 bars over `span` microseconds.
fn bucket_for(span: i64) -> i64 {
    const HOUR: i64 = 3_600_000_000;
    [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 7 * 24 * HOUR]
        .into_iter()
        .find(|b| span / b <= 48)
        .unwrap_or(30 * 24 * HOUR)
}

pub fn dashboard(app: &App, p: &Principal, params: &DashboardParams) -> Result<Dashboard, Failure> {
    let asked = if params.since.trim().is_empty() { DEFAULT_SINCE } else { params.since.trim() };
    let now = time::OffsetDateTime::now_utc();
    let since = p.zone().parse(asked, now).map_err(|e| Failure::Invalid(format!("since: {e}")))?;
    let bucket = bucket_for((now.unix_timestamp_nanos() / 1000) as i64 - since);
    let scope = org::scope(&*app.read()?, p.org())?;
    let filter = Filter { status: "all".into(), since: Some(since), ..Default::default() };
    let spread = alerts::spread(&*app.read()?, &scope, &filter, bucket)?;
    let store = app.store().map_err(|e| Failure::Internal(e.to_string()))?;
    let search = Search { query: "*".into(), since: Some(since), orgs: scope, ..Default::default() };
    let terms = |field: &str| -> Result<Vec<(String, u64)>, Failure> {
        let agg = Agg::Terms { field: field.into(), size: 15 };
        match store.aggregate(&search, &agg).map_err(|e| Failure::Internal(e.to_string()))? {
            AggResult::Terms { buckets, .. } => Ok(buckets),
            _ => Ok(Vec::new()),
        }
    };
    let dashboard =
        Dashboard { since, bucket, alerts: spread, records_by_type: terms("_type")?, records_by_org: terms("_org")? };
    app.audit(audit::Entry::done(&p.actor(), "dashboard.view", asked))?;
    Ok(dashboard)
}

#[utoipa::path(get, path = "/api/v1/dashboard", tag = "dashboard", params(DashboardParams),
    responses((status = 200, description = "Alerts and records over the range, within the caller's organizations", body = Dashboard),
              (status = 400, description = "A range that does not parse", body = crate::server::openapi::ErrorAnswer)))]
pub async fn api_dashboard(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Query(params): Query<DashboardParams>,
) -> Response {
    super::triage::api::answer(&app, move |app| dashboard(app, &p, &params)).await
}

/// A bar of a chart: where it sits, how long, and what it says.
struct Bar {
    x: u64,
    y: u64,
    size: u64,
    label: String,
    count: String,
    href: String,
}

/// A horizontal bar chart of counted values (longest bar 100 units).
fn bars<N: Copy + Into<f64>>(items: &[(String, N)], href: impl Fn(&str) -> String) -> Vec<Bar> {
    let peak = items.iter().map(|(_, n)| (*n).into()).fold(1.0f64, f64::max);
    items
        .iter()
        .map(|(label, n)| Bar {
            x: 0,
            y: 0,
            size: (((*n).into() / peak) * 100.0).ceil() as u64,
            label: label.clone(),
            count: format!("{}", (*n).into()),
            href: href(label),
        })
        .collect()
}

/// One chart of the page.
struct Chart {
    title: String,
    bars: Vec<Bar>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: Tr,
    since: String,
    total: i64,
    /// Alerts over time: vertical bars, 10 units apart.
    timeline: Vec<Bar>,
    timeline_width: u64,
    charts: Vec<Chart>,
}

fn link(pairs: &[(&str, &str)], path: &str) -> String {
    format!("{path}?{}", query_string(pairs))
}

pub async fn dashboard_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Query(params): Query<DashboardParams>,
) -> Response {
    let t = Tr(lang);
    let zone = p.zone();
    let worker = app.clone();
    let asked = params.clone();
    let d = match tokio::task::spawn_blocking(move || dashboard(&worker, &p, &asked)).await {
        Ok(Ok(d)) => d,
        Ok(Err(f)) => return f.page(lang),
        Err(e) => return Failure::Internal(e.to_string()).page(lang),
    };
    let since = if params.since.trim().is_empty() { DEFAULT_SINCE.to_string() } else { params.since.clone() };
    let peak = d.alerts.over_time.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let timeline: Vec<Bar> = d
        .alerts
        .over_time
        .iter()
        .map(|(start, n)| {
            let size = ((n * 100 + peak - 1) / peak) as u64;
            Bar {
                x: ((start - d.since).max(0) / d.bucket) as u64 * 10,
                y: 100 - size,
                size,
                label: zone.micros(*start),
                count: n.to_string(),
                href: link(
                    &[("status", "all"), ("since", &zone.micros(*start)), ("until", &zone.micros(start + d.bucket))],
                    "/alerts",
                ),
            }
        })
        .collect();
    let timeline_width = timeline.iter().map(|b| b.x + 10).max().unwrap_or(10);
    let total = d.alerts.statuses.iter().map(|(_, n)| n).sum();
    let rule_titles: Vec<(String, i64)> = d.alerts.rules.iter().map(|(_, title, n)| (title.clone(), *n)).collect();
    let rule_ids: Vec<&str> = d.alerts.rules.iter().map(|(id, _, _)| id.as_str()).collect();
    let mut rules =
        bars(&rule_titles.iter().map(|(l, n)| (l.clone(), *n as f64)).collect::<Vec<_>>(), |_| String::new());
    for (bar, id) in rules.iter_mut().zip(&rule_ids) {
        bar.href = link(&[("status", "all"), ("since", &since), ("rule_id", id)], "/alerts");
    }
    let as_f64 = |v: &[(String, i64)]| v.iter().map(|(l, n)| (l.clone(), *n as f64)).collect::<Vec<_>>();
    let as_f64u = |v: &[(String, u64)]| v.iter().map(|(l, n)| (l.clone(), *n as f64)).collect::<Vec<_>>();
    let chart = |title: &str, bars: Vec<Bar>| Chart { title: t.get(title), bars };
    let charts = vec![
        chart("dash-rules", rules),
        chart(
            "dash-sources",
            bars(&as_f64(&d.alerts.sources), |v| link(&[("status", "all"), ("since", &since), ("src", v)], "/alerts")),
        ),
        chart(
            "dash-destinations",
            bars(&as_f64(&d.alerts.destinations), |v| {
                link(&[("status", "all"), ("since", &since), ("dst", v)], "/alerts")
            }),
        ),
        chart(
            "dash-severities",
            bars(&as_f64(&d.alerts.severities), |v| {
                link(&[("status", "all"), ("since", &since), ("severity", v)], "/alerts")
            }),
        ),
        chart(
            "dash-statuses",
            bars(&as_f64(&d.alerts.statuses), |v| link(&[("status", v), ("since", &since)], "/alerts")),
        ),
        chart(
            "dash-record-types",
            bars(&as_f64u(&d.records_by_type), |v| {
                link(&[("q", &format!("_type:{}", quoted(v))), ("since", &since)], "/search")
            }),
        ),
        chart(
            "dash-orgs",
            bars(&as_f64u(&d.records_by_org), |v| {
                link(&[("q", &format!("_org:{}", quoted(v))), ("since", &since)], "/search")
            }),
        ),
    ];
    page(&DashboardPage { t, since, total, timeline, timeline_width, charts })
}
