//! `canh token add|list|revoke`: API tokens for scripts (see `state::token`).

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::config::DataArgs;
use crate::escape::terminal;
use crate::state::user::Role;
use crate::state::{Actor, now_unix as now, token};

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token; its secret is printed once and never stored.
    Add {
        /// What the token is for (a script's name).
        label: String,
        /// The user it acts for.
        #[arg(long)]
        user: String,
        /// Its role: the user's, or auditor (read-only).
        #[arg(long, value_enum)]
        role: Role,
        /// Its organization: the user's or one under it.
        #[arg(long)]
        org: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a token at once.
    Revoke {
        id: i64,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(args: TokenArgs) -> Result<i32> {
    let actor = Actor::cli();
    match args.command {
        TokenCommand::Add { label, user, role, org, days, data } => {
            let mut state = super::state(&data)?;
            let now = now();
            let expires = now + i64::from(days) * 86_400;
            let (id, secret) = state.change(|tx| token::issue(tx, &actor, &user, &label, role, &org, now, expires))?;
            println!("token {id} ({}); its secret, shown this once:\n{secret}", terminal(&label));
        }
        TokenCommand::List { data } => {
            let state = super::state(&data)?;
            let now = now();
            for t in token::list(state.conn())? {
                let status = if t.revoked {
                    "revoked"
                } else if t.expires <= now {
                    "expired"
                } else {
                    "live"
                };
                println!(
                    "{:>4} {:<24} {:<20} {:<13} {:<20} {status}",
                    t.id,
                    terminal(&t.label),
                    terminal(&t.owner),
                    t.role.as_str(),
                    t.org
                );
            }
        }
        TokenCommand::Revoke { id, data } => {
            let mut state = super::state(&data)?;
            state.change(|tx| token::revoke(tx, &actor, id, now()))?;
            println!("token {id} revoked");
        }
    }
    Ok(0)
}
