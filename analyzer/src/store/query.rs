//! The analyst query language: tantivy's query parser over the store's fields, with two
//! additions of Canh's — a field that is not one of the schema's own is looked up in `extra`
//! (`method:POST` means `extra.method:POST`), and an IP field takes CIDR terms
//! (`id.orig_h:10.20.0.0/16` becomes the range of that network; an IPv6 one is quoted,
//! `id.resp_h:"2001:db8::/32"`) — and a time range. Results
//! come newest first, with the exact number of matches.

use std::net::IpAddr;
use std::ops::Bound;

use serde_json::Value;
use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::{DateTime, Order, TantivyDocument, Term};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::schema::{Fields, Role, Unindexed, roles};
use super::{Store, StoreError, day_of};
use canh_sensor::record::names;

/// A search: the query, a time range (microseconds since the epoch, `until` excluded), how
/// many records, and where the previous page ended.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub query: String,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: usize,
    pub after: Option<Cursor>,
    /// Only records whose `_org` is one of these (an organization's subtree); `None`: every
    /// organization (the command line, the province). Applied as a required clause beside
    /// the query, never through its text, so that no query can widen it.
    pub orgs: Option<Vec<String>>,
}

/// What a search found: every match counted (after the cursor, when there is one), the newest
/// `limit` returned, and the cursor of the next page when this one is full.
#[derive(Debug)]
pub struct Hits {
    pub total: u64,
    pub records: Vec<Value>,
    pub next: Option<Cursor>,
}

/// A place in the order of results (newest first, ties broken by `_seq`): the last record of a
/// page. The next page starts after it whatever was ingested meanwhile, so paging neither skips
/// nor repeats — what offsets cannot promise while records arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub ts: i64,
    pub seq: u64,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:016x}", self.ts, self.seq)
    }
}

impl std::str::FromStr for Cursor {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, QueryError> {
        let bad =
            || QueryError::Invalid(format!("`{s}` is not a cursor (a search's `next`, like 1793581200267887-9f3c…)"));
        let (ts, seq) = s.split_once('-').ok_or_else(bad)?;
        Ok(Self { ts: ts.parse().map_err(|_| bad())?, seq: u64::from_str_radix(seq, 16).map_err(|_| bad())? })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query does not parse: where (a character offset) and why.
    #[error("query, at character {position}: {message}")]
    Syntax { position: usize, message: String },
    #[error("query: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Longest query taken, in characters: longer is no analyst's, and a parser's work grows with it.
pub const MAX_QUERY_CHARS: usize = 4096;
/// Deepest nesting of parentheses taken: the parsers recurse once per level, and a few
/// thousand levels overflow the stack.
pub const MAX_NESTING: usize = 32;

/// Refuses a query too long or too deeply nested, at its place, before any parser sees it.
fn check_size(query: &str) -> Result<(), QueryError> {
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(QueryError::Syntax {
            position: MAX_QUERY_CHARS,
            message: format!("the query is {chars} characters long; at most {MAX_QUERY_CHARS} are taken"),
        });
    }
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for (i, c) in query.chars().enumerate() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '(' if !quoted => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(QueryError::Syntax {
                        position: i,
                        message: format!("parentheses nested deeper than {MAX_NESTING}"),
                    });
                }
            }
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The character position of a byte offset of `s` (tantivy's parser counts bytes).
fn char_position(s: &str, byte: usize) -> usize {
    s.char_indices().take_while(|(at, _)| *at < byte).count()
}

/// The query in tantivy's own language: fields outside the schema under `extra.`, CIDR terms
/// as ranges. Syntax errors are reported at their place in the analyst's text (in characters).
pub fn translate(query: &str, fields: &Fields) -> Result<String, QueryError> {
    translate_naming(query, fields, &mut Vec::new())
}

/// [`translate`], also naming the fields it looked up in `extra` that no record type declares,
/// with their places: names that may be typos.
fn translate_naming(query: &str, fields: &Fields, unknown: &mut Vec<(String, usize)>) -> Result<String, QueryError> {
    check_size(query)?;
    let (_, errors) = tantivy::query_grammar::parse_query_lenient(query);
    if let Some(e) = errors.first() {
        return Err(QueryError::Syntax { position: char_position(query, e.pos), message: e.message.clone() });
    }
    let mut out = String::with_capacity(query.len() + 16);
    let chars: Vec<char> = query.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '[' | '{') {
            // A range's bounds are values, never field names (`ts:[2026-11-02T00:00:00Z TO *]`).
            let start = i;
            while i < chars.len() && !matches!(chars[i], ']' | '}') {
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
            continue;
        }
        if c == '"' {
            // A phrase is copied as it is, escapes included.
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
            continue;
        }
        let at_token_start = i == 0 || matches!(chars[i - 1], ' ' | '(' | '+' | '-' | '\t');
        // A leading `-` is the operator "must not", never part of a name.
        if at_token_start && is_name(c) && c != '-' {
            let start = i;
            while i < chars.len() && is_name(chars[i]) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            if i < chars.len() && chars[i] == ':' {
                if !fields.is_own(&name) {
                    let ranged = || ranged_fields();
                    if let Some(why) = fields.unindexed(&name) {
                        let kept = "kept in each record but not searched by value";
                        let message = match why {
                            Unindexed::Measurement => format!("`{name}` is a measurement, {kept} ({})", ranged()),
                            Unindexed::Fraction => format!("`{name}` is a fraction, {kept}"),
                            Unindexed::DnsHeader => format!("`{name}` is a DNS header field, {kept}"),
                            Unindexed::Code { named } => format!("`{name}` is a code, {kept}: search `{named}`"),
                        };
                        return Err(QueryError::Syntax { position: start, message });
                    }
                    if i + 1 < chars.len() && matches!(chars[i + 1], '[' | '{' | '>' | '<') {
                        return Err(QueryError::Syntax {
                            position: i + 1,
                            message: format!("`{name}` has no ranges ({})", ranged()),
                        });
                    }
                    if roles().of(&name).is_none() {
                        unknown.push((name.clone(), start));
                    }
                    out.push_str("extra.");
                }
                out.push_str(&name);
                out.push(':');
                i += 1;
                if roles().is(&name, Role::Address) {
                    let vstart = i;
                    while i < chars.len() && !matches!(chars[i], ' ' | ')' | '\t') {
                        i += 1;
                    }
                    let value: String = chars[vstart..i].iter().collect();
                    // An IPv6 network is quoted (its colons would read as a field separator).
                    let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                        Some(inner) if inner.contains('/') => inner.to_string(),
                        _ => value,
                    };
                    out.push_str(&cidr_range(&value).map_err(|m| QueryError::Syntax { position: vstart, message: m })?);
                } else if name == names::TS {
                    check_time_range(&chars, i)?;
                }
            } else {
                out.push_str(&name);
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// A range on `ts` (`ts:[A TO B]`, `ts:>A`) takes RFC 3339 times; anything else is an error at
/// its place that says so (and what else there is: `--since`, `--until`).
fn check_time_range(chars: &[char], at: usize) -> Result<(), QueryError> {
    let rest: String = chars[at..].iter().collect();
    let body = match rest.chars().next() {
        Some('[' | '{') => rest[1..].split([']', '}']).next().unwrap_or(""),
        Some('>' | '<') => rest.trim_start_matches(['>', '<', '=']).split([' ', ')']).next().unwrap_or(""),
        _ => "",
    };
    for bound in body.split(" TO ").map(str::trim) {
        if bound.is_empty() || bound == "*" {
            continue;
        }
        if OffsetDateTime::parse(bound, &Rfc3339).is_err() {
            let offset = rest.find(bound).unwrap_or(0);
            return Err(QueryError::Syntax {
                position: at + rest[..offset].chars().count(),
                message: format!(
                    "`{bound}` is no time: ts ranges take RFC 3339 times (2026-11-02T08:00:00+07:00); or use --since and --until"
                ),
            });
        }
    }
    Ok(())
}

/// The fields ranges work on, for errors that say so.
fn ranged_fields() -> String {
    let ranged = roles().named(|r| matches!(r, Role::Time | Role::Integer { .. } | Role::Seconds));
    format!("ranges work on {}", ranged.collect::<Vec<_>>().join(", "))
}

/// A character of a field name.
fn is_name(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// `10.20.0.0/16` as `[10.20.0.0 TO 10.20.255.255]`; anything else as it is.
fn cidr_range(value: &str) -> Result<String, String> {
    let Some((addr, len)) = value.split_once('/') else { return Ok(value.to_string()) };
    let addr: IpAddr = addr.parse().map_err(|_| format!("`{value}`: not an address in CIDR notation"))?;
    let len: u32 = len.parse().map_err(|_| format!("`{value}`: the prefix length is not a number"))?;
    let (lo, hi) = match addr {
        IpAddr::V4(a) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let lo = u32::from(a) & mask;
            (IpAddr::from(std::net::Ipv4Addr::from(lo)), IpAddr::from(std::net::Ipv4Addr::from(lo | !mask)))
        }
        IpAddr::V6(a) if len <= 128 => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            let lo = u128::from(a) & mask;
            (IpAddr::from(std::net::Ipv6Addr::from(lo)), IpAddr::from(std::net::Ipv6Addr::from(lo | !mask)))
        }
        _ => return Err(format!("`{value}`: prefix length /{len} is too long")),
    };
    Ok(format!("[{lo} TO {hi}]"))
}

impl Store {
    /// Runs a search over the days its time range touches, newest first.
    pub fn search(&self, s: &Search) -> Result<Hits, QueryError> {
        let query = self.query(s)?;
        let mut hits = Hits { total: 0, records: Vec::new(), next: None };
        let mut last = None;
        // Days are disjoint in time: newest day first gives newest records first.
        for day in self.days_within(s).into_iter().rev() {
            let failed = |source| StoreError::Index { day: day.clone(), source };
            let searcher = self.searcher(&day)?;
            let room = s.limit.saturating_sub(hits.records.len());
            if room == 0 {
                // The page is full: older days only count (no values read per record).
                hits.total += searcher.search(&query, &Count).map_err(failed)? as u64;
                continue;
            }
            let newest = TopDocs::with_limit(room).order_by((
                (SortByStaticFastValue::<DateTime>::for_field(names::TS), Order::Desc),
                (SortByStaticFastValue::<u64>::for_field(super::schema::SEQ), Order::Desc),
            ));
            let (count, top) = searcher.search(&query, &(Count, newest)).map_err(failed)?;
            hits.total += count as u64;
            for ((ts, seq), address) in top {
                let doc: TantivyDocument = searcher.doc(address).map_err(failed)?;
                if let Some(raw) = doc.get_first(self.fields().raw).and_then(|v| v.as_str()) {
                    hits.records.push(serde_json::from_str(raw).unwrap_or(Value::Null));
                }
                last = Some(Cursor { ts: ts.map_or(0, |t| t.into_timestamp_micros()), seq: seq.unwrap_or(0) });
            }
        }
        if s.limit > 0 && hits.records.len() == s.limit && hits.total > s.limit as u64 {
            hits.next = last;
        }
        Ok(hits)
    }

    /// Whether a record of these days has the `extra` field `name` with a searchable value (its
    /// terms start with the name and a NUL, as tantivy writes a JSON path).
    fn has_extra_field(&self, days: &[super::Day], name: &str) -> Result<bool, QueryError> {
        let start: Vec<u8> = name.bytes().chain([0]).collect();
        let end: Vec<u8> = name.bytes().chain([1]).collect();
        for day in days {
            let failed = |e: std::io::Error| StoreError::Index { day: day.clone(), source: e.into() };
            let searcher = self.searcher(day)?;
            for segment in searcher.segment_readers() {
                let index = segment
                    .inverted_index(self.fields().extra)
                    .map_err(|source| StoreError::Index { day: day.clone(), source })?;
                let mut terms = index.terms().range().ge(&start).lt(&end).into_stream().map_err(failed)?;
                if terms.advance() {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The days a search's time range (and cursor) can reach, oldest first.
    pub(super) fn days_within(&self, s: &Search) -> Vec<super::Day> {
        let first = s.since.map(day_of);
        let last = match (s.until, s.after) {
            // `until` is excluded: a range ending at midnight does not reach that day.
            (Some(u), Some(a)) => Some(day_of((u - 1).min(a.ts))),
            (Some(u), None) => Some(day_of(u - 1)),
            (None, Some(a)) => Some(day_of(a.ts)),
            (None, None) => None,
        };
        self.days()
            .into_iter()
            .filter(|d| first.as_ref().is_none_or(|f| d >= f) && last.as_ref().is_none_or(|l| d <= l))
            .collect()
    }

    /// The search as one tantivy query: the analyst's, within the time range. Parsed once for
    /// all days (their indexes share the schema and the default tokenizers).
    pub(super) fn query(&self, s: &Search) -> Result<BooleanQuery, QueryError> {
        let fields = self.fields();
        let mut unknown = Vec::new();
        let text = translate_naming(&s.query, fields, &mut unknown)?;
        // A field no record type declares and no record of these days has is a typo, not an
        // empty answer.
        let days = self.days_within(s);
        for (name, position) in unknown {
            if !self.has_extra_field(&days, &name)? {
                return Err(QueryError::Syntax { position, message: format!("no record has a field `{name}`") });
            }
        }
        let parsed: Box<dyn Query> = if text.trim().is_empty() || text.trim() == "*" {
            Box::new(AllQuery)
        } else {
            let texts = roles()
                .named(|r| matches!(r, Role::Text | Role::Name))
                .filter_map(|n| fields.schema.get_field(n).ok())
                .collect();
            let mut parser = QueryParser::new(fields.schema.clone(), texts, super::schema::tokenizers());
            parser.set_conjunction_by_default();
            parser.allow_regexes();
            let ast = tantivy::query_grammar::parse_query(&text)
                .map_err(|_| QueryError::Invalid(format!("cannot read `{}`", s.query)))?;
            super::leaves::build(ast, &parser, fields)?
        };
        let mut clauses = vec![(Occur::Must, parsed)];
        if let Some(orgs) = &s.orgs {
            let field = fields.schema.get_field(names::ORG).map_err(|e| QueryError::Invalid(e.to_string()))?;
            // Keywords are indexed lower-cased; an empty scope matches nothing.
            let any_of: Vec<(Occur, Box<dyn Query>)> = orgs
                .iter()
                .map(|o| {
                    let term = Term::from_field_text(field, &o.to_lowercase());
                    (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>)
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any_of))));
        }
        if s.since.is_some() || s.until.is_some() {
            let at = |t: i64| Term::from_field_date(fields.ts, DateTime::from_timestamp_micros(t));
            let lower = s.since.map_or(Bound::Unbounded, |t| Bound::Included(at(t)));
            let upper = s.until.map_or(Bound::Unbounded, |t| Bound::Excluded(at(t)));
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        if let Some(c) = s.after {
            // Older than the cursor, or as old and lower in the tie-breaker.
            let at = Term::from_field_date(fields.ts, DateTime::from_timestamp_micros(c.ts));
            let older = RangeQuery::new(Bound::Unbounded, Bound::Excluded(at.clone()));
            let same_time: Vec<(Occur, Box<dyn Query>)> = vec![
                (Occur::Must, Box::new(RangeQuery::new(Bound::Included(at.clone()), Bound::Included(at)))),
                (
                    Occur::Must,
                    Box::new(RangeQuery::new(
                        Bound::Unbounded,
                        Bound::Excluded(Term::from_field_u64(fields.seq, c.seq)),
                    )),
                ),
            ];
            let before: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Should, Box::new(older)), (Occur::Should, Box::new(BooleanQuery::new(same_time)))];
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(before))));
        }
        Ok(BooleanQuery::new(clauses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translation() {
        let f = Fields::new();
        assert_eq!(translate("method:POST AND uri:login", &f).unwrap(), "extra.method:POST AND uri:login");
        assert_eq!(
            translate("id.orig_h:10.20.0.0/16 AND id.resp_p:[1 TO 1024]", &f).unwrap(),
            "id.orig_h:[10.20.0.0 TO 10.20.255.255] AND id.resp_p:[1 TO 1024]"
        );
        assert_eq!(
            translate("id.resp_h:\"2001:db8::/32\"", &f).unwrap(),
            "id.resp_h:[2001:db8:: TO 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]"
        );
        assert_eq!(translate("\"a b:c\" -_type:dns", &f).unwrap(), "\"a b:c\" -_type:dns");
        match translate("id.orig_h:10.0.0.0/40", &f) {
            Err(QueryError::Syntax { position, .. }) => assert_eq!(position, 10),
            other => panic!("{other:?}"),
        }
        match translate("uri:(login AND", &f) {
            Err(QueryError::Syntax { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
