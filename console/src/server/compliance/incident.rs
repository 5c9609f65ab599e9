//! Incidents declared from cases (the SOC's side of Decree 331 Art. 31.2.d): the declaration,
//! the report's facts, what was sent when, the clocks, and the report as a Word file.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State as AxState};
use axum::response::Response;
use canh_compliance::incident::{ClockState, Obligation};
use time::OffsetDateTime;

use super::pages::then_redirect;
use crate::server::i18n::{Lang, Tr};
use crate::server::routes::{App, Principal, page};
use crate::server::triage::pages::{form_pairs, one};
use crate::server::triage::{Failure, blocking, number, scope};
use crate::state::incident::{self, Change, Stored};
use crate::state::{audit, case};

/// When the case's first alert happened: detection, unless the analyst says otherwise.
fn first_alert(app: &App, p: &Principal, case_id: i64) -> Result<Option<OffsetDateTime>, Failure> {
    let scope = scope(app, p)?;
    let alerts = case::alerts(&*app.read()?, &scope, case_id)?;
    Ok(alerts
        .iter()
        .map(|a| a.ts)
        .min()
        .and_then(|us| OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).ok()))
}

pub fn declare(
    app: &App,
    p: &Principal,
    case_id: i64,
    detected: &str,
    serious: bool,
    personal_data: bool,
) -> Result<Stored, Failure> {
    let now = OffsetDateTime::now_utc();
    let detected = match detected.trim() {
        "" => first_alert(app, p, case_id)?.unwrap_or(now),
        t => {
            let micros = p.zone().parse(t, now).map_err(|e| Failure::Invalid(format!("detected: {e}")))?;
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
                .map_err(|e| Failure::Invalid(format!("detected: {e}")))?
        }
    };
    if detected > now {
        return Err(Failure::Invalid("detected: an incident is declared after it is detected".into()));
    }
    let scope = scope(app, p)?;
    let actor = p.actor();
    Ok(app.lock().change(|tx| incident::declare(tx, &actor, &scope, case_id, detected, serious, personal_data))?)
}

pub fn update(app: &App, p: &Principal, case_id: i64, pairs: &[(String, String)]) -> Result<Stored, Failure> {
    let change = match one(pairs, "sent") {
        "" => Change::Facts {
            cause: one(pairs, "cause").trim().to_string(),
            scope: one(pairs, "scope").trim().to_string(),
            impact: one(pairs, "impact").trim().to_string(),
            remedy: one(pairs, "remedy").trim().to_string(),
        },
        o => Change::Sent(
            Obligation::parse(o).ok_or_else(|| Failure::Invalid(format!("sent: `{o}`")))?,
            OffsetDateTime::now_utc(),
        ),
    };
    let scope = scope(app, p)?;
    let actor = p.actor();
    Ok(app.lock().change(|tx| incident::change(tx, &actor, &scope, case_id, change))?)
}

/// The report as a Word file.
pub fn report(app: &App, p: &Principal, case_id: i64) -> Result<(String, Vec<u8>), Failure> {
    let scope = scope(app, p)?;
    let conn = app.read()?;
    let c = case::get(&conn, &scope, case_id)?.ok_or_else(|| Failure::NotFound(format!("no case #{case_id}")))?;
    let s = incident::of_case(&conn, case_id)?
        .ok_or_else(|| Failure::NotFound(format!("case #{case_id} is not an incident")))?;
    let names = crate::state::org::list(&conn)?;
    let name = |code: &str| names.iter().find(|o| o.code == code).map_or(code.to_string(), |o| o.name.clone());
    let ancestors = crate::state::org::ancestors(&conn, &c.org)?;
    let place = ancestors.first().map(|r| name(r)).unwrap_or_default().trim_start_matches("UBND tỉnh ").to_string();
    let alerts = case::alerts(&conn, &scope, case_id)?;
    let mut hosts: Vec<String> = alerts.iter().flat_map(|a| [a.src.clone(), a.dst.clone()]).collect();
    hosts.sort();
    hosts.dedup();
    drop(conn);
    let doc = s.incident.report(
        &name(&c.org),
        &ancestors.last().map(|a| name(a)).unwrap_or_default(),
        &place,
        &c.title,
        &hosts.join(", "),
        OffsetDateTime::now_utc(),
    );
    app.audit(audit::Entry::done(&p.actor(), "incident.report", &format!("case #{case_id}")))?;
    Ok((format!("bao-cao-su-co-{case_id}.docx"), doc.to_docx()))
}

/// A clock on a page: the obligation's key, its due time in the viewer's zone, its state in
/// words, and whether it is late.
pub type ClockRow = (String, String, String, bool);

/// An incident's clocks for a page.
pub fn clock_rows(t: &Tr, zone: crate::when::Zone, s: &Stored) -> Vec<ClockRow> {
    s.incident
        .clocks(OffsetDateTime::now_utc())
        .into_iter()
        .map(|c| {
            let due = zone.seconds(c.due.unix_timestamp() as f64);
            let (state, late) = match c.state {
                ClockState::Running { minutes_left } => {
                    (format!("{} {} {}", t.get("inc-left"), minutes_left / 60, t.get("inc-hours")), false)
                }
                ClockState::Late { minutes_over } => {
                    (format!("{} {} {}", t.get("inc-over"), minutes_over / 60, t.get("inc-hours")), true)
                }
                ClockState::Done { in_time: true } => (t.get("inc-done"), false),
                ClockState::Done { in_time: false } => (t.get("inc-done-late"), true),
            };
            (c.obligation.key().to_string(), due, state, late)
        })
        .collect()
}

pub async fn declare_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    then_redirect(
        blocking(&app, move |app| {
            let id = number(&id, "case")?;
            declare(
                app,
                &p,
                id,
                one(&pairs, "detected"),
                one(&pairs, "serious") == "1",
                one(&pairs, "personal_data") == "1",
            )
            .map(|_| id)
        })
        .await,
        lang,
        |id| format!("/cases/{id}"),
    )
}

pub async fn update_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    then_redirect(
        blocking(&app, move |app| {
            let id = number(&id, "case")?;
            update(app, &p, id, &pairs).map(|_| id)
        })
        .await,
        lang,
        |id| format!("/cases/{id}"),
    )
}

pub async fn report_file(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    match blocking(&app, move |app| report(app, &p, number(&id, "case")?)).await {
        Ok((name, bytes)) => super::pages::docx(&name, bytes),
        Err(f) => f.page(lang),
    }
}

struct Row {
    case_id: i64,
    org: String,
    detected: String,
    clocks: Vec<ClockRow>,
}

#[derive(askama::Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    t: Tr,
    rows: Vec<Row>,
}

pub async fn incidents_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    let zone = p.zone();
    let found = blocking(&app, move |app| {
        let scope = scope(app, &p)?;
        let all = incident::list(&*app.read()?, &scope)?;
        app.audit(audit::Entry::done(&p.actor(), "incident.list", "all"))?;
        Ok(all)
    })
    .await;
    match found {
        Ok(all) => {
            let t = Tr(lang);
            let rows = all
                .iter()
                .map(|s| Row {
                    case_id: s.case_id,
                    org: s.org.clone(),
                    detected: zone.seconds(s.incident.detected.unix_timestamp() as f64),
                    clocks: clock_rows(&t, zone, s),
                })
                .collect();
            page(&IncidentsPage { t, rows })
        }
        Err(f) => f.page(lang),
    }
}
