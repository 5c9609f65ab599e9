//! # canh-sensor
//!
//! The sensor half of Canh: it turns captured packets into **records** (Zeek-compatible
//! `conn`, `dns`, `http`, `ssl` and `files` events) and **artifacts** (HTTP bodies and the
//! heads of TCP streams, hashed and MIME-sniffed) for the analyzer's Sigma and YARA rules.
//!
//! The pipeline, each stage a module:
//!
//! - [`capture`]: pcap and pcapng files (several, merged in time order; `-` is stdin);
//! - [`decode`]: link layer → tunnels → IP → TCP/UDP/ICMP with `pnet::packet` views, and
//!   [`defrag`] for IP fragments;
//! - [`flow`] and [`engine`]: the connection table (originator, Zeek `conn_state` and
//!   `history`, timeouts, caps) and [`reassembly`] of TCP streams;
//! - [`proto`] (pure parsers over byte slices) and [`app`] (per-connection state machines):
//!   DNS, HTTP/1.x, TLS, QUIC Initial handshakes, DNS over cleartext HTTP/2 — detected by
//!   content, not only by port;
//! - [`files`]: artifacts; [`record`]: the record types, each field's name and role declared
//!   once ([`schema`]); [`output`]: NDJSON logs;
//! - [`ids`]: the stable, specified ids (`uid`, `fuid`) records carry;
//! - [`replay`]: all of it over capture files, on one thread or several (`canh replay`);
//! - [`packets`]: the rolling packet store and the frames of one flow out of it.
//!
//! Every stage is bounded — fragments, flows, reassembly memory, HTTP heads, TLS buffers,
//! decoded bodies — so that hostile traffic cannot exhaust the sensor.
//!
//! ```no_run
//! use canh_sensor::replay::{replay, ReplayOptions};
//! use canh_sensor::output::Target;
//!
//! let opts = ReplayOptions {
//!     files: vec!["capture.pcap".into()],
//!     target: Target::Dir("logs".into()),
//!     extract_dir: None,
//!     workers: 1,
//!     engine: Default::default(),
//!     inspector: None,
//!     sink: None,
//!     packets: None,
//! };
//! let summary = replay(&opts, &|_bytes_read| {}).expect("readable capture");
//! println!("{} packets, {} flows", summary.stats.packets, summary.stats.flows);
//! ```

pub mod app;
pub mod capture;
pub mod community_id;
pub mod decode;
pub mod defrag;
pub mod engine;
pub mod files;
pub mod flow;
pub mod ids;
pub mod live;
pub mod output;
pub mod packets;
pub mod proto;
pub mod reassembly;
pub mod record;
pub mod replay;
pub mod schema;
pub mod ship;
pub mod time;
