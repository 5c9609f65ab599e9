//! The event store from the command line: `canh replay --index`, `canh search`, `canh ingest`,
//! `canh store stats|prune`, where the data directory comes from, and what survives `kill -9`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn canh() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_canh"));
    c.env_remove("CANH_DATA").env_remove("CANH_CONFIG");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(c: &mut Command) -> String {
    let (code, stdout, stderr) = run(c);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

fn search_json(data: &Path, query: &str, extra: &[&str]) -> Value {
    let out = ok(canh().args(["search", query, "--json", "--data"]).arg(data).args(extra));
    serde_json::from_str(&out).unwrap()
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

fn vn_gov() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/packs/vn-gov")
}

#[test]
fn replay_indexes_records_and_alerts_once_and_search_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("lan.pcap");
    ok(canh().args(["gen", "--size-mb", "3", "--seed", "11", "--out"]).arg(&pcap));
    let (logs, data) = (dir.path().join("logs"), dir.path().join("data"));
    let replay = |workers: &str| {
        let (code, _, stderr) = run(canh()
            .arg("replay")
            .arg(&pcap)
            .args(["--workers", workers, "--out"])
            .arg(&logs)
            .arg("--rules")
            .arg(vn_gov())
            .arg("--index")
            .arg(&data));
        assert_eq!(code, 0, "{stderr}");
        stderr
    };
    let stderr = replay("2");
    let mut written: Vec<Value> = Vec::new();
    // Every log the replay wrote, one per record type.
    for log in std::fs::read_dir(&logs).unwrap().map(|e| e.unwrap().path()) {
        if log.extension().is_some_and(|x| x == "ndjson") {
            written.extend(lines_of(&log).iter().map(|l| serde_json::from_str(l).unwrap()));
        }
    }
    let alerts = lines_of(&logs.join("alerts.json"));
    assert!(alerts.len() >= 5, "{}", alerts.len());
    let total = (written.len() + alerts.len()) as u64;
    assert!(stderr.contains(&format!("indexed {total} records")), "{stderr}");
    assert_eq!(search_json(&data, "*", &[])["total"], total);
    // Alerts are indexed as records of type `alert`, with what the analyst filters on.
    let found = search_json(&data, "_type:alert", &["--limit", "1000"]);
    assert_eq!(found["total"], alerts.len() as u64);
    let critical = alerts.iter().filter(|a| a.contains("\"severity\":\"critical\"")).count() as u64;
    assert!(critical > 0);
    assert_eq!(search_json(&data, "_type:alert AND severity:critical", &[])["total"], critical);
    // Alerts are found by address and port as records are: the outside attackers', by their
    // network (the scanner's and the smuggler's).
    let outside = alerts.iter().filter(|a| a.contains("\"id.orig_h\":\"203.0.113.")).count() as u64;
    assert!(outside > 1);
    assert_eq!(search_json(&data, "_type:alert AND id.orig_h:203.0.113.0/24 AND id.resp_p:80", &[])["total"], outside);
    // The table shows each alert's rule title and its records' uid; a terms aggregation on
    // rule_id shows the titles beside the ids.
    let table = ok(canh().args(["search", "_type:alert AND id.orig_h:203.0.113.66", "--data"]).arg(&data));
    assert!(
        table.contains("Web vulnerability scanner against a web application") && table.contains("uid C"),
        "{table}"
    );
    assert!(table.contains("203.0.113.66:"), "{table}");
    let agg = ok(canh().args(["search", "_type:alert", "--agg", "terms:rule_id", "--data"]).arg(&data));
    assert!(
        agg.contains("ce24cdfa-2fa6-5668-974b-5620942dfc20") && agg.contains("SQL injection, cross-site scripting"),
        "{agg}"
    );
    // A second replay of the same capture (one worker this time) replaces, adds nothing.
    replay("1");
    assert_eq!(search_json(&data, "*", &[])["total"], total);

    // Terms aggregation agrees with the logs.
    let agg = ok(canh().args(["search", "*", "--agg", "terms:_type", "--json", "--data"]).arg(&data));
    let agg: Value = serde_json::from_str(&agg).unwrap();
    let dns = written.iter().filter(|r| r["_type"] == "dns").count() as u64;
    let buckets = agg["buckets"].as_array().unwrap();
    assert!(buckets.iter().any(|b| b[0] == "dns" && b[1] == dns), "{agg}");
    assert!(buckets.iter().any(|b| b[0] == "alert" && b[1] == alerts.len() as u64), "{agg}");

    // CSV: a header, then one row per record, the time first.
    let csv = ok(canh().args(["search", "_type:http", "--csv", "--limit", "5", "--data"]).arg(&data));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 6, "{csv}");
    assert!(rows[0].starts_with("ts,_type,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p"), "{}", rows[0]);
    assert!(rows[1].split(',').nth(1) == Some("http"));

    // The table, and paging with the cursor it prints.
    let (code, table, footer) = run(canh().args(["search", "_type:dns", "--limit", "3", "--data"]).arg(&data));
    assert_eq!(code, 0);
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.lines().next().unwrap().starts_with("time (+07:00)"));
    let cursor = footer.split("--after ").nth(1).expect("a next page").trim();
    let page2 = search_json(&data, "_type:dns", &["--limit", "3", "--after", cursor]);
    let page1 = search_json(&data, "_type:dns", &["--limit", "3"]);
    let uids = |p: &Value| p["records"].as_array().unwrap().iter().map(|r| r["uid"].to_string()).collect::<Vec<_>>();
    assert!(uids(&page1).iter().all(|u| !uids(&page2).contains(u)));
    assert!(page1["records"][2]["ts"].as_f64() >= page2["records"][0]["ts"].as_f64());

    // Where the data directory comes from: CANH_DATA, then the config file.
    let via_env = ok(canh().args(["search", "_type:alert", "--json"]).env("CANH_DATA", &data));
    assert_eq!(serde_json::from_str::<Value>(&via_env).unwrap()["total"], alerts.len() as u64);
    let config = dir.path().join("canh.toml");
    std::fs::write(&config, format!("data = {:?}\n", data.display().to_string())).unwrap();
    let via_config = ok(canh().args(["search", "_type:alert", "--json", "--config"]).arg(&config));
    assert_eq!(serde_json::from_str::<Value>(&via_config).unwrap()["total"], alerts.len() as u64);
    let stats: Value =
        serde_json::from_str(&ok(canh().args(["store", "stats", "--json"]).env("CANH_DATA", &data))).unwrap();
    assert_eq!(stats["records"], total);

    // A malformed query: exit 1 and the place.
    let (code, _, stderr) = run(canh().args(["search", "_type:dns AND (query:x", "--data"]).arg(&data));
    assert_eq!(code, 1);
    assert!(stderr.contains("at character"), "{stderr}");
    // No store: said so.
    let (code, _, stderr) = run(canh().args(["search", "*", "--data"]).arg(dir.path().join("nowhere")));
    assert_eq!(code, 1);
    assert!(stderr.contains("no event store"), "{stderr}");
}

/// Records like a sensor's, numbered, `n` of them from `start`, spread over `seconds`.
fn records(n: usize, start: f64, org: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            serde_json::json!({
                "ts": start + i as f64 * 0.001, "_type": if i % 3 == 0 { "dns" } else { "conn" },
                "_sensor": "s1", "_org": org, "uid": format!("C{i:08}"),
                "id.orig_h": format!("10.20.{}.{}", i / 250 % 250, i % 250 + 1), "id.orig_p": 40000 + i % 20000,
                "id.resp_h": "10.20.0.53", "id.resp_p": 53, "query": format!("host{}.so-khcn.gov.vn", i % 97),
            })
            .to_string()
        })
        .collect()
}

#[test]
fn ingest_skips_bad_lines_with_their_place_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = records(10, 1_793_581_200.0, "so-khcn");
    lines.insert(2, "{\"ts\": 1793581200.5, \"_type\": \"conn\"".to_string());
    lines.insert(5, "{\"_type\": \"conn\"}".to_string());
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let data = dir.path().join("data");
    let (code, _, stderr) = run(canh().arg("ingest").arg(&file).arg("--data").arg(&data));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("{}:3: not a JSON object", file.display())), "{stderr}");
    assert!(stderr.contains(&format!("{}:6: no `ts` field", file.display())), "{stderr}");
    assert_eq!(search_json(&data, "*", &[])["total"], 10);
}

/// Input is bounded: a line past 1 MiB is skipped with its place and the rest is kept; a stream
/// of NUL bytes (`/dev/zero`) ends with an error at once instead of filling memory.
#[test]
fn ingest_input_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = records(2, 1_793_581_200.0, "so-khcn");
    lines.insert(1, format!("{{\"ts\": 1793581200.5, \"_type\": \"conn\", \"x\": \"{}\"}}", "a".repeat(2 << 20)));
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let data = dir.path().join("data");
    let (code, _, stderr) = run(canh().arg("ingest").arg(&file).arg("--data").arg(&data));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("{}:2: longer than 1048576 bytes: skipped", file.display())), "{stderr}");
    assert_eq!(search_json(&data, "*", &[])["total"], 2);
    let (code, _, stderr) = run(canh().args(["ingest", "/dev/zero", "--data"]).arg(&data).stdout(Stdio::null()));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("/dev/zero: a NUL byte at byte offset 0"), "{stderr}");
    let (code, _, stderr) = run(canh().args(["ingest", "-", "--commit-records", "0", "--data"]).arg(&data));
    assert_eq!(code, 2, "{stderr}");
}

/// A record is its content: three copies of one line in a file are kept once, whatever the
/// batch size, and the count says so.
#[test]
fn identical_lines_are_kept_once_whatever_the_batches() {
    let dir = tempfile::tempdir().unwrap();
    let one = records(1, 1_793_581_200.0, "so-khcn").remove(0);
    let mut lines = records(4, 1_793_581_300.0, "so-khcn");
    lines.splice(1..1, [one.clone(), one.clone(), one]);
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    for batch in ["1", "2", "3", "1000"] {
        let data = dir.path().join(format!("data-{batch}"));
        let (code, _, stderr) =
            run(canh().arg("ingest").arg(&file).arg("--data").arg(&data).args(["--commit-records", batch]));
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains("ingested 7 records") && stderr.contains("5 stored, 2 held already"),
            "{batch}: {stderr}"
        );
        assert_eq!(search_json(&data, "*", &[])["total"], 5, "batch {batch}");
    }
}

/// Exports are complete when asked (`--limit all`), and output cut by a limit says so with the
/// cursor of the rest.
#[test]
fn exports_are_complete_or_say_they_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, records(120, 1_793_581_200.0, "so-khcn").join("\n") + "\n").unwrap();
    let data = dir.path().join("data");
    ok(canh().arg("ingest").arg(&file).arg("--data").arg(&data));
    let (code, csv, stderr) = run(canh().args(["search", "*", "--csv", "--data"]).arg(&data));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(csv.lines().count(), 51);
    assert!(stderr.contains("50 of 120 matching records; the rest (or --limit all): --after "), "{stderr}");
    let (code, csv, stderr) = run(canh().args(["search", "*", "--csv", "--limit", "all", "--data"]).arg(&data));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(csv.lines().count(), 121, "{csv}");
    assert!(!stderr.contains("the rest"), "{stderr}");
    let uids: HashSet<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(2).unwrap()).collect();
    assert_eq!(uids.len(), 120);
    let all = search_json(&data, "*", &["--limit", "all"]);
    assert_eq!((all["total"].as_u64(), all["records"].as_array().unwrap().len()), (Some(120), 120));
    assert!(all["next"].is_null());
    let some = search_json(&data, "*", &["--limit", "7"]);
    assert_eq!(some["records"].as_array().unwrap().len(), 7);
    assert!(some["next"].is_string());
    for bad in ["0", "-1", "100001", "lots"] {
        let (code, _, stderr) = run(canh().args(["search", "*", &format!("--limit={bad}"), "--data"]).arg(&data));
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(stderr.contains("from 1 to 100000, or `all`"), "{stderr}");
    }
}

/// The command line's side of queries a server can take: `--agg` refuses paging flags, the
/// table's own time format is taken by `--since`, and a reader that goes away (`| head`) ends
/// the search quietly.
#[test]
fn search_flags_are_checked_and_a_closed_pipe_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, records(3000, 1_793_581_200.0, "so-khcn").join("\n") + "\n").unwrap();
    let data = dir.path().join("data");
    ok(canh().arg("ingest").arg(&file).arg("--data").arg(&data));
    for extra in [["--limit", "5"], ["--after", "1793581200000000-0000000000000001"]] {
        let (code, _, stderr) =
            run(canh().args(["search", "*", "--agg", "terms:_type", "--data"]).arg(&data).args(extra));
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("--agg counts every match"), "{stderr}");
    }
    // 1,000 records of the 3,000 are at 08:00:01 local time or later (one a millisecond).
    let late = search_json(&data, "*", &["--since", "2026-11-02 08:00:02.000"]);
    assert_eq!(late["total"], 1000);
    let mut child = canh()
        .args(["search", "*", "--limit", "all", "--csv", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("ts,"));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("error"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// What came from the network cannot act on the terminal or the spreadsheet it is shown in.
#[test]
fn hostile_fields_are_escaped_for_the_terminal_and_the_spreadsheet() {
    let dir = tempfile::tempdir().unwrap();
    let record = serde_json::json!({
        "ts": 1_793_581_200.0, "_type": "http", "uid": "=cmd|' /C calc'!A0", "id.orig_h": "10.0.0.1", "id.orig_p": 40000,
        "id.resp_h": "10.0.0.2", "id.resp_p": 80, "method": "GET",
        "uri": "/a\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nb\u{202e}gpj.exe", "user_agent": "=HYPERLINK(\"http://x\")",
    });
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, format!("{record}\n")).unwrap();
    let data = dir.path().join("data");
    ok(canh().arg("ingest").arg(&file).arg("--data").arg(&data));
    let table = ok(canh().args(["search", "*", "--data"]).arg(&data));
    assert!(!table.contains('\u{1b}') && !table.contains('\u{7}') && !table.contains('\u{202e}'), "{table:?}");
    assert!(table.contains(r"/a\x1b[2J\x1b]0;pwned\x07\x0d\x0ab\u{202e}gpj.exe"), "{table}");
    assert_eq!(table.lines().count(), 2, "{table}");
    let csv = ok(canh().args(["search", "*", "--csv", "--data"]).arg(&data));
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    let agg = ok(canh().args(["search", "*", "--agg", "terms:uid", "--csv", "--data"]).arg(&data));
    assert!(agg.contains("'=cmd|"), "{agg}");
}

#[test]
fn kill_9_during_ingest_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lines = records(60_000, 1_793_581_200.0, "so-khcn");
    let mut child = canh()
        .args(["ingest", "-", "--acks", "--commit-records", "2000", "--data"])
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feed = lines.clone();
    let feeder = std::thread::spawn(move || {
        for l in &feed {
            if writeln!(stdin, "{l}").is_err() {
                return; // killed
            }
        }
    });
    let mut acked = 0u64;
    let mut acks = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = acks.next() {
        acked = line.strip_prefix("acknowledged ").unwrap().parse().unwrap();
        if acked > 9_000 {
            break;
        }
    }
    // While it is still reading and indexing.
    child.kill().unwrap();
    child.wait().unwrap();
    feeder.join().unwrap();
    assert!(acked > 9_000 && acked < lines.len() as u64, "{acked}");

    // The index opens, and holds every acknowledged record (ingest is in order: the first ones).
    let found = search_json(&data, "*", &["--limit", "100000"]);
    let total = found["total"].as_u64().unwrap();
    assert!(total >= acked, "{total} < {acked}");
    assert!(total < lines.len() as u64, "killed before the end: what no commit held is gone");
    let kept: HashSet<String> = found["records"].as_array().unwrap().iter().map(|r| r["uid"].to_string()).collect();
    for l in &lines[..acked as usize] {
        let r: Value = serde_json::from_str(l).unwrap();
        assert!(kept.contains(&r["uid"].to_string()), "acknowledged {} lost", r["uid"]);
    }
    // The sender resends what was not acknowledged (here: everything); nothing is doubled.
    let file = dir.path().join("all.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    ok(canh().arg("ingest").arg(&file).arg("--data").arg(&data));
    assert_eq!(search_json(&data, "*", &[])["total"], lines.len() as u64);
}

#[test]
fn prune_drops_expired_days_and_records_by_org_level_and_keeps_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let day = 86_400.0;
    // Org `so-khcn` runs a level-3 system (92 days), `ubnd-xa` level 2 (31 days).
    let mut lines = Vec::new();
    for (age, n) in [(120.0, 30), (60.0, 20), (10.0, 10), (0.0, 5)] {
        let start = ((now - age * day) / day).floor() * day + 3600.0;
        lines.extend(records(n, start, "so-khcn"));
        lines.extend(records(n, start, "ubnd-xa"));
    }
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    ok(canh().arg("ingest").arg(&file).arg("--data").arg(&data));
    let config = dir.path().join("canh.toml");
    let orgs = "[[org]]\nid = \"so-khcn\"\nlevel = 3\n[[org]]\nid = \"ubnd-xa\"\nlevel = 2\n";
    let data_line = format!("data = {:?}\n", data.display().to_string());
    std::fs::write(&config, format!("{data_line}{orgs}")).unwrap();
    let count = |q: &str| search_json(&data, q, &[])["total"].as_u64().unwrap();
    let before = count("*");
    let dry = ok(canh().args(["store", "prune", "--dry-run", "--config"]).arg(&config));
    assert!(dry.contains("would drop"), "{dry}");
    assert_eq!(count("*"), before, "a dry run changes nothing");
    let out = ok(canh().args(["store", "prune", "--config"]).arg(&config));
    // 120 days old: past both orgs' retention, the whole day goes.
    assert!(out.contains(": past its retention"), "{out}");
    // 60 days old: past level 2's 31 days, not level 3's 92.
    assert!(out.contains("13 conn records of ubnd-xa") && out.contains("7 dns records of ubnd-xa"), "{out}");
    assert_eq!(count("_org:so-khcn"), 20 + 10 + 5);
    assert_eq!(count("_org:ubnd-xa"), 10 + 5);
    let stats: Value =
        serde_json::from_str(&ok(canh().args(["store", "stats", "--json", "--config"]).arg(&config))).unwrap();
    assert_eq!(stats["days"].as_array().unwrap().len(), 3);
    assert_eq!(stats["retention"]["orgs"]["so-khcn"], 92);

    // A disk budget smaller than the store: the oldest days go, today's stays.
    std::fs::write(&config, format!("{data_line}[store]\ndisk_budget_gb = 0.000001\n{orgs}")).unwrap();
    let out = ok(canh().args(["store", "prune", "--config"]).arg(&config));
    assert_eq!(out.matches("over the disk budget").count(), 2, "{out}");
    assert_eq!(count("*"), 10, "today's records stay");

    // Prune and ingest coordinate: a day a writer holds open is left for the next prune.
    let old = ((now - 200.0 * day) / day).floor() * day + 3600.0;
    let mut ingest = canh()
        .args(["ingest", "-", "--acks", "--commit-records", "1", "--data"])
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = ingest.stdin.take().unwrap();
    writeln!(stdin, "{}", records(1, old, "so-khcn")[0]).unwrap();
    stdin.flush().unwrap();
    let mut acks = BufReader::new(ingest.stdout.take().unwrap()).lines();
    assert_eq!(acks.next().unwrap().unwrap(), "acknowledged 1");
    let out = ok(canh().args(["store", "prune", "--config"]).arg(&config));
    assert!(out.contains("a writer (an ingest or a replay) holds it open"), "{out}");
    assert_eq!(count("*"), 11, "the open day is kept");
    drop(stdin);
    assert!(ingest.wait().unwrap().success());
    let out = ok(canh().args(["store", "prune", "--config"]).arg(&config));
    assert!(out.contains("past its retention"), "{out}");
    assert_eq!(count("*"), 10);
}

/// An auditor who may only read the store searches it and sees its stats: no lock file is
/// written to read. The store is mounted read-only (a bind mount in a user and mount namespace of
/// the test's own), which refuses every write, whoever asks.
#[test]
fn a_read_only_store_can_be_searched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, records(20, 1_793_581_200.0, "so-khcn").join("\n") + "\n").unwrap();
    ok(canh().arg("ingest").arg(&file).arg("--data").arg(&data));
    let read_only = |args: &str| {
        let d = data.display();
        let script = format!(
            "mount --bind '{d}' '{d}' && mount -o remount,bind,ro '{d}' && ! touch '{d}/events/x' 2>/dev/null && '{}' {args} --data '{d}'",
            env!("CARGO_BIN_EXE_canh")
        );
        let unshare = ["--user", "--map-root-user", "--mount", "--propagation", "private", "sh", "-c", &script];
        let out = Command::new("unshare").args(unshare).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{args}: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let found: Value = serde_json::from_str(&read_only("search '_type:dns' --json")).unwrap();
    assert_eq!(found["total"], 7);
    assert!(read_only("store stats").contains("20"));
    let agg = read_only("search '*' --agg terms:_type");
    assert!(agg.contains("conn") && agg.contains("13"), "{agg}");
}
