//! `canh org add` and `canh org list`: the tree of organizations whose records and users the
//! console keeps apart.

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::config::DataArgs;
use crate::escape::terminal;
use crate::state::{Actor, org};

#[derive(Debug, Args)]
pub struct OrgArgs {
    #[command(subcommand)]
    pub command: OrgCommand,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an organization (the province, a department, a commune, a unit).
    Add {
        /// Its code: what records carry as `_org` (a-z, 0-9, -, _, .).
        code: String,
        /// Its name as written (Sở Khoa học và Công nghệ).
        #[arg(long)]
        name: String,
        /// The organization it belongs to; none for the root.
        #[arg(long)]
        parent: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Show the tree.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(args: OrgArgs) -> Result<i32> {
    match args.command {
        OrgCommand::Add { code, name, parent, data } => {
            let mut state = super::state(&data)?;
            let actor = Actor::cli();
            let org = state.change(|tx| org::add(tx, &actor, &code, &name, parent.as_deref()))?;
            println!("added {} ({})", org.code, terminal(&org.name));
        }
        OrgCommand::List { data } => {
            let state = super::state(&data)?;
            for o in org::list(state.conn())? {
                println!("{}{}  {}", "  ".repeat(o.depth), o.code, terminal(&o.name));
            }
        }
    }
    Ok(0)
}
