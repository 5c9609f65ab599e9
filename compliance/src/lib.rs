//! # canh-compliance
//!
//! Security-level compliance (an ninh mạng theo cấp độ) for the information systems of
//! Vietnamese agencies, under both rulebooks that are live in 2026: Decree 331/2026/NĐ-CP with
//! TCVN 14423:2026, and Decree 85/2016/NĐ-CP with TCVN 11930:2017 for the systems that
//! transition under it. The facts, their confidence and citations: `shared/domain/`.
//!
//! Domain logic only, testable without a network or a browser; it must not depend on the
//! sensor, the analyzer or the console. What the SOC knows (log retention held, traffic seen,
//! triage times) reaches it through [`evidence::SocFacts`], which the console implements.
//!
//! - [`system`]: the inventory's information system (hệ thống thông tin) and its profile;
//! - [`import`]: the inventory from the CSV and XLSX sheets agencies keep;
//! - [`classify`]: the level (cấp độ) a profile gives, criterion by criterion;
//! - [`catalog`]: the requirements of each level under each regime, as versioned data;
//! - [`assessment`]: the gap assessment of a system against its level;
//! - [`dossier`]: the dossier workflow, its deadlines, gates and authorities;
//! - [`documents`]: the dossier's documents and Forms 01–08 as Word files (Decree 30/2020 layout);
//! - [`evidence`]: evidence files by SHA-256, their expiry, and the SOC's own evidence;
//! - [`incident`]: an incident's 24-hour and 72-hour clocks and its report;
//! - [`level::Level`] and [`regime::Regime`]: cấp độ 1–5 and the two rulebooks;
//! - [`calendar`]: working days with Vietnam's holidays (Tết by the lunar calendar);
//! - [`log_retention::minimum_log_retention`]: how long a level's logs must be kept.
//!
//! ```
//! use canh_compliance::classify::classify;
//! use canh_compliance::regime::Regime;
//! use canh_compliance::system::{InformationClass, Profile, SystemType};
//!
//! let portal = Profile {
//!     system_type: SystemType::CitizenService,
//!     information: [InformationClass::Personal].into(),
//!     handles_administrative_procedures: true,
//!     basic_subjects: 40_000,
//!     ..Default::default()
//! };
//! let c = classify(Regime::Nd331, &portal);
//! assert_eq!(c.level.unwrap().number(), 3);
//! assert_eq!(c.decisive().next().unwrap().clause, "13.2.b");
//! ```

pub mod assessment;
pub mod calendar;
pub mod catalog;
pub mod classify;
pub mod documents;
pub mod dossier;
pub mod evidence;
pub mod import;
pub mod incident;
pub mod level;
pub mod log_retention;
pub mod regime;
pub mod system;
