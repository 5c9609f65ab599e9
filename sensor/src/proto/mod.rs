//! Pure application-layer parsers over byte slices: no flow state, no records. Each is tested
//! on byte fixtures and fuzzed (see `fuzz/`).

pub mod dns;
pub mod http;
pub mod quic;
pub mod syslog;
pub mod tls;
