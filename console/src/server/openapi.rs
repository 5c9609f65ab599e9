//! The API's OpenAPI document (`GET /api/v1/openapi.json`), generated from the handlers'
//! annotations and the types they take and answer (utoipa). A test checks that it names
//! exactly the API routes of the route table, so the two cannot drift apart.

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::compliance::api as compliance_api;
use super::triage::{self, api};
use super::{dashboard, routes, search};
use crate::state::{alerts, case, suppression};

/// An error: what is wrong, naming the field or the place.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorAnswer {
    error: String,
}

/// A query error: what is wrong and where (characters from the start), when it has a place.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct QueryErrorAnswer {
    error: String,
    position: Option<usize>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct QueueAnswer {
    groups: Vec<alerts::Group>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ListAnswer {
    total: i64,
    alerts: Vec<alerts::Alert>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SuppressionsAnswer {
    suppressions: Vec<suppression::Suppression>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CasesAnswer {
    cases: Vec<case::Case>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IdAnswer {
    id: i64,
}

/// Who is asking.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MeAnswer {
    name: String,
    /// `user` or `token`.
    kind: String,
    role: String,
    org: String,
}

/// Sessions (the `canh_session` cookie, with `X-CSRF-Token` on POST) or API tokens.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `canh token add` (scoped to a role and an organization)"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Canh console API",
        description = "The console's operations as JSON: every answer is limited to the caller's organization subtree, and every call is in the audit trail."
    ),
    paths(
        routes::api_me,
        routes::api_audit,
        search::api_search,
        search::api_saved,
        search::api_save,
        search::api_delete_saved,
        dashboard::api_dashboard,
        api::api_queue,
        api::api_list,
        api::api_alert,
        api::api_act,
        api::api_suppressions,
        api::api_suppress,
        api::api_unsuppress,
        api::api_cases,
        api::api_case,
        api::api_change_case,
        compliance_api::api_systems,
        compliance_api::api_system,
        compliance_api::api_add_system,
        compliance_api::api_classify,
        compliance_api::api_dossiers,
        compliance_api::api_dossier,
        compliance_api::api_open_dossier,
        compliance_api::api_act,
    ),
    components(schemas(triage::FilterParams)),
    modifiers(&Security),
    security(("token" = []))
)]
pub struct ApiDoc;

/// The document, as JSON.
pub async fn document() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
