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
use time::OffsetDateTime;

use crate::config::DataArgs;
use crate::escape;
use crate::when::{local_time, parse_time};

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
    /// Records to show: a number (1 to 100000), or `all` for every match (written as they are
    /// read, in pages). Output cut by a limit says so and gives the cursor of the rest.
    /// [default: 50]
    #[arg(long, value_name = "N|all")]
    pub limit: Option<Limit>,
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

/// How many records a search writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Records(usize),
    All,
}

impl Limit {
    /// Records shown when no limit is given: a screenful.
    pub const DEFAULT: Limit = Limit::Records(50);
    /// The most records one search may ask for at once (all of them are held to be sorted
    /// and written); more are read with `all`, in pages.
    pub const MAX: usize = 100_000;
    /// Records per page of `all`.
    pub const PAGE: usize = 10_000;
}

impl std::str::FromStr for Limit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "all" {
            return Ok(Limit::All);
        }
        match s.parse::<usize>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Limit::Records(n)),
            _ => Err(format!("`{s}`: a number of records from 1 to {}, or `all`", Self::MAX)),
        }
    }
}

pub fn run(args: SearchArgs) -> Result<i32> {
    let config = args.data.load()?;
    let data = args.data.data_dir(&config);
    if !data.join("events").is_dir() {
        bail!("{}: no event store here (fill one with `canh replay --index` or `canh ingest`)", data.display());
    }
    let store = Store::open(&data)?;
    let now = OffsetDateTime::now_utc();
    if args.agg.is_some() && (args.limit.is_some() || args.after.is_some()) {
        bail!("--agg counts every match; --limit and --after page through records, and do not go with it");
    }
    let limit = args.limit.unwrap_or(Limit::DEFAULT);
    let mut search = Search {
        query: args.query.clone(),
        since: args.since.as_deref().map(|s| parse_time(s, now)).transpose().context("--since")?,
        until: args.until.as_deref().map(|s| parse_time(s, now)).transpose().context("--until")?,
        limit: match limit {
            Limit::Records(n) => n,
            Limit::All => Limit::PAGE,
        },
        after: args.after.as_deref().map(str::parse::<Cursor>).transpose()?,
        // The command line reads the whole store: whoever runs it holds the data directory.
        orgs: None,
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
    let format = if args.json {
        Format::Json
    } else if args.csv {
        Format::Csv
    } else {
        Format::Table { width: std::io::stdout().is_terminal().then(terminal_width).flatten() }
    };
    let mut writer = RecordWriter::new(format, limit == Limit::All);
    let (mut written, mut total) = (0u64, None);
    let next = loop {
        let hits = store.search(&search).map_err(|e| explain(e, &args.query))?;
        // The first page counts every match; the later ones count what is left.
        let all = *total.get_or_insert(hits.total);
        writer.page(&mut out, &hits.records, all)?;
        written += hits.records.len() as u64;
        match (limit, hits.next) {
            (Limit::All, Some(cursor)) => search.after = Some(cursor),
            (_, next) => break next,
        }
    };
    writer.end(&mut out, next)?;
    let total = total.unwrap_or(0);
    // What was left out, for the reader (on the terminal after a table, else on stderr so that
    // a pipe gets the data alone).
    let mut footer = format!("{written} of {total} matching records");
    if let Some(next) = next {
        footer.push_str(&format!("; the rest (or --limit all): --after {next}"));
    }
    if matches!(format, Format::Table { .. }) && std::io::stdout().is_terminal() {
        writeln!(out, "{footer}")?;
    } else if next.is_some() || matches!(format, Format::Table { .. }) {
        eprintln!("{footer}");
    }
    Ok(0)
}

/// The width of the terminal on standard output, if it is one.
fn terminal_width() -> Option<usize> {
    console::Term::stdout().size_checked().map(|(_, cols)| usize::from(cols)).filter(|w| *w > 20)
}

#[derive(Debug, Clone, Copy)]
enum Format {
    /// A table, cut to `width` columns when it goes to a terminal.
    Table {
        width: Option<usize>,
    },
    Json,
    Csv,
}

/// Writes the pages of a search as they come, in one format.
struct RecordWriter {
    format: Format,
    /// More than one page may come (`--limit all`).
    paged: bool,
    pages: usize,
    records: u64,
    /// The CSV columns, fixed by the first page.
    columns: Vec<String>,
}

impl RecordWriter {
    fn new(format: Format, paged: bool) -> Self {
        Self { format, paged, pages: 0, records: 0, columns: Vec::new() }
    }

    fn page(&mut self, out: &mut impl Write, records: &[Value], total: u64) -> Result<()> {
        match self.format {
            Format::Table { width } => write!(out, "{}", render_table(records, width, self.pages == 0))?,
            Format::Csv => {
                if self.pages == 0 {
                    self.columns = csv_columns(records, self.paged);
                }
                write_csv(out, records, &self.columns, self.pages == 0)?
            }
            Format::Json => {
                // `{"total", "next", "records"}`, the records streamed between.
                if self.pages == 0 {
                    write!(out, "{{\n  \"total\": {total},\n  \"records\": [")?;
                }
                for r in records {
                    out.write_all(if self.records == 0 { b"\n    " } else { b",\n    " })?;
                    serde_json::to_writer(&mut *out, r)?;
                    self.records += 1;
                }
            }
        }
        self.pages += 1;
        Ok(())
    }

    fn end(&mut self, out: &mut impl Write, next: Option<Cursor>) -> Result<()> {
        if let Format::Json = self.format {
            let next = next.map_or_else(|| "null".to_string(), |c| format!("\"{c}\""));
            let close = if self.records == 0 { "]" } else { "\n  ]" };
            writeln!(out, "{close},\n  \"next\": {next}\n}}")?;
        }
        out.flush()?;
        Ok(())
    }
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
pub(crate) fn summary(r: &Value) -> String {
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

pub(crate) fn endpoint(r: &Value, host: &str, port: &str) -> String {
    match (r.get(host).and_then(Value::as_str), r.get(port)) {
        (Some(h), Some(Value::Number(p))) if h.contains(':') => format!("[{h}]:{p}"),
        (Some(h), Some(Value::Number(p))) => format!("{h}:{p}"),
        (Some(h), _) => h.to_string(),
        _ => String::new(),
    }
}

/// Records as a table: time, type, endpoints, a summary. Every cell is escaped for the
/// terminal ([`escape::terminal`]); with a `width`, each line is cut to it.
pub fn render_table(records: &[Value], width: Option<usize>, header: bool) -> String {
    let rows: Vec<[String; 5]> = records
        .iter()
        .map(|r| {
            [
                r.get("ts").and_then(Value::as_f64).map(local_time).unwrap_or_default(),
                r["_type"].as_str().unwrap_or("").to_string(),
                endpoint(r, "id.orig_h", "id.orig_p"),
                endpoint(r, "id.resp_h", "id.resp_p"),
                summary(r),
            ]
            .map(|cell| escape::terminal(&cell).into_owned())
        })
        .collect();
    let titles = ["time (+07:00)", "type", "from", "to", "what"];
    let mut widths: [usize; 5] = titles.map(|h| h.chars().count());
    // The time and type columns have fixed widths, so pages of one search line up.
    widths[0] = widths[0].max(23);
    widths[1] = widths[1].max(6);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(console::measure_text_width(cell));
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 4 {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i].saturating_sub(console::measure_text_width(c)) + 2));
            }
        }
        let s = s.trim_end();
        match width {
            Some(w) => escape::fit(s, w).into_owned() + "\n",
            None => s.to_string() + "\n",
        }
    };
    let mut out = if header { line(titles) } else { String::new() };
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}

/// The CSV columns of a search: the common fields first, then every other field the first
/// page's records have, by name; with `other`, a last column `_other` holds (as JSON) the fields
/// of later pages' records that no column names, so that nothing is dropped.
pub(crate) fn csv_columns(records: &[Value], other: bool) -> Vec<String> {
    const FIRST: [&str; 8] = ["ts", "_type", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"];
    let mut rest: Vec<&str> = records
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().map(String::as_str))
        .filter(|k| !FIRST.contains(k))
        .collect();
    rest.sort_unstable();
    rest.dedup();
    let first = FIRST.iter().copied().filter(|c| records.iter().any(|r| r.get(c).is_some()));
    first.chain(rest).chain(other.then_some(OTHER_COLUMN)).map(str::to_string).collect()
}

const OTHER_COLUMN: &str = "_other";

/// Records as CSV rows under `columns` (the header first when `header`). Text that a
/// spreadsheet would run as a formula is neutralised ([`escape::spreadsheet_cell`]).
pub(crate) fn write_csv(out: &mut impl Write, records: &[Value], columns: &[String], header: bool) -> Result<()> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    if header {
        w.write_record(columns)?;
    }
    let text = |v: &Value| match v {
        Value::String(s) => escape::spreadsheet_cell(s).into_owned(),
        Value::Array(items) => {
            let joined: Vec<String> =
                items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string)).collect();
            escape::spreadsheet_cell(&joined.join(",")).into_owned()
        }
        Value::Null => String::new(),
        other => other.to_string(),
    };
    for r in records {
        w.write_record(columns.iter().map(|c| {
            if c == OTHER_COLUMN {
                let others: serde_json::Map<String, Value> = r
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| !columns.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                return if others.is_empty() {
                    String::new()
                } else {
                    escape::spreadsheet_cell(&Value::Object(others).to_string()).into_owned()
                };
            }
            r.get(c.as_str()).map(text).unwrap_or_default()
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
            // Keys are record values: escaped for the terminal, padded by their display width.
            let keys: Vec<String> = buckets.iter().map(|b| escape::terminal(&b.0).into_owned()).collect();
            let width = keys.iter().map(|k| console::measure_text_width(k)).max().unwrap_or(5).max(7);
            for ((key, n), shown) in buckets.iter().zip(&keys) {
                let pad = " ".repeat(width - console::measure_text_width(shown));
                match titles.get(key) {
                    Some(title) => out.push_str(&format!("{shown}{pad}  {n:>10}  {}\n", escape::terminal(title))),
                    None => out.push_str(&format!("{shown}{pad}  {n:>10}\n")),
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
                let title = titles.get(k).map_or(String::new(), |t| escape::spreadsheet_cell(t).into_owned());
                w.write_record([escape::spreadsheet_cell(k).into_owned(), n.to_string(), title])?;
            }
        }
        AggResult::Terms { buckets, .. } => {
            w.write_record(["value", "count"])?;
            for (k, n) in buckets {
                w.write_record([escape::spreadsheet_cell(k).into_owned(), n.to_string()])?;
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
    fn tables_fit_the_terminal() {
        let r = json!({"ts": 1_793_581_200.0, "_type": "http", "id.orig_h": "10.0.0.1", "id.orig_p": 1,
            "id.resp_h": "10.0.0.2", "id.resp_p": 80, "method": "GET", "uri": format!("/{}", "a".repeat(500))});
        let table = render_table(&[r], Some(80), true);
        assert!(table.lines().all(|l| console::measure_text_width(l) <= 80), "{table}");
        assert!(table.lines().nth(1).unwrap().ends_with('…'));
    }

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
        // What the table prints is taken back.
        assert_eq!(at(&local_time(1_793_581_200.5)), 1_793_581_200_500_000);
        assert_eq!(at("2026-11-02 08:00"), 1_793_581_200 * 1_000_000);
        // Ages that would overflow are refused, not wrapped.
        for huge in ["99999999999999999d", "9223372036854775807s", "40000d"] {
            assert!(parse_time(huge, now).unwrap_err().to_string().contains("at most a hundred years"), "{huge}");
        }
    }
}
