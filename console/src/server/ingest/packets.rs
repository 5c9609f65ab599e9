//! The sensors' side of the packets behind an alert ([`canh_sensor::ship::wire::PACKETS_PATH`]):
//! a sensor asks which requests are its to answer, and answers each with a pcap or with why
//! it has none. Only the sensor a request names may answer it, once; what it sends must be a
//! capture file whose frames are as many as it says, or it is refused (400) and the request
//! keeps waiting.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use canh_sensor::ship::wire;
use serde_json::json;

use super::{Ingest, Refusal, refuse, sensor_of};
use crate::server::ClientCertificate;
use crate::state::packets::{self, Answer};

/// `GET /v1/packets`: the requests waiting for this sensor.
pub async fn wanted_handler(
    State(ingest): State<Arc<Ingest>>,
    Extension(cert): Extension<ClientCertificate>,
) -> Response {
    let id = match sensor_of(&ingest.app, &cert) {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    let app = ingest.app.clone();
    let found = tokio::task::spawn_blocking(move || {
        let conn = app.read().map_err(|e| e.to_string())?;
        packets::wanted(&conn, &id.name).map_err(|e| e.to_string())
    })
    .await;
    match found {
        Ok(Ok(requests)) => Json(
            requests
                .into_iter()
                .map(|r| wire::PacketRequest { id: r.id, community_id: r.community_id, from: r.from, to: r.to })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Ok(Err(e)) => refuse(StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `POST /v1/packets/{id}`: this sensor's answer to request `id`.
pub async fn answer_handler(
    State(ingest): State<Arc<Ingest>>,
    Extension(cert): Extension<ClientCertificate>,
    Path(request): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match take_answer(&ingest, &cert, request, &headers, body).await {
        Ok(r) => r,
        Err(r) => r.into_response(),
    }
}

async fn take_answer(
    ingest: &Arc<Ingest>,
    cert: &ClientCertificate,
    request: i64,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let sensor = sensor_of(&ingest.app, cert)?.name;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (app, data) = (ingest.app.clone(), ingest.data.clone());
    let zstd = headers.get(axum::http::header::CONTENT_ENCODING).is_some_and(|v| v == "zstd");
    let (said, why) = (header(wire::PACKETS), header(wire::PACKETS_ERROR));
    let truncated = header(wire::TRUNCATED).is_some_and(|v| v == "1");
    tokio::task::spawn_blocking(move || -> Result<Response, Refusal> {
        let unavailable = |e: crate::state::StateError| refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        {
            let conn = app.read().map_err(unavailable)?;
            if !packets::answerable(&conn, request, &sensor).map_err(unavailable)? {
                return Err(refuse(StatusCode::NOT_FOUND, format!("no request {request} waiting for sensor {sensor}")));
            }
        }
        let answer = match why {
            Some(why) => Answer::Nothing(why),
            None => {
                let pcap = if zstd {
                    wire::decompress(&body).map_err(|e| refuse(StatusCode::BAD_REQUEST, e.to_string()))?
                } else {
                    body.to_vec()
                };
                let said: i64 = said.and_then(|n| n.parse().ok()).ok_or_else(|| {
                    refuse(StatusCode::BAD_REQUEST, format!("header `{}`: a number is required", wire::PACKETS))
                })?;
                let frames = count_frames(&pcap).map_err(|e| refuse(StatusCode::BAD_REQUEST, e))?;
                if frames != said {
                    return Err(refuse(
                        StatusCode::BAD_REQUEST,
                        format!("the capture holds {frames} frames, the sensor said {said}"),
                    ));
                }
                let path = packets::file(&data, request);
                write_whole(&path, &pcap).map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
                Answer::Packets { packets: frames, bytes: pcap.len() as i64, truncated }
            }
        };
        let taken = app.lock().change(|tx| packets::answer(tx, request, &sensor, &answer)).map_err(unavailable)?;
        if !taken {
            return Err(refuse(StatusCode::CONFLICT, format!("request {request} was answered already")));
        }
        tracing::info!(request, sensor, "packets answered");
        Ok(Json(json!({ "request": request })).into_response())
    })
    .await
    .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// The frames of a capture file, or where it is broken.
fn count_frames(pcap: &[u8]) -> Result<i64, String> {
    let mut reader = canh_sensor::capture::CaptureReader::from_reader(
        "the sensor's capture",
        Box::new(std::io::Cursor::new(pcap.to_vec())),
    )
    .map_err(|e| e.to_string())?;
    let mut n = 0;
    while reader.advance().map_err(|e| e.to_string())? {
        n += 1;
    }
    Ok(n)
}

/// Writes a file whole: beside it first, then renamed over (a reader never sees half of it).
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("a file under packets/");
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("pcap.part");
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}
