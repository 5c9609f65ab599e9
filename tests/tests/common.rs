//! Helpers shared by the end-to-end tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use canh_sensor::capture::CaptureReader;
use canh_sensor::engine::{Engine, EngineConfig};
use canh_sensor::record::{Body, Record};

/// `../shared/corpus` beside the repository. A test that reads it is marked
/// `#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]`: `build.rs` compiles it to run
/// when the corpus is there or `CANH_REQUIRE_CORPUS=1`, and then the corpus must be there.
pub fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "{} is absent: this test needs the shared corpus (CANH_REQUIRE_CORPUS=1 is set, or it was there at build time)",
        dir.display()
    );
    dir
}

/// Every record of a capture, run through one engine.
pub struct Replayed {
    pub records: Vec<Record>,
    pub artifacts: Vec<canh_sensor::files::Artifact>,
    pub engine: Engine,
    pub error: Option<canh_sensor::capture::CaptureError>,
}

pub fn replay_file(path: &Path, cfg: EngineConfig) -> Replayed {
    let mut engine = Engine::new(cfg);
    let mut records = Vec::new();
    let mut artifacts = Vec::new();
    let mut error = None;
    match CaptureReader::open(&path.display().to_string()) {
        Ok(mut reader) => loop {
            match reader.advance() {
                Ok(true) => {
                    let p = &reader.packet;
                    engine.packet(p.ts, p.linktype, &p.data, p.orig_len);
                    let mut out = engine.drain();
                    records.append(&mut out.records);
                    artifacts.append(&mut out.artifacts);
                }
                Ok(false) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        },
        Err(e) => error = Some(e),
    }
    engine.finish();
    let mut out = engine.drain();
    records.append(&mut out.records);
    artifacts.append(&mut out.artifacts);
    Replayed { records, artifacts, engine, error }
}

pub fn dns_queries(records: &[Record]) -> Vec<String> {
    records.iter().filter_map(|r| if let Body::Dns(d) = &r.body { d.query.clone() } else { None }).collect()
}

/// "host uri" of each HTTP request, as the corpus lists them.
pub fn http_requests(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| match &r.body {
            Body::Http(h) if h.method.is_some() => {
                Some(format!("{} {}", h.host.clone().unwrap_or_default(), h.uri.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect()
}

pub fn tls_server_names(records: &[Record]) -> Vec<String> {
    records.iter().filter_map(|r| if let Body::Ssl(s) = &r.body { s.server_name.clone() } else { None }).collect()
}
