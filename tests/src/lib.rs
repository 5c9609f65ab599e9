//! # canh-tests
//!
//! Test data generators and end-to-end tests across Canh's crates.
//!
//! - [`traffic`]: the deterministic agency-LAN capture generator behind `canh gen` and
//!   `canh demo`, with the incidents later issues detect planted in it;
//! - `tests/`: conformance against the third-party corpus in `../shared/corpus/` (skipped with
//!   a message when it is absent), round trips of generated captures, robustness.
//!
//! ```no_run
//! use canh_tests::traffic::{generate, GenConfig};
//! let file = std::fs::File::create("lan.pcap").unwrap();
//! let report = generate(&GenConfig { seed: 7, target_bytes: 5_000_000, hosts: 40 }, file).unwrap();
//! assert!(!report.incidents.is_empty());
//! ```

pub mod traffic;
