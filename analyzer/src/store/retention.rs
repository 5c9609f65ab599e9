//! Retention: how many days records are kept, per record type and per org, and a disk budget.
//!
//! The days an org's records are kept default to the log-retention minimum of its highest
//! system level (the console reads it from the compliance catalog: 1, 3, 6, 12 months for
//! levels 2 to 5); a record type can be given its own (alerts longer, bulky `conn` shorter).
//! Enforcement works on whole days: a day whose every record is past its age is dropped as a
//! directory; in a day that still holds younger-lived records, the expired ones (a type of an
//! org) are deleted by query. Past that, the disk budget drops the oldest days, and says so.

use std::collections::BTreeMap;

use canh_sensor::record::names;
use serde_json::{Value, json};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TokenizerManager;
use tantivy::{IndexWriter, Term};

use super::{Day, Store, StoreError};

/// How long records are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Days for records of an org (`_org`).
    pub orgs: BTreeMap<String, u32>,
    /// Days for a record type (`_type`), in every org; before the org's days.
    pub types: BTreeMap<String, u32>,
    /// Days for records neither names.
    pub default_days: u32,
    /// Bytes the event store may take; the oldest days go first beyond it.
    pub disk_budget: Option<u64>,
}

impl Retention {
    /// Days a record of this type and org is kept.
    pub fn days(&self, record_type: &str, org: &str) -> u32 {
        self.types.get(record_type).or_else(|| self.orgs.get(org)).copied().unwrap_or(self.default_days)
    }
}

/// What enforcing retention did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Pruned {
    /// Days dropped whole because everything in them was past its age.
    pub expired_days: Vec<Day>,
    /// Records deleted from days kept for younger-lived records: (day, type, org, records).
    pub expired_records: Vec<(Day, String, String, u64)>,
    /// Days dropped to stay under the disk budget, though not past their age.
    pub budget_days: Vec<Day>,
    /// Days left alone because a writer (an ingest, a replay) holds them open: pruned next time.
    pub busy_days: Vec<Day>,
    pub bytes_freed: u64,
}

/// Days from `a` to `b` (both `YYYY-MM-DD`).
fn days_between(a: &str, b: &str) -> i64 {
    let start = |d: &str| super::day_start(d).unwrap_or(0);
    (start(b) - start(a)) / super::DAY_MICROS
}

impl Store {
    /// Enforces `retention` as of `today`; with `dry_run`, only says what it would drop.
    pub fn prune(&self, retention: &Retention, today: &str, dry_run: bool) -> Result<Pruned, StoreError> {
        let mut out = Pruned::default();
        let mut kept = Vec::new();
        for day in self.days() {
            // A day is `age` days old once it is over: yesterday is 0 days past its end.
            let age = days_between(&day, today) - 1;
            let held = self.types_and_orgs(&day)?;
            let expired: Vec<&(String, String, u64)> =
                held.iter().filter(|(t, o, _)| age >= i64::from(retention.days(t, o))).collect();
            let bytes = super::dir_bytes(&self.events_dir().join(&day));
            if expired.is_empty() {
                kept.push((day, bytes));
                continue;
            }
            // Nothing is pruned from a day a writer holds open: its lock is taken first, and a
            // day whose lock is held is left for the next prune.
            let Some(writer) = self.writer_unless_busy(&day)? else {
                out.busy_days.push(day.clone());
                kept.push((day, bytes));
                continue;
            };
            if !held.is_empty() && expired.len() == held.len() {
                out.bytes_freed += bytes;
                if !dry_run {
                    self.drop_day(&day, writer)?;
                }
                out.expired_days.push(day);
                continue;
            }
            if !dry_run {
                self.delete_records(&day, writer, &expired)?;
            }
            out.expired_records.extend(expired.iter().map(|(t, o, n)| (day.clone(), t.clone(), o.clone(), *n)));
            kept.push((day, bytes));
        }
        if let Some(budget) = retention.disk_budget {
            let mut total: u64 = kept.iter().map(|(_, b)| b).sum();
            // Today's day is never dropped: it is where records arrive.
            for (day, bytes) in kept.iter().filter(|(d, _)| d.as_str() < today) {
                if total <= budget {
                    break;
                }
                let Some(writer) = self.writer_unless_busy(day)? else {
                    if !out.busy_days.contains(day) {
                        out.busy_days.push(day.clone());
                    }
                    continue;
                };
                if !dry_run {
                    self.drop_day(day, writer)?;
                }
                total -= bytes;
                out.bytes_freed += bytes;
                out.budget_days.push(day.clone());
            }
        }
        Ok(out)
    }

    /// The day's writer, or `None` when another holds its lock (a replay or ingest writing it).
    fn writer_unless_busy(&self, day: &str) -> Result<Option<IndexWriter>, StoreError> {
        match self.index(day)?.writer_with_num_threads(1, 15 << 20) {
            Ok(w) => Ok(Some(w)),
            Err(tantivy::TantivyError::LockFailure(tantivy::directory::error::LockError::LockBusy, _)) => Ok(None),
            Err(source) => Err(StoreError::Index { day: day.to_string(), source }),
        }
    }

    /// The (type, org) pairs a day holds, with their record counts.
    fn types_and_orgs(&self, day: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        let failed = |source| StoreError::Index { day: day.to_string(), source };
        let request: Aggregations = serde_json::from_value(json!({
            "t": {"terms": {"field": names::TYPE, "size": 1000, "missing": ""},
                  "aggs": {"o": {"terms": {"field": names::ORG, "size": 10000, "missing": ""}}}}
        }))
        .expect("well-formed request");
        let context = AggContextParams::new(AggregationLimitsGuard::default(), TokenizerManager::default());
        let result = self
            .searcher(day)?
            .search(&tantivy::query::AllQuery, &AggregationCollector::from_aggs(request, context))
            .map_err(failed)?;
        let result =
            serde_json::to_value(result).map_err(|e| failed(tantivy::TantivyError::InternalError(e.to_string())))?;
        let buckets = |v: &Value| v.get("buckets").and_then(Value::as_array).cloned().unwrap_or_default();
        let key = |b: &Value| b.get("key").and_then(Value::as_str).unwrap_or("").to_string();
        let mut out = Vec::new();
        for t in buckets(&result["t"]) {
            for o in buckets(&t["o"]) {
                out.push((key(&t), key(&o), o.get("doc_count").and_then(Value::as_u64).unwrap_or(0)));
            }
        }
        Ok(out)
    }

    fn delete_records(
        &self,
        day: &str,
        mut writer: IndexWriter,
        expired: &[&(String, String, u64)],
    ) -> Result<(), StoreError> {
        let failed = |source| StoreError::Index { day: day.to_string(), source };
        let fields = self.fields();
        for (t, o, _) in expired {
            let term = |name: &str, value: &str| -> Box<dyn Query> {
                let field = fields.schema.get_field(name).expect("keyword field");
                // Keyword terms are lower-cased (schema.rs); the column's value may not be.
                Box::new(TermQuery::new(Term::from_field_text(field, &value.to_lowercase()), IndexRecordOption::Basic))
            };
            let both = BooleanQuery::new(vec![(Occur::Must, term(names::TYPE, t)), (Occur::Must, term(names::ORG, o))]);
            writer.delete_query(Box::new(both)).map_err(failed)?;
        }
        writer.commit().map_err(failed)?;
        super::writer::close(writer).map_err(failed)
    }

    /// Drops a day whose writer (and so its lock) the caller holds: no other writer can be
    /// adding to it meanwhile.
    fn drop_day(&self, day: &str, writer: IndexWriter) -> Result<(), StoreError> {
        let path = self.events_dir().join(day);
        // Renamed first, so that a crash half-way leaves no half-deleted index under a day's name.
        let doomed = self.events_dir().join(format!(".drop-{day}"));
        let io = |e: std::io::Error| StoreError::Io { path: path.clone(), message: e.to_string() };
        std::fs::rename(&path, &doomed).map_err(io)?;
        drop(writer);
        std::fs::remove_dir_all(&doomed).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_before_org_before_default() {
        let r = Retention {
            orgs: [("so-khcn".to_string(), 92)].into(),
            types: [("alert".to_string(), 366)].into(),
            default_days: 31,
            disk_budget: None,
        };
        assert_eq!(r.days("conn", "so-khcn"), 92);
        assert_eq!(r.days("alert", "so-khcn"), 366);
        assert_eq!(r.days("conn", "other"), 31);
        assert_eq!(days_between("2026-11-01", "2026-12-01"), 30);
        assert_eq!(days_between("2024-02-28", "2024-03-01"), 2);
    }
}
