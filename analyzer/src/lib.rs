//! # canh-analyzer
//!
//! The central half of Canh's pipeline: ingest of sensor records and artifacts, detection
//! (Sigma on records, YARA on artifacts, IOCs, correlation), alerts, and the tantivy event
//! store with retention and search.
//!
//! Empty until the detection (#3) and event-store (#4) issues land. It will consume exactly
//! what `canh_sensor::engine::Engine` emits: `Record`s and `Artifact`s.
