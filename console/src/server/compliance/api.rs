//! The compliance desk as JSON under `/api/v1`: systems, their classification, dossiers and
//! their steps, from the same service functions as the pages.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State as AxState};
use axum::response::Response;
use canh_compliance::regime::Regime;
use canh_compliance::system::{InformationSystem, Profile};

use super::*;
use crate::server::openapi::{ErrorAnswer, IdAnswer};
use crate::server::routes::{App, Principal};
use crate::server::triage::api::answer;
use crate::server::triage::number;

/// The systems the caller sees.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SystemsAnswer {
    systems: Vec<SystemRow>,
}

/// One system: the inventory record, its levels and its latest classification.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SystemAnswer {
    id: i64,
    /// The inventory record (owner, operator, profile, zones, devices, applications).
    #[schema(value_type = Object)]
    system: InformationSystem,
    level: Option<u8>,
    regime: Option<String>,
    approved_level: Option<u8>,
    risk_assessed: Option<String>,
    /// The latest classification: level, every criterion that fired, grey areas.
    #[schema(value_type = Option<Object>)]
    classification: Option<canh_compliance::classify::Classification>,
    /// The ids of its dossiers.
    dossiers: Vec<i64>,
}

/// A classification asked for: the profile's answers and the rulebook.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ClassifyRequest {
    /// `nd331-tcvn14423-2026` or `nd85-tcvn11930-2017`.
    regime: String,
    #[schema(value_type = Object)]
    profile: Profile,
}

/// A dossier to open.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct OpenRequest {
    systems: Vec<i64>,
    regime: String,
    level: Option<u8>,
}

/// A dossier in a list.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DossierSummary {
    id: i64,
    org: String,
    regime: String,
    level: u8,
    stage: String,
    due: Option<String>,
    systems: Vec<String>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DossiersAnswer {
    dossiers: Vec<DossierSummary>,
}

/// A dossier: its state, steps, the caller's parts and open actions, what approval lacks.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DossierAnswer {
    id: i64,
    org: String,
    #[schema(value_type = Object)]
    dossier: canh_compliance::dossier::Dossier,
    events: Vec<crate::state::dossier::Event>,
    parts: Vec<String>,
    actions: Vec<String>,
    missing: Vec<String>,
    days_left: Option<i64>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StageAnswer {
    stage: String,
}

fn regime(s: &str) -> Result<Regime, Failure> {
    s.parse().map_err(|e: canh_compliance::regime::NotARegime| Failure::Invalid(format!("regime: {e}")))
}

#[utoipa::path(get, path = "/api/v1/systems", tag = "compliance",
    responses((status = 200, description = "The information systems the caller sees, with their levels", body = SystemsAnswer)))]
pub async fn api_systems(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "systems": systems(app, &p)? }))).await
}

#[utoipa::path(get, path = "/api/v1/systems/{id}", tag = "compliance", params(("id" = i64, Path, description = "The system's id")),
    responses((status = 200, description = "The system", body = SystemAnswer),
              (status = 404, description = "No such system the caller sees", body = ErrorAnswer)))]
pub async fn api_system(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    answer(&app, move |app| {
        let d = system_detail(app, &p, number(&id, "system")?)?;
        Ok(SystemAnswer {
            id: d.stored.id,
            system: d.stored.system,
            level: d.stored.level,
            regime: d.stored.regime.map(|r| r.id().to_string()),
            approved_level: d.stored.approved_level,
            risk_assessed: d.stored.risk_assessed,
            classification: d.classification.map(|k| k.result),
            dossiers: d.dossiers.iter().map(|x| x.id).collect(),
        })
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/systems", tag = "compliance", request_body(content = Object, description = "The system as GET /api/v1/systems/{id} gives it (`system`)"),
    responses((status = 200, description = "Added", body = IdAnswer),
              (status = 400, description = "A field is wrong (named)", body = ErrorAnswer)))]
pub async fn api_add_system(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Json(system): Json<InformationSystem>,
) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "id": save_system(app, &p, None, system)? }))).await
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/classify", tag = "compliance", params(("id" = i64, Path, description = "The system's id")), request_body = ClassifyRequest,
    responses((status = 200, description = "The classification: level, criteria fired with their clauses, national-security flag, grey areas", body = Object),
              (status = 404, description = "No such system the caller edits", body = ErrorAnswer)))]
pub async fn api_classify(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(req): Json<ClassifyRequest>,
) -> Response {
    answer(&app, move |app| classify(app, &p, number(&id, "system")?, req.profile, regime(&req.regime)?)).await
}

#[utoipa::path(get, path = "/api/v1/dossiers", tag = "compliance",
    responses((status = 200, description = "The dossiers the caller sees (their organizations', and those routed to them)", body = DossiersAnswer)))]
pub async fn api_dossiers(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    answer(&app, move |app| {
        let all: Vec<DossierSummary> = dossiers(app, &p)?
            .into_iter()
            .map(|d| DossierSummary {
                id: d.id,
                regime: d.dossier.regime.id().to_string(),
                level: d.dossier.level.number(),
                stage: d.dossier.stage.key().to_string(),
                due: d.dossier.due.map(|d| d.to_string()),
                systems: d.dossier.systems.clone(),
                org: d.org,
            })
            .collect();
        Ok(serde_json::json!({ "dossiers": all }))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/dossiers/{id}", tag = "compliance", params(("id" = i64, Path, description = "The dossier's id")),
    responses((status = 200, description = "The dossier", body = DossierAnswer),
              (status = 404, description = "No such dossier the caller sees", body = ErrorAnswer)))]
pub async fn api_dossier(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    answer(&app, move |app| {
        let d = dossier_detail(app, &p, number(&id, "dossier")?)?;
        Ok(DossierAnswer {
            id: d.stored.id,
            org: d.stored.org.clone(),
            parts: d.parts.iter().map(|x| format!("{x:?}").to_lowercase()).collect(),
            actions: d.actions.iter().map(|a| a.to_string()).collect(),
            dossier: d.stored.dossier,
            events: d.events,
            missing: d.missing,
            days_left: d.days_left,
        })
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/dossiers", tag = "compliance", request_body = OpenRequest,
    responses((status = 200, description = "Opened as a draft", body = IdAnswer),
              (status = 400, description = "Refused, and why", body = ErrorAnswer)))]
pub async fn api_open_dossier(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Json(req): Json<OpenRequest>,
) -> Response {
    answer(&app, move |app| {
        let level = req
            .level
            .map(|l| l.try_into().map_err(|e: canh_compliance::level::NotALevel| Failure::Invalid(e.to_string())))
            .transpose()?;
        Ok(serde_json::json!({ "id": open_dossier(app, &p, &req.systems, regime(&req.regime)?, level)? }))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/dossiers/{id}/act", tag = "compliance", params(("id" = i64, Path, description = "The dossier's id")), request_body = ActRequest,
    responses((status = 200, description = "Done: the stage it is now at", body = StageAnswer),
              (status = 400, description = "Refused (not the caller's part, wrong stage, approval preconditions missing), and why", body = ErrorAnswer)))]
pub async fn api_act(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(req): Json<ActRequest>,
) -> Response {
    answer(&app, move |app| Ok(serde_json::json!({ "stage": act(app, &p, number(&id, "dossier")?, &req)?.key() })))
        .await
}
