//! # canh-console
//!
//! The `canh` binary: its command line (`demo`, `replay`, `search`, `store`, `ingest`, `gen`,
//! `rules`, `bench`, `org`, `user`, `token`, `audit`, `server`), the console's state in SQLite
//! — organizations, users, sessions, alert triage and cases, the hash-chained audit trail
//! ([`state`]) — and the server: the web console and the HTTP API over one service layer
//! ([`server`]). This crate wires the others together; domain logic lives in them.
//!
//! Each subcommand is a module of [`cmd`] with a clap `Args` struct and a `run` function.

pub mod cmd;
pub mod config;
pub mod escape;
pub mod server;
pub mod state;
pub mod when;
