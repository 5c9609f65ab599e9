//! One capture file, pcap or pcapng, read as a stream with `pcap-parser`.

use std::fmt;
use std::fs::File;
use std::io::Read;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{PcapBlockOwned, PcapError};

use crate::time::Micros;

/// Initial read buffer; grown for large records up to [`MAX_RECORD`].
const INITIAL_BUFFER: usize = 1 << 20;
/// No sane capture has a record this big; a larger one means the file is corrupt.
const MAX_RECORD: usize = 64 << 20;

/// One captured frame, owned (the reader reuses its allocation).
#[derive(Debug, Clone, Default)]
pub struct Packet {
    pub ts: Micros,
    pub linktype: u32,
    /// Length on the wire; `data` may be shorter when the capture was truncated (snaplen).
    pub orig_len: u32,
    pub data: Vec<u8>,
}

/// A capture that could not be read, naming the file and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureError {
    Open { file: String, reason: String },
    NotACapture { file: String },
    Truncated { file: String, offset: u64 },
    Corrupt { file: String, offset: u64, reason: String },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { file, reason } => write!(f, "{file}: cannot open: {reason}"),
            Self::NotACapture { file } => {
                write!(f, "{file}: not a capture file (no pcap or pcapng header at offset 0)")
            }
            Self::Truncated { file, offset } => {
                write!(f, "{file}: truncated: the record at byte offset {offset} is incomplete")
            }
            Self::Corrupt { file, offset, reason } => {
                write!(f, "{file}: corrupt at byte offset {offset}: {reason}")
            }
        }
    }
}

impl std::error::Error for CaptureError {}

/// What a pcapng interface says about its packets.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Timestamp units per second.
    resolution: u64,
    offset_secs: i64,
}

/// Streams the packets of one capture file. `name` "-" reads standard input.
pub struct CaptureReader {
    name: String,
    reader: Box<dyn PcapReaderIterator + Send>,
    capacity: usize,
    /// Bytes of the file consumed so far: the offset of the next block.
    offset: u64,
    legacy: Option<(u32, bool)>,
    interfaces: Vec<Interface>,
    /// The current packet, valid after `advance` returned true.
    pub packet: Packet,
}

impl CaptureReader {
    pub fn open(name: &str) -> Result<Self, CaptureError> {
        let input: Box<dyn Read + Send> = if name == "-" {
            Box::new(std::io::stdin())
        } else {
            let file =
                File::open(name).map_err(|e| CaptureError::Open { file: name.to_string(), reason: e.to_string() })?;
            Box::new(file)
        };
        Self::from_reader(name, input)
    }

    pub fn from_reader(name: &str, input: Box<dyn Read + Send>) -> Result<Self, CaptureError> {
        let reader = pcap_parser::create_reader(INITIAL_BUFFER, input).map_err(|e| match e {
            PcapError::Eof | PcapError::HeaderNotRecognized | PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
                CaptureError::NotACapture { file: name.to_string() }
            }
            other => CaptureError::Open { file: name.to_string(), reason: format!("{other:?}") },
        })?;
        Ok(Self {
            name: name.to_string(),
            reader,
            capacity: INITIAL_BUFFER,
            offset: 0,
            legacy: None,
            interfaces: Vec::new(),
            packet: Packet::default(),
        })
    }

    /// Bytes of the file read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next packet into `self.packet`. `Ok(false)` at the end of the file.
    pub fn advance(&mut self) -> Result<bool, CaptureError> {
        loop {
            let step = match self.reader.next() {
                Ok((len, block)) => {
                    let got = take_block(block, &mut self.legacy, &mut self.interfaces, &mut self.packet);
                    Ok((len, got))
                }
                Err(PcapError::Eof) => return Ok(false),
                Err(PcapError::UnexpectedEof) => {
                    return Err(CaptureError::Truncated { file: self.name.clone(), offset: self.offset });
                }
                Err(PcapError::Incomplete(_)) => Err(true),
                Err(e) => {
                    let reason = match e {
                        PcapError::NomError(_, kind) => format!("unparseable block ({kind:?})"),
                        other => format!("{other:?}"),
                    };
                    return Err(self.corrupt(reason));
                }
            };
            match step {
                Ok((len, got)) => {
                    self.reader.consume(len);
                    self.offset += len as u64;
                    match got {
                        Ok(true) => return Ok(true),
                        Ok(false) => continue,
                        Err(reason) => return Err(self.corrupt(reason)),
                    }
                }
                Err(_incomplete) => {
                    if self.reader.reader_exhausted() {
                        return Err(CaptureError::Truncated { file: self.name.clone(), offset: self.offset });
                    }
                    if self.reader.data().len() >= self.capacity {
                        // One record fills the whole buffer: grow it, within reason.
                        if self.capacity >= MAX_RECORD || !self.reader.grow(self.capacity * 2) {
                            return Err(self.corrupt(format!("a record larger than {MAX_RECORD} bytes")));
                        }
                        self.capacity *= 2;
                    }
                    let failed = self.reader.refill().err().map(|e| format!("read failed: {e:?}"));
                    if let Some(reason) = failed {
                        return Err(self.corrupt(reason));
                    }
                }
            }
        }
    }

    fn corrupt(&self, reason: String) -> CaptureError {
        CaptureError::Corrupt { file: self.name.clone(), offset: self.offset, reason }
    }
}

/// Applies one block: header blocks update the reader's state, packet blocks fill `packet`.
/// Returns whether a packet was produced.
fn take_block(
    block: PcapBlockOwned<'_>,
    legacy: &mut Option<(u32, bool)>,
    interfaces: &mut Vec<Interface>,
    packet: &mut Packet,
) -> Result<bool, String> {
    match block {
        PcapBlockOwned::LegacyHeader(h) => {
            *legacy = Some((h.network.0 as u32, h.is_nanosecond_precision()));
            Ok(false)
        }
        PcapBlockOwned::Legacy(b) => {
            let (linktype, nanos) = legacy.ok_or("packet record before the file header")?;
            let frac = if nanos { u64::from(b.ts_usec) / 1000 } else { u64::from(b.ts_usec) };
            fill(packet, u64::from(b.ts_sec) * 1_000_000 + frac, linktype, b.origlen, b.data);
            Ok(true)
        }
        PcapBlockOwned::NG(Block::SectionHeader(_)) => {
            // Interface ids are numbered per section.
            interfaces.clear();
            Ok(false)
        }
        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
            let resolution = idb.ts_resolution().unwrap_or(1_000_000).max(1);
            interfaces.push(Interface { linktype: idb.linktype.0 as u32, resolution, offset_secs: idb.ts_offset() });
            Ok(false)
        }
        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
            let iface = interfaces
                .get(epb.if_id as usize)
                .ok_or_else(|| format!("packet for undeclared interface {}", epb.if_id))?;
            let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let secs = (units / iface.resolution) as i64 + iface.offset_secs;
            let frac = (u128::from(units % iface.resolution) * 1_000_000 / u128::from(iface.resolution)) as u64;
            let ts = (secs.max(0) as u64) * 1_000_000 + frac;
            fill(packet, ts, iface.linktype, epb.origlen, epb.packet_data());
            Ok(true)
        }
        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
            // SPBs carry no timestamp and belong to interface 0; keep the previous time.
            let iface = interfaces.first().ok_or("simple packet block without an interface")?;
            let ts = packet.ts;
            fill(packet, ts, iface.linktype, spb.origlen, spb.packet_data());
            Ok(true)
        }
        PcapBlockOwned::NG(_) => Ok(false),
    }
}

fn fill(packet: &mut Packet, ts: Micros, linktype: u32, orig_len: u32, data: &[u8]) {
    packet.ts = ts;
    packet.linktype = linktype;
    packet.orig_len = orig_len.max(data.len() as u32);
    packet.data.clear();
    packet.data.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: Vec<u8>) -> CaptureReader {
        CaptureReader::from_reader("fixture.pcap", Box::new(std::io::Cursor::new(bytes))).expect("a capture")
    }

    fn all(mut r: CaptureReader) -> (Vec<Packet>, Option<CaptureError>) {
        let mut out = Vec::new();
        loop {
            match r.advance() {
                Ok(true) => out.push(r.packet.clone()),
                Ok(false) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    /// A legacy pcap: `nanos` selects the 0xa1b23c4d magic; `be` the byte order.
    fn legacy(nanos: bool, be: bool, frames: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut b = Vec::new();
        b.extend_from_slice(&w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
        b.extend_from_slice(&w16(2));
        b.extend_from_slice(&w16(4));
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&w32(65535));
        b.extend_from_slice(&w32(1));
        for (sec, frac, data) in frames {
            b.extend_from_slice(&w32(*sec));
            b.extend_from_slice(&w32(*frac));
            b.extend_from_slice(&w32(data.len() as u32));
            b.extend_from_slice(&w32(data.len() as u32 + 10));
            b.extend_from_slice(data);
        }
        b
    }

    #[test]
    fn legacy_pcap_all_four_variants() {
        for nanos in [false, true] {
            for be in [false, true] {
                let frac = if nanos { 123_456_789 } else { 123_456 };
                let (pkts, err) =
                    all(reader(legacy(nanos, be, &[(1_700_000_000, frac, b"abc"), (1_700_000_001, 0, b"de")])));
                assert_eq!(err, None);
                assert_eq!(pkts.len(), 2, "nanos={nanos} be={be}");
                assert_eq!(pkts[0].ts, 1_700_000_000_123_456, "nanos={nanos} be={be}");
                assert_eq!((pkts[0].linktype, pkts[0].orig_len, pkts[0].data.as_slice()), (1, 13, b"abc".as_slice()));
                assert_eq!(pkts[1].ts, 1_700_000_001_000_000);
            }
        }
    }

    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let len = 12 + body.len().div_ceil(4) * 4;
        let mut b = Vec::new();
        b.extend_from_slice(&kind.to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(body);
        b.resize(len - 4, 0);
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b
    }

    fn idb(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&65535u32.to_le_bytes());
        if let Some(r) = tsresol {
            body.extend_from_slice(&[9, 0, 1, 0, r, 0, 0, 0]);
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(1, &body)
    }

    fn epb(iface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        block(6, &body)
    }

    fn pcapng() -> Vec<u8> {
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        let mut f = block(0x0a0d_0d0a, &shb);
        f.extend(idb(1, None)); // interface 0: Ethernet, microseconds
        f.extend(idb(101, Some(9))); // interface 1: raw IP, nanoseconds
        f.extend(epb(0, 1_700_000_000_000_001, b"eth"));
        f.extend(epb(1, 1_700_000_000_000_002_000, b"raw"));
        let mut spb = Vec::new();
        spb.extend_from_slice(&4u32.to_le_bytes());
        spb.extend_from_slice(b"spb!");
        f.extend(block(3, &spb));
        f
    }

    #[test]
    fn pcapng_interfaces_resolutions_and_simple_packets() {
        let (pkts, err) = all(reader(pcapng()));
        assert_eq!(err, None);
        assert_eq!(pkts.len(), 3);
        assert_eq!(
            (pkts[0].linktype, pkts[0].ts, pkts[0].data.as_slice()),
            (1, 1_700_000_000_000_001, b"eth".as_slice())
        );
        assert_eq!((pkts[1].linktype, pkts[1].ts), (101, 1_700_000_000_000_002));
        // A simple packet block belongs to interface 0 and has no time of its own.
        assert_eq!(
            (pkts[2].linktype, pkts[2].ts, pkts[2].data.as_slice()),
            (1, 1_700_000_000_000_002, b"spb!".as_slice())
        );
    }

    #[test]
    fn truncation_keeps_what_came_before_and_names_the_offset() {
        let mut bytes = legacy(false, false, &[(1, 0, b"first"), (2, 0, b"second")]);
        bytes.truncate(bytes.len() - 3);
        let (pkts, err) = all(reader(bytes));
        assert_eq!(pkts.len(), 1);
        // 24-byte header + 16-byte record header + 5 bytes: the second record starts at 45.
        assert_eq!(err, Some(CaptureError::Truncated { file: "fixture.pcap".into(), offset: 45 }));
        assert_eq!(err.unwrap().to_string(), "fixture.pcap: truncated: the record at byte offset 45 is incomplete");
    }

    #[test]
    fn not_a_capture_is_refused() {
        let e = CaptureReader::from_reader(
            "notes.txt",
            Box::new(std::io::Cursor::new(b"hello, this is text\n".repeat(10))),
        )
        .err();
        assert_eq!(e, Some(CaptureError::NotACapture { file: "notes.txt".into() }));
        let e = CaptureReader::from_reader("empty.pcap", Box::new(std::io::Cursor::new(Vec::new()))).err();
        assert_eq!(e, Some(CaptureError::NotACapture { file: "empty.pcap".into() }));
    }

    #[test]
    fn packet_for_an_undeclared_interface_is_corruption() {
        let mut f = pcapng();
        f.extend(epb(7, 0, b"x"));
        let (pkts, err) = all(reader(f));
        assert_eq!(pkts.len(), 3);
        assert!(
            matches!(err, Some(CaptureError::Corrupt { ref reason, .. }) if reason.contains("interface 7")),
            "{err:?}"
        );
    }
}
