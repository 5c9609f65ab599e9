//! # canh-rules
//!
//! Rule packs on disk — Sigma rules, YARA files, IOC lists and a `pack.toml` — validated with
//! `file:line:col` problems and compiled into ready matchers. Main types:
//!
//! - [`pack::Pack`], loaded with [`pack::load_packs`] (rule ids unique across packs);
//! - [`sigma::SigmaRule`] and [`sigma::SigmaSet`]: sigma-rust rules after a pre-pass that closes
//!   its gaps (regex flags, substring keywords, condition lists, multi-document files), indexed
//!   by logsource; what cannot be evaluated is reported `unsupported` with the reason;
//! - [`prefilter::Prefilter`]: the literals each Sigma rule needs, so a record meets only the
//!   rules it could match;
//! - [`ioc::IocSet`]: domains, IPs, CIDR blocks and file hashes;
//! - [`Problem`]: what `canh rules check` prints;
//! - [`bundled`]: Canh's own packs (`rules/packs/vn-gov`), built into the binary.
//!
//! Also here: [`correlation`] rules, the [`fieldmap`] for generic Sigma categories, the
//! [`windows`] event field map, and [`testing`] rules on sample events. YARA files are listed
//! by packs and compiled by the analyzer (YARA-X).
//!
//! ```no_run
//! use canh_rules::{pack::load_packs, sigma::SigmaOptions};
//! let (packs, problems) = load_packs(&["rules/packs/vn-gov".into()], &SigmaOptions::default());
//! for p in &problems {
//!     eprintln!("{p}");
//! }
//! println!("{} Sigma rules", packs.iter().map(|p| p.sigma.len()).sum::<usize>());
//! ```

pub mod bundled;
pub mod correlation;
pub mod fieldmap;
pub mod ioc;
pub mod pack;
pub mod prefilter;
pub mod problem;
pub mod sigma;
pub mod testing;
pub mod windows;

pub use problem::{Problem, Severity};
