//! Who gives the professional opinion, who appraises (thẩm định) and who approves (phê duyệt)
//! a dossier of each level. The decree's defaults (Decree 331 Art. 18; Decree 85 Art. 12,
//! 14, 16, 17); a province configures the real bodies (its cybersecurity unit may be the IT
//! centre of Sở KH&CN or Công an tỉnh) — never hard-coded past these defaults.

use serde::{Deserialize, Serialize};

use crate::level::Level;

/// A body that acts on a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// The owner's cybersecurity unit (đơn vị chuyên trách về an ninh mạng), or the subordinate
    /// unit or independent council of Art. 18.4 when that unit also operates the system.
    CybersecurityUnit,
    /// The system owner (chủ quản).
    SystemOwner,
    /// Bộ Công an (with the owner and ministries; MND and the Cipher Committee for theirs).
    MinistryOfPublicSecurity,
    /// Thủ tướng Chính phủ: approves the List of level-5 systems.
    PrimeMinister,
    /// A console organization named by the province's configuration.
    Organization(String),
}

impl Body {
    pub fn name_vi(&self) -> String {
        match self {
            Body::CybersecurityUnit => "Đơn vị chuyên trách về an ninh mạng của chủ quản".into(),
            Body::SystemOwner => "Chủ quản hệ thống thông tin".into(),
            Body::MinistryOfPublicSecurity => "Bộ Công an".into(),
            Body::PrimeMinister => "Thủ tướng Chính phủ".into(),
            Body::Organization(code) => code.clone(),
        }
    }
}

/// The bodies of one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    /// Professional opinion before filing (levels 4–5).
    pub opinion: Option<Body>,
    pub appraiser: Body,
    pub approver: Body,
    /// Level 5: the Prime Minister's List comes before the owner approves the plan.
    pub list_by_prime_minister: bool,
}

/// The decree's default for a level. Decree 85 routed the same way; its level 4–5 appraiser
/// (the Ministry of Information and Communications) became the Ministry of Public Security on
/// 1/3/2025, so one default serves both regimes.
pub fn default_authority(level: Level) -> Authority {
    match level.number() {
        1 | 2 => Authority {
            opinion: None,
            appraiser: Body::CybersecurityUnit,
            approver: Body::CybersecurityUnit,
            list_by_prime_minister: false,
        },
        3 => Authority {
            opinion: None,
            appraiser: Body::CybersecurityUnit,
            approver: Body::SystemOwner,
            list_by_prime_minister: false,
        },
        4 => Authority {
            opinion: Some(Body::CybersecurityUnit),
            appraiser: Body::MinistryOfPublicSecurity,
            approver: Body::SystemOwner,
            list_by_prime_minister: false,
        },
        _ => Authority {
            opinion: Some(Body::CybersecurityUnit),
            appraiser: Body::MinistryOfPublicSecurity,
            approver: Body::SystemOwner,
            list_by_prime_minister: true,
        },
    }
}
