//! The requirement catalog (danh mục yêu cầu) of each regime, as versioned data embedded in
//! the binary: groups and requirements keyed by (level, group, requirement), each with its
//! clause at that level, its period (a review cycle, a retention, a limit) and the SOC check
//! that can evidence it. Parameters by level (log retention, review and scan cycles, pentest
//! frequency, inactive-account days, restore tests) are read from it by the rest of Canh.
//!
//! Paraphrases only: the standards are copyrighted. [`LocalText`] holds the full text an
//! organization imports from its own copy, by (level, clause).

pub mod period;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::evidence::SocCheck;
use crate::level::Level;
use crate::regime::Regime;
pub use period::Period;

/// What a requirement's period means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Done again every period: its evidence expires after one.
    Cycle,
    /// Data kept at least this long.
    Retention,
    /// At most this long (inactive accounts, password age).
    Limit,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    pub key: String,
    /// Its number at each level ("" where the level has no such group).
    number: [String; 5],
    pub vi: String,
    pub en: String,
}

impl Group {
    pub fn number(&self, level: Level) -> Option<&str> {
        let n = &self.number[usize::from(level.number() - 1)];
        (!n.is_empty()).then_some(n.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Requirement {
    pub key: String,
    pub group: String,
    clauses: [String; 5],
    #[serde(default)]
    period: [String; 5],
    pub kind: Option<PeriodKind>,
    pub parameter: Option<String>,
    pub soc: Option<SocCheck>,
    #[serde(default)]
    notes: [String; 5],
    pub vi: String,
    pub en: String,
}

impl Requirement {
    pub fn clause(&self, level: Level) -> Option<&str> {
        let c = &self.clauses[usize::from(level.number() - 1)];
        (!c.is_empty()).then_some(c.as_str())
    }

    pub fn period(&self, level: Level) -> Option<Period> {
        self.period[usize::from(level.number() - 1)].parse().ok()
    }

    pub fn note(&self, level: Level) -> Option<&str> {
        let n = &self.notes[usize::from(level.number() - 1)];
        (!n.is_empty()).then_some(n.as_str())
    }
}

/// One regime's catalog.
#[derive(Debug, Clone, Deserialize)]
pub struct Catalog {
    pub id: String,
    pub standard: String,
    pub decree: String,
    /// The date of the paraphrase it was written from.
    pub source_date: String,
    /// Whether the clause numbers were checked against the standard itself.
    pub verified: bool,
    level_clause: [String; 5],
    #[serde(rename = "group")]
    pub groups: Vec<Group>,
    #[serde(rename = "requirement")]
    pub requirements: Vec<Requirement>,
}

/// A requirement as it applies at one level: what a gap assessment has a row for. Each group
/// present at the level has a general item (its clause `x.g.1`, "the group's requirements"),
/// then its listed requirements.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub level: Level,
    pub group: &'a Group,
    /// None for the group's general item.
    pub requirement: Option<&'a Requirement>,
    pub clause: String,
}

impl Item<'_> {
    /// The stable key `level/group/requirement` (`3/logs/log-retention`; `3/logs/general`).
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.level.number(), self.group.key, self.requirement.map_or("general", |r| r.key.as_str()))
    }

    pub fn vi(&self) -> String {
        match self.requirement {
            Some(r) => r.vi.clone(),
            None => format!("Yêu cầu chung của nhóm: {}", self.group.vi),
        }
    }

    pub fn en(&self) -> String {
        match self.requirement {
            Some(r) => r.en.clone(),
            None => format!("General requirements of the group: {}", self.group.en),
        }
    }

    pub fn period(&self) -> Option<Period> {
        self.requirement.and_then(|r| r.period(self.level))
    }

    /// A recurring requirement's cycle: how long its evidence stays valid.
    pub fn cycle(&self) -> Option<Period> {
        self.requirement.filter(|r| r.kind == Some(PeriodKind::Cycle)).and_then(|r| r.period(self.level))
    }
}

fn parse(text: &str) -> Catalog {
    toml::from_str(text).unwrap_or_else(|e| panic!("the embedded catalog does not parse: {e}"))
}

impl Catalog {
    /// The embedded catalog of a regime.
    pub fn of(regime: Regime) -> &'static Catalog {
        static ND331: OnceLock<Catalog> = OnceLock::new();
        static ND85: OnceLock<Catalog> = OnceLock::new();
        match regime {
            Regime::Nd331 => ND331.get_or_init(|| parse(include_str!("nd331-tcvn14423-2026.toml"))),
            Regime::Nd85 => ND85.get_or_init(|| parse(include_str!("nd85-tcvn11930-2017.toml"))),
        }
    }

    pub fn group(&self, key: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.key == key)
    }

    /// Every item a system of `level` must meet, in the standard's order.
    pub fn items(&self, level: Level) -> Vec<Item<'_>> {
        let clause = &self.level_clause[usize::from(level.number() - 1)];
        let mut groups: Vec<(&Group, &str)> =
            self.groups.iter().filter_map(|g| g.number(level).map(|n| (g, n))).collect();
        groups.sort_by_key(|g| natural(g.1));
        let mut out = Vec::new();
        for (group, number) in groups {
            let general = if self.id.starts_with("nd331") {
                format!("{clause}.{number}.1")
            } else {
                format!("{clause}.{number}")
            };
            out.push(Item { level, group, requirement: None, clause: general });
            for r in self.requirements.iter().filter(|r| r.group == group.key) {
                if let Some(c) = r.clause(level) {
                    out.push(Item { level, group, requirement: Some(r), clause: c.to_string() });
                }
            }
        }
        out
    }

    /// The item of a key made by [`Item::key`].
    pub fn item(&self, key: &str) -> Option<Item<'_>> {
        let level: Level = key.split('/').next()?.parse().ok()?;
        self.items(level).into_iter().find(|i| i.key() == key)
    }

    /// A parameter's value at a level (`log_retention`, `vulnerability_scan`, …).
    pub fn parameter(&self, name: &str, level: Level) -> Option<Period> {
        self.requirements.iter().find(|r| r.parameter.as_deref() == Some(name)).and_then(|r| r.period(level))
    }

    /// Every parameter's name.
    pub fn parameters(&self) -> Vec<&str> {
        self.requirements.iter().filter_map(|r| r.parameter.as_deref()).collect()
    }
}

/// "1.10" sorts after "1.9".
fn natural(number: &str) -> Vec<u32> {
    number.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// The full text of requirements an organization holds, imported from a CSV file of
/// `level,clause,text` rows (header first).
#[derive(Debug, Clone, Default)]
pub struct LocalText {
    text: HashMap<(u8, String), String>,
}

impl LocalText {
    /// Parse the file; a bad row is named by its line.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let mut text = HashMap::new();
        for (i, row) in reader.records().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| format!("line {line}: {e}"))?;
            let level: Level =
                row.get(0).unwrap_or("").parse().map_err(|e| format!("line {line}, column level: {e}"))?;
            let clause = row.get(1).unwrap_or("").trim();
            if clause.is_empty() {
                return Err(format!("line {line}, column clause: empty"));
            }
            text.insert((level.number(), clause.to_string()), row.get(2).unwrap_or("").to_string());
        }
        Ok(Self { text })
    }

    pub fn get(&self, item: &Item<'_>) -> Option<&str> {
        self.text.get(&(item.level.number(), item.clause.clone())).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_retention::minimum_log_retention;

    fn l(n: u8) -> Level {
        Level::new(n).unwrap()
    }

    #[test]
    fn both_catalogs_parse_and_every_requirement_names_a_group() {
        for regime in Regime::ALL {
            let c = Catalog::of(regime);
            assert_eq!(c.id, regime.id());
            for r in &c.requirements {
                assert!(c.group(&r.group).is_some(), "{}: group {}", r.key, r.group);
                for level in Level::ALL {
                    // A period only where the requirement applies.
                    if r.period(level).is_some() {
                        assert!(r.clause(level).is_some(), "{} has a period at {level} but no clause", r.key);
                    }
                    assert!(
                        r.period[usize::from(level.number() - 1)].is_empty() || r.period(level).is_some(),
                        "{}: bad period",
                        r.key
                    );
                }
            }
            // Keys are unique per level.
            for level in Level::ALL {
                let keys: Vec<String> = c.items(level).iter().map(Item::key).collect();
                let mut dedup = keys.clone();
                dedup.sort();
                dedup.dedup();
                assert_eq!(keys.len(), dedup.len(), "{regime} level {level}");
            }
        }
    }

    #[test]
    fn groups_by_level_as_tcvn_14423_numbers_them() {
        let c = Catalog::of(Regime::Nd331);
        // 15 groups at levels 1–2, 18 at 3–5.
        let generals = |n| c.items(l(n)).iter().filter(|i| i.requirement.is_none()).count();
        assert_eq!([generals(1), generals(2), generals(3), generals(4), generals(5)], [15, 15, 18, 18, 18]);
        // Incident response moves: 3.15, 4.15, 5.16, 6.17, 7.17; secure development 5.17, 6.16, 7.16.
        let incident = c.group("incident").unwrap();
        let numbers: Vec<_> = Level::ALL.iter().map(|lv| incident.number(*lv).unwrap()).collect();
        assert_eq!(numbers, ["15", "15", "16", "17", "17"]);
        assert_eq!(c.item("4/development/general").map(|i| i.clause), Some("6.16.1".to_string()));
        assert!(c.item("2/development/general").is_none());
        // Higher levels do not inherit blindly: the discovery scan starts at level 4.
        assert!(c.item("3/hardware/discovery-scan").is_none() && c.item("4/hardware/discovery-scan").is_some());
    }

    #[test]
    fn parameters_by_level() {
        let c = Catalog::of(Regime::Nd331);
        let months = |name, n| c.parameter(name, l(n)).map(|p| p.amount);
        assert_eq!(
            (1..=5).map(|n| months("log_retention", n)).collect::<Vec<_>>(),
            [None, Some(1), Some(3), Some(6), Some(12)]
        );
        assert_eq!(months("external_pentest", 4), Some(12));
        assert_eq!(months("external_pentest", 5), Some(6));
        assert_eq!(c.parameter("inactive_account", l(3)), Some(Period::days(45)));
        assert_eq!(months("restore_test", 5), Some(3));
        assert_eq!(months("vulnerability_scan", 3), Some(6));
        // The event store's retention default agrees with the catalog.
        for level in &Level::ALL[1..] {
            assert_eq!(
                c.parameter("log_retention", *level).unwrap().covering_days(),
                minimum_log_retention(*level).days
            );
        }
        // Decree 85's periodic assessment: 2 years org-wide, yearly at 3–4, 6-monthly at 5.
        let c85 = Catalog::of(Regime::Nd85);
        let cycle =
            |n| c85.item(&format!("{n}/operations/periodic-assessment")).and_then(|i| i.cycle()).map(|p| p.amount);
        assert_eq!([cycle(1), cycle(3), cycle(4), cycle(5)], [Some(24), Some(12), Some(12), Some(6)]);
    }

    #[test]
    fn local_text_by_level_and_clause() {
        let text = LocalText::parse("level,clause,text\n3,5.8.2.1 a,Full text here\n".as_bytes()).unwrap();
        let c = Catalog::of(Regime::Nd331);
        let item = c.item("3/logs/log-retention").unwrap();
        assert_eq!(text.get(&item), Some("Full text here"));
        let err = LocalText::parse("level,clause,text\n9,5.1,x\n".as_bytes()).unwrap_err();
        assert!(err.starts_with("line 2, column level"), "{err}");
    }
}
