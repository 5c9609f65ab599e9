//! Alert triage, cases and suppressions: one service function per operation (here), called by
//! the pages ([`pages`]) and by the JSON API ([`api`]) alike, so that authorization (the
//! caller's organization scope) and the audit entry happen in one place that no face can skip.

pub mod api;
pub mod packets;
pub mod pages;

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::i18n::{Lang, Tr};
use super::routes::{App, Principal, internal_error};
use crate::state::alerts::{self, Action, Filter, Target, Verdict};
use crate::state::case::{self, Change};
use crate::state::suppression;
use crate::state::{StateError, audit, now_unix, org};
use crate::when::Zone;

/// Why an operation did not happen, for either face.
#[derive(Debug)]
pub enum Failure {
    /// Not there, or not within the caller's organizations (the same answer for both).
    NotFound(String),
    /// The request is wrong: which field, and why.
    Invalid(String),
    Internal(String),
}

impl From<StateError> for Failure {
    fn from(e: StateError) -> Self {
        match e {
            StateError::NotFound { .. } => Self::NotFound(e.to_string()),
            StateError::Invalid { .. } | StateError::Exists { .. } => Self::Invalid(e.to_string()),
            e => Self::Internal(e.to_string()),
        }
    }
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn api(self) -> Response {
        let status = self.status();
        let message = match self {
            Self::NotFound(m) | Self::Invalid(m) => m,
            Self::Internal(m) => {
                tracing::error!("{m}");
                "internal error; the server's log has the details".into()
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }

    pub fn page(self, lang: Lang) -> Response {
        let t = Tr(lang);
        match self {
            Self::NotFound(_) => (StatusCode::NOT_FOUND, t.get("error-not-found")).into_response(),
            Self::Invalid(m) => (StatusCode::BAD_REQUEST, format!("{}: {m}", t.get("error-invalid"))).into_response(),
            Self::Internal(m) => {
                tracing::error!("{m}");
                internal_error(lang)
            }
        }
    }
}

/// Runs a service function off the async threads (SQLite and the store block).
pub(crate) async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&App) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app)).await.unwrap_or_else(|e| Err(Failure::Internal(e.to_string())))
}

/// The organizations `p` may see (`None`: all).
pub(crate) fn scope(app: &App, p: &Principal) -> Result<Option<Vec<String>>, Failure> {
    Ok(org::scope(&*app.read()?, p.org())?)
}

/// A filter as the query string and the forms give it: every value text, times in any form
/// `canh search` takes (`24h`, `2026-11-02`, RFC 3339).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    pub status: String,
    pub severity: String,
    pub rule_id: String,
    pub sensor: String,
    pub org: String,
    pub src: String,
    pub dst: String,
    pub since: String,
    pub until: String,
    pub case: String,
    /// `dst`: group the queue by destination too.
    pub by: String,
}

impl FilterParams {
    /// The filter, its times read in `zone`.
    pub fn filter(&self, zone: Zone) -> Result<Filter, Failure> {
        let now = time::OffsetDateTime::now_utc();
        let when = |field: &str, v: &str| {
            (!v.trim().is_empty())
                .then(|| zone.parse(v.trim(), now).map_err(|e| Failure::Invalid(format!("{field}: {e}"))))
                .transpose()
        };
        let case_id = (!self.case.trim().is_empty())
            .then(|| self.case.trim().trim_start_matches('#').parse::<i64>())
            .transpose()
            .map_err(|_| Failure::Invalid(format!("case: `{}` is not a case number", self.case)))?;
        Ok(Filter {
            status: self.status.trim().to_string(),
            severity: self.severity.trim().to_string(),
            rule_id: self.rule_id.trim().to_string(),
            sensor: self.sensor.trim().to_string(),
            org: self.org.trim().to_string(),
            src: self.src.trim().to_string(),
            dst: self.dst.trim().to_string(),
            since: when("since", &self.since)?,
            until: when("until", &self.until)?,
            case_id,
        })
    }

    /// The filter's fields by name (grouping aside).
    pub fn fields(&self) -> [(&'static str, &String); 10] {
        [
            ("status", &self.status),
            ("severity", &self.severity),
            ("rule_id", &self.rule_id),
            ("sensor", &self.sensor),
            ("org", &self.org),
            ("src", &self.src),
            ("dst", &self.dst),
            ("since", &self.since),
            ("until", &self.until),
            ("case", &self.case),
        ]
    }

    /// A filter from its fields by name.
    pub fn from_fields(value: impl Fn(&str) -> String) -> Self {
        let mut p = Self::default();
        for (name, field) in [
            ("status", &mut p.status),
            ("severity", &mut p.severity),
            ("rule_id", &mut p.rule_id),
            ("sensor", &mut p.sensor),
            ("org", &mut p.org),
            ("src", &mut p.src),
            ("dst", &mut p.dst),
            ("since", &mut p.since),
            ("until", &mut p.until),
            ("case", &mut p.case),
        ] {
            *field = value(name);
        }
        p
    }

    /// The query string of this filter with some values changed (links that narrow or widen).
    pub fn with(&self, changes: &[(&str, &str)]) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        let by = ("by", &self.by);
        for (name, value) in self.fields().into_iter().chain([by]) {
            let value = changes.iter().find(|(n, _)| *n == name).map_or(value.as_str(), |(_, v)| v);
            if !value.is_empty() {
                s.append_pair(name, value);
            }
        }
        s.finish()
    }
}

/// A filter with paging (described to OpenAPI as the filter's parameters, `limit` and
/// `offset`: utoipa does not read `flatten`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ListParams {
    #[serde(flatten)]
    pub filter: FilterParams,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

impl ListParams {
    pub fn paging(&self) -> Result<(usize, usize), Failure> {
        let number = |field: &str, v: &Option<String>, default: usize, max: usize| match v.as_deref() {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| Failure::Invalid(format!("{field}: `{v}` is not a number up to {max}"))),
        };
        let limit = number("limit", &self.limit, 100, 1000)?.max(1);
        Ok((limit, number("offset", &self.offset, 0, 10_000_000)?))
    }
}

/// A number from the path (a case, a suppression); anything else is not found.
pub(crate) fn number(id: &str, what: &str) -> Result<i64, Failure> {
    id.parse().map_err(|_| Failure::NotFound(format!("no {what} `{id}`")))
}

/// A query string from pairs.
pub(crate) fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The queue: groups of alerts, audited as a view.
/// Answers are cached until alerts change (a new alert, an action): analysts watching the
/// same queue share one computation of it.
pub fn queue(app: &App, p: &Principal, params: &FilterParams) -> Result<Vec<alerts::Group>, Failure> {
    let filter = params.filter(p.zone())?;
    let scope = scope(app, p)?;
    let by_dst = params.by == "dst";
    let key = format!("{scope:?}|{filter:?}|{by_dst}");
    let generation = app.triage_generation.load(std::sync::atomic::Ordering::SeqCst);
    let cached = {
        let cache = app.queue_cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(&key).filter(|(g, _)| *g == generation).map(|(_, groups)| groups.clone())
    };
    let groups = match cached {
        Some(groups) => groups,
        None => {
            let groups = std::sync::Arc::new(alerts::queue(&*app.read()?, &scope, &filter, by_dst, 500)?);
            let mut cache = app.queue_cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= 256 {
                cache.clear();
            }
            cache.insert(key, (generation, groups.clone()));
            groups
        }
    };
    app.audit(audit::Entry::done(&p.actor(), "alert.queue", &filter.describe()))?;
    Ok((*groups).clone())
}

/// Alerts one by one, newest first, with how many match.
pub fn list(
    app: &App,
    p: &Principal,
    params: &FilterParams,
    limit: usize,
    offset: usize,
) -> Result<(Vec<alerts::Alert>, i64), Failure> {
    let filter = params.filter(p.zone())?;
    let scope = scope(app, p)?;
    let found = alerts::list(&*app.read()?, &scope, &filter, limit, offset)?;
    app.audit(audit::Entry::done(&p.actor(), "alert.list", &filter.describe()))?;
    Ok(found)
}

/// One alert with everything an analyst needs to decide.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub alert: alerts::Alert,
    /// The alert as the store holds it.
    pub record: serde_json::Value,
    pub history: Vec<alerts::HistoryEntry>,
    /// The records of the same connections (same uid or Community ID), around its time.
    pub records: Vec<serde_json::Value>,
    /// The case it is in.
    pub case: Option<case::Case>,
}

/// How far around an alert its connections' records are looked for.
const AROUND: i64 = 86_400 * 1_000_000;

pub fn detail(app: &App, p: &Principal, id: &str) -> Result<Detail, Failure> {
    let scope = scope(app, p)?;
    let actor = p.actor();
    let (alert, history, case) = {
        let conn = app.read()?;
        let Some(alert) = alerts::get(&conn, &scope, id)? else {
            drop(conn);
            // Looking for an alert one may not see is worth knowing about.
            app.audit(
                audit::Entry::new(&actor, "alert.view", id, audit::Outcome::Denied).detail("not found in scope"),
            )?;
            return Err(Failure::NotFound(format!("no alert `{id}`")));
        };
        let history = alerts::history_of(&conn, id)?;
        let case = alert.case_id.map(|c| case::get(&conn, &scope, c)).transpose()?.flatten();
        (alert, history, case)
    };
    app.audit(audit::Entry::done(&actor, "alert.view", id))?;
    let mut terms: Vec<String> = alert.uids.iter().map(|u| format!("uid:{}", quoted(u))).collect();
    if !alert.community_id.is_empty() {
        terms.push(format!("community_id:{}", quoted(&alert.community_id)));
    }
    let records = if terms.is_empty() {
        Vec::new()
    } else {
        let search = canh_analyzer::store::query::Search {
            query: format!("({}) AND NOT _type:alert", terms.join(" OR ")),
            since: Some(alert.ts - AROUND),
            until: Some(alert.ts + AROUND),
            limit: 200,
            orgs: scope,
            ..Default::default()
        };
        let store = app.store().map_err(|e| Failure::Internal(e.to_string()))?;
        store.search(&search).map_err(|e| Failure::Internal(e.to_string()))?.records
    };
    let record = serde_json::from_str(&alert.raw).unwrap_or(serde_json::Value::Null);
    Ok(Detail { alert, record, history, records, case })
}

/// A value as one quoted term of the query language.
pub(crate) fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An action as either face asks for it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ActRequest {
    /// These alerts; when empty, every alert `filter` matches.
    pub ids: Vec<String>,
    pub filter: Option<FilterParams>,
    /// acknowledge, assign, escalate, close, reopen, comment.
    pub action: String,
    pub assignee: String,
    /// For close: true_positive, false_positive, benign.
    pub verdict: String,
    /// For escalate: an open case's number, or a title for a new case.
    pub case: Option<i64>,
    pub title: String,
    pub comment: String,
}

pub fn act(app: &App, p: &Principal, req: &ActRequest) -> Result<alerts::Acted, Failure> {
    let action = match req.action.as_str() {
        "acknowledge" => Action::Acknowledge,
        "assign" => Action::Assign(req.assignee.trim().to_string()),
        "escalate" => Action::Escalate(match req.case {
            Some(id) => case::Into::Case(id),
            None => case::Into::New(req.title.clone()),
        }),
        "close" => Action::Close(Verdict::parse(&req.verdict).ok_or_else(|| {
            Failure::Invalid(format!("verdict: `{}` is not true_positive, false_positive or benign", req.verdict))
        })?),
        "reopen" => Action::Reopen,
        "comment" => Action::Comment,
        other => {
            return Err(Failure::Invalid(format!(
                "action: `{other}` is not acknowledge, assign, escalate, close, reopen or comment"
            )));
        }
    };
    let target = if req.ids.is_empty() {
        let Some(filter) = &req.filter else {
            return Err(Failure::Invalid("ids: choose alerts, or give a filter for every alert it matches".into()));
        };
        Target::Matching(filter.filter(p.zone())?)
    } else {
        Target::Ids(req.ids.clone())
    };
    let scope = scope(app, p)?;
    let actor = p.actor();
    let acted = app.lock().change(|tx| alerts::act(tx, &actor, &scope, &target, &action, &req.comment))?;
    app.triage_changed();
    Ok(acted)
}

pub fn suppressions(app: &App, p: &Principal) -> Result<Vec<suppression::Suppression>, Failure> {
    let scope = scope(app, p)?;
    let all = suppression::list(&*app.read()?, &scope)?;
    app.audit(audit::Entry::done(&p.actor(), "suppression.list", "all"))?;
    Ok(all)
}

/// A suppression as either face asks for it: `days` from now, or `expires` (seconds since the
/// epoch).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SuppressRequest {
    pub rule_id: String,
    pub src: String,
    pub dst: String,
    pub reason: String,
    pub days: Option<i64>,
    pub expires: Option<i64>,
}

pub fn suppress(app: &App, p: &Principal, req: &SuppressRequest) -> Result<i64, Failure> {
    let now = now_unix();
    let expires = match (req.expires, req.days) {
        (Some(e), _) => e,
        (None, Some(d)) if (1..=365).contains(&d) => now + d * 86_400,
        _ => return Err(Failure::Invalid("days: 1 to 365 (or expires, in seconds since the epoch)".into())),
    };
    let new = suppression::New {
        rule_id: req.rule_id.clone(),
        src: Some(req.src.clone()),
        dst: Some(req.dst.clone()),
        reason: req.reason.clone(),
        expires,
    };
    let actor = p.actor();
    let org = p.org().to_string();
    Ok(app.lock().change(|tx| suppression::add(tx, &actor, &org, &new, now))?)
}

pub fn unsuppress(app: &App, p: &Principal, id: i64) -> Result<(), Failure> {
    let scope = scope(app, p)?;
    let actor = p.actor();
    Ok(app.lock().change(|tx| suppression::remove(tx, &actor, &scope, id))?)
}

pub fn cases(app: &App, p: &Principal) -> Result<Vec<case::Case>, Failure> {
    let scope = scope(app, p)?;
    let all = case::list(&*app.read()?, &scope, 500)?;
    app.audit(audit::Entry::done(&p.actor(), "case.list", "all"))?;
    Ok(all)
}

/// A case with its timeline and alerts.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    pub case: case::Case,
    pub timeline: Vec<case::Event>,
    pub alerts: Vec<alerts::Alert>,
}

pub fn case_detail(app: &App, p: &Principal, id: i64) -> Result<CaseDetail, Failure> {
    let scope = scope(app, p)?;
    let (found, timeline, alerts) = {
        let conn = app.read()?;
        let Some(found) = case::get(&conn, &scope, id)? else {
            return Err(Failure::NotFound(format!("no case #{id}")));
        };
        (found, case::timeline(&conn, id)?, case::alerts(&conn, &scope, id)?)
    };
    app.audit(audit::Entry::done(&p.actor(), "case.view", &format!("#{id}")))?;
    Ok(CaseDetail { case: found, timeline, alerts })
}

/// A change to a case as either face asks for it: one of a note, an assignee, a status.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CaseRequest {
    pub note: String,
    pub assignee: String,
    pub status: String,
}

pub fn change_case(app: &App, p: &Principal, id: i64, req: &CaseRequest) -> Result<(), Failure> {
    let change = if !req.note.trim().is_empty() {
        Change::Note(req.note.clone())
    } else if !req.assignee.trim().is_empty() {
        Change::Assign(req.assignee.trim().to_string())
    } else if !req.status.trim().is_empty() {
        Change::Status(req.status.trim().to_string())
    } else {
        return Err(Failure::Invalid("give a note, an assignee or a status".into()));
    };
    let scope = scope(app, p)?;
    let actor = p.actor();
    Ok(app.lock().change(|tx| case::change(tx, &actor, &scope, id, &change))?)
}
