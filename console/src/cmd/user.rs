//! `canh user add` and `canh user list`: console accounts, each with one role and one
//! organization.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use crate::config::DataArgs;
use crate::escape::terminal;
use crate::state::user::{self, Role};
use crate::state::{Actor, password};

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is asked for on the terminal, or read as one line from
    /// standard input when that is not a terminal (`--password-stdin` for scripts).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The organization whose subtree the user sees.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Give a user a TOTP second factor (required for admins), replacing any before it;
    /// prints the secret and the otpauth:// address for an authenticator app.
    Totp {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the users.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(args: UserArgs) -> Result<i32> {
    match args.command {
        UserCommand::Add { name, role, org, data } => {
            let mut state = super::state(&data)?;
            let secret = read_password()?;
            if let Err(lacks) = password::check(&secret) {
                bail!("{}", password::explain(&lacks));
            }
            let actor = Actor::cli();
            let u = state.change(|tx| user::add(tx, &actor, &name, role, &org, &secret))?;
            println!("added {} ({} in {})", terminal(&u.name), u.role.as_str(), u.org);
        }
        UserCommand::Totp { name, data } => {
            let mut state = super::state(&data)?;
            let actor = Actor::cli();
            let (secret, url) = state.change(|tx| crate::state::totp::enroll(tx, &actor, &name, "Canh"))?;
            println!("secret: {secret}\n{url}");
        }
        UserCommand::List { data } => {
            let state = super::state(&data)?;
            for u in user::list(state.conn())? {
                let flags = [(u.has_totp, "totp"), (u.disabled, "disabled")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, f)| *f)
                    .collect::<Vec<_>>()
                    .join(",");
                println!("{:<24} {:<13} {:<20} {flags}", terminal(&u.name), u.role.as_str(), u.org);
            }
        }
    }
    Ok(0)
}

/// The new password: asked twice on a terminal (not echoed), else one line of stdin.
fn read_password() -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\n', '\r']).to_string();
    if line.is_empty() {
        bail!("no password on standard input");
    }
    Ok(line)
}
