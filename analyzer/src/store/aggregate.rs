//! Aggregations over what a search matches: the top values of a field (`terms:id.resp_h`),
//! records per interval (`date_histogram:1h`), distinct values (`cardinality:id.orig_h`).
//! tantivy computes them on the fast fields of each day; the days' partial results are merged
//! into one answer.

use serde_json::{Value, json};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::intermediate_agg_result::IntermediateAggregationResults;
use tantivy::aggregation::{AggContextParams, AggregationLimitsGuard, DistributedAggregationCollector};
use tantivy::tokenizer::TokenizerManager;

use super::query::{QueryError, Search};
use super::schema::{Role, roles};
use super::{Store, StoreError};
use canh_sensor::record::names;

/// An aggregation, as the command line and the console name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agg {
    /// The `size` most frequent values of a field.
    Terms { field: String, size: u32 },
    /// Records per fixed interval of time (`30s`, `5m`, `1h`, `1d`).
    DateHistogram { interval: String },
    /// How many distinct values a field has (HyperLogLog: within about 1% past a few
    /// thousand values, exact below).
    Cardinality { field: String },
}

/// An aggregation's answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "agg")]
pub enum AggResult {
    /// Values with their counts, most frequent first; `other` counts the records with a value
    /// outside the top.
    Terms {
        buckets: Vec<(String, u64)>,
        other: u64,
    },
    /// Interval starts (microseconds since the epoch) with their counts, oldest first.
    DateHistogram {
        buckets: Vec<(i64, u64)>,
    },
    Cardinality {
        value: u64,
    },
}

/// The fields an aggregation can read: the fast ones.
fn aggregatable() -> impl Iterator<Item = &'static str> {
    roles().named(|r| matches!(r, Role::Keyword | Role::Address | Role::Integer { .. }))
}

impl std::str::FromStr for Agg {
    type Err = QueryError;

    /// `terms:FIELD[:N]`, `date_histogram:INTERVAL`, `cardinality:FIELD`.
    fn from_str(s: &str) -> Result<Self, QueryError> {
        let invalid = |m: String| Err(QueryError::Invalid(m));
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        let field_ok = |field: &str| {
            if aggregatable().any(|f| f == field) {
                Ok(field.to_string())
            } else {
                Err(QueryError::Invalid(format!(
                    "aggregation `{s}`: `{field}` is not a field aggregations can read ({})",
                    aggregatable().collect::<Vec<_>>().join(", ")
                )))
            }
        };
        match kind {
            "terms" => {
                let (field, size) = match rest.rsplit_once(':') {
                    Some((f, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                        (f, n.parse().unwrap_or(10))
                    }
                    _ => (rest, 10),
                };
                Ok(Agg::Terms { field: field_ok(field)?, size: size.clamp(1, 10_000) })
            }
            "cardinality" => Ok(Agg::Cardinality { field: field_ok(rest)? }),
            "date_histogram" => {
                let digits = rest.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                let unit = &rest[digits.len()..];
                if digits.is_empty()
                    || !digits.chars().all(|c| c.is_ascii_digit())
                    || !["s", "m", "h", "d"].contains(&unit)
                {
                    return invalid(format!("aggregation `{s}`: the interval is a number and s, m, h or d (`1h`)"));
                }
                Ok(Agg::DateHistogram { interval: rest.to_string() })
            }
            _ => invalid(format!(
                "aggregation `{s}`: expected terms:FIELD[:N], date_histogram:INTERVAL or cardinality:FIELD"
            )),
        }
    }
}

impl Agg {
    /// The request in tantivy's (Elasticsearch-like) form, under the name `a`.
    fn request(&self) -> Aggregations {
        let body = match self {
            // Each day ranks more values than asked, so that the merged top is right unless a
            // value is spread thinly over many days (tantivy reports that bound).
            Agg::Terms { field, size } => {
                json!({"terms": {"field": field, "size": size, "segment_size": (size * 10).max(1000)}})
            }
            Agg::DateHistogram { interval } => {
                json!({"date_histogram": {"field": names::TS, "fixed_interval": interval}})
            }
            Agg::Cardinality { field } => json!({"cardinality": {"field": field}}),
        };
        serde_json::from_value(json!({ "a": body })).expect("aggregation requests are well formed")
    }
}

impl Store {
    /// Runs an aggregation over the records a search matches (its limit and cursor aside).
    pub fn aggregate(&self, s: &Search, agg: &Agg) -> Result<AggResult, QueryError> {
        let query = self.query(&Search { after: None, ..s.clone() })?;
        let request = agg.request();
        let context = || AggContextParams::new(AggregationLimitsGuard::default(), TokenizerManager::default());
        let mut merged: Option<IntermediateAggregationResults> = None;
        for day in self.days_within(s) {
            let failed = |source| StoreError::Index { day: day.clone(), source };
            let searcher = self.searcher(&day)?;
            let collector = DistributedAggregationCollector::from_aggs(request.clone(), context());
            let part = searcher.search(&query, &collector).map_err(failed)?;
            match &mut merged {
                None => merged = Some(part),
                Some(m) => m.merge_fruits(part).map_err(failed)?,
            }
        }
        let final_result = match merged {
            Some(m) => {
                let r =
                    m.into_final_result(request, context().limits).map_err(|e| QueryError::Invalid(e.to_string()))?;
                serde_json::to_value(r).map_err(|e| QueryError::Invalid(e.to_string()))?
            }
            None => Value::Null,
        };
        Ok(read_result(agg, final_result.get("a").unwrap_or(&Value::Null)))
    }
}

/// The answer out of tantivy's JSON result (no match at all gives empty buckets and 0).
fn read_result(agg: &Agg, v: &Value) -> AggResult {
    let buckets = || v.get("buckets").and_then(Value::as_array).cloned().unwrap_or_default();
    let count = |b: &Value| b.get("doc_count").and_then(Value::as_u64).unwrap_or(0);
    match agg {
        Agg::Terms { .. } => AggResult::Terms {
            buckets: buckets()
                .iter()
                .map(|b| {
                    let key = match b.get("key") {
                        Some(Value::String(s)) => display_address(s),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    (key, count(b))
                })
                .collect(),
            other: v.get("sum_other_doc_count").and_then(Value::as_u64).unwrap_or(0),
        },
        Agg::DateHistogram { .. } => AggResult::DateHistogram {
            buckets: buckets()
                .iter()
                // tantivy's keys are milliseconds, as Elasticsearch's.
                .map(|b| ((b.get("key").and_then(Value::as_f64).unwrap_or(0.0) * 1000.0) as i64, count(b)))
                .collect(),
        },
        Agg::Cardinality { .. } => {
            AggResult::Cardinality { value: v.get("value").and_then(Value::as_f64).map_or(0, |x| x.round() as u64) }
        }
    }
}

/// tantivy keeps every address as IPv6; an IPv4 one reads better as itself.
fn display_address(s: &str) -> String {
    match s.parse::<std::net::Ipv6Addr>() {
        Ok(v6) => v6.to_ipv4_mapped().map_or(v6.to_string(), |v4| v4.to_string()),
        Err(_) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_command_line_forms() {
        assert_eq!("terms:id.resp_h".parse::<Agg>().unwrap(), Agg::Terms { field: "id.resp_h".into(), size: 10 });
        assert_eq!("terms:_type:3".parse::<Agg>().unwrap(), Agg::Terms { field: "_type".into(), size: 3 });
        assert_eq!("date_histogram:1h".parse::<Agg>().unwrap(), Agg::DateHistogram { interval: "1h".into() });
        assert_eq!("cardinality:id.orig_h".parse::<Agg>().unwrap(), Agg::Cardinality { field: "id.orig_h".into() });
        for bad in ["terms:method", "date_histogram:1y", "date_histogram:h", "sum:id.resp_p", "cardinality:"] {
            assert!(bad.parse::<Agg>().is_err(), "{bad}");
        }
        assert_eq!(display_address("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(display_address("2001:db8::1"), "2001:db8::1");
    }
}
