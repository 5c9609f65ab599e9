//! # canh-console
//!
//! The `canh` binary: its command line (`demo`, `replay`, `search`, `store`, `ingest`, `gen`,
//! `rules`, `bench`, `org`, `user`, `audit`), the console's state — organizations, users and
//! the hash-chained audit trail in SQLite ([`state`]) — and, as the next issues land, the
//! central server, the web console and HTTP API. This crate wires the others together; domain
//! logic lives in them.
//!
//! Each subcommand is a module of [`cmd`] with a clap `Args` struct and a `run` function.

pub mod cmd;
pub mod config;
pub mod escape;
pub mod server;
pub mod state;
