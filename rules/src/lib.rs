//! # canh-rules
//!
//! Rule packs on disk — Sigma rules, YARA files, IOC lists and a `pack.toml` — validated with
//! `file:line:col` problems and compiled into ready matchers. Main types:
//!
//! - [`pack::Pack`], loaded with [`pack::load_packs`] (rule ids unique across packs);
//! - [`sigma::SigmaRule`] and [`sigma::SigmaSet`]: sigma-rust rules after a pre-pass that closes
//!   its gaps (regex flags, substring keywords, condition lists, multi-document files), indexed
//!   by logsource; what cannot be evaluated is reported `unsupported` with the reason;
//! - [`ioc::IocSet`]: domains, IPs, CIDR blocks and file hashes;
//! - [`Problem`]: what `canh rules check` prints.
//!
//! YARA compilation (yara-x), the record field map and Canh's own `vn-gov` pack come next
//! (issue #3).
//!
//! ```no_run
//! use canh_rules::{pack::load_packs, sigma::SigmaOptions};
//! let (packs, problems) = load_packs(&["rules/packs/vn-gov".into()], &SigmaOptions::default());
//! for p in &problems {
//!     eprintln!("{p}");
//! }
//! println!("{} Sigma rules", packs.iter().map(|p| p.sigma.len()).sum::<usize>());
//! ```

pub mod correlation;
pub mod fieldmap;
pub mod ioc;
pub mod pack;
pub mod problem;
pub mod sigma;
pub mod testing;
pub mod windows;

pub use problem::{Problem, Severity};
