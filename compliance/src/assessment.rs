//! Gap assessment (đánh giá mức độ đáp ứng) of a system against its level's requirements:
//! each item has a status, the measure in place, an owner, a due date and evidence; progress
//! by group and overall; and what changed since the last assessment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::catalog::Catalog;
use crate::level::Level;
use crate::regime::Regime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Unassessed,
    /// Đáp ứng.
    Met,
    /// Đáp ứng một phần.
    PartlyMet,
    /// Chưa đáp ứng.
    NotMet,
    /// Không áp dụng (with a reason).
    NotApplicable,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Unassessed, Status::Met, Status::PartlyMet, Status::NotMet, Status::NotApplicable];

    pub fn key(self) -> &'static str {
        match self {
            Status::Unassessed => "unassessed",
            Status::Met => "met",
            Status::PartlyMet => "partly_met",
            Status::NotMet => "not_met",
            Status::NotApplicable => "not_applicable",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Status::Unassessed => "Chưa đánh giá",
            Status::Met => "Đáp ứng",
            Status::PartlyMet => "Đáp ứng một phần",
            Status::NotMet => "Chưa đáp ứng",
            Status::NotApplicable => "Không áp dụng",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.key() == s)
    }
}

/// One requirement's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Entry {
    pub status: Status,
    /// Why it does not apply, or what is missing.
    pub reason: String,
    /// The measure in place or planned (biện pháp).
    pub measure: String,
    /// Who answers for it.
    pub owner: String,
    pub due: Option<Date>,
    /// Evidence ids attached.
    pub evidence: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("`{0}` is not a requirement of this level")]
    UnknownItem(String),
    #[error("{0}: \"not applicable\" needs a reason")]
    NoReason(String),
}

/// A system's assessment against one regime and level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub regime: Regime,
    pub level: Level,
    /// By item key (`3/logs/log-retention`); items never assessed are absent.
    pub entries: BTreeMap<String, Entry>,
}

/// Counts of statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Tally {
    pub total: u32,
    pub met: u32,
    pub partly_met: u32,
    pub not_met: u32,
    pub not_applicable: u32,
    pub unassessed: u32,
}

impl Tally {
    fn add(&mut self, s: Status) {
        self.total += 1;
        match s {
            Status::Met => self.met += 1,
            Status::PartlyMet => self.partly_met += 1,
            Status::NotMet => self.not_met += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::Unassessed => self.unassessed += 1,
        }
    }

    /// Met as a share of what applies, in percent (0 when nothing applies).
    pub fn met_percent(&self) -> u32 {
        let applicable = self.total - self.not_applicable;
        (self.met * 100).checked_div(applicable).unwrap_or(0)
    }

    /// Form 08 column 10: how far the security plan is implemented.
    pub fn plan_status_vi(&self) -> &'static str {
        let applicable = self.total - self.not_applicable;
        if applicable > 0 && self.met == applicable {
            "Đã triển khai đầy đủ"
        } else if self.met + self.partly_met > 0 {
            "Đã triển khai một số hạng mục"
        } else {
            "Chưa triển khai"
        }
    }
}

/// A status that changed between two assessments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub key: String,
    pub before: Status,
    pub after: Status,
}

impl Assessment {
    pub fn new(regime: Regime, level: Level) -> Self {
        Self { regime, level, entries: BTreeMap::new() }
    }

    fn catalog(&self) -> &'static Catalog {
        Catalog::of(self.regime)
    }

    /// Record a row; refused for an item not of this level, or "not applicable" without a reason.
    pub fn set(&mut self, key: &str, entry: Entry) -> Result<(), EntryError> {
        if self.catalog().item(key).is_none_or(|i| i.level != self.level) {
            return Err(EntryError::UnknownItem(key.to_string()));
        }
        if entry.status == Status::NotApplicable && entry.reason.trim().is_empty() {
            return Err(EntryError::NoReason(key.to_string()));
        }
        self.entries.insert(key.to_string(), entry);
        Ok(())
    }

    pub fn status(&self, key: &str) -> Status {
        self.entries.get(key).map(|e| e.status).unwrap_or_default()
    }

    /// Progress overall and by group (in the catalog's order).
    pub fn progress(&self) -> (Tally, Vec<(String, Tally)>) {
        let mut overall = Tally::default();
        let mut groups: Vec<(String, Tally)> = Vec::new();
        for item in self.catalog().items(self.level) {
            let s = self.status(&item.key());
            overall.add(s);
            match groups.last_mut() {
                Some((g, t)) if *g == item.group.key => t.add(s),
                _ => {
                    let mut t = Tally::default();
                    t.add(s);
                    groups.push((item.group.key.clone(), t));
                }
            }
        }
        (overall, groups)
    }

    /// What changed since `previous` (an item of the other's level only counts as unassessed).
    pub fn changes_since(&self, previous: &Assessment) -> Vec<Change> {
        self.catalog()
            .items(self.level)
            .iter()
            .filter_map(|item| {
                let key = item.key();
                let (before, after) = (previous.status(&key), self.status(&key));
                (before != after).then_some(Change { key, before, after })
            })
            .collect()
    }

    /// Rows not met whose due date has passed.
    pub fn overdue(&self, today: Date) -> Vec<(&str, &Entry)> {
        self.entries
            .iter()
            .filter(|(_, e)| {
                matches!(e.status, Status::NotMet | Status::PartlyMet | Status::Unassessed)
                    && e.due.is_some_and(|d| d < today)
            })
            .map(|(k, e)| (k.as_str(), e))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn l3() -> Assessment {
        Assessment::new(Regime::Nd331, Level::new(3).unwrap())
    }

    #[test]
    fn rows_are_checked() {
        let mut a = l3();
        assert_eq!(
            a.set("4/hardware/discovery-scan", Entry::default()),
            Err(EntryError::UnknownItem("4/hardware/discovery-scan".into()))
        );
        assert_eq!(a.set("3/nope/x", Entry::default()), Err(EntryError::UnknownItem("3/nope/x".into())));
        let na = Entry { status: Status::NotApplicable, ..Default::default() };
        assert_eq!(
            a.set("3/development/general", na.clone()),
            Err(EntryError::NoReason("3/development/general".into()))
        );
        a.set("3/development/general", Entry { reason: "Không tự phát triển phần mềm".into(), ..na }).unwrap();
    }

    #[test]
    fn progress_by_group_and_changes() {
        let mut a = l3();
        let met = Entry { status: Status::Met, ..Default::default() };
        a.set("3/logs/general", met.clone()).unwrap();
        a.set("3/logs/log-retention", met.clone()).unwrap();
        a.set(
            "3/logs/log-review",
            Entry { status: Status::PartlyMet, due: Some(date!(2026 - 11 - 30)), ..Default::default() },
        )
        .unwrap();
        let (overall, groups) = a.progress();
        assert_eq!(overall.total as usize, Catalog::of(Regime::Nd331).items(Level::new(3).unwrap()).len());
        let logs = groups.iter().find(|(g, _)| g == "logs").unwrap().1;
        assert_eq!((logs.total, logs.met, logs.partly_met, logs.met_percent()), (3, 2, 1, 66));
        assert_eq!(overall.plan_status_vi(), "Đã triển khai một số hạng mục");
        assert_eq!(a.overdue(date!(2026 - 12 - 03)).len(), 1);

        let before = a.clone();
        a.set("3/logs/log-review", met).unwrap();
        let changes = a.changes_since(&before);
        assert_eq!(
            changes,
            [Change { key: "3/logs/log-review".into(), before: Status::PartlyMet, after: Status::Met }]
        );
        assert!(a.overdue(date!(2026 - 12 - 03)).is_empty());
    }
}
