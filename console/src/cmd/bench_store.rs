//! `canh bench events` and `canh bench search`: the event store's figures.
//!
//! - `events --records N --out FILE`: N records as NDJSON, made from the records and alerts of
//!   a generated capture (replayed with the bundled rules), spread over `--days` days: whole
//!   connections drawn at random (a `conn` record with the DNS, HTTP, TLS and file records and
//!   the alerts of the same uid), each given a fresh uid, Community ID, LAN host and port —
//!   what a province's sensors send in a week. `canh ingest -` then measures ingest
//!   (`bench/store.sh`: the file down a pipe, under `taskset` for one core), and the file's
//!   size is the NDJSON side of the disk ratio.
//! - `search --data DIR`: p50 and p95 latency of five analyst queries over that store, each run
//!   with varied values (hosts, words, networks, rules) so that no answer is cached.
//!
//! `bench/store.sh` runs them together.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use canh_analyzer::store::aggregate::{Agg, AggResult};
use canh_analyzer::store::query::Search;
use canh_analyzer::store::{DAY_MICROS, Store};
use canh_traffic::{GenConfig, generate};
use clap::Args;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use super::bench::percentile;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Records to write.
    #[arg(long, default_value_t = 10_000_000)]
    pub records: u64,
    /// Days they span, ending at `--end`.
    #[arg(long, default_value_t = 7)]
    pub days: u64,
    /// End of the span, seconds since the epoch (default: the generated capture's own day,
    /// so that reruns give the same file).
    #[arg(long)]
    pub end: Option<f64>,
    /// Hosts of the agency LAN the records come from.
    #[arg(long, default_value_t = 3_000)]
    pub hosts: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// NDJSON file to write.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SearchBenchArgs {
    /// Runs of each query (each with its own values).
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    /// Records per search page.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[command(flatten)]
    pub data: crate::config::DataArgs,
}

/// Records and alerts of a generated capture, replayed with the bundled rules.
fn templates() -> Result<Vec<Map<String, Value>>> {
    let dir = tempfile::tempdir()?;
    let pcap = dir.path().join("lan.pcap");
    let cfg = GenConfig { seed: 7, target_bytes: 40_000_000, hosts: 60, ..GenConfig::default() };
    generate(&cfg, std::io::BufWriter::new(std::fs::File::create(&pcap)?))?;
    let logs = dir.path().join("logs");
    let args = super::replay::ReplayArgs {
        sensor: "sensor-1".into(),
        org: "so-khcn".into(),
        rules: vec![super::demo::bundled_pack()],
        yara_threads: Some(1),
        ..super::replay::ReplayArgs::of(vec![pcap.display().to_string()], logs.display().to_string())
    };
    canh_sensor::replay::replay(&args.options_with_rules()?.0, &|_| {})?;
    let mut out = Vec::new();
    for name in ["conn.ndjson", "dns.ndjson", "http.ndjson", "ssl.ndjson", "files.ndjson", "alerts.json"] {
        for line in std::fs::read_to_string(logs.join(name))?.lines() {
            if let Ok(Value::Object(m)) = serde_json::from_str(line) {
                out.push(m);
            }
        }
    }
    if out.is_empty() {
        bail!("the generated capture gave no records");
    }
    Ok(out)
}

/// `prefix` and `n` random characters of `alphabet`: uids (`C` + 17 base-62), fuids, and
/// Community IDs (`1:` + 28 base-64) as random as the real ones.
fn random_id(rng: &mut SmallRng, prefix: &str, n: usize, alphabet: &[u8]) -> String {
    let mut s = String::with_capacity(prefix.len() + n);
    s.push_str(prefix);
    s.extend((0..n).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char));
    s
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A record's `ts`, seconds since the epoch.
fn ts_of(r: &Map<String, Value>) -> Option<f64> {
    r.get("ts").and_then(Value::as_f64)
}

/// The template records grouped by the connection they belong to (their uid; an alert goes
/// with the first connection it names), each group in time order: a connection's `conn`
/// record with its DNS, HTTP, TLS and file records and its alerts, as sensors log them.
fn connections(templates: Vec<Map<String, Value>>) -> Vec<Vec<Map<String, Value>>> {
    let uid_of = |r: &Map<String, Value>| {
        r.get("uid").or_else(|| r.get("uids").and_then(|u| u.get(0))).and_then(Value::as_str).map(str::to_owned)
    };
    let mut by_uid: std::collections::BTreeMap<String, Vec<Map<String, Value>>> = Default::default();
    let mut alone = Vec::new();
    for r in templates {
        match uid_of(&r) {
            Some(uid) => by_uid.entry(uid).or_default().push(r),
            None => alone.push(vec![r]),
        }
    }
    let ts = |r: &Map<String, Value>| ts_of(r).unwrap_or(0.0);
    let mut groups: Vec<_> = by_uid.into_values().chain(alone).collect();
    groups.iter_mut().for_each(|g| g.sort_by(|a, b| ts(a).total_cmp(&ts(b))));
    groups
}

pub fn events(args: EventsArgs) -> Result<i32> {
    let templates = templates()?;
    let first_ts = templates.iter().filter_map(ts_of).fold(f64::MAX, f64::min);
    let groups = connections(templates);
    let mean = groups.iter().map(Vec::len).sum::<usize>() as f64 / groups.len() as f64;
    let end = args.end.unwrap_or(first_ts);
    let span = args.days as f64 * 86_400.0;
    let start = end - span;
    let mut rng = SmallRng::seed_from_u64(args.seed);
    let file = std::fs::File::create(&args.out).with_context(|| args.out.display().to_string())?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut bytes = 0u64;
    let step = span / args.records.max(1) as f64;
    let mut written = 0u64;
    while written < args.records {
        // One connection of a LAN host, its records given that connection's fresh identity:
        // the same uid, Community ID, address and port in each.
        let group = &groups[rng.random_range(0..groups.len())];
        let group_start = ts_of(&group[0]).unwrap_or(0.0);
        // Sensors send in about time order: a little jitter, mostly increasing.
        let base = start + written as f64 * step + rng.random_range(0.0..step.max(1e-6));
        // A skewed choice of LAN hosts: a few busy servers and many quiet desks.
        let h = (rng.random_range(0.0f64..1.0).powi(3) * args.hosts as f64) as u32;
        let host = format!("10.10.{}.{}", 1 + h / 250, 1 + h % 250);
        let port = rng.random_range(32768u32..61000);
        let uid = random_id(&mut rng, "C", 17, BASE62);
        // A new 5-tuple: a new Community ID (27 characters and `=`).
        let community = random_id(&mut rng, "1:", 27, BASE64) + "=";
        // Files get fresh ids, and the HTTP records that name them name the new ones.
        let mut fuids = std::collections::HashMap::new();
        for template in group.iter().take((args.records - written) as usize) {
            let mut r = template.clone();
            let offset = ts_of(&r).unwrap_or(group_start) - group_start;
            r.insert("ts".into(), Value::from(((base + offset) * 1e6).round() / 1e6));
            r.insert("community_id".into(), Value::from(community.clone()));
            for key in ["fuid", "resp_fuids", "orig_fuids"] {
                if let Some(v) = r.get_mut(key) {
                    let ids: Vec<&mut Value> = match v {
                        Value::Array(items) => items.iter_mut().collect(),
                        one => vec![one],
                    };
                    for id in ids {
                        if let Some(old) = id.as_str() {
                            let new =
                                fuids.entry(old.to_owned()).or_insert_with(|| random_id(&mut rng, "F", 11, BASE62));
                            *id = Value::from(new.clone());
                        }
                    }
                }
            }
            if r.get("_type").and_then(Value::as_str) == Some("alert") {
                r.insert("uids".into(), Value::from(vec![uid.clone()]));
                let id = format!("A{:016x}", rng.random::<u64>());
                r.insert("id".into(), Value::from(id));
            } else {
                r.insert("uid".into(), Value::from(uid.clone()));
            }
            if r.get("id.orig_h").and_then(Value::as_str).is_some_and(|o| o.starts_with("10.")) {
                r.insert("id.orig_h".into(), Value::from(host.clone()));
            }
            if r.contains_key("id.orig_p") {
                r.insert("id.orig_p".into(), Value::from(port));
            }
            let line = serde_json::to_string(&r)?;
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            bytes += line.len() as u64 + 1;
            written += 1;
        }
    }
    out.flush()?;
    eprintln!(
        "wrote {} records ({} bytes, {:.0} bytes/record) over {} days from {} template connections \
         ({mean:.2} records each) to {}",
        args.records,
        bytes,
        bytes as f64 / args.records.max(1) as f64,
        args.days,
        groups.len(),
        args.out.display()
    );
    Ok(0)
}

/// Runs of each query before those measured.
const WARM_UP: usize = 3;

pub fn search(args: SearchBenchArgs) -> Result<i32> {
    let config = args.data.load()?;
    let store = Store::open(&args.data.data_dir(&config))?;
    let days = store.days();
    let (Some(first), Some(last)) = (days.first(), days.last()) else { bail!("the store is empty") };
    let records: u64 = store.stats()?.iter().map(|d| d.records).sum();
    let start = |day: &str| canh_analyzer::store::day_start(day).with_context(|| format!("day {day}"));
    let (begin, end) = (start(first)?, start(last)? + DAY_MICROS);
    // Values to vary the queries with, drawn from the store itself.
    let values = |field: &str, query: &str| -> Result<Vec<String>> {
        let s = Search { query: query.into(), since: Some(end - DAY_MICROS), until: Some(end), ..Search::default() };
        match store.aggregate(&s, &format!("terms:{field}:200").parse::<Agg>()?)? {
            AggResult::Terms { buckets, .. } => Ok(buckets.into_iter().map(|b| b.0).collect()),
            _ => unreachable!("a terms aggregation"),
        }
    };
    let hosts = values("id.orig_h", "_type:dns")?;
    let rules = values("rule_id", "_type:alert")?;
    let servers = values("id.resp_h", "_type:conn")?;
    if hosts.is_empty() || rules.is_empty() || servers.is_empty() {
        bail!("the store lacks DNS records, alerts or connections to vary the queries with");
    }
    let words = ["login", "admin", "api", "static", "vanban", "upload", "php", "index", "search", "js"];
    let mut rng = SmallRng::seed_from_u64(3);
    println!("store: {records} records in {} days ({first} … {last}); {} runs per query", days.len(), args.runs);
    type Make<'a> = Box<dyn Fn(&mut SmallRng) -> (Search, Option<Agg>) + 'a>;
    let limit = args.limit;
    let queries: Vec<(&str, Make)> = vec![
        (
            "a host's DNS in a day",
            Box::new(|rng: &mut SmallRng| {
                let day = begin + rng.random_range(0..(end - begin) / DAY_MICROS) * DAY_MICROS;
                let host = &hosts[rng.random_range(0..hosts.len())];
                let q = format!("_type:dns AND id.orig_h:{host}");
                (
                    Search {
                        query: q,
                        since: Some(day),
                        until: Some(day + DAY_MICROS),
                        limit,
                        after: None,
                        orgs: None,
                    },
                    None,
                )
            }),
        ),
        (
            "an HTTP URI substring, all days",
            Box::new(|rng: &mut SmallRng| {
                let w = words[rng.random_range(0..words.len())];
                (Search { query: format!("_type:http AND uri:*{w}*"), limit, ..Search::default() }, None)
            }),
        ),
        (
            "a CIDR and a port range, all days",
            Box::new(|rng: &mut SmallRng| {
                let s = &servers[rng.random_range(0..servers.len())];
                let net = s.rsplit_once('.').map_or(s.clone(), |(n, _)| format!("{n}.0/24"));
                let lo = rng.random_range(0..1000u32);
                let q = format!("id.resp_h:{net} AND id.resp_p:[{lo} TO {}]", lo + 1024);
                (Search { query: q, limit, ..Search::default() }, None)
            }),
        ),
        (
            "a rule's alerts over a week",
            Box::new(|rng: &mut SmallRng| {
                let r = &rules[rng.random_range(0..rules.len())];
                let q = format!("_type:alert AND rule_id:\"{r}\"");
                (
                    Search {
                        query: q,
                        since: Some(end - 7 * DAY_MICROS),
                        until: Some(end),
                        limit,
                        after: None,
                        orgs: None,
                    },
                    None,
                )
            }),
        ),
        (
            "terms of id.resp_h over a day's conns",
            Box::new(|rng: &mut SmallRng| {
                let day = begin + rng.random_range(0..(end - begin) / DAY_MICROS) * DAY_MICROS;
                let s = Search {
                    query: "_type:conn".into(),
                    since: Some(day),
                    until: Some(day + DAY_MICROS),
                    limit,
                    after: None,
                    orgs: None,
                };
                (s, Some(Agg::Terms { field: "id.resp_h".into(), size: 10 }))
            }),
        ),
    ];
    for (name, make) in &queries {
        let mut times = Vec::new();
        let mut matched = 0u64;
        // The first runs warm the page cache and the days' readers up; they are not counted
        // (a console keeps both warm).
        for run in 0..WARM_UP + args.runs.max(1) {
            let (s, agg) = make(&mut rng);
            let started = Instant::now();
            let n = match &agg {
                Some(a) => match store.aggregate(&s, a)? {
                    AggResult::Terms { buckets, other } => buckets.iter().map(|b| b.1).sum::<u64>() + other,
                    _ => unreachable!("a terms aggregation"),
                },
                None => store.search(&s)?.total,
            };
            if run >= WARM_UP {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                matched += n;
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "  {name:<40} p50 {:>8.1} ms  p95 {:>8.1} ms  ({} matches on average)",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            matched / args.runs.max(1) as u64
        );
    }
    Ok(0)
}
