//! Subcommands of `canh`.

pub mod bench;
pub mod demo;
pub mod generate;
pub mod replay;
pub mod rules;
