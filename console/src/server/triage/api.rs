//! Triage as JSON under `/api/v1`: each handler calls the service and answers its value or
//! its failure.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::*;
use crate::server::openapi::{CasesAnswer, ErrorAnswer, IdAnswer, ListAnswer, QueueAnswer, SuppressionsAnswer};
use crate::server::routes::{App, Principal};

/// The API's answer: what the service gives, as JSON, or the failure with its status.
pub(crate) async fn answer<T: serde::Serialize + Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&App) -> Result<T, Failure> + Send + 'static,
) -> Response {
    match blocking(app, f).await {
        Ok(v) => Json(v).into_response(),
        Err(f) => f.api(),
    }
}

#[utoipa::path(get, path = "/api/v1/alerts/queue", tag = "alerts", params(FilterParams),
    responses((status = 200, description = "Groups of alerts by rule and source (and destination with by=dst), most recent first", body = QueueAnswer),
              (status = 400, description = "A filter that does not parse", body = ErrorAnswer)))]
pub async fn api_queue(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Query(params): Query<FilterParams>,
) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "groups": queue(app, &p, &params)? }))).await
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    params(FilterParams, ("limit" = Option<usize>, Query, description = "1 to 1000 (100)"), ("offset" = Option<usize>, Query, description = "Alerts to skip")),
    responses((status = 200, description = "Alerts newest first, with how many match", body = ListAnswer),
              (status = 400, description = "A filter that does not parse", body = ErrorAnswer)))]
pub async fn api_list(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Query(params): Query<ListParams>,
) -> Response {
    answer(&app, move |app| {
        let (limit, offset) = params.paging()?;
        let (alerts, total) = list(app, &p, &params.filter, limit, offset)?;
        Ok(serde_json::json!({ "total": total, "alerts": alerts }))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = String, Path, description = "The alert's id")),
    responses((status = 200, description = "The alert, its history, the records of its connections and its case", body = Detail),
              (status = 404, description = "No such alert within the caller's organizations", body = ErrorAnswer)))]
pub async fn api_alert(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    answer(&app, move |app| detail(app, &p, &id)).await
}

#[utoipa::path(post, path = "/api/v1/alerts/act", tag = "alerts", request_body = ActRequest,
    responses((status = 200, description = "What was done", body = alerts::Acted),
              (status = 400, description = "A bad action, verdict or filter", body = ErrorAnswer),
              (status = 404, description = "An alert, case or user not found within the caller's organizations", body = ErrorAnswer)))]
pub async fn api_act(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Json(req): Json<ActRequest>,
) -> Response {
    answer(&app, move |app| act(app, &p, &req)).await
}

#[utoipa::path(get, path = "/api/v1/suppressions", tag = "suppressions",
    responses((status = 200, description = "Suppressions of the caller's organizations, removed ones too", body = SuppressionsAnswer)))]
pub async fn api_suppressions(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "suppressions": suppressions(app, &p)? }))).await
}

#[utoipa::path(post, path = "/api/v1/suppressions", tag = "suppressions", request_body = SuppressRequest,
    responses((status = 201, description = "Made", body = IdAnswer),
              (status = 400, description = "No reason, no source or destination, or a past expiry", body = ErrorAnswer)))]
pub async fn api_suppress(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Json(req): Json<SuppressRequest>,
) -> Response {
    let mut res = answer(&app, move |app| Ok(serde_json::json!({ "id": suppress(app, &p, &req)? }))).await;
    if res.status() == StatusCode::OK {
        *res.status_mut() = StatusCode::CREATED;
    }
    res
}

#[utoipa::path(post, path = "/api/v1/suppressions/{id}/remove", tag = "suppressions", params(("id" = i64, Path, description = "The suppression's number")),
    responses((status = 200, description = "Removed"), (status = 404, description = "Not found within the caller's organizations", body = ErrorAnswer)))]
pub async fn api_unsuppress(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    answer(&app, move |app| {
        let id = number(&id, "suppression")?;
        unsuppress(app, &p, id)?;
        Ok(serde_json::json!({ "removed": id }))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    responses((status = 200, description = "Cases of the caller's organizations, open ones first", body = CasesAnswer)))]
pub async fn api_cases(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "cases": cases(app, &p)? }))).await
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path, description = "The case's number")),
    responses((status = 200, description = "The case, its timeline and alerts", body = CaseDetail),
              (status = 404, description = "Not found within the caller's organizations", body = ErrorAnswer)))]
pub async fn api_case(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    answer(&app, move |app| case_detail(app, &p, number(&id, "case")?)).await
}

#[utoipa::path(post, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path, description = "The case's number")), request_body = CaseRequest,
    responses((status = 200, description = "Changed"), (status = 400, description = "Nothing to change, or a bad status", body = ErrorAnswer),
              (status = 404, description = "Not found within the caller's organizations", body = ErrorAnswer)))]
pub async fn api_change_case(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(req): Json<CaseRequest>,
) -> Response {
    answer(&app, move |app| {
        let id = number(&id, "case")?;
        change_case(app, &p, id, &req)?;
        Ok(serde_json::json!({ "changed": id }))
    })
    .await
}
