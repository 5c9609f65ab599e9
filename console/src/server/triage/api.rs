//! Triage as JSON under `/api/v1`: each handler calls the service and answers its value or
//! its failure.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::*;
use crate::server::routes::{App, Principal};

/// The API's answer: what the service gives, as JSON, or the failure with its status.
async fn answer<T: serde::Serialize + Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&App) -> Result<T, Failure> + Send + 'static,
) -> Response {
    match blocking(app, f).await {
        Ok(v) => Json(v).into_response(),
        Err(f) => f.api(),
    }
}

pub async fn api_queue(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Query(params): Query<FilterParams>,
) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "groups": queue(app, &p, &params)? }))).await
}

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

pub async fn api_alert(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    answer(&app, move |app| detail(app, &p, &id)).await
}

pub async fn api_act(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Json(req): Json<ActRequest>,
) -> Response {
    answer(&app, move |app| act(app, &p, &req)).await
}

pub async fn api_suppressions(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "suppressions": suppressions(app, &p)? }))).await
}

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

pub async fn api_cases(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "cases": cases(app, &p)? }))).await
}

pub async fn api_case(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    answer(&app, move |app| case_detail(app, &p, number(&id, "case")?)).await
}

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
