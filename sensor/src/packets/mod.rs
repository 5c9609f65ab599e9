//! The packets behind an alert. A sensor keeps what it captured in a rolling store on disk
//! ([`ring`]): pcap segments, bounded by size and by age, the oldest removed first — as
//! Suricata's pcap-log in ring-buffer mode or Arkime's capture keep them. The frames of one
//! flow come out of it by Community ID and time ([`extract`]) when a console user asks for
//! them; the request and the answer travel over the sensor's mutual-TLS channel
//! ([`crate::ship::wire::PACKETS_PATH`]).

pub mod extract;
pub mod ring;

/// The header of the pcap files the store writes (segments, and what is extracted): little
/// endian, microsecond times, [`ring::SNAPLEN`].
pub(crate) fn pcap_header(linktype: u32) -> pcap_file::pcap::PcapHeader {
    pcap_file::pcap::PcapHeader {
        version_major: 2,
        version_minor: 4,
        ts_correction: 0,
        ts_accuracy: 0,
        snaplen: ring::SNAPLEN,
        datalink: pcap_file::DataLink::from(linktype),
        ts_resolution: pcap_file::TsResolution::MicroSecond,
        endianness: pcap_file::Endianness::Little,
    }
}

/// The name of a segment: when its first frame was captured (microseconds since the epoch,
/// zero-padded so that names sort in time) and which writer made it (`w0`, `w1` for live
/// workers, `r` for capture files). A segment holds frames from its first time up to the
/// first time of its writer's next segment.
pub(crate) fn segment_name(first: crate::time::Micros, writer: &str) -> String {
    format!("{first:020}-{writer}.pcap")
}

/// A segment's first time and writer, from its name; `None` for any other file.
pub(crate) fn parse_segment_name(name: &str) -> Option<(crate::time::Micros, &str)> {
    let stem = name.strip_suffix(".pcap")?;
    let (first, writer) = stem.split_once('-')?;
    let valid = first.len() == 20
        && first.bytes().all(|b| b.is_ascii_digit())
        && !writer.is_empty()
        && writer.bytes().all(|b| b.is_ascii_alphanumeric());
    if !valid {
        return None;
    }
    Some((first.parse().ok()?, writer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_round_trip_and_sort_in_time() {
        assert_eq!(parse_segment_name(&segment_name(1_700_000_000_123_456, "w3")), Some((1_700_000_000_123_456, "w3")));
        assert!(segment_name(9_000_000, "r") < segment_name(10_000_000, "r"));
        for other in ["x.pcap", "00000000000000000001-.pcap", "00000000000000000001-a/b.pcap", "spool.state"] {
            assert_eq!(parse_segment_name(other), None, "{other}");
        }
    }
}
