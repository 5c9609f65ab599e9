//! Subcommands of `canh`.

pub mod bench;
pub mod bench_store;
pub mod demo;
pub mod generate;
pub mod ingest;
pub mod replay;
pub mod rules;
pub mod search;
pub mod store;
