//! The event store on the records of a generated capture: every record kept and found, the
//! query language's own fields, `extra` fields, CIDR terms and port ranges, newest first, and a
//! second ingest of the same capture adding nothing.

mod common;

use canh_analyzer::store::Store;
use canh_analyzer::store::query::{QueryError, Search};
use canh_analyzer::store::writer::{CommitPolicy, StoreWriter};
use canh_sensor::engine::EngineConfig;
use canh_tests::traffic::{GenConfig, generate};
use serde_json::Value;

fn records() -> Vec<Value> {
    let file = tempfile::NamedTempFile::new().unwrap();
    generate(&GenConfig { seed: 5, target_bytes: 6_000_000, hosts: 20 }, file.as_file()).unwrap();
    let replayed = common::replay_file(file.path(), EngineConfig::default());
    replayed.records.iter().map(|r| serde_json::to_value(r).unwrap()).collect()
}

fn ingest(store: &Store, records: &[Value]) {
    let mut w = StoreWriter::new(store, CommitPolicy { records: 500, interval: std::time::Duration::from_secs(60) });
    let mut acknowledged = 0;
    for r in records {
        acknowledged = w.add(r.as_object().unwrap(), &r.to_string()).unwrap();
    }
    // Commits every 500: what the last batch holds waits for the next commit, unacknowledged.
    let tail = records.len() as u64 % 500;
    assert_eq!((acknowledged, w.pending()), (records.len() as u64 - tail, tail));
    assert_eq!(w.commit().unwrap(), records.len() as u64, "every record acknowledged after the last commit");
}

fn count(store: &Store, query: &str) -> u64 {
    store.search(&Search { query: query.into(), since: None, until: None, limit: 10 }).unwrap().total
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
    // A field outside the schema's own is found in `extra`.
    let posts = matching(&|r| r["method"] == "POST");
    assert!(posts > 0);
    assert_eq!(count(&store, "method:POST"), posts);
    // Words of a text field.
    let motcua = matching(&|r| r["host"].as_str().is_some_and(|h| h.contains("motcua")));
    assert!(motcua > 0);
    assert_eq!(count(&store, "_type:http AND host:motcua"), motcua);
    // Newest first, the limit kept, the count exact.
    let hits = store.search(&Search { query: "_type:conn".into(), since: None, until: None, limit: 25 }).unwrap();
    assert_eq!(hits.records.len(), 25);
    assert_eq!(hits.total, matching(&|r| r["_type"] == "conn"));
    let ts: Vec<f64> = hits.records.iter().map(|r| r["ts"].as_f64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "{ts:?}");
    // A time range.
    let mid = ts[12];
    let since = (mid * 1e6) as i64;
    let later = matching(&|r| r["ts"].as_f64().is_some_and(|t| (t * 1e6).round() as i64 >= since));
    assert_eq!(
        store.search(&Search { query: "*".into(), since: Some(since), until: None, limit: 1 }).unwrap().total,
        later
    );
    // The same capture again: replaced, not added.
    ingest(&store, &records);
    assert_eq!(count(&store, "*"), n);
    let stats = store.stats().unwrap();
    assert_eq!(stats.iter().map(|d| d.records).sum::<u64>(), n);
    // A malformed query points at its place.
    match store.search(&Search { query: "_type:dns AND (uri:login".into(), since: None, until: None, limit: 1 }) {
        Err(QueryError::Syntax { position, .. }) => assert!(position > 0),
        other => panic!("{other:?}"),
    }
}
