//! `canh search 'QUERY'`: records from the event store, newest first, as a table, JSON or CSV;
//! or an aggregation over them (`--agg terms:id.resp_h`).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use anyhow::{Context, Result, bail};
use canh_analyzer::store::Store;
use canh_analyzer::store::aggregate::{Agg, AggResult};
use canh_analyzer::store::query::{Cursor, QueryError, Search};
use clap::Args;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::config::DataArgs;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query: `field:value`, `"phrases"`, wildcards (`uri:*admin*`, `mime_type:image/*`), AND / OR / NOT,
    /// ranges (`id.resp_p:[1 TO 1024]`), CIDR terms (`id.orig_h:10.20.0.0/16`); `*` for all.
    pub query: String,
    /// Start of the time range: an age (`90s`, `30m`, `24h`, `7d`), a date (`2026-11-02`,
    /// midnight in Vietnam), or a time (`2026-11-02T08:00:00+07:00`).
    #[arg(long)]
    pub since: Option<String>,
    /// End of the time range (excluded), in the same forms.
    #[arg(long)]
    pub until: Option<String>,
    /// Records to show.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Continue after a previous page (the cursor it printed).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<String>,
    /// An aggregation instead of records: `terms:FIELD[:N]`, `date_histogram:INTERVAL`
    /// (`1h`, `5m`, `1d`), `cardinality:FIELD`.
    #[arg(long, value_name = "AGG")]
    pub agg: Option<String>,
    /// Print a table (the default).
    #[arg(long, group = "format")]
    pub table: bool,
    /// Print JSON: `{"total", "next", "records"}`, or the aggregation.
    #[arg(long, group = "format")]
    pub json: bool,
    /// Print CSV, one row per record, a column per field.
    #[arg(long, group = "format")]
    pub csv: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Vietnam's time (Asia/Ho_Chi_Minh has kept +07:00 without daylight saving since 1975).
pub fn vietnam() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).expect("valid offset")
}

/// A `--since`/`--until` value as microseconds since the epoch, given the time now.
pub fn parse_time(s: &str, now: OffsetDateTime) -> Result<i64> {
    let micros = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1000) as i64;
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && !unit.is_empty() {
        let n: i64 = digits.parse().context("age too large")?;
        let secs = match unit {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86_400,
            _ => bail!("`{s}`: an age ends in s, m, h or d (`24h`)"),
        };
        return Ok(micros(now) - secs * 1_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(micros(t));
    }
    if let Ok(d) = Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return Ok(micros(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(vietnam())));
    }
    bail!("`{s}`: expected an age (`24h`, `7d`), a date (`2026-11-02`) or a time (`2026-11-02T08:00:00+07:00`)")
}

/// A record's time as Vietnam's local time, to the millisecond.
pub fn local_time(ts: f64) -> String {
    let nanos = (ts * 1e9) as i128;
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else { return ts.to_string() };
    let t = t.to_offset(vietnam());
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
    t.format(format).unwrap_or_else(|_| ts.to_string())
}

pub fn run(args: SearchArgs) -> Result<i32> {
    let config = args.data.load()?;
    let data = args.data.data_dir(&config);
    if !data.join("events").is_dir() {
        bail!("{}: no event store here (fill one with `canh replay --index` or `canh ingest`)", data.display());
    }
    let store = Store::open(&data)?;
    let now = OffsetDateTime::now_utc();
    let search = Search {
        query: args.query.clone(),
        since: args.since.as_deref().map(|s| parse_time(s, now)).transpose().context("--since")?,
        until: args.until.as_deref().map(|s| parse_time(s, now)).transpose().context("--until")?,
        limit: args.limit,
        after: args.after.as_deref().map(str::parse::<Cursor>).transpose()?,
    };
    let out = std::io::stdout();
    let mut out = out.lock();
    if let Some(spec) = &args.agg {
        let agg: Agg = spec.parse()?;
        let result = store.aggregate(&search, &agg).map_err(|e| explain(e, &args.query))?;
        let titles = rule_titles(&store, &agg, &result)?;
        if args.json {
            let mut doc = serde_json::to_value(&result)?;
            if !titles.is_empty() {
                doc["titles"] = json!(titles);
            }
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        } else if args.csv {
            write_agg_csv(&mut out, &result, &titles)?;
        } else {
            write!(out, "{}", render_agg(&result, &titles))?;
        }
        return Ok(0);
    }
    let hits = store.search(&search).map_err(|e| explain(e, &args.query))?;
    if args.json {
        let doc = json!({"total": hits.total, "next": hits.next.map(|c| c.to_string()), "records": hits.records});
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else if args.csv {
        write_csv(&mut out, &hits.records)?;
    } else {
        write!(out, "{}", render_table(&hits.records))?;
        let shown = hits.records.len();
        let mut footer = format!("{shown} of {} matching records", hits.total);
        if let Some(next) = hits.next {
            footer.push_str(&format!("; next page: --after {next}"));
        }
        // The footer is for the reader, not for a pipe.
        if std::io::stdout().is_terminal() {
            writeln!(out, "{footer}")?;
        } else {
            eprintln!("{footer}");
        }
    }
    Ok(0)
}

/// A query error with the query underlined at its place.
fn explain(e: QueryError, query: &str) -> anyhow::Error {
    match e {
        QueryError::Syntax { position, message } => {
            anyhow::anyhow!("query, at character {position}: {message}\n  {query}\n  {}^", " ".repeat(position))
        }
        other => other.into(),
    }
}

/// What a record is about, in a few words.
fn summary(r: &Value) -> String {
    let s = |k: &str| r.get(k).and_then(Value::as_str);
    match s("_type").unwrap_or("") {
        "dns" => format!(
            "{} {} {}",
            s("qtype_name").unwrap_or("-"),
            s("query").unwrap_or("-"),
            s("rcode_name").unwrap_or("")
        ),
        "http" => format!(
            "{} {}{} {}",
            s("method").unwrap_or("-"),
            s("host").unwrap_or(""),
            s("uri").unwrap_or(""),
            r.get("status_code").map_or(String::new(), |c| c.to_string())
        ),
        "ssl" => format!("{} {}", s("server_name").unwrap_or("-"), s("version").unwrap_or("")),
        "files" => {
            format!("{} {} {}", s("filename").unwrap_or("-"), s("mime_type").unwrap_or(""), s("sha256").unwrap_or(""))
        }
        "conn" => format!(
            "{} {} {} {}B/{}B",
            s("proto").unwrap_or(""),
            s("service").unwrap_or("-"),
            s("conn_state").unwrap_or(""),
            r.get("orig_bytes").unwrap_or(&Value::Null),
            r.get("resp_bytes").unwrap_or(&Value::Null)
        ),
        "alert" => {
            let uids: Vec<&str> =
                r.get("uids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            format!(
                "[{}] {} ({}) uid {}",
                s("severity").unwrap_or(""),
                s("title").unwrap_or(""),
                s("rule_id").unwrap_or(""),
                if uids.is_empty() { "-".to_string() } else { uids.join(",") }
            )
        }
        _ => s("message").map(str::to_string).unwrap_or_else(|| r.to_string()),
    }
}

fn endpoint(r: &Value, host: &str, port: &str) -> String {
    match (r.get(host).and_then(Value::as_str), r.get(port)) {
        (Some(h), Some(Value::Number(p))) if h.contains(':') => format!("[{h}]:{p}"),
        (Some(h), Some(Value::Number(p))) => format!("{h}:{p}"),
        (Some(h), _) => h.to_string(),
        _ => String::new(),
    }
}

pub fn render_table(records: &[Value]) -> String {
    let rows: Vec<[String; 5]> = records
        .iter()
        .map(|r| {
            let (src, dst) = (endpoint(r, "id.orig_h", "id.orig_p"), endpoint(r, "id.resp_h", "id.resp_p"));
            [
                r.get("ts").and_then(Value::as_f64).map(local_time).unwrap_or_default(),
                r["_type"].as_str().unwrap_or("").to_string(),
                src,
                dst,
                summary(r),
            ]
        })
        .collect();
    let header = ["time (+07:00)", "type", "from", "to", "what"];
    let mut widths: [usize; 5] = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 4 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}

/// CSV with a column per field the records have: the common ones first, the rest by name.
pub fn write_csv(out: &mut impl Write, records: &[Value]) -> Result<()> {
    const FIRST: [&str; 8] = ["ts", "_type", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"];
    let mut rest: Vec<&str> = records
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().map(String::as_str))
        .filter(|k| !FIRST.contains(k))
        .collect();
    rest.sort_unstable();
    rest.dedup();
    let columns: Vec<&str> =
        FIRST.iter().copied().filter(|c| records.iter().any(|r| r.get(c).is_some())).chain(rest).collect();
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&columns)?;
    for r in records {
        w.write_record(columns.iter().map(|c| {
            match r.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                Some(v) => v.to_string(),
            }
        }))?;
    }
    w.flush()?;
    Ok(())
}

/// The rules' titles beside their ids, for a terms aggregation on `rule_id` (an id alone tells
/// an analyst little): each read from one of the rule's alerts.
fn rule_titles(store: &Store, agg: &Agg, result: &AggResult) -> Result<BTreeMap<String, String>> {
    let mut titles = BTreeMap::new();
    let (Agg::Terms { field, .. }, AggResult::Terms { buckets, .. }) = (agg, result) else { return Ok(titles) };
    if field != "rule_id" {
        return Ok(titles);
    }
    for (id, _) in buckets {
        let query = format!("_type:alert AND rule_id:\"{}\"", id.replace('\\', "\\\\").replace('"', "\\\""));
        let hit = store.search(&Search { query, limit: 1, ..Search::default() })?;
        if let Some(title) = hit.records.first().and_then(|r| r.get("title")).and_then(Value::as_str) {
            titles.insert(id.clone(), title.to_string());
        }
    }
    Ok(titles)
}

pub fn render_agg(result: &AggResult, titles: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    match result {
        AggResult::Terms { buckets, other } => {
            let width = buckets.iter().map(|b| b.0.chars().count()).max().unwrap_or(5).max(5);
            for (key, n) in buckets {
                match titles.get(key) {
                    Some(title) => out.push_str(&format!("{key:<width$}  {n:>10}  {title}\n")),
                    None => out.push_str(&format!("{key:<width$}  {n:>10}\n")),
                }
            }
            if *other > 0 {
                out.push_str(&format!("{:<width$}  {other:>10}\n", "(other)"));
            }
        }
        AggResult::DateHistogram { buckets } => {
            let peak = buckets.iter().map(|b| b.1).max().unwrap_or(1).max(1);
            for (start, n) in buckets {
                let bar = "█".repeat(((*n as f64 / peak as f64) * 40.0).ceil() as usize);
                out.push_str(&format!("{}  {n:>10}  {bar}\n", local_time(*start as f64 / 1e6)));
            }
        }
        AggResult::Cardinality { value } => out.push_str(&format!("{value}\n")),
    }
    out
}

fn write_agg_csv(out: &mut impl Write, result: &AggResult, titles: &BTreeMap<String, String>) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    match result {
        AggResult::Terms { buckets, .. } if !titles.is_empty() => {
            w.write_record(["value", "count", "title"])?;
            for (k, n) in buckets {
                w.write_record([k.clone(), n.to_string(), titles.get(k).cloned().unwrap_or_default()])?;
            }
        }
        AggResult::Terms { buckets, .. } => {
            w.write_record(["value", "count"])?;
            for (k, n) in buckets {
                w.write_record([k.clone(), n.to_string()])?;
            }
        }
        AggResult::DateHistogram { buckets } => {
            w.write_record(["start", "count"])?;
            for (t, n) in buckets {
                w.write_record([local_time(*t as f64 / 1e6), n.to_string()])?;
            }
        }
        AggResult::Cardinality { value } => {
            w.write_record(["distinct"])?;
            w.write_record([value.to_string()])?;
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_on_the_command_line() {
        let now = OffsetDateTime::from_unix_timestamp(1_793_581_200).unwrap();
        let at = |s: &str| parse_time(s, now).unwrap();
        assert_eq!(at("24h"), (1_793_581_200 - 86_400) * 1_000_000);
        assert_eq!(at("7d"), (1_793_581_200 - 7 * 86_400) * 1_000_000);
        assert_eq!(at("2026-11-02T08:00:00+07:00"), 1_793_581_200 * 1_000_000);
        // A date is midnight in Vietnam: 17:00 UTC the day before.
        assert_eq!(at("2026-11-02"), at("2026-11-01T17:00:00Z"));
        assert!(parse_time("yesterday", now).is_err() && parse_time("3w", now).is_err());
        assert_eq!(local_time(1_793_581_200.5), "2026-11-02 08:00:00.500");
    }
}
