//! Where packets come from: capture files (pcap, pcapng) read in time order, and live capture.

mod file;
mod merge;

pub use file::{CaptureError, CaptureReader, Packet};
pub use merge::MergedReader;
