//! # canh-console
//!
//! The `canh` binary: its command line today (`demo`, `replay`, `search`, `store`, `ingest`,
//! `gen`, `rules`, `bench`), and — as the next
//! issues land — the central server, the web console and HTTP API, users, roles and the audit
//! trail. This crate wires the others together; domain logic lives in them.
//!
//! Each subcommand is a module of [`cmd`] with a clap `Args` struct and a `run` function.

pub mod cmd;
pub mod config;
pub mod escape;
