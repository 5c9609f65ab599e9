//! Subcommands of `canh`.

pub mod audit;
pub mod bench;
pub mod bench_console;
pub mod bench_store;
pub mod catalog;
pub mod demo;
pub mod demo_compliance;
pub mod demo_province;
pub mod dossier;
pub mod generate;
pub mod indexer;
pub mod ingest;
pub mod org;
pub mod replay;
pub mod rules;
pub mod search;
pub mod sensor;
pub mod sensor_run;
pub mod server;
pub mod store;
pub mod system;
pub mod token;
pub mod user;

/// The console state (`state::State`) of the data directory these flags name: what `org`,
/// `user`, `token` and `audit` work on.
pub fn state(data: &crate::config::DataArgs) -> anyhow::Result<crate::state::State> {
    let config = data.load()?;
    Ok(crate::state::State::open(&data.data_dir(&config))?)
}
