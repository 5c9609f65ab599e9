//! Classification (xác định cấp độ): the level a system's facts place it at under a regime,
//! with every criterion that fired (article and clause), the national-security-critical flag
//! and the grey areas a person must confirm.
//!
//! Both rulebooks take the highest level any criterion gives (Decree 331 Art. 8.2; practice
//! under Decree 85). Decree 331 also lets the risk assessment raise the level, never lower it
//! (Art. 10.5). The criteria are tables ([`nd331::CRITERIA`], [`nd85::CRITERIA`]) so that the
//! wizard, the documents and the tests cite the same text.

pub mod nd331;
pub mod nd85;

use serde::{Deserialize, Serialize};

use crate::level::Level;
use crate::regime::Regime;
use crate::system::{InformationClass, Profile};

/// A criterion of a decree: a clause and the level it places a system at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Criterion {
    /// Article, clause and point as `13.2.b` (Điều 13 khoản 2 điểm b).
    pub clause: &'static str,
    pub level: u8,
    /// A short paraphrase in Vietnamese and in English.
    pub vi: &'static str,
    pub en: &'static str,
}

/// A criterion that fired for a system, and on what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    pub clause: String,
    pub level: Level,
    pub vi: String,
    pub en: String,
    /// The facts that made it fire ("300000 data subjects ≥ 100000").
    pub detail: String,
}

/// A point the law leaves open or the facts leave unclear: the system owner confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GreyArea {
    /// Stable key (`conditional-list`, `harm-unstated`, …).
    pub code: String,
    pub vi: String,
    pub en: String,
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub regime: Regime,
    /// None when no criterion fired (type đ awaiting a decision, unstated harm).
    pub level: Option<Level>,
    pub fired: Vec<Fired>,
    /// The risk assessment raised the level above every criterion (Art. 10.5).
    pub raised_by_risk: bool,
    /// Signs of a system critical to national security (Art. 16), each a clause; any one
    /// calls for a request to add it to the List (Art. 17).
    pub national_security_critical: Vec<Fired>,
    pub grey: Vec<GreyArea>,
}

impl Classification {
    /// Clauses that fired, for tests and tables: `["12.1", "13.2.b"]`.
    pub fn clauses(&self) -> Vec<&str> {
        self.fired.iter().map(|f| f.clause.as_str()).collect()
    }

    /// The criteria that gave the level itself (the highest that fired).
    pub fn decisive(&self) -> impl Iterator<Item = &Fired> {
        self.fired.iter().filter(move |f| Some(f.level) == self.level)
    }
}

/// Classify a system's facts under a regime.
pub fn classify(regime: Regime, profile: &Profile) -> Classification {
    match regime {
        Regime::Nd331 => nd331::classify(profile),
        Regime::Nd85 => nd85::classify(profile),
    }
}

/// The Vietnamese citation of a clause: `13.2.b` → "điểm b khoản 2 Điều 13".
pub fn cite_vi(clause: &str) -> String {
    let parts: Vec<&str> = clause.split('.').collect();
    match parts.as_slice() {
        [a] => format!("Điều {a}"),
        [a, k] => format!("khoản {k} Điều {a}"),
        [a, k, p, ..] => format!("điểm {p} khoản {k} Điều {a}"),
        [] => String::new(),
    }
}

/// Collects what fires, then settles the level.
pub(crate) struct Builder {
    regime: Regime,
    table: &'static [Criterion],
    fired: Vec<Fired>,
    ns: Vec<Fired>,
    grey: Vec<GreyArea>,
}

impl Builder {
    pub(crate) fn new(regime: Regime, table: &'static [Criterion]) -> Self {
        Self { regime, table, fired: Vec::new(), ns: Vec::new(), grey: Vec::new() }
    }

    fn make(&self, clause: &str, detail: String) -> Fired {
        let c = self
            .table
            .iter()
            .find(|c| c.clause == clause)
            .unwrap_or_else(|| panic!("no criterion {clause} in the table"));
        Fired {
            clause: c.clause.to_string(),
            level: Level::new(c.level).expect("criteria name levels 1 to 5"),
            vi: c.vi.to_string(),
            en: c.en.to_string(),
            detail,
        }
    }

    pub(crate) fn fire(&mut self, clause: &str, detail: impl Into<String>) {
        if !self.fired.iter().any(|f| f.clause == clause) {
            let f = self.make(clause, detail.into());
            self.fired.push(f);
        }
    }

    pub(crate) fn flag(&mut self, clause: &str, detail: impl Into<String>) {
        let f = self.make(clause, detail.into());
        self.ns.push(f);
    }

    pub(crate) fn grey(&mut self, code: &str, vi: impl Into<String>, en: impl Into<String>) {
        self.grey.push(GreyArea { code: code.to_string(), vi: vi.into(), en: en.into() });
    }

    pub(crate) fn highest(&self) -> Option<Level> {
        self.fired.iter().map(|f| f.level).max()
    }

    pub(crate) fn finish(mut self, raised_by_risk: bool) -> Classification {
        self.fired.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.clause.cmp(&b.clause)));
        Classification {
            regime: self.regime,
            level: self.highest(),
            fired: self.fired,
            raised_by_risk,
            national_security_critical: self.ns,
            grey: self.grey,
        }
    }
}

/// Helpers on the facts both decrees read.
pub(crate) fn has(profile: &Profile, class: InformationClass) -> bool {
    profile.information.contains(&class)
}

pub(crate) fn only_public(profile: &Profile) -> bool {
    profile.information.iter().all(|c| *c == InformationClass::Public) && !profile.information.is_empty()
}

pub(crate) fn private_or_personal(profile: &Profile) -> bool {
    has(profile, InformationClass::Private) || has(profile, InformationClass::Personal)
}
