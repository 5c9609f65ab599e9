//! The frames of one flow, out of the packet store: those whose Community ID is the one asked
//! for, within a time window, in the order they were captured, as one pcap file.
//!
//! Only the segments whose time span meets the window are read. A frame is matched by the
//! Community ID of its decoded flow, or of its outer UDP tunnel's flow. The fragments of an IP
//! datagram before the one that completes it decode to nothing on their own; they are kept
//! when the datagram they belong to matches (the last frames that did not decode are held by
//! their address pair for that).

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use byteorder_slice::LittleEndian;
use pcap_file::TsResolution;
use pcap_file::pcap::PcapPacket;

use super::parse_segment_name;
use super::ring::SNAPLEN;
use crate::capture::CaptureReader;
use crate::community_id::community_id;
use crate::decode::{Decoder, address_hash};
use crate::time::Micros;

/// What is asked for.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Wanted {
    pub community_id: String,
    pub from: Micros,
    pub to: Micros,
}

/// What was found.
#[derive(Debug, Default)]
pub struct Extracted {
    /// A pcap file (microsecond timestamps, the link type of the first frame found).
    pub pcap: Vec<u8>,
    pub packets: u64,
    /// The limit was reached: the frames after it were left out.
    pub truncated: bool,
    pub segments_read: usize,
    /// Frames of the flow with another link type than the first one found (a pcap file has
    /// one), left out.
    pub other_linktype: u64,
}

/// Frames that did not decode on their own, held in case their datagram matches.
const HELD: usize = 256;

struct Frame {
    ts: Micros,
    linktype: u32,
    orig_len: u32,
    data: Vec<u8>,
}

type FlowKey = (IpAddr, IpAddr, u8, u16, u16);

/// Extracts the frames of `wanted` from the store in `dir`, the pcap at most `limit` bytes.
pub fn extract(dir: &Path, wanted: &Wanted, limit: usize) -> io::Result<Extracted> {
    let mut segments: Vec<(Micros, String, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))? {
        let entry = entry?;
        let name = entry.file_name();
        if let Some((first, writer)) = name.to_str().and_then(parse_segment_name) {
            segments.push((first, writer.to_string(), entry.path()));
        }
    }
    segments.sort();
    // A segment ends where its writer's next one begins (the newest: open-ended).
    let mut chosen = Vec::new();
    for (i, (first, writer, path)) in segments.iter().enumerate() {
        let end = segments[i + 1..].iter().find(|(_, w, _)| w == writer).map_or(Micros::MAX, |(f, _, _)| *f);
        if *first <= wanted.to && end >= wanted.from {
            chosen.push(path.clone());
        }
    }
    let mut out = Extracted { segments_read: chosen.len(), ..Default::default() };
    let mut found: Vec<Frame> = Vec::new();
    let mut size = 24usize;
    let mut decoder = Decoder::default();
    let mut verdicts: HashMap<FlowKey, bool, foldhash::fast::RandomState> = HashMap::default();
    let mut matches = |key: FlowKey| {
        *verdicts.entry(key).or_insert_with(|| community_id(key.0, key.1, key.2, key.3, key.4) == wanted.community_id)
    };
    'segments: for path in chosen {
        let Ok(mut reader) = CaptureReader::open(&path.display().to_string()) else { continue };
        let mut held: VecDeque<(u64, Frame)> = VecDeque::new();
        // The newest segment may end in a frame being written: what comes before it counts.
        while let Ok(true) = reader.advance() {
            let p = &reader.packet;
            if p.ts < wanted.from || p.ts > wanted.to {
                continue;
            }
            let hit = match decoder.decode(p.linktype, &p.data, p.ts) {
                Ok(Some(d)) => {
                    matches((d.src, d.dst, d.proto, d.sport, d.dport))
                        || d.tunnel
                            .as_ref()
                            .and_then(|t| t.outer())
                            .is_some_and(|o| matches((o.src, o.dst, o.proto, o.sport, o.dport)))
                }
                Ok(None) => {
                    let hash = address_hash(p.linktype, &p.data);
                    if hash != 0 {
                        if held.len() == HELD {
                            held.pop_front();
                        }
                        held.push_back((hash, copy(p)));
                    }
                    false
                }
                Err(_) => false,
            };
            if !hit {
                continue;
            }
            let hash = address_hash(p.linktype, &p.data);
            let mut frames: Vec<Frame> = Vec::new();
            held.retain_mut(|(h, f)| {
                if *h == hash {
                    frames.push(std::mem::replace(f, Frame { ts: 0, linktype: 0, orig_len: 0, data: Vec::new() }));
                    false
                } else {
                    true
                }
            });
            frames.push(copy(p));
            for f in frames {
                size += 16 + f.data.len();
                if size > limit {
                    out.truncated = true;
                    break 'segments;
                }
                found.push(f);
            }
        }
    }
    let Some(linktype) = found.first().map(|f| f.linktype) else { return Ok(out) };
    let header = super::pcap_header(linktype);
    let bad = |e: pcap_file::PcapError| io::Error::other(e.to_string());
    header.write_to(&mut out.pcap).map_err(bad)?;
    for f in &found {
        if f.linktype != linktype {
            out.other_linktype += 1;
            continue;
        }
        let data = &f.data[..f.data.len().min(SNAPLEN as usize)];
        PcapPacket::new(Duration::from_micros(f.ts), f.orig_len.max(f.data.len() as u32), data)
            .write_to::<_, LittleEndian>(&mut out.pcap, TsResolution::MicroSecond, SNAPLEN)
            .map_err(bad)?;
        out.packets += 1;
    }
    Ok(out)
}

fn copy(p: &crate::capture::Packet) -> Frame {
    Frame { ts: p.ts, linktype: p.linktype, orig_len: p.orig_len, data: p.data.clone() }
}
