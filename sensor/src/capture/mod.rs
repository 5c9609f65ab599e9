//! Where packets come from: capture files (pcap, pcapng) read in time order, and live capture.

pub mod bpf;
mod file;
pub mod live;
mod merge;

pub use file::{CaptureError, CaptureReader, Packet};
pub use merge::MergedReader;
