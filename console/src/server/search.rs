//! Search for auditors and analysts: the query language of `canh search` over the event store,
//! always within the caller's organization subtree (a clause the server adds beside the query,
//! never text inside it). One service function ([`run`]) serves the page (a time range, a
//! histogram, results with every field one click from a narrower query, top values, saved
//! searches) and the API; exports stream CSV or NDJSON page by page. Every search and export
//! is audited.

use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query, State as AxState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use canh_analyzer::store::aggregate::{Agg, AggResult};
use canh_analyzer::store::query::{Cursor, QueryError, Search};
use serde_json::Value;

use super::i18n::{Lang, Tr};
use super::routes::{App, Principal, internal_error, page};
use super::triage::api::answer;
use super::triage::{Failure, quoted, scope};
use crate::state::{audit, saved};
use crate::when::Zone;

/// A search as the page's form and the API's query string give it.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    pub q: String,
    /// An age (`24h`), a date, a local time or RFC 3339; empty: the last 24 hours.
    pub since: String,
    pub until: String,
    pub limit: Option<String>,
    /// The cursor of the previous page's last record.
    pub after: String,
    /// A field whose top values to count.
    pub agg: String,
}

/// The time range searched when none is given.
pub const DEFAULT_SINCE: &str = "24h";

impl SearchParams {
    fn since(&self) -> &str {
        if self.since.trim().is_empty() { DEFAULT_SINCE } else { self.since.trim() }
    }

    /// The store's search, within `scope`, its times read in `zone`.
    fn search(&self, scope: Option<Vec<String>>, limit: usize, zone: Zone) -> Result<Search, Failure> {
        let now = time::OffsetDateTime::now_utc();
        let since = zone.parse(self.since(), now).map_err(|e| Failure::Invalid(format!("since: {e}")))?;
        let until = (!self.until.trim().is_empty())
            .then(|| zone.parse(self.until.trim(), now).map_err(|e| Failure::Invalid(format!("until: {e}"))))
            .transpose()?;
        let after = (!self.after.is_empty())
            .then(|| self.after.parse::<Cursor>().map_err(|e| Failure::Invalid(format!("after: {e}"))))
            .transpose()?;
        Ok(Search { query: self.q.clone(), since: Some(since), until, limit, after, orgs: scope })
    }

    fn limit(&self) -> Result<usize, Failure> {
        match self.limit.as_deref().map(str::trim) {
            None | Some("") => Ok(50),
            Some(n) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| Failure::Invalid("limit: 1 to 1000".into())),
        }
    }

    /// This search's query string with some values changed.
    fn with(&self, changes: &[(&str, &str)]) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("q", &self.q), ("since", &self.since), ("until", &self.until), ("agg", &self.agg)] {
            let value = changes.iter().find(|(n, _)| *n == name).map_or(value.as_str(), |(_, v)| v);
            if !value.is_empty() {
                s.append_pair(name, value);
            }
        }
        s.finish()
    }
}

/// Why a search did not run: its query, at a place, or anything else.
#[derive(Debug)]
pub enum SearchError {
    Query { position: Option<usize>, message: String },
    Other(Failure),
}

impl From<Failure> for SearchError {
    fn from(f: Failure) -> Self {
        Self::Other(f)
    }
}

impl From<QueryError> for SearchError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Syntax { position, message } => Self::Query { position: Some(position), message },
            QueryError::Invalid(message) => Self::Query { position: None, message },
            QueryError::Store(e) => Self::Other(Failure::Internal(e.to_string())),
        }
    }
}

/// What a search found.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Found {
    pub total: u64,
    pub records: Vec<Value>,
    pub next: Option<String>,
    /// Records per interval over the range, oldest first (intervals without records left out).
    pub histogram: Vec<(i64, u64)>,
    pub interval: String,
    /// The range searched, microseconds since the epoch (`until` excluded).
    pub since: i64,
    pub until: i64,
    /// The top values of `agg`, when asked.
    pub top: Option<(Vec<(String, u64)>, u64)>,
}

/// Histogram intervals, by name and seconds.
const INTERVALS: [(&str, i64); 9] = [
    ("1m", 60),
    ("5m", 300),
    ("15m", 900),
    ("1h", 3600),
    ("3h", 10_800),
    ("12h", 43_200),
    ("1d", 86_400),
    ("7d", 604_800),
    ("30d", 2_592_000),
];

/// The narrowest interval that still gives at most 60 bars over `span` microseconds.
fn interval_for(span: i64) -> (&'static str, i64) {
    *INTERVALS.iter().find(|(_, secs)| span / (secs * 1_000_000) <= 60).unwrap_or(&INTERVALS[8])
}

/// Runs a search for `p`, audited with its outcome.
pub fn run(app: &App, p: &Principal, params: &SearchParams, with_charts: bool) -> Result<Found, SearchError> {
    let search = params.search(scope(app, p)?, params.limit()?, p.zone())?;
    let found = (|| -> Result<Found, SearchError> {
        let store = app.store().map_err(|e| Failure::Internal(e.to_string()))?;
        let hits = store.search(&search)?;
        let (mut histogram, mut interval, mut top) = (Vec::new(), String::new(), None);
        let (since, until) =
            (search.since.unwrap_or(0), search.until.unwrap_or_else(|| crate::state::now_unix() * 1_000_000));
        if with_charts {
            interval = interval_for(until - since).0.to_string();
            if let AggResult::DateHistogram { buckets } =
                store.aggregate(&search, &Agg::DateHistogram { interval: interval.clone() })?
            {
                histogram = buckets;
            }
        }
        if !params.agg.trim().is_empty() {
            let agg: Agg = format!("terms:{}:20", params.agg.trim()).parse()?;
            if let AggResult::Terms { buckets, other } = store.aggregate(&search, &agg)? {
                top = Some((buckets, other));
            }
        }
        Ok(Found {
            total: hits.total,
            records: hits.records,
            next: hits.next.map(|c| c.to_string()),
            histogram,
            interval,
            since,
            until,
            top,
        })
    })();
    let (outcome, detail) = match &found {
        Ok(f) => (audit::Outcome::Ok, format!("{} found; since {}", f.total, params.since())),
        Err(SearchError::Query { message, .. }) => (audit::Outcome::Failed, message.clone()),
        Err(SearchError::Other(f)) => (audit::Outcome::Failed, format!("{f:?}")),
    };
    app.audit(audit::Entry::new(&p.actor(), "search", &params.q, outcome).detail(&detail))?;
    found
}

impl From<crate::state::StateError> for SearchError {
    fn from(e: crate::state::StateError) -> Self {
        Self::Other(e.into())
    }
}

fn api_error(e: SearchError) -> Response {
    match e {
        SearchError::Query { position, message } => {
            (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": message, "position": position })))
                .into_response()
        }
        SearchError::Other(Failure::Invalid(m)) => {
            (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": m }))).into_response()
        }
        SearchError::Other(f) => {
            tracing::error!("search: {f:?}");
            internal_error(Lang::En)
        }
    }
}

/// `GET /api/v1/search`: records newest first (`total`, `records`, `next`), with the
/// histogram and top values when asked (`charts=1`, `agg=FIELD`).
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams, ("charts" = Option<String>, Query, description = "`1`: the histogram too")),
    responses((status = 200, description = "Records newest first within the caller's organizations", body = Found),
              (status = 400, description = "The query, at its place (`position`, in characters)", body = crate::server::openapi::QueryErrorAnswer)))]
pub async fn api_search(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Query(params): Query<SearchParams>,
    Query(extra): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let charts = extra.get("charts").is_some_and(|v| v == "1");
    let worker = app.clone();
    match tokio::task::spawn_blocking(move || run(&worker, &p, &params, charts)).await {
        Ok(Ok(found)) => Json(found).into_response(),
        Ok(Err(e)) => api_error(e),
        Err(e) => api_error(SearchError::Other(Failure::Internal(e.to_string()))),
    }
}

/// Most records one export writes.
pub const EXPORT_MAX: usize = 1_000_000;

/// `GET /search.csv` and `/search.ndjson`: every match (up to [`EXPORT_MAX`]), streamed page by
/// page as the store is read; spreadsheet formulas neutralised in CSV.
pub async fn export(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    uri: axum::http::Uri,
    Query(params): Query<SearchParams>,
) -> Response {
    let csv = uri.path().ends_with(".csv");
    let prepared = (|| -> Result<Search, Failure> {
        let search = params.search(scope(&app, &p)?, 1000, p.zone())?;
        let what = if csv { "search.export.csv" } else { "search.export.ndjson" };
        app.audit(audit::Entry::done(&p.actor(), what, &params.q).detail(&format!("since {}", params.since())))?;
        Ok(search)
    })();
    let mut search = match prepared {
        Ok(s) => s,
        Err(Failure::Invalid(m)) => return (StatusCode::BAD_REQUEST, m).into_response(),
        Err(f) => {
            tracing::error!("export: {f:?}");
            return internal_error(lang);
        }
    };
    // A bad query is answered before any byte of the file.
    let first = {
        let (app, search) = (app.clone(), search.clone());
        tokio::task::spawn_blocking(move || app.store().map_err(QueryError::from)?.search(&search)).await
    };
    let first = match first {
        Ok(Ok(hits)) => hits,
        Ok(Err(e)) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        Err(e) => {
            tracing::error!("export: {e}");
            return internal_error(lang);
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tokio::task::spawn_blocking(move || {
        let store = match app.store() {
            Ok(s) => s,
            Err(e) => return tracing::error!("export: {e}"),
        };
        let mut hits = first;
        let (mut written, mut columns) = (0usize, Vec::new());
        loop {
            let mut out = Vec::new();
            if csv {
                if written == 0 {
                    columns = crate::cmd::search::csv_columns(&hits.records, true);
                }
                if crate::cmd::search::write_csv(&mut out, &hits.records, &columns, written == 0).is_err() {
                    return;
                }
            } else {
                for r in &hits.records {
                    out.extend_from_slice(r.to_string().as_bytes());
                    out.push(b'\n');
                }
            }
            written += hits.records.len();
            // The client went away: stop reading.
            if tx.blocking_send(Bytes::from(out)).is_err() {
                return;
            }
            let Some(next) = hits.next.filter(|_| written < EXPORT_MAX) else { return };
            search.after = Some(next);
            hits = match store.search(&search) {
                Ok(h) => h,
                Err(e) => return tracing::error!("export: {e}"),
            };
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    let (kind, name) = if csv {
        ("text/csv; charset=utf-8", "attachment; filename=\"canh-search.csv\"")
    } else {
        ("application/x-ndjson", "attachment; filename=\"canh-search.ndjson\"")
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    res
}

/// One result row: its time, type, endpoints, summary and every field (with the query that
/// narrows the search to its value).
struct Row {
    ts: String,
    kind: String,
    src: String,
    dst: String,
    summary: String,
    fields: Vec<(String, String, String)>,
}

/// One bar of the histogram.
struct Bar {
    x: usize,
    y: u64,
    height: u64,
    label: String,
}

struct Choice {
    value: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: Tr,
    csrf: String,
    params: SearchParams,
    since_shown: String,
    presets: Vec<Choice>,
    agg_fields: Vec<Choice>,
    error: Option<String>,
    /// The query with a caret under the error's place.
    caret: Option<String>,
    total: u64,
    rows: Vec<Row>,
    bars: Vec<Bar>,
    chart_width: usize,
    top: Vec<(String, u64, String)>,
    next: Option<String>,
    export: String,
    saved: Vec<saved::Saved>,
}

const PRESETS: [&str; 6] = ["15m", "1h", "24h", "7d", "30d", "90d"];
const AGG_FIELDS: [&str; 9] =
    ["_type", "_org", "_sensor", "id.orig_h", "id.resp_h", "id.resp_p", "rule_id", "severity", "service"];

/// A query narrowed to one more value.
fn narrowed(q: &str, field: &str, value: &str) -> String {
    let term = format!("{field}:{}", quoted(value));
    if q.trim().is_empty() || q.trim() == "*" { term } else { format!("({q}) AND {term}") }
}

fn rows_of(params: &SearchParams, records: &[Value], zone: Zone) -> Vec<Row> {
    records
        .iter()
        .map(|r| {
            let fields = r
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), String::from);
                    let narrow = match v {
                        Value::String(_) | Value::Number(_) if k != "ts" => {
                            format!("/search?{}", params.with(&[("q", &narrowed(&params.q, k, &text))]))
                        }
                        _ => String::new(),
                    };
                    (k.clone(), text, narrow)
                })
                .collect();
            Row {
                ts: r.get("ts").and_then(Value::as_f64).map(|t| zone.seconds(t)).unwrap_or_default(),
                kind: r.get("_type").and_then(Value::as_str).unwrap_or("").to_string(),
                src: crate::cmd::search::endpoint(r, "id.orig_h", "id.orig_p"),
                dst: crate::cmd::search::endpoint(r, "id.resp_h", "id.resp_p"),
                summary: crate::cmd::search::summary(r),
                fields,
            }
        })
        .collect()
}

pub async fn search_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Query(params): Query<SearchParams>,
) -> Response {
    let t = Tr(lang);
    let zone = p.zone();
    let (csrf, user) = match &p {
        Principal::User { csrf, user, .. } => (csrf.clone(), Some(user.id)),
        Principal::Token(_) => (String::new(), None),
    };
    let worker = app.clone();
    let asked = params.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let saved = user.map(|u| saved::list(&*worker.read()?, u)).transpose()?.unwrap_or_default();
        Ok::<_, crate::state::StateError>((run(&worker, &p, &asked, true), saved))
    })
    .await;
    let (found, saved) = match outcome {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            tracing::error!("search page: {e}");
            return internal_error(lang);
        }
        Err(e) => {
            tracing::error!("search page: {e}");
            return internal_error(lang);
        }
    };
    let since_shown = params.since().to_string();
    let presets = PRESETS.iter().map(|&v| Choice { value: v, selected: v == since_shown }).collect();
    let agg_fields = AGG_FIELDS.iter().map(|&v| Choice { value: v, selected: v == params.agg }).collect();
    let export = params.with(&[]);
    let mut view = SearchPage {
        t,
        csrf,
        since_shown,
        presets,
        agg_fields,
        error: None,
        caret: None,
        total: 0,
        rows: Vec::new(),
        bars: Vec::new(),
        chart_width: 0,
        top: Vec::new(),
        next: None,
        export,
        saved,
        params: params.clone(),
    };
    match found {
        Ok(f) => {
            // Each interval of the range has its place, 10 units wide: a bar stands where its
            // records are, and intervals without records are gaps.
            let step = interval_for(f.until - f.since).1 * 1_000_000;
            let first = f.since.div_euclid(step) * step;
            let peak = f.histogram.iter().map(|b| b.1).max().unwrap_or(0).max(1);
            view.bars = f
                .histogram
                .iter()
                .map(|(start, n)| {
                    let height = (n * 100).div_ceil(peak);
                    let x = ((start - first).max(0) / step) as usize * 10;
                    Bar { x, y: 100 - height, height, label: format!("{} — {n}", zone.micros(*start)) }
                })
                .collect();
            view.chart_width = (((f.until - first) / step) as usize + 1) * 10;
            view.total = f.total;
            view.rows = rows_of(&params, &f.records, zone);
            view.top = f
                .top
                .map(|(buckets, _)| {
                    buckets
                        .into_iter()
                        .map(|(v, n)| {
                            let href =
                                format!("/search?{}", params.with(&[("q", &narrowed(&params.q, &params.agg, &v))]));
                            (v, n, href)
                        })
                        .collect()
                })
                .unwrap_or_default();
            view.next = f.next.map(|c| format!("/search?{}&after={c}", params.with(&[])));
        }
        Err(SearchError::Query { position, message }) => {
            view.caret = position.map(|at| format!("{}\n{}^", params.q, " ".repeat(at)));
            view.error = Some(message);
        }
        Err(SearchError::Other(Failure::Invalid(m))) => view.error = Some(m),
        Err(SearchError::Other(f)) => {
            tracing::error!("search page: {f:?}");
            return internal_error(lang);
        }
    }
    let mut res = page(&view);
    if view.error.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
}

/// The user whose saved searches these are: the signed-in user, or a token's owner.
fn owner(app: &App, p: &Principal) -> Result<i64, Failure> {
    Ok(match p {
        Principal::User { user, .. } => user.id,
        Principal::Token(t) => crate::state::user::get(&*app.read()?, &t.owner)?.id,
    })
}

/// A search to save, as either face gives it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SaveRequest {
    pub name: String,
    pub q: String,
    pub since: String,
    pub until: String,
}

/// The caller's saved searches, by name.
pub fn saved_searches(app: &App, p: &Principal) -> Result<Vec<saved::Saved>, Failure> {
    let user = owner(app, p)?;
    Ok(saved::list(&*app.read()?, user)?)
}

/// Saves (or replaces, by name) a search of the caller's.
pub fn save(app: &App, p: &Principal, req: &SaveRequest) -> Result<i64, Failure> {
    let user = owner(app, p)?;
    let s = saved::Saved {
        id: 0,
        name: req.name.clone(),
        query: req.q.clone(),
        since: req.since.clone(),
        until: req.until.clone(),
    };
    let actor = p.actor();
    Ok(app.lock().change(|tx| saved::save(tx, &actor, user, &s))?)
}

/// Deletes one of the caller's saved searches.
pub fn delete_saved(app: &App, p: &Principal, id: i64) -> Result<(), Failure> {
    let user = owner(app, p)?;
    let actor = p.actor();
    Ok(app.lock().change(|tx| saved::delete(tx, &actor, user, id))?)
}

#[utoipa::path(get, path = "/api/v1/searches", tag = "search",
    responses((status = 200, description = "The caller's saved searches, by name", body = Vec<saved::Saved>)))]
pub async fn api_saved(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    answer(&app, move |app| saved_searches(app, &p)).await
}

#[utoipa::path(post, path = "/api/v1/searches", tag = "search", request_body = SaveRequest,
    responses((status = 200, description = "Saved (a search of the same name replaced)", body = crate::server::openapi::IdAnswer),
              (status = 400, description = "No name", body = crate::server::openapi::ErrorAnswer)))]
pub async fn api_save(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Json(req): Json<SaveRequest>,
) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "id": save(app, &p, &req)? }))).await
}

#[utoipa::path(post, path = "/api/v1/searches/{id}/delete", tag = "search", params(("id" = i64, Path, description = "The saved search's number")),
    responses((status = 200, description = "Deleted"), (status = 404, description = "Not one of the caller's", body = crate::server::openapi::ErrorAnswer)))]
pub async fn api_delete_saved(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    answer(&app, move |app| {
        let id = id.parse::<i64>().map_err(|_| Failure::NotFound(format!("no saved search `{id}`")))?;
        delete_saved(app, &p, id)?;
        Ok(serde_json::json!({ "deleted": id }))
    })
    .await
}

/// `POST /search/saved`: saves the search of the form under a name.
pub async fn save_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or(String::new(), |(_, v)| v.clone());
    let req = SaveRequest { name: one("name"), q: one("q"), since: one("since"), until: one("until") };
    let back = format!(
        "/search?{}",
        SearchParams { q: req.q.clone(), since: req.since.clone(), until: req.until.clone(), ..Default::default() }
            .with(&[])
    );
    let worker = app.clone();
    match tokio::task::spawn_blocking(move || save(&worker, &p, &req)).await {
        Ok(Ok(_)) => Redirect::to(&back).into_response(),
        Ok(Err(f)) => f.page(lang),
        Err(_) => internal_error(lang),
    }
}

/// `POST /search/saved/{id}/delete`.
pub async fn delete_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return (StatusCode::NOT_FOUND, Tr(lang).get("error-not-found")).into_response();
    };
    let worker = app.clone();
    match tokio::task::spawn_blocking(move || delete_saved(&worker, &p, id)).await {
        Ok(Ok(())) => Redirect::to("/search").into_response(),
        Ok(Err(f)) => f.page(lang),
        Err(_) => internal_error(lang),
    }
}
