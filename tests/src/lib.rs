//! # canh-tests
//!
//! End-to-end tests across Canh's crates, in `tests/`: conformance against the third-party
//! corpus in `../shared/corpus/`, round trips of generated captures (`canh-traffic`),
//! detection with real rules, the event store, robustness. Dev-only: the `canh` binary never
//! depends on this crate. Test data of its own (certificates, PDFs) is in `data/`.
