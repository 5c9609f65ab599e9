//! Triage pages: the queue, alerts one by one, an alert's detail with its pivots, cases and
//! suppressions, and the forms that act on them (each answered with a redirect).

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};

use super::*;
use crate::server::i18n::{Lang, Tr};
use crate::server::routes::{App, Principal, page};
use crate::when::Zone;

/// The signed-in user's CSRF token (API tokens never see a page).
pub(crate) fn csrf_of(p: &Principal) -> String {
    match p {
        Principal::User { csrf, .. } => csrf.clone(),
        Principal::Token(_) => String::new(),
    }
}

/// One option of a select.
struct Choice {
    value: &'static str,
    label: String,
    selected: bool,
}

fn status_choices(t: &Tr, current: &str) -> Vec<Choice> {
    let current = if current.is_empty() { "open" } else { current };
    let mut all = vec!["open", "all"];
    all.extend(alerts::Status::ALL.iter().map(|s| s.as_str()));
    all.into_iter().map(|v| Choice { value: v, label: t.get(&format!("status-{v}")), selected: v == current }).collect()
}

fn severity_choices(t: &Tr, current: &str) -> Vec<Choice> {
    alerts::SEVERITIES.iter().map(|&v| Choice { value: v, label: t.get(v), selected: v == current }).collect()
}

/// The filter's fields as a form carries them (`f.NAME`), for "every alert matching".
fn filter_fields(p: &FilterParams) -> Vec<(&'static str, String)> {
    p.fields().into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k, v.clone())).collect()
}

struct GroupRow {
    group: alerts::Group,
    first: String,
    last: String,
    /// The query string of the alerts of this group.
    open: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct QueuePage {
    t: Tr,
    params: FilterParams,
    rows: Vec<GroupRow>,
    status_choices: Vec<Choice>,
    severity_choices: Vec<Choice>,
    /// The query string of this page with grouping by destination switched.
    regroup: String,
    /// The same filter, alerts one by one.
    list_query: String,
}

pub async fn queue_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Query(params): Query<FilterParams>,
) -> Response {
    let zone = p.zone();
    let shown = params.clone();
    match blocking(&app, move |app| queue(app, &p, &shown)).await {
        Ok(groups) => {
            let rows = groups
                .into_iter()
                .map(|g| {
                    let mut narrow = vec![("rule_id", g.rule_id.as_str()), ("src", g.src.as_str())];
                    if let Some(d) = &g.dst {
                        narrow.push(("dst", d.as_str()));
                    }
                    let open = params.with(&narrow);
                    GroupRow { first: zone.micros(g.first), last: zone.micros(g.last), open, group: g }
                })
                .collect();
            let t = Tr(lang);
            let regroup = params.with(&[("by", if params.by == "dst" { "" } else { "dst" })]);
            let list_query = params.with(&[("by", "")]);
            page(&QueuePage {
                status_choices: status_choices(&t, &params.status),
                severity_choices: severity_choices(&t, &params.severity),
                t,
                params,
                rows,
                regroup,
                list_query,
            })
        }
        Err(f) => f.page(lang),
    }
}

struct AlertRow {
    alert: alerts::Alert,
    ts: String,
    status: String,
}

impl AlertRow {
    fn new(t: &Tr, zone: Zone, alert: alerts::Alert) -> Self {
        Self { ts: zone.micros(alert.ts), status: t.get(&format!("status-{}", alert.status.as_str())), alert }
    }
}

#[derive(Template)]
#[template(path = "alert_list.html")]
struct ListPage {
    t: Tr,
    csrf: String,
    params: FilterParams,
    rows: Vec<AlertRow>,
    total: i64,
    status_choices: Vec<Choice>,
    severity_choices: Vec<Choice>,
    /// The filter as a query string (the grouped view) and as hidden fields ("every alert
    /// matching").
    filter_query: String,
    filter_fields: Vec<(&'static str, String)>,
    back: String,
    verdicts: Vec<&'static str>,
}

pub async fn list_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Query(params): Query<ListParams>,
) -> Response {
    let zone = p.zone();
    let csrf = csrf_of(&p);
    let shown = params.filter.clone();
    let found = blocking(&app, move |app| {
        let (limit, offset) = params.paging()?;
        list(app, &p, &params.filter, limit, offset)
    })
    .await;
    match found {
        Ok((alerts, total)) => {
            let t = Tr(lang);
            let rows = alerts.into_iter().map(|a| AlertRow::new(&t, zone, a)).collect();
            let filter_query = shown.with(&[]);
            let back = format!("/alerts/list?{filter_query}");
            page(&ListPage {
                status_choices: status_choices(&t, &shown.status),
                severity_choices: severity_choices(&t, &shown.severity),
                filter_fields: filter_fields(&shown),
                t,
                csrf,
                params: shown,
                rows,
                total,
                filter_query,
                back,
                verdicts: verdicts(),
            })
        }
        Err(f) => f.page(lang),
    }
}

fn verdicts() -> Vec<&'static str> {
    Verdict::ALL.iter().map(|v| v.as_str()).collect()
}

struct Pivot {
    label: String,
    href: String,
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    t: Tr,
    csrf: String,
    d: Detail,
    ts: String,
    status: String,
    verdict: Option<String>,
    record_text: String,
    records: Vec<(String, String, String)>,
    pivots: Vec<Pivot>,
    back: String,
    verdicts: Vec<&'static str>,
    /// The requests for the alert's packets, and whether this user may make one.
    packets: Vec<PacketRow>,
    may_fetch_packets: bool,
}

/// One request for an alert's packets, as the alert's page lists it.
struct PacketRow {
    id: i64,
    requested: String,
    by: String,
    state: String,
    ready: bool,
    detail: String,
}

pub async fn alert_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    let zone = p.zone();
    let csrf = csrf_of(&p);
    let t = Tr(lang);
    let may_triage = crate::server::permission::Permission::Triage.granted_to(p.role());
    let found = blocking(&app, move |app| {
        let d = detail(app, &p, &id)?;
        let asked = crate::state::packets::of_alert(&*app.read()?, &d.alert.id)?;
        Ok((d, asked))
    })
    .await;
    match found {
        Ok((mut d, asked)) => {
            let packets = asked
                .into_iter()
                .map(|r| {
                    let ready = r.state == crate::state::packets::State::Ready;
                    let detail = if ready {
                        let cut =
                            if r.truncated { format!(" · {}", t.get("packets-truncated")) } else { String::new() };
                        format!("{} {} · {} B{cut}", r.packets, t.get("packets-frames"), r.bytes)
                    } else {
                        // The sensor's words: its controls and bidi overrides shown, not obeyed.
                        crate::escape::terminal(&r.detail).into_owned()
                    };
                    PacketRow {
                        id: r.id,
                        requested: zone.micros(r.requested_at * 1_000_000),
                        by: crate::escape::terminal(&r.requested_by).into_owned(),
                        state: t.get(&format!("packets-{}", r.state.as_str())),
                        ready,
                        detail,
                    }
                })
                .collect();
            let may_fetch_packets = may_triage && !d.alert.sensor.is_empty() && !d.alert.community_id.is_empty();
            d.history.iter_mut().for_each(|h| h.ts = zone.text(&h.ts));
            let a = &d.alert;
            let minutes = |m: i64| zone.micros(a.ts + m * 60_000_000);
            let mut pivots = Vec::new();
            let mut search = |label: String, q: String, since: String, until: String| {
                let href = format!("/search?{}", query_string(&[("q", &q), ("since", &since), ("until", &until)]));
                pivots.push(Pivot { label, href });
            };
            if !a.community_id.is_empty() {
                search(
                    t.get("pivot-flow"),
                    format!("community_id:{}", quoted(&a.community_id)),
                    minutes(-1440),
                    minutes(1440),
                );
            }
            for uid in &a.uids {
                search(
                    format!("{} {uid}", t.get("pivot-uid")),
                    format!("uid:{}", quoted(uid)),
                    minutes(-1440),
                    minutes(1440),
                );
            }
            if !a.src.is_empty() {
                let q = format!("id.orig_h:{0} OR id.resp_h:{0}", quoted(&a.src));
                search(format!("{} {}", t.get("pivot-host"), a.src), q, minutes(-60), minutes(60));
            }
            if !a.dst.is_empty() {
                let q = format!("id.orig_h:{0} OR id.resp_h:{0}", quoted(&a.dst));
                search(format!("{} {}", t.get("pivot-host"), a.dst), q, minutes(-60), minutes(60));
            }
            search(t.get("pivot-around"), "*".into(), minutes(-5), minutes(5));
            pivots.push(Pivot {
                label: t.get("pivot-rule"),
                href: format!("/alerts/list?{}", query_string(&[("status", "all"), ("rule_id", &a.rule_id)])),
            });
            let records = d
                .records
                .iter()
                .map(|r| {
                    let field = |k: &str| r.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), String::from));
                    let ts = r.get("ts").and_then(|v| v.as_f64()).map(|t| zone.seconds(t)).unwrap_or_default();
                    (ts, field("_type").unwrap_or_default(), serde_json::to_string_pretty(r).unwrap_or_default())
                })
                .collect();
            let record_text = serde_json::to_string_pretty(&d.record).unwrap_or_default();
            let back = format!("/alerts/{}", a.id);
            let ts = zone.micros(a.ts);
            let status = t.get(&format!("status-{}", a.status.as_str()));
            let verdict = a.verdict.map(|v| t.get(v.as_str()));
            page(&AlertPage {
                t,
                csrf,
                ts,
                status,
                verdict,
                record_text,
                records,
                pivots,
                back,
                verdicts: verdicts(),
                packets,
                may_fetch_packets,
                d,
            })
        }
        Err(f) => f.page(lang),
    }
}

/// A form's fields, repeated names kept (`ids` once per alert chosen).
pub(crate) fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub(crate) fn one<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// Where a form sends the browser back to: one of the console's triage pages, nowhere else.
fn back_to(pairs: &[(String, String)], default: &str) -> String {
    let back = one(pairs, "back");
    let safe = ["/alerts", "/cases", "/suppressions"].iter().any(|p| back.starts_with(p))
        && !back.contains("//")
        && !back.contains('\\')
        && back.chars().all(|c| !c.is_control());
    if safe { back.to_string() } else { default.to_string() }
}

/// The filter fields a form carries as `f.NAME`.
fn form_filter(pairs: &[(String, String)]) -> FilterParams {
    FilterParams::from_fields(|name| one(pairs, &format!("f.{name}")).to_string())
}

pub async fn act_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let matching = one(&pairs, "target") == "matching";
    let req = ActRequest {
        ids: if matching {
            Vec::new()
        } else {
            pairs.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.clone()).collect()
        },
        filter: matching.then(|| form_filter(&pairs)),
        action: one(&pairs, "action").to_string(),
        assignee: one(&pairs, "assignee").to_string(),
        verdict: one(&pairs, "verdict").to_string(),
        case: one(&pairs, "case").trim().trim_start_matches('#').parse().ok(),
        title: one(&pairs, "title").to_string(),
        comment: one(&pairs, "comment").to_string(),
    };
    let back = back_to(&pairs, "/alerts");
    match blocking(&app, move |app| act(app, &p, &req)).await {
        Ok(acted) => match acted.case_id {
            Some(c) if one(&pairs, "action") == "escalate" => Redirect::to(&format!("/cases/{c}")).into_response(),
            _ => Redirect::to(&back).into_response(),
        },
        Err(f) => f.page(lang),
    }
}

#[derive(Template)]
#[template(path = "suppressions.html")]
struct SuppressionsPage {
    t: Tr,
    csrf: String,
    rows: Vec<(suppression::Suppression, String, bool)>,
}

pub async fn suppressions_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    let zone = p.zone();
    let csrf = csrf_of(&p);
    match blocking(&app, move |app| suppressions(app, &p)).await {
        Ok(all) => {
            let now = now_unix();
            let rows = all
                .into_iter()
                .map(|s| {
                    let expires = zone.micros(s.expires * 1_000_000);
                    let live = s.removed.is_none() && s.expires > now;
                    (s, expires, live)
                })
                .collect();
            page(&SuppressionsPage { t: Tr(lang), csrf, rows })
        }
        Err(f) => f.page(lang),
    }
}

pub async fn suppress_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let req = SuppressRequest {
        rule_id: one(&pairs, "rule_id").to_string(),
        src: one(&pairs, "src").to_string(),
        dst: one(&pairs, "dst").to_string(),
        reason: one(&pairs, "reason").to_string(),
        days: one(&pairs, "days").trim().parse().ok(),
        expires: None,
    };
    match blocking(&app, move |app| suppress(app, &p, &req)).await {
        Ok(_) => Redirect::to("/suppressions").into_response(),
        Err(f) => f.page(lang),
    }
}

pub async fn unsuppress_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    match blocking(&app, move |app| unsuppress(app, &p, number(&id, "suppression")?)).await {
        Ok(()) => Redirect::to("/suppressions").into_response(),
        Err(f) => f.page(lang),
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    t: Tr,
    cases: Vec<case::Case>,
}

pub async fn cases_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    let zone = p.zone();
    match blocking(&app, move |app| cases(app, &p)).await {
        Ok(mut cases) => {
            cases.iter_mut().for_each(|c| c.updated = zone.text(&c.updated));
            page(&CasesPage { t: Tr(lang), cases })
        }
        Err(f) => f.page(lang),
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    t: Tr,
    csrf: String,
    d: CaseDetail,
    rows: Vec<AlertRow>,
    statuses: &'static [&'static str],
    /// The incident it was declared, with its clocks (obligation, due, state, late?).
    incident: Option<(crate::state::incident::Stored, Vec<crate::server::compliance::incident::ClockRow>)>,
    /// The viewer may change it (triage).
    can_act: bool,
}

pub async fn case_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    let zone = p.zone();
    let csrf = csrf_of(&p);
    let can_act = crate::server::permission::Permission::Triage.granted_to(p.role());
    let found = blocking(&app, move |app| {
        let d = case_detail(app, &p, number(&id, "case")?)?;
        let incident = crate::state::incident::of_case(&*app.read()?, d.case.id)?;
        Ok((d, incident))
    })
    .await;
    match found {
        Ok((mut d, incident)) => {
            d.timeline.iter_mut().for_each(|e| e.ts = zone.text(&e.ts));
            d.case.created = zone.text(&d.case.created);
            let t = Tr(lang);
            let rows = std::mem::take(&mut d.alerts).into_iter().map(|a| AlertRow::new(&t, zone, a)).collect();
            let incident = incident.map(|s| {
                let clocks = crate::server::compliance::incident::clock_rows(&t, zone, &s);
                (s, clocks)
            });
            page(&CasePage { t, csrf, d, rows, statuses: &case::STATUSES, incident, can_act })
        }
        Err(f) => f.page(lang),
    }
}

pub async fn case_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(id) = number(&id, "case") else { return Failure::NotFound(String::new()).page(lang) };
    let pairs = form_pairs(&body);
    let req = CaseRequest {
        note: one(&pairs, "note").to_string(),
        assignee: one(&pairs, "assignee").to_string(),
        status: one(&pairs, "status").to_string(),
    };
    match blocking(&app, move |app| change_case(app, &p, id, &req)).await {
        Ok(()) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(f) => f.page(lang),
    }
}
