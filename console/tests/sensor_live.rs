//! Live capture on a veth pair inside a network namespace the test makes: the demo capture
//! sent through the link by tcpreplay gives the same records and alerts `canh replay` gives of
//! the file — on one worker, and on two with the kernel's fanout — and a capture filter keeps
//! what it excludes out. Needs root (CI runs as root and fails here rather than skip).

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "CI runs as root: live capture must be tested there");
    eprintln!("skipped: live capture needs root (CAP_NET_RAW and network namespaces); CI runs it as root");
    false
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A network namespace with a veth pair `va` – `vb` (IPv6 off: no router solicitations of its
/// own in the capture), removed on drop.
struct Namespace(String);

impl Namespace {
    fn new(tag: &str) -> Self {
        let name = format!("canh-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&["ip", "netns", "add", &name]);
        let ns = Self(name);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
        ns.exec(&["ip", "link", "add", "va", "type", "veth", "peer", "name", "vb"]);
        for end in ["va", "vb"] {
            ns.exec(&["ip", "link", "set", end, "mtu", "9000", "up"]);
        }
        ns
    }

    fn exec(&self, args: &[&str]) {
        let mut all = vec!["ip", "netns", "exec", &self.0];
        all.extend_from_slice(args);
        sh(&all);
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// Each log's records as sorted keys that do not depend on when a packet was read (the
/// flow's Community ID, or the file's id), and the alerts' rule ids.
fn logs(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for log in ["conn", "dns", "http", "ssl", "files", "weird", "alerts"] {
        let file = if log == "alerts" { dir.join("alerts.json") } else { dir.join(format!("{log}.ndjson")) };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut keys: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let key = ["rule_id", "community_id", "fuid", "name"].iter().find_map(|k| v[*k].as_str());
                key.unwrap_or("").to_string()
            })
            .collect();
        keys.sort();
        all.insert(log.to_string(), keys);
    }
    all
}

fn capture() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("t.pcap").to_str().unwrap().to_string();
    let out =
        Command::new(env!("CARGO_BIN_EXE_canh")).args(["gen", "--out", &pcap, "--size-mb", "5"]).output().unwrap();
    assert!(out.status.success());
    (dir, pcap)
}

/// Runs the sensor on `vb` while tcpreplay sends the capture into `va`; returns its logs and
/// what it said.
fn live(ns: &Namespace, pcap: &str, out: &Path, extra: &[&str]) -> (BTreeMap<String, Vec<String>>, String) {
    let mut child = ns
        .command(env!("CARGO_BIN_EXE_canh"))
        .args(["sensor", "--iface", "vb", "--out", out.to_str().unwrap(), "--rules", "bundled:vn-gov"])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("the sensor says it captures").unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("capturing on vb") {
            break;
        }
    }
    let sent = ns.command("tcpreplay").args(["-i", "va", "-t", pcap]).output().expect("tcpreplay");
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: a signal to the child's process (`ip netns exec` execs the sensor in place).
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    for line in lines {
        said.push_str(&line.unwrap());
        said.push('\n');
    }
    assert!(child.wait().unwrap().success(), "{said}");
    (logs(out), said)
}

/// The frames of a capture (its bytes) by the Community ID of their flow, in capture order.
fn frames_by_flow(capture: &[u8]) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut flows: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    if capture.is_empty() {
        return flows;
    }
    let mut reader =
        canh_sensor::capture::CaptureReader::from_reader("capture", Box::new(std::io::Cursor::new(capture.to_vec())))
            .unwrap();
    let mut decoder = canh_sensor::decode::Decoder::default();
    while reader.advance().unwrap() {
        let p = &reader.packet;
        if let Ok(Some(d)) = decoder.decode(p.linktype, &p.data, p.ts) {
            let cid = canh_sensor::community_id::community_id(d.src, d.dst, d.proto, d.sport, d.dport);
            flows.entry(cid).or_default().push(p.data.clone());
        }
    }
    flows
}

#[test]
fn live_capture_gives_what_replay_gives() {
    if !root() {
        return;
    }
    let (dir, pcap) = capture();
    let replayed = dir.path().join("replayed");
    let out = Command::new(env!("CARGO_BIN_EXE_canh"))
        .args(["replay", &pcap, "--out", replayed.to_str().unwrap(), "--rules", "bundled:vn-gov"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let want = logs(&replayed);
    assert!(want["conn"].len() > 100 && want["alerts"].len() > 10, "{want:?}");

    let ns = Namespace::new("live");
    let (got, said) = live(&ns, &pcap, &dir.path().join("one"), &[]);
    assert!(said.contains("dropped by the kernel 0"), "{said}");
    assert!(!said.contains("host clock"), "kernel timestamps: {said}");
    assert_eq!(got, want, "{said}");

    // Two workers, flows hashed by the kernel: the same records. Each keeps its frames in the
    // packet store, where every flow's frames are found whole.
    let store = dir.path().join("packets");
    let (got, said) =
        live(&ns, &pcap, &dir.path().join("two"), &["--workers", "2", "--packets", store.to_str().unwrap()]);
    assert!(said.contains("worker 1: received"), "{said}");
    assert_eq!(got, want, "{said}");
    let sent = frames_by_flow(&std::fs::read(&pcap).unwrap());
    let mut checked = 0;
    // The conn log's keys are its Community IDs.
    for cid in want["conn"].iter().take(40) {
        let wanted = canh_sensor::packets::extract::Wanted { community_id: cid.clone(), from: 0, to: u64::MAX };
        let got = canh_sensor::packets::extract::extract(&store, &wanted, 256 << 20).unwrap();
        assert_eq!(frames_by_flow(&got.pcap).remove(cid), sent.get(cid).cloned(), "{cid}");
        checked += 1;
    }
    assert_eq!(checked, 40);

    // A filter keeps DNS out.
    let (got, said) = live(&ns, &pcap, &dir.path().join("filtered"), &["--filter", "not port 53"]);
    assert!(got["dns"].is_empty(), "{said}");
    assert_eq!(got["http"], want["http"]);
}
