//! The event store on the records of a generated capture: every record kept and found, the
//! query language's own fields, `extra` fields, CIDR terms and port ranges, newest first, and a
//! second ingest of the same capture adding nothing.

mod common;

use canh_analyzer::store::Store;
use std::collections::{HashMap, HashSet};

use canh_analyzer::store::aggregate::{Agg, AggResult};
use canh_analyzer::store::query::{QueryError, Search};
use canh_analyzer::store::writer::{CommitPolicy, StoreWriter};
use canh_sensor::engine::EngineConfig;
use canh_traffic::{GenConfig, generate};
use serde_json::Value;

fn records() -> Vec<Value> {
    let file = tempfile::NamedTempFile::new().unwrap();
    generate(&GenConfig { seed: 5, target_bytes: 6_000_000, hosts: 20, ..GenConfig::default() }, file.as_file())
        .unwrap();
    let replayed = common::replay_file(file.path(), EngineConfig::default());
    replayed.records.iter().map(|r| serde_json::to_value(r).unwrap()).collect()
}

fn ingest(store: &Store, records: &[Value]) {
    let mut w = StoreWriter::new(store, CommitPolicy { records: 500, interval: std::time::Duration::from_secs(60) });
    let mut acknowledged = 0;
    for r in records {
        acknowledged = w.add_line(&r.to_string()).unwrap();
    }
    // Commits every 500: what the last batch holds waits for the next commit, unacknowledged.
    let tail = records.len() as u64 % 500;
    assert_eq!((acknowledged, w.pending()), (records.len() as u64 - tail, tail));
    assert_eq!(w.commit().unwrap(), records.len() as u64, "every record acknowledged after the last commit");
}

fn count(store: &Store, query: &str) -> u64 {
    store.search(&Search { query: query.into(), limit: 10, ..Search::default() }).unwrap().total
}

#[test]
fn records_are_found_by_field_cidr_range_and_text() {
    let records = records();
    assert!(records.len() > 500, "{}", records.len());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ingest(&store, &records);
    let n = records.len() as u64;
    let matching = |f: &dyn Fn(&Value) -> bool| records.iter().filter(|r| f(r)).count() as u64;
    assert_eq!(count(&store, "*"), n);
    assert_eq!(count(&store, "_type:dns"), matching(&|r| r["_type"] == "dns"));
    let in_lan = |ip: &Value| ip.as_str().is_some_and(|s| s.starts_with("10.10."));
    let lan = matching(&|r| in_lan(&r["id.orig_h"]));
    assert!(lan > 0 && lan < n);
    assert_eq!(count(&store, "id.orig_h:10.10.0.0/16"), lan);
    let low = matching(&|r| r["id.resp_p"].as_u64().is_some_and(|p| (1..=1023).contains(&p)));
    assert_eq!(count(&store, "id.resp_p:[1 TO 1023]"), low);
    assert_eq!(
        count(&store, "id.orig_h:10.10.0.0/16 AND id.resp_p:[1 TO 1023]"),
        matching(&|r| in_lan(&r["id.orig_h"]) && r["id.resp_p"].as_u64().is_some_and(|p| (1..=1023).contains(&p)))
    );
    // The client's port has no term index: its values and ranges are read from its column.
    let port = |r: &Value| r["id.orig_p"].as_u64();
    let (a, b) = (port(&records[0]).unwrap(), port(&records[records.len() / 2]).unwrap());
    assert_eq!(count(&store, &format!("id.orig_p:{a}")), matching(&|r| port(r) == Some(a)));
    assert_eq!(count(&store, &format!("id.orig_p:\"{a}\"")), matching(&|r| port(r) == Some(a)));
    assert_eq!(
        count(&store, &format!("id.orig_p:({a} OR {b})")),
        matching(&|r| port(r) == Some(a) || port(r) == Some(b))
    );
    assert_eq!(
        count(&store, "id.orig_h:10.10.0.0/16 AND id.orig_p:[40000 TO 50000]"),
        matching(&|r| in_lan(&r["id.orig_h"]) && port(r).is_some_and(|p| (40000..=50000).contains(&p)))
    );
    // A field outside the schema's own is found in `extra`.
    let posts = matching(&|r| r["method"] == "POST");
    assert!(posts > 0);
    assert_eq!(count(&store, "method:POST"), posts);
    // Words of a text field.
    let motcua = matching(&|r| r["host"].as_str().is_some_and(|h| h.contains("motcua")));
    assert!(motcua > 0);
    assert_eq!(count(&store, "_type:http AND host:motcua"), motcua);
    // Wildcards: a word of a text field, a whole name (across its labels), a whole keyword and
    // a whole `extra` value — case ignored in every one — and under NOT.
    let words = |s: &str| s.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect::<Vec<_>>();
    let admin_words = matching(&|r| r["uri"].as_str().is_some_and(|u| words(u).iter().any(|w| w.starts_with("admi"))));
    assert!(admin_words > 0);
    assert_eq!(count(&store, "uri:ADMI*"), admin_words);
    let motcua_hosts = matching(&|r| r["host"].as_str().is_some_and(|h| h.to_lowercase().starts_with("motc")));
    assert!(motcua_hosts > 0);
    assert_eq!(count(&store, "host:motc*"), motcua_hosts);
    assert_eq!(count(&store, "host:*OTCUA.tinh.gov.?n"), motcua_hosts);
    let uid_x =
        matching(&|r| r["uid"].as_str().is_some_and(|u| u.get(2..3).is_some_and(|c| c.eq_ignore_ascii_case("x"))));
    assert!(uid_x > 0);
    assert_eq!(count(&store, "uid:C?x*"), uid_x);
    assert_eq!(count(&store, "uid:c?X*"), uid_x);
    let app = matching(&|r| r["mime_type"].as_str().is_some_and(|m| m.starts_with("application/")));
    assert!(app > 0);
    assert_eq!(count(&store, "mime_type:APPLICATION/*"), app);
    assert_eq!(
        count(&store, "_type:files AND NOT mime_type:application/*"),
        matching(&|r| r["_type"] == "files") - app
    );
    assert_eq!(count(&store, "method:p?st"), posts);
    // Ranges on the measures; none on other `extra` fields, said at the place.
    let long = matching(&|r| r["duration"].as_f64().is_some_and(|d| d > 0.05));
    assert!(long > 0);
    assert_eq!(count(&store, "duration:>0.05"), long);
    let big = matching(&|r| r["resp_bytes"].as_u64().is_some_and(|b| (1000..=100_000).contains(&b)));
    assert!(big > 0);
    assert_eq!(count(&store, "resp_bytes:[1000 TO 100000]"), big);
    match store.search(&Search { query: "_type:http AND status_code:>400".into(), limit: 1, ..Search::default() }) {
        Err(QueryError::Syntax { position, message }) => {
            assert_eq!((position, message.contains("status_code")), (27, true), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // A fraction (a round-trip time) is kept in the record, not indexed: said at its name.
    match store.search(&Search { query: "_type:dns AND rtt:>0.1".into(), limit: 1, ..Search::default() }) {
        Err(QueryError::Syntax { position, message }) => {
            assert_eq!((position, message.contains("`rtt` is a fraction")), (14, true), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // Integers of `extra` are found by value; measurements (sizes, counts) are not indexed,
    // and naming one says so at its place.
    let ok = matching(&|r| r["status_code"] == 200);
    assert!(ok > 0);
    assert_eq!(count(&store, "status_code:200"), ok);
    let first_requests = matching(&|r| r["trans_depth"] == 1);
    assert!(first_requests > 0);
    assert_eq!(count(&store, "trans_depth:1"), first_requests);
    match store.search(&Search { query: "_type:conn AND orig_ip_bytes:60".into(), limit: 1, ..Search::default() }) {
        Err(QueryError::Syntax { position, message }) => {
            assert_eq!((position, message.contains("`orig_ip_bytes` is a measurement")), (15, true), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // Nor DNS header fields, nor codes named beside them: the error says what to search.
    let nxdomain = matching(&|r| r["rcode_name"] == "NXDOMAIN");
    assert!(nxdomain > 0);
    assert_eq!(count(&store, "rcode_name:NXDOMAIN"), nxdomain);
    for (query, position, says) in [("_type:dns AND rcode:3", 14, "search `rcode_name`"), ("RD:true", 0, "DNS header")]
    {
        match store.search(&Search { query: query.into(), limit: 1, ..Search::default() }) {
            Err(QueryError::Syntax { position: p, message }) => {
                assert_eq!((p, message.contains(says)), (position, true), "{query}: {message}")
            }
            other => panic!("{query}: {other:?}"),
        }
    }
    // Newest first, the limit kept, the count exact.
    let hits = store.search(&Search { query: "_type:conn".into(), limit: 25, ..Search::default() }).unwrap();
    assert_eq!(hits.records.len(), 25);
    assert_eq!(hits.total, matching(&|r| r["_type"] == "conn"));
    let ts: Vec<f64> = hits.records.iter().map(|r| r["ts"].as_f64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "{ts:?}");
    // A time range.
    let mid = ts[12];
    let since = (mid * 1e6) as i64;
    let later = matching(&|r| r["ts"].as_f64().is_some_and(|t| (t * 1e6).round() as i64 >= since));
    assert_eq!(
        store.search(&Search { query: "*".into(), since: Some(since), limit: 1, ..Search::default() }).unwrap().total,
        later
    );
    // The same capture again: kept once, not added.
    ingest(&store, &records);
    assert_eq!(count(&store, "*"), n);
    let mut again = StoreWriter::new(&store, CommitPolicy::default());
    records.iter().take(100).for_each(|r| _ = again.add_line(&r.to_string()).unwrap());
    assert_eq!((again.commit().unwrap(), again.duplicates()), (100, 100), "taken and acknowledged, not written");
    assert_eq!(count(&store, "*"), n);
    let stats = store.stats().unwrap();
    assert_eq!(stats.iter().map(|d| d.records).sum::<u64>(), n);
    // A malformed query points at its place.
    match store.search(&Search { query: "_type:dns AND (uri:login".into(), limit: 1, ..Search::default() }) {
        Err(QueryError::Syntax { position, .. }) => assert!(position > 0),
        other => panic!("{other:?}"),
    }
}

/// Pages of a search, by cursor, until the last.
fn all_pages(store: &Store, query: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut s = Search { query: query.into(), limit, ..Search::default() };
    loop {
        let hits = store.search(&s).unwrap();
        out.extend(hits.records);
        match hits.next {
            Some(c) => s.after = Some(c),
            None => return out,
        }
    }
}

#[test]
fn pages_aggregations_and_ipv6() {
    let mut records = records();
    // Records the capture does not have: IPv6 endpoints, and identical times (ties).
    let t = records[0]["ts"].as_f64().unwrap();
    for (i, h) in ["2001:db8::10", "2001:db8:1::20", "2001:dc8::30"].iter().enumerate() {
        for k in 0..3 {
            records.push(serde_json::json!({"ts": t, "_type": "conn", "uid": format!("V6{i}{k}"),
                "id.orig_h": "fe80::1", "id.orig_p": 40000 + k, "id.resp_h": h, "id.resp_p": 443}));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ingest(&store, &records);
    let matching = |f: &dyn Fn(&Value) -> bool| records.iter().filter(|r| f(r)).cloned().collect::<Vec<_>>();

    assert_eq!(count(&store, "id.resp_h:\"2001:db8::/32\""), 6);
    assert_eq!(count(&store, "id.resp_h:\"2001:db8::/48\""), 3);
    assert_eq!(count(&store, "id.resp_h:\"2001:db8::10\""), 3);

    // Paging by cursor returns every match once, newest first, ties included.
    let conns = matching(&|r| r["_type"] == "conn");
    let paged = all_pages(&store, "_type:conn", 37);
    assert_eq!(paged.len(), conns.len());
    let uids: HashSet<String> = paged.iter().map(|r| format!("{}{}", r["uid"], r["ts"])).collect();
    assert_eq!(uids.len(), conns.len(), "no record twice");
    let ts: Vec<f64> = paged.iter().map(|r| r["ts"].as_f64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]));
    // Records arriving between two pages change nothing of what is left to page through.
    let mut s = Search { query: "_type:conn".into(), limit: 50, ..Search::default() };
    let first = store.search(&s).unwrap();
    let later: Vec<Value> = conns
        .iter()
        .take(20)
        .map(|r| {
            let mut r = r.clone();
            r["ts"] = (r["ts"].as_f64().unwrap() + 0.5).into();
            r["uid"] = format!("late-{}", r["uid"].as_str().unwrap()).into();
            r
        })
        .collect();
    ingest(&store, &later);
    s.after = first.next;
    let mut rest = first.records.clone();
    loop {
        let hits = store.search(&s).unwrap();
        rest.extend(hits.records);
        match hits.next {
            Some(c) => s.after = Some(c),
            None => break,
        }
    }
    let seen: Vec<String> = rest.iter().map(|r| format!("{}{}", r["uid"], r["ts"])).collect();
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len());
    let late_seen = rest.iter().filter(|r| r["uid"].as_str().unwrap().starts_with("late-")).count();
    // Only late records newer than the first page's end would be skipped; none older repeat.
    assert_eq!(rest.len() - late_seen, conns.len());
    let cursor = first.next.unwrap();
    assert!("nonsense".parse::<canh_analyzer::store::query::Cursor>().is_err());
    assert_eq!(cursor.to_string().parse::<canh_analyzer::store::query::Cursor>().unwrap(), cursor);

    // Aggregations agree with counting the records by hand.
    let all: Vec<Value> = records.iter().chain(&later).cloned().collect();
    let search = |q: &str| Search { query: q.into(), ..Search::default() };
    let mut by_type: HashMap<String, u64> = HashMap::new();
    for r in &all {
        *by_type.entry(r["_type"].as_str().unwrap().to_string()).or_default() += 1;
    }
    match store.aggregate(&search("*"), &"terms:_type".parse::<Agg>().unwrap()).unwrap() {
        AggResult::Terms { buckets, other } => {
            assert_eq!(other, 0);
            assert_eq!(buckets.into_iter().collect::<HashMap<_, _>>(), by_type);
        }
        other => panic!("{other:?}"),
    }
    let mut by_server: HashMap<String, u64> = HashMap::new();
    for r in all.iter().filter(|r| r["_type"] == "dns") {
        *by_server.entry(r["id.resp_h"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let mut expected: Vec<(String, u64)> = by_server.into_iter().collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    match store.aggregate(&search("_type:dns"), &"terms:id.resp_h:2".parse::<Agg>().unwrap()).unwrap() {
        AggResult::Terms { buckets, other } => {
            assert_eq!(buckets.len(), expected.len().min(2));
            assert_eq!(buckets[0], expected[0]);
            let total: u64 = expected.iter().map(|e| e.1).sum();
            assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>() + other, total);
        }
        other => panic!("{other:?}"),
    }
    let hosts: HashSet<&str> = all.iter().filter_map(|r| r["id.orig_h"].as_str()).collect();
    match store.aggregate(&search("*"), &"cardinality:id.orig_h".parse::<Agg>().unwrap()).unwrap() {
        AggResult::Cardinality { value } => {
            assert!(
                value.abs_diff(hosts.len() as u64) as f64 <= hosts.len() as f64 * 0.02,
                "{value} vs {}",
                hosts.len()
            )
        }
        other => panic!("{other:?}"),
    }
    match store.aggregate(&search("*"), &"date_histogram:1m".parse::<Agg>().unwrap()).unwrap() {
        AggResult::DateHistogram { buckets } => {
            assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), all.len() as u64);
            assert!(buckets.windows(2).all(|w| w[1].0 - w[0].0 == 60_000_000), "{buckets:?}");
            let first_minute = (t * 1e6) as i64 / 60_000_000 * 60_000_000;
            assert!(buckets[0].0 <= first_minute);
        }
        other => panic!("{other:?}"),
    }
}

/// The query language as a server must take it: bounded, with errors at their place in
/// characters, every keyword field matched without regard to case, names matched whole by a
/// wildcard, times in ranges, and a field no record has reported as such.
#[test]
fn queries_a_server_can_take() {
    let records = records();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ingest(&store, &records);
    let search = |q: &str| store.search(&Search { query: q.into(), limit: 10, ..Search::default() });
    let syntax = |q: &str| match search(q) {
        Err(QueryError::Syntax { position, message }) => (position, message),
        other => panic!("{q}: {other:?}"),
    };
    // Too long, too deep: refused before any parser recurses.
    let long = "query:x ".repeat(1000);
    assert!(syntax(&long).1.contains("at most 4096"));
    let deep = format!("{}x{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(syntax(&deep), (32, "parentheses nested deeper than 32".to_string()));
    // Positions count characters: `ộ` is three bytes.
    assert_eq!(syntax("query:\"hà nội\" AND (x").0, 21);
    // Keyword values match whatever their case, as every other value does.
    let dns = count(&store, "_type:dns");
    assert!(dns > 0);
    assert_eq!(count(&store, "_type:DNS"), dns);
    assert_eq!(count(&store, "_type:Dn?"), dns);
    let uid = records[0]["uid"].as_str().unwrap();
    assert_eq!(count(&store, &format!("uid:{}", uid.to_lowercase())), count(&store, &format!("uid:{uid}")));
    // A wildcard over a whole name, across its labels.
    let duck = records.iter().filter(|r| r["query"].as_str().is_some_and(|q| q.ends_with(".duckdns.org"))).count();
    assert!(duck > 0);
    assert_eq!(count(&store, "query:*.duckdns.org") as usize, duck);
    assert_eq!(count(&store, "query:*.DUCKDNS.org") as usize, duck);
    // Ranges on the time take RFC 3339; anything else says what to use.
    assert_eq!(count(&store, "ts:[2026-11-01T00:00:00Z TO 2026-11-03T00:00:00+07:00]"), records.len() as u64);
    assert_eq!(count(&store, "ts:[2026-11-03T00:00:00Z TO *]"), 0);
    let (_, message) = syntax("ts:[yesterday TO *]");
    assert!(message.contains("RFC 3339") && message.contains("--since"), "{message}");
    // A field no record has is a typo, said at its place.
    assert_eq!(syntax("_type:dns AND qeury:x"), (14, "no record has a field `qeury`".to_string()));
}

/// A search scoped to organizations sees their records only, whatever its query says: the
/// scope is a clause beside the query, not text inside it.
#[test]
fn an_organization_scope_cannot_be_widened_by_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = StoreWriter::new(&store, CommitPolicy { records: 100, interval: std::time::Duration::from_secs(60) });
    for (i, org) in ["so-a", "So-A", "so-b", "xa-c"].iter().enumerate() {
        let line = serde_json::json!({"ts": 1_800_000_000.0 + i as f64, "_type": "conn", "_org": org, "uid": format!("Corg{i}")});
        w.add_line(&line.to_string()).unwrap();
    }
    w.commit().unwrap();
    let scoped = |query: &str, orgs: &[&str]| {
        let s = Search {
            query: query.into(),
            limit: 10,
            orgs: Some(orgs.iter().map(|o| o.to_string()).collect()),
            ..Search::default()
        };
        store.search(&s).map(|h| h.total)
    };
    assert_eq!(count(&store, "*"), 4);
    // Case does not matter to a keyword (`So-A` is so-a).
    assert_eq!(scoped("*", &["so-a"]).unwrap(), 2);
    assert_eq!(scoped("*", &["so-a", "xa-c"]).unwrap(), 3);
    assert_eq!(scoped("_org:so-b", &["so-a"]).unwrap(), 0);
    assert_eq!(scoped("_type:conn OR _org:so-b", &["so-a"]).unwrap(), 2);
    // Text that would close a parenthesis around the scope, were it spliced into the query.
    assert!(scoped("x) OR (_org:so-b", &["so-a"]).map_or(true, |n| n == 0));
    assert_eq!(scoped("*", &[]).unwrap(), 0, "an empty scope sees nothing");
}
