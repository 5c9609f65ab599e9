//! Subcommands of `canh`.

pub mod audit;
pub mod bench;
pub mod bench_store;
pub mod demo;
pub mod generate;
pub mod ingest;
pub mod org;
pub mod replay;
pub mod rules;
pub mod search;
pub mod server;
pub mod store;
pub mod token;
pub mod user;
