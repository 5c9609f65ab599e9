//! The packet store behind alerts (`canh_sensor::packets`): every capture of the corpus goes
//! through the rolling store, and the frames of each of its flows come out by Community ID —
//! every frame of the flow, nothing of another.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use canh_sensor::capture::CaptureReader;
use canh_sensor::community_id::community_id;
use canh_sensor::decode::{Decoder, address_hash};
use canh_sensor::packets::extract::{Wanted, extract};
use canh_sensor::packets::ring::{PacketRing, RingConfig};

struct Frame {
    ts: u64,
    linktype: u32,
    data: Vec<u8>,
}

fn frames_of(path: &Path) -> Vec<Frame> {
    let Ok(mut reader) = CaptureReader::open(&path.display().to_string()) else { return Vec::new() };
    let mut frames = Vec::new();
    while let Ok(true) = reader.advance() {
        let p = &reader.packet;
        frames.push(Frame { ts: p.ts, linktype: p.linktype, data: p.data.clone() });
    }
    frames
}

/// The frames into a fresh store, as a sensor's reader writes them (kept whatever their age:
/// the corpus holds captures whose clocks jump by decades).
fn store(frames: &[Frame]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = RingConfig { dir: dir.path().into(), max_bytes: 1 << 30, max_age: Duration::MAX };
    let mut ring = PacketRing::open(&config, "r", &["r".to_string()]).unwrap();
    for f in frames {
        ring.write(f.ts, f.linktype, &f.data, f.data.len() as u32);
    }
    dir
}

/// The Community ID a frame decodes to on its own (with a decoder that has seen the frames
/// before it, for fragments).
fn flows(frames: &[Frame]) -> Vec<Option<String>> {
    let mut decoder = Decoder::default();
    frames
        .iter()
        .map(|f| match decoder.decode(f.linktype, &f.data, f.ts) {
            Ok(Some(d)) => Some(community_id(d.src, d.dst, d.proto, d.sport, d.dport)),
            _ => None,
        })
        .collect()
}

fn read_back(pcap: Vec<u8>) -> Vec<Frame> {
    let mut reader = CaptureReader::from_reader("extracted", Box::new(std::io::Cursor::new(pcap))).unwrap();
    let mut frames = Vec::new();
    while reader.advance().unwrap() {
        let p = &reader.packet;
        frames.push(Frame { ts: p.ts, linktype: p.linktype, data: p.data.clone() });
    }
    frames
}

#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn every_flow_of_every_corpus_capture_comes_out_whole() {
    let mut captures = 0;
    let mut checked = 0;
    let mut dirs: Vec<_> =
        ["pcaps", "pcaps-tcpdump", "pcaps-arkime"].iter().map(|d| common::corpus().join(d)).collect();
    dirs.retain(|d| d.is_dir());
    for dir in dirs {
        let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng")) {
            let mut frames = frames_of(path);
            if frames.is_empty() {
                continue;
            }
            captures += 1;
            // A pcap file holds times up to 2106 (the corpus tests later ones): those frames are
            // not stored.
            frames.retain(|f| f.ts / 1_000_000 <= u64::from(u32::MAX));
            if frames.is_empty() {
                continue;
            }
            let cids = flows(&frames);
            let mut expected: BTreeMap<&str, usize> = BTreeMap::new();
            for c in cids.iter().flatten() {
                *expected.entry(c).or_default() += 1;
            }
            let ring = store(&frames);
            let (from, to) = (frames.iter().map(|f| f.ts).min().unwrap(), frames.iter().map(|f| f.ts).max().unwrap());
            // Ten flows a capture at most: the corpus has hundreds of captures.
            for (cid, &n) in expected.iter().take(10) {
                let wanted = Wanted { community_id: cid.to_string(), from, to };
                let got = extract(ring.path(), &wanted, 256 << 20).unwrap();
                assert!(!got.truncated);
                assert!(
                    got.packets > 0,
                    "{}: {cid}: nothing came out of {} segments",
                    path.display(),
                    got.segments_read
                );
                let back = read_back(got.pcap);
                assert_eq!(back.len() as u64, got.packets);
                // Every frame of the flow that decodes came out (a capture whose frames mix
                // link types keeps those of the first one's)...
                let decoded = flows(&back).iter().filter(|c| c.as_deref() == Some(cid)).count();
                if got.other_linktype == 0 {
                    assert_eq!(decoded, n, "{}: {cid}", path.display());
                } else {
                    assert!(decoded < n, "{}: {cid}", path.display());
                }
                // ... and the others are fragments between the same addresses.
                let hash = back
                    .iter()
                    .zip(flows(&back))
                    .find(|(_, c)| c.as_deref() == Some(cid))
                    .map(|(f, _)| address_hash(f.linktype, &f.data));
                for f in &back {
                    let c = flows(std::slice::from_ref(f)).pop().flatten();
                    assert!(
                        c.as_deref() == Some(cid) || Some(address_hash(f.linktype, &f.data)) == hash,
                        "{}: {cid}: a frame of another flow",
                        path.display()
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(captures > 300 && checked > 1000, "{captures} captures, {checked} flows");
}

/// The fragments that come before the one completing a datagram decode to nothing alone:
/// they come out with the flow all the same.
#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn fragments_come_out_with_their_flow() {
    for (name, cid_of) in [
        ("defrag_bug-6887-defrag-ipv4-tcp-syn_frag-ip-tcp-syn.pcap", ("1.1.1.1", "2.2.2.2")),
        ("defrag_bug-6887-defrag-ipv6-tcp_frag-ip-tcp.pcap", ("::1", "::1")),
    ] {
        let frames = frames_of(&common::corpus().join("pcaps").join(name));
        assert_eq!(frames.len(), 3, "{name}");
        let ring = store(&frames);
        let cid = community_id(cid_of.0.parse().unwrap(), cid_of.1.parse().unwrap(), 6, 12345, 8080);
        let (from, to) = (frames[0].ts, frames[2].ts);
        let got = extract(ring.path(), &Wanted { community_id: cid.clone(), from, to }, 1 << 20).unwrap();
        assert_eq!(got.packets, 3, "{name}: {cid}");
        let other = community_id(cid_of.0.parse().unwrap(), cid_of.1.parse().unwrap(), 6, 12345, 8081);
        assert_eq!(extract(ring.path(), &Wanted { community_id: other, from, to }, 1 << 20).unwrap().packets, 0);
        // Cut at a limit: said so.
        let cut = extract(ring.path(), &Wanted { community_id: cid, from, to }, 100).unwrap();
        assert!(cut.truncated && cut.packets < 3, "{name}");
    }
}
