//! Sigma correlation rules (Sigma v2): conditions over the matches of other rules within a
//! time span, per group of field values. sigma-rust has none; this module reads them, and the
//! analyzer evaluates them (`canh_analyzer::correlation`).
//!
//! ```yaml
//! correlation:
//!   type: event_count        # or value_count, temporal, temporal_ordered
//!   rules: [rule-id-or-name, ...]
//!   group-by: [field, ...]
//!   timespan: 5m             # s, m, h, d
//!   condition: {gte: 10}     # gt, gte, lt, lte, eq; value_count adds `field`
//! ```

use serde_norway::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
}

impl Op {
    pub fn holds(self, n: u64, limit: u64) -> bool {
        match self {
            Op::Gt => n > limit,
            Op::Gte => n >= limit,
            Op::Lt => n < limit,
            Op::Lte => n <= limit,
            Op::Eq => n == limit,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CorrelationRule {
    pub id: String,
    pub title: String,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub kind: Kind,
    /// Ids or names of the rules whose matches are correlated.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    /// Seconds.
    pub timespan: f64,
    pub op: Op,
    pub limit: u64,
    /// The field whose distinct values `value_count` counts.
    pub field: Option<String>,
}

/// "90s", "5m", "1h", "2d" in seconds.
pub fn timespan(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: f64 = num.parse().ok()?;
    Some(
        n * match unit {
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        },
    )
}

/// Reads a correlation document; `Err` says what is wrong with it.
pub fn parse(doc: &Value) -> Result<CorrelationRule, String> {
    let c = doc.get("correlation").ok_or("no correlation section")?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let list = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        }
    };
    let kind = match s(c, "type").as_deref() {
        Some("event_count") => Kind::EventCount,
        Some("value_count") => Kind::ValueCount,
        Some("temporal") => Kind::Temporal,
        Some("temporal_ordered") => Kind::TemporalOrdered,
        Some(other) => return Err(format!("unknown correlation type {other:?}")),
        None => return Err("correlation has no type".into()),
    };
    let rules = list(c.get("rules"));
    if rules.is_empty() {
        return Err("correlation names no rules".into());
    }
    let span = s(c, "timespan").ok_or("correlation has no timespan")?;
    let timespan = timespan(&span).ok_or_else(|| format!("bad timespan {span:?}"))?;
    let (mut op, mut limit, mut field) = (Op::Gte, rules.len() as u64, None);
    if let Some(cond) = c.get("condition").and_then(Value::as_mapping) {
        for (k, v) in cond {
            match (k.as_str(), v.as_u64()) {
                (Some("gt"), Some(n)) => (op, limit) = (Op::Gt, n),
                (Some("gte"), Some(n)) => (op, limit) = (Op::Gte, n),
                (Some("lt"), Some(n)) => (op, limit) = (Op::Lt, n),
                (Some("lte"), Some(n)) => (op, limit) = (Op::Lte, n),
                (Some("eq"), Some(n)) => (op, limit) = (Op::Eq, n),
                (Some("field"), _) => field = v.as_str().map(str::to_string),
                _ => return Err(format!("unknown condition {k:?}")),
            }
        }
    } else if kind != Kind::Temporal && kind != Kind::TemporalOrdered {
        return Err("correlation has no condition".into());
    }
    if kind == Kind::ValueCount && field.is_none() {
        return Err("value_count needs condition.field".into());
    }
    Ok(CorrelationRule {
        id: s(doc, "id").ok_or("rule has no id")?,
        title: s(doc, "title").unwrap_or_default(),
        level: s(doc, "level"),
        tags: list(doc.get("tags")),
        kind,
        rules,
        group_by: list(c.get("group-by")),
        timespan,
        op,
        limit,
        field,
    })
}
