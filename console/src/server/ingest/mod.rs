//! Sensors' batches into the store: the second listener of `canh server`, which requires a
//! client certificate signed by the province CA ([`super::tls::sensor_config`]).
//!
//! For each `POST /v1/batches` ([`canh_sensor::ship::wire`]): the sensor is the one its
//! certificate names, and it must be enrolled, not revoked, and holding the certificate last
//! issued to it (403 otherwise); the body is at most 16 MiB compressed and 64 MiB decompressed
//! (413); every line must be a JSON object with a time, as many as the batch says (400, the
//! line named); a sequence at or below the last one committed is a replay (409). The lines are
//! stamped with the certificate's sensor and org ([`canh_sensor::ship::batch`]) and committed ([`committer`]);
//! the answer comes after the commit, and the sensor's totals are kept
//! ([`crate::state::sensor::batch_committed`]).

pub mod committer;
pub mod health;
pub mod packets;

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
    /// The data directory (the CA that renews sensors' certificates is under `ca/`).
    pub data: std::path::PathBuf,
    pub committer: Committer,
    /// Agents' JSON lines go here (`POST /v1/logs/{kind}`).
    pub hostlogs: Option<Arc<crate::server::hostlogs::HostLogs>>,
}

pub fn router(ingest: Arc<Ingest>) -> Router {
    Router::new()
        .route(wire::PATH, post(batch_handler))
        .route(wire::HEARTBEAT_PATH, post(health::heartbeat_handler))
        .route("/v1/logs/{kind}", post(logs_handler))
        .route(wire::RENEW_PATH, post(renew_handler))
        .route(wire::PACKETS_PATH, axum::routing::get(packets::wanted_handler))
        .route(
            &format!("{}/{{id}}", wire::PACKETS_PATH),
            // A flow's pcap compresses little when its traffic is encrypted.
            post(packets::answer_handler).layer(DefaultBodyLimit::max(wire::MAX_PACKETS + (1 << 20))),
        )
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
        canh_sensor::ship::batch::stamp(&ndjson, &name, &org, records)
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

/// Agents' JSON lines (`POST /v1/logs/{kind}`, NDJSON, zstd-compressed when
/// `content-encoding: zstd`): events of the certificate's sensor and org, `_type` the kind
/// (`winlog` for Windows event records); a line that is not JSON is kept raw and counted. The
/// answer comes after the commit.
async fn logs_handler(
    State(ingest): State<Arc<Ingest>>,
    Extension(cert): Extension<ClientCertificate>,
    axum::extract::Path(kind): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = match sensor_of(&ingest.app, &cert) {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    let Some(logs) = ingest.hostlogs.clone() else {
        return refuse(StatusCode::NOT_FOUND, "host logs are not taken here").into_response();
    };
    let kind_ok = (1..=32).contains(&kind.len())
        && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !kind_ok {
        return refuse(StatusCode::BAD_REQUEST, "a log kind is 1 to 32 of a-z, 0-9, _").into_response();
    }
    let zstd = headers.get(axum::http::header::CONTENT_ENCODING).is_some_and(|v| v == "zstd");
    let parsed = tokio::task::spawn_blocking(move || {
        let text = if zstd {
            wire::decompress(&body).map_err(|e| refuse(StatusCode::BAD_REQUEST, e.to_string()))?
        } else {
            body.to_vec()
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        let mut events = Vec::new();
        let mut malformed = 0u64;
        for line in text.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
            let event = serde_json::from_slice::<serde_json::Value>(line)
                .map_err(|e| e.to_string())
                .and_then(|v| crate::server::hostlogs::event::json(v, &kind, now).map_err(str::to_string));
            match event {
                Ok(e) => events.push(e),
                Err(why) => {
                    malformed += 1;
                    events.push(crate::server::hostlogs::event::raw(line, &why, &kind, None, "https", now));
                }
            }
        }
        Ok::<_, Refusal>((events, malformed))
    })
    .await;
    let (events, malformed) = match parsed {
        Ok(Ok(p)) => p,
        Ok(Err(r)) => return r.into_response(),
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    logs.counts.malformed.fetch_add(malformed, std::sync::atomic::Ordering::Relaxed);
    let accepted = events.len() as u64;
    match logs.write_now(events, &id.name, &id.org).await {
        Ok(alerts) => Json(json!({ "accepted": accepted, "malformed": malformed, "alerts": alerts })).into_response(),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, format!("the store: {e}")).into_response(),
    }
}

/// A sensor's certificate renewed: signed from its new request for the name and org its current
/// certificate (accepted now) names; the new serial replaces the old at once.
async fn renew_handler(
    State(ingest): State<Arc<Ingest>>,
    Extension(cert): Extension<ClientCertificate>,
    body: Bytes,
) -> Response {
    let id = match sensor_of(&ingest.app, &cert) {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    if body.len() > 16 << 10 {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "a request over 16 KiB").into_response();
    }
    let (app, data) = (ingest.app.clone(), ingest.data.clone());
    let signed = tokio::task::spawn_blocking(move || -> Result<String, Refusal> {
        let csr = std::str::from_utf8(&body).map_err(|_| refuse(StatusCode::BAD_REQUEST, "a PEM request"))?;
        let ca = crate::server::ca::Ca::load(&data)
            .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}")))?;
        let (pem, serial, not_after) =
            ca.sign_sensor(csr, &id.name, &id.org).map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("{e:#}")))?;
        app.lock()
            .change(|tx| sensor::renewed(tx, &id.name, &serial, not_after.unix_timestamp()))
            .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
        Ok(pem)
    })
    .await;
    match signed {
        Ok(Ok(pem)) => ([(axum::http::header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response(),
        Ok(Err(r)) => r.into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
