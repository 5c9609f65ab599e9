//! # canh-analyzer
//!
//! The central half of Canh's pipeline: detection on what sensors produce, alerts, and the
//! tantivy event store (one index per UTC day) that analysts and auditors search.
//!
//! - [`alert::Alert`]: one alert schema for Sigma, YARA and IOC matches;
//! - [`sigma::SigmaDetector`]: Sigma rules on records, routed by logsource and field map;
//! - [`correlation::Correlator`]: Sigma correlation rules over those matches;
//! - [`ioc::IocDetector`]: indicators of compromise;
//! - [`inspect::AlertLog`]: all of them inside `canh replay`, writing `alerts.json`, with
//!   rules reloaded while it runs.
//!
//! - [`yara::YaraDetector`]: YARA-X on artifacts (and on the text of office documents), run
//!   beside decoding by [`scan_pool::ScanPool`], with [`pii`] counting citizens' numbers for it;
//! - [`store::Store`]: the event store — ingest with acknowledged commits, the analyst query
//!   language, day-by-day stats.
//!
//! ```no_run
//! use canh_analyzer::sigma::SigmaDetector;
//! use canh_rules::{fieldmap::FieldMap, pack::load_packs, sigma::{SigmaOptions, SigmaSet}};
//! let (packs, _problems) = load_packs(&["rules/packs/vn-gov".into()], &SigmaOptions::default());
//! let set = SigmaSet::new(packs.into_iter().flat_map(|p| p.sigma).collect());
//! let detector = SigmaDetector::new(set, FieldMap::bundled());
//! # let record: canh_sensor::record::Record = unimplemented!();
//! let mut alerts = Vec::new();
//! detector.detect(&record, &mut alerts);
//! ```

pub mod alert;
pub mod correlation;
pub mod hostlog;
pub mod inspect;
pub mod ioc;
pub mod pii;
pub mod scan_pool;
pub mod sigma;
pub mod store;
pub mod yara;
