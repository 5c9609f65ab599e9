//! The `canh` command line as a user meets it: exit codes, messages, files written.

use std::process::{Command, Stdio};

fn canh() -> Command {
    Command::new(env!("CARGO_BIN_EXE_canh"))
}

fn generate(dir: &std::path::Path) -> std::path::PathBuf {
    let pcap = dir.join("lan.pcap");
    let out = canh().args(["gen", "--size-mb", "1", "--seed", "3", "--out"]).arg(&pcap).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    pcap
}

#[test]
fn replay_writes_one_log_per_type_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = generate(dir.path());
    let logs = dir.path().join("logs");
    let out = canh()
        .arg("replay")
        .arg(&pcap)
        .arg("--out")
        .arg(&logs)
        .arg("--summary-json")
        .arg(dir.path().join("s.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for t in ["conn", "dns", "http", "ssl", "files"] {
        let log = std::fs::read_to_string(logs.join(format!("{t}.ndjson"))).unwrap();
        let first: serde_json::Value = serde_json::from_str(log.lines().next().expect("records")).unwrap();
        assert_eq!(first["_type"], t);
        assert!(first["uid"].as_str().unwrap().starts_with('C'));
    }
    for word in ["packets", "flows", "records", "decode errors", "Gbit/s"] {
        assert!(stderr.contains(word), "summary lacks {word}: {stderr}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap()).unwrap();
    assert!(summary["records"]["http"].as_u64().unwrap() > 10);
}

#[test]
fn stdin_in_and_stdout_out() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = generate(dir.path());
    let out = canh()
        .args(["replay", "-", "--out", "-"])
        .stdin(Stdio::from(std::fs::File::open(&pcap).unwrap()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let types: std::collections::BTreeSet<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["_type"].as_str().unwrap().to_string())
        .collect();
    // The generated capture's request smuggling is the one weird.
    assert_eq!(types.into_iter().collect::<Vec<_>>(), ["conn", "dns", "files", "http", "ssl", "weird"]);
}

#[test]
fn truncated_capture_keeps_records_and_names_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = generate(dir.path());
    let bytes = std::fs::read(&pcap).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let logs = dir.path().join("logs");
    let out = canh().arg("replay").arg(&cut).arg("--out").arg(&logs).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cut.pcap: truncated: the record at byte offset"), "{stderr}");
    let conns = std::fs::read_to_string(logs.join("conn.ndjson")).unwrap().lines().count();
    assert!(conns > 20, "only {conns} connections kept");
}

#[test]
fn a_file_that_is_no_capture_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "không phải pcap\n").unwrap();
    let out = canh().arg("replay").arg(&text).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("notes.txt: not a capture file"), "{stderr}");
    let out = canh().args(["replay", "/nonexistent/x.pcap"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.pcap: cannot open"));
}

#[test]
fn demo_runs_on_an_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = canh().args(["demo", "--no-serve", "--size-mb", "2", "--dir"]).arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("planted incidents"), "{stderr}");
    // The demo province's accounts, one per role, each with a password made for this run.
    let stdout = String::from_utf8_lossy(&out.stdout);
    for role in ["admin", "analyst", "system_owner", "appraiser", "approver", "auditor"] {
        assert!(stdout.lines().any(|l| l.split_whitespace().nth(1) == Some(role)), "no {role} account: {stdout}");
    }
    assert!(stdout.contains("second factor (TOTP): secret "), "{stdout}");
    assert!(stderr.contains("server --data"), "how to serve it: {stderr}");
    let http = std::fs::read_to_string(dir.path().join("logs/http.ndjson")).unwrap();
    assert!(http.contains("\"username\":\"admin\""));
    let extracted = std::fs::read_dir(dir.path().join("files")).unwrap().count();
    assert!(extracted > 10);
    // Every incident the vn-gov pack can see on records raises its alert.
    let alerts = std::fs::read_to_string(dir.path().join("logs/alerts.json")).unwrap();
    for title in [
        "HTTP Basic credentials sent in cleartext",
        "FTP session in cleartext",
        "Web vulnerability scanner against a web application",
        "SQL injection, cross-site scripting or path traversal in a request",
        "DNS query for a dynamic-DNS provider",
        "Document marked TỐI MẬT or TUYỆT MẬT (top / absolute secret) leaving the LAN",
        "Bulk citizen identity numbers (CCCD) sent in cleartext",
        "Cleartext login: FTP/POP3 PASS, IMAP LOGIN or SMTP AUTH",
        "HTTP message framed two ways (request smuggling)",
    ] {
        assert!(alerts.contains(title), "no alert {title:?} in the demo");
        assert!(stderr.contains(title), "summary lacks {title:?}");
    }
    // The records came through the sensor's mutual-TLS path, the hosts' syslog through the
    // server's receiver, each with its organization.
    assert!(stderr.contains("shipped 1 batches") && stderr.contains("host logs: 18 syslog messages"), "{stderr}");
    let data = dir.path().join("data");
    let count = |q: &str| {
        let out = canh().args(["search", q, "--json", "--limit", "1", "--data"]).arg(&data).output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["total"].as_u64().unwrap()
    };
    assert_eq!(count("_type:syslog"), 18);
    assert_eq!(count("_type:syslog AND _org:unmapped"), 0);
    assert_eq!(count("_type:alert AND rule_id:\"0b9e4c2a-7d13-5f6e-9a41-3c8d2e7f1b56\""), 12);
    assert!(count("_type:conn AND _sensor:demo-sensor AND _org:so-khcn") > 10);
    let status = canh().args(["sensor", "status", "--data"]).arg(&data).output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("demo-sensor"));
    // The commands it suggests run as printed (from another directory, as a newcomer would),
    // and find what the demo stored: its traffic is dated within the last day.
    let tries: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("try:"))
        .take_while(|l| l.starts_with("try:") || l.starts_with("      "))
        .map(|l| l.trim_start_matches("try:").trim())
        .collect();
    assert_eq!(tries.len(), 5, "{stderr}");
    for command in tries {
        let out = Command::new("sh").args(["-c", command]).current_dir("/").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{command}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stdout.is_empty(), "{command}: nothing found");
        if command.contains("--since 24h") {
            assert!(String::from_utf8_lossy(&out.stdout).contains("alert"), "{command}");
        }
    }
}

/// The alerts of a demo run in `dir`: the rule of each, sorted. (Not their uids or evidence:
/// the demo's traffic is dated from when it runs, and uids and file ids carry the time.)
fn demo_alerts(dir: &std::path::Path) -> Vec<String> {
    let alerts = std::fs::read_to_string(dir.join("logs/alerts.json")).unwrap();
    let mut out: Vec<String> = alerts
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["rule_id"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// The binary is all a machine needs: copied alone into an empty directory and run where the
/// source tree and the shared corpus cannot be read (a private mount namespace lays empty
/// file systems over them), `canh demo` raises the same alerts as beside the sources.
/// Needs `unshare` (util-linux) and user namespaces, which Linux allows by default.
#[test]
fn the_binary_alone_runs_the_demo_away_from_the_sources() {
    let here = tempfile::tempdir().unwrap();
    let out = canh().args(["demo", "--no-serve", "--size-mb", "2", "--dir"]).arg(here.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = demo_alerts(here.path());
    assert!(expected.len() > 5, "{expected:?}");

    let away = tempfile::tempdir().unwrap();
    let binary = away.path().join("canh");
    std::fs::copy(env!("CARGO_BIN_EXE_canh"), &binary).unwrap();
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().canonicalize().unwrap();
    let shared = workspace.parent().unwrap().join("shared");
    let mut hide = format!("mount -t tmpfs none '{}'", workspace.display());
    if shared.is_dir() {
        hide.push_str(&format!(" && mount -t tmpfs none '{}'", shared.display()));
    }
    let script = format!(
        "{hide} && test ! -e '{}' && cd '{}' && ./canh demo --no-serve --size-mb 2 --dir demo",
        workspace.join("rules/packs").display(),
        away.path().display()
    );
    // A user namespace of its own, so that mounting needs no root outside it.
    let unshare = ["--user", "--map-root-user", "--mount", "--propagation", "private", "sh", "-c", &script];
    let out = Command::new("unshare").args(unshare).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("rules: "), "{stderr}");
    assert_eq!(demo_alerts(&away.path().join("demo")), expected);
}

#[test]
fn rules_check_prints_file_line_col_and_fails_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(pack.join("pack.toml"), "name = \"test\"\nversion = \"0.1\"\ndescription = \"x\"\n").unwrap();
    std::fs::write(pack.join("good.yml"), "title: g\nid: g1\nlogsource:\n  product: zeek\n  service: dns\ndetection:\n  sel:\n    query|endswith: '.ddns.net'\n  condition: sel\n").unwrap();
    let out = canh().args(["rules", "check"]).arg(&pack).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("test 0.1"));
    std::fs::write(
        pack.join("bad.yml"),
        "title: b\nid: b1\nlogsource:\n  product: zeek\ndetection:\n  sel:\n    uri|nosuchmod: x\n  condition: sel\n",
    )
    .unwrap();
    std::fs::write(pack.join("iocs.txt"), "vpn-tinh.ddns.net\n300.1.1.1/8\n").unwrap();
    let out = canh().args(["rules", "check"]).arg(&pack).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("bad.yml:7:") && stdout.contains("nosuchmod"), "{stdout}");
    assert!(stdout.contains("iocs.txt:2:1: error: not a CIDR block"), "{stdout}");
    let out = canh().args(["rules", "list"]).arg(&pack).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("sigma 1 usable"));
}

/// A pack that is missing or has an error stops the run: detection never switches off while
/// the summary says `alerts 0`. `rules check` compiles YARA as a replay does, and `rules test`
/// fails on a rule it cannot load.
#[test]
fn detection_never_switches_off_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = generate(dir.path());
    let replay = |pack: &std::path::Path| {
        let out = canh()
            .arg("replay")
            .arg(&pcap)
            .arg("--out")
            .arg(dir.path().join("logs"))
            .arg("--rules")
            .arg(pack)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let missing = dir.path().join("no-such-pack");
    let (code, stderr) = replay(&missing);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no-such-pack:1:1: error: no such pack") && stderr.contains("not running"), "{stderr}");
    assert!(!stderr.contains("packets"), "it ran: {stderr}");

    let pack = dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(pack.join("pack.toml"), "name = \"test\"\nversion = \"0.1\"\n").unwrap();
    std::fs::write(pack.join("ok.yar"), "rule fine { strings: $a = \"TOKEN\" condition: $a }\n").unwrap();
    std::fs::write(pack.join("bad.yar"), "rule broken {\n  strings:\n    $a = \"x\"\n  condition:\n    $b\n}\n")
        .unwrap();
    let (code, stderr) = replay(&pack);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("bad.yar:5:5: error: YARA-X: unknown pattern `$b`"), "{stderr}");
    let out = canh().args(["rules", "check"]).arg(&pack).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("bad.yar:5:5: error: YARA-X: unknown pattern `$b`"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 errors"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(pack.join("bad.yar")).unwrap();
    // A manifest with an error is an error too.
    std::fs::write(pack.join("pack.toml"), "name = \"test\"\nversion = 1\n").unwrap();
    let (code, stderr) = replay(&pack);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("pack.toml:2:"), "{stderr}");
    // A rule directory without a manifest is loaded, with a warning.
    std::fs::remove_file(pack.join("pack.toml")).unwrap();
    let (code, stderr) = replay(&pack);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("warning: no pack.toml"), "{stderr}");

    let events = dir.path().join("events.json");
    std::fs::write(&events, r#"{"query": "a.ddns.net"}"#).unwrap();
    let rule = dir.path().join("broken.yml");
    std::fs::write(
        &rule,
        "title: b\nid: b1\nlogsource:\n  product: zeek\ndetection:\n  sel:\n    uri|nosuchmod: x\n  condition: sel\n",
    )
    .unwrap();
    let out = canh().args(["rules", "test"]).arg(&rule).arg(&events).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn replay_with_rules_writes_alerts_beside_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = generate(dir.path());
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(pack.join("pack.toml"), "name = \"intel\"\nversion = \"1\"\n").unwrap();
    std::fs::write(pack.join("iocs.csv"), "indicator,source\nno-ip.org,feed\n").unwrap();
    let logs = dir.path().join("logs");
    let out = canh().arg("replay").arg(&pcap).arg("--out").arg(&logs).arg("--rules").arg(&pack).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let alerts: Vec<serde_json::Value> = std::fs::read_to_string(logs.join("alerts.json"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["engine"], "ioc");
    assert_eq!(alerts[0]["rule_id"], "ioc:intel:domain:no-ip.org");
    assert!(alerts[0]["evidence"].as_str().unwrap().contains("kho-du-lieu.no-ip.org"));
    assert!(stderr.contains("alerts 1"), "{stderr}");
}

/// Waits for a line of the child's stderr that contains `needle`; returns the lines read.
fn read_until(lines: &mut impl Iterator<Item = std::io::Result<String>>, needle: &str) -> String {
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains(needle) {
            return seen;
        }
    }
    panic!("stderr ended before {needle:?}: {seen}");
}

#[test]
#[cfg(unix)]
fn sighup_reloads_rules_and_a_bad_pack_keeps_the_running_ones() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let pcap = generate(dir.path());
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(pack.join("pack.toml"), "name = \"live\"\nversion = \"1\"\n").unwrap();
    std::fs::write(pack.join("iocs.csv"), "indicator\nno-ip.org\n").unwrap();
    let logs = dir.path().join("logs");
    let mut child = canh()
        .args(["replay", "-", "--out"])
        .arg(&logs)
        .arg("--rules")
        .arg(&pack)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    read_until(&mut stderr, "reloads them");
    let hup = || assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());

    // The indicator list is replaced by a Sigma rule on the same lookups.
    std::fs::remove_file(pack.join("iocs.csv")).unwrap();
    std::fs::write(
        pack.join("noip.yml"),
        "title: Lookup of a No-IP host\nid: 0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3\nlogsource:\n  product: zeek\n  service: dns\ndetection:\n  sel:\n    query|endswith: '.no-ip.org'\n  condition: sel\nlevel: high\n",
    )
    .unwrap();
    hup();
    let said = read_until(&mut stderr, "rules reloaded");
    assert!(said.contains("rules reloaded: 1 Sigma rules"), "{said}");

    // A broken rule: the reload is refused, with the place, and the rules above keep running.
    std::fs::write(pack.join("bad.yml"), "title: broken\nid: x1\ndetection: [unclosed\n").unwrap();
    hup();
    let said = read_until(&mut stderr, "rules not reloaded");
    assert!(said.contains("bad.yml:4:1: error: not valid YAML"), "{said}");
    assert!(said.contains("the previous rules keep running"), "{said}");

    child.stdin.take().unwrap().write_all(&std::fs::read(&pcap).unwrap()).unwrap();
    let rest: Vec<String> = stderr.map(Result::unwrap).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    let alerts: Vec<serde_json::Value> = std::fs::read_to_string(logs.join("alerts.json"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!alerts.is_empty());
    assert!(
        alerts.iter().all(|a| a["engine"] == "sigma" && a["rule_id"] == "0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"),
        "{alerts:?}"
    );
}
