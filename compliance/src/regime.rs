//! The two rulebooks live at once (regime-2026.md §0, §3.6): Decree 331/2026/NĐ-CP with
//! TCVN 14423:2026 for new work since 19/8/2026, and Decree 85/2016/NĐ-CP with TCVN
//! 11930:2017 for systems already classified under it and for projects that must finish their
//! appraisal and approval under it (Decree 331 Art. 39.1). Each classification, catalog and
//! dossier says which one it follows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Regime {
    /// Decree 331/2026/NĐ-CP, TCVN 14423:2026.
    #[serde(rename = "nd331-tcvn14423-2026")]
    Nd331,
    /// Decree 85/2016/NĐ-CP, TCVN 11930:2017.
    #[serde(rename = "nd85-tcvn11930-2017")]
    Nd85,
}

impl Regime {
    pub const ALL: [Regime; 2] = [Regime::Nd331, Regime::Nd85];

    /// The ruleset's identifier, as stored and typed (`--regime nd85-tcvn11930-2017`).
    pub fn id(self) -> &'static str {
        match self {
            Regime::Nd331 => "nd331-tcvn14423-2026",
            Regime::Nd85 => "nd85-tcvn11930-2017",
        }
    }

    /// The decree, as documents cite it.
    pub fn decree(self) -> &'static str {
        match self {
            Regime::Nd331 => "Nghị định số 331/2026/NĐ-CP",
            Regime::Nd85 => "Nghị định số 85/2016/NĐ-CP",
        }
    }

    /// The standard of basic requirements by level.
    pub fn standard(self) -> &'static str {
        match self {
            Regime::Nd331 => "TCVN 14423:2026",
            Regime::Nd85 => "TCVN 11930:2017",
        }
    }

    /// The last day a dossier under this regime may be approved: Decree 85 projects finish
    /// within 6 months of 1/7/2026 (Decree 331 Art. 39.1; 31/12/2026, the guide's safe date).
    pub fn approval_deadline(self) -> Option<Date> {
        match self {
            Regime::Nd331 => None,
            Regime::Nd85 => Some(date!(2026 - 12 - 31)),
        }
    }
}

/// Systems classified under the old regime keep their level but must meet the new
/// requirements within 12 months of 1/7/2026 (Law 116 Art. 45.1; Decree 331 Art. 39.1).
pub const NEW_REQUIREMENTS_DEADLINE: Date = date!(2027 - 06 - 30);

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a ruleset (nd331-tcvn14423-2026 or nd85-tcvn11930-2017)")]
pub struct NotARegime(pub String);

impl FromStr for Regime {
    type Err = NotARegime;

    fn from_str(s: &str) -> Result<Self, NotARegime> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nd331-tcvn14423-2026" | "nd331" | "331" => Ok(Regime::Nd331),
            "nd85-tcvn11930-2017" | "nd85" | "85" => Ok(Regime::Nd85),
            _ => Err(NotARegime(s.to_string())),
        }
    }
}
