//! # canh-compliance
//!
//! Security-level compliance (an toàn hệ thống thông tin theo cấp độ): the level
//! classification (cấp độ — security level), the versioned requirement catalog per level
//! (Decree 85/2016 with TCVN 11930:2017, then Decree 331/2026 with TCVN 14423:2026), and the
//! dossier (hồ sơ đề xuất cấp độ) workflow — proposal, appraisal (thẩm định), approval
//! (phê duyệt) — with reports.
//!
//! Domain logic only, testable without a network or a browser; it must not depend on the
//! sensor, the analyzer or the console. Empty until its issue lands.
