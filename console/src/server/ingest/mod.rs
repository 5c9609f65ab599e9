//! Sensors' batches into the store: the second listener of `canh server`, which requires a
//! client certificate signed by the province CA ([`super::tls::sensor_config`]).
//!
//! For each `POST /v1/batches` ([`canh_sensor::ship::wire`]): the sensor is the one its
//! certificate names, and it must be enrolled, not revoked, and holding the certificate last
//! issued to it (403 otherwise); the body is at most 16 MiB compressed and 64 MiB decompressed
//! (413); every line must be a JSON object with a time, as many as the batch says (400, the
//! line named); a sequence at or below the last one committed is a replay (409). The lines are
//! stamped with the certificate's sensor and org ([`batch`]) and committed ([`committer`]);
//! the answer comes after the commit, and the sensor's totals are kept
//! ([`crate::state::sensor::batch_committed`]).

pub mod batch;
pub mod committer;
pub mod health;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use canh_sensor::ship::wire;
use serde_json::json;

use super::ClientCertificate;
use super::routes::App;
use crate::state::sensor;
use committer::Committer;

/// What the sensors' listener needs: the console's state (enrolled sensors) and the committer.
pub struct Ingest {
    pub app: Arc<App>,
    pub committer: Committer,
}

pub fn router(ingest: Arc<Ingest>) -> Router {
    Router::new()
        .route(wire::PATH, post(batch_handler))
        .route(wire::HEARTBEAT_PATH, post(health::heartbeat_handler))
        .layer(DefaultBodyLimit::max(wire::MAX_COMPRESSED))
        .with_state(ingest)
}

/// A request refused: its status and why (logged, and told to the sensor).
#[derive(Debug)]
pub struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        tracing::warn!(status = %self.0, "sensor request refused: {}", self.1);
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

pub(crate) fn refuse(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal(status, message.into())
}

fn header_u64(headers: &HeaderMap, name: &str) -> Result<u64, Refusal> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, format!("header `{name}`: a number is required")))
}

/// The sensor behind a request: the certificate's identity, if the server accepts it now.
pub fn sensor_of(app: &App, cert: &ClientCertificate) -> Result<crate::server::ca::Identity, Refusal> {
    let Some(der) = &cert.0 else {
        return Err(refuse(StatusCode::UNAUTHORIZED, "no client certificate"));
    };
    let id = crate::server::ca::identity(der)
        .map_err(|e| refuse(StatusCode::FORBIDDEN, format!("not a sensor certificate: {e:#}")))?;
    let conn = app.read().map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    match sensor::accepts(&conn, &id.name, &id.org, &id.serial) {
        Ok(true) => Ok(id),
        Ok(false) => Err(refuse(
            StatusCode::FORBIDDEN,
            format!("sensor {} of {}: not enrolled, revoked, or its certificate replaced", id.name, id.org),
        )),
        Err(e) => Err(refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
    }
}

async fn batch_handler(
    State(ingest): State<Arc<Ingest>>,
    Extension(cert): Extension<ClientCertificate>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match take_batch(&ingest, &cert, &headers, body).await {
        Ok(r) => r,
        Err(r) => r.into_response(),
    }
}

async fn take_batch(
    ingest: &Arc<Ingest>,
    cert: &ClientCertificate,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let id = sensor_of(&ingest.app, cert)?;
    let seq = header_u64(headers, wire::SEQUENCE)?;
    let records = header_u64(headers, wire::RECORDS)?;
    let dropped = (
        header_u64(headers, wire::DROPPED_BATCHES).unwrap_or(0),
        header_u64(headers, wire::DROPPED_RECORDS).unwrap_or(0),
    );
    if seq == 0 {
        return Err(refuse(StatusCode::BAD_REQUEST, "sequences start at 1"));
    }
    let committed_through = {
        let conn = ingest.app.read().map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
        sensor::delivered(&conn, &id.name).map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?.last_seq
    };
    if seq <= committed_through {
        return Ok((
            StatusCode::CONFLICT,
            Json(json!({ "error": "held already", "sequence": seq, "committed_through": committed_through })),
        )
            .into_response());
    }
    // Decompressing and checking are CPU work: off the async threads.
    let (name, org) = (id.name.clone(), id.org.clone());
    let checked = tokio::task::spawn_blocking(move || {
        let ndjson = wire::decompress(&body).map_err(|e| match e {
            wire::DecompressError::TooLarge => refuse(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
            wire::DecompressError::Malformed(_) => refuse(StatusCode::BAD_REQUEST, e.to_string()),
        })?;
        batch::stamp(&ndjson, &name, &org, records)
            .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("batch {seq}: {e}")))
    })
    .await
    .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    let committed = ingest
        .committer
        .commit(checked)
        .await
        .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, format!("the store: {e}")))?;
    let app = ingest.app.clone();
    let name = id.name.clone();
    tokio::task::spawn_blocking(move || {
        app.lock().change(|tx| sensor::batch_committed(tx, &name, seq, records, dropped))
    })
    .await
    .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    Ok(Json(json!({
        "sequence": seq,
        "records": records,
        "stored": committed.stored,
        "duplicates": committed.duplicates,
    }))
    .into_response())
}
