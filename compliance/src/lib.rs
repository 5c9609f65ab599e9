//! # canh-compliance
//!
//! Security-level compliance (an toàn hệ thống thông tin theo cấp độ): the level
//! classification (cấp độ — security level), the versioned requirement catalog per level
//! (Decree 85/2016 with TCVN 11930:2017, then Decree 331/2026 with TCVN 14423:2026), and the
//! dossier (hồ sơ đề xuất cấp độ) workflow — proposal, appraisal (thẩm định), approval
//! (phê duyệt) — with reports.
//!
//! Domain logic only, testable without a network or a browser; it must not depend on the
//! sensor, the analyzer or the console.
//!
//! - [`level::Level`]: cấp độ 1 to 5;
//! - [`log_retention::minimum_log_retention`]: how long a level's logs must be kept (the event
//!   store's default retention for an org comes from its highest level).
//!
//! ```
//! use canh_compliance::level::Level;
//! use canh_compliance::log_retention::minimum_log_retention;
//!
//! let level: Level = "3".parse().unwrap();
//! assert_eq!(minimum_log_retention(level).days, 92);
//! ```

pub mod level;
pub mod log_retention;
