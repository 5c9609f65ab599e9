//! Subcommands of `canh`.

pub mod demo;
pub mod generate;
pub mod replay;
pub mod rules;
