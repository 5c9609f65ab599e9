//! `canh audit verify`, `canh audit anchor` and `canh audit list`: the hash-chained audit
//! trail checked, its head given to a witness, its entries read (see `state::audit` for what
//! the chain and the anchor prove).

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};

use crate::config::DataArgs;
use crate::escape::terminal;
use crate::state::audit;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole trail: chain, anchor, and a witnessed entry if given. Exit 1 when it
    /// does not hold, with every place it breaks.
    Verify {
        /// An entry a witness holds, as `SEQ:HASH` (from `canh audit anchor`).
        #[arg(long, value_name = "SEQ:HASH")]
        witness: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print the trail's head (`SEQ:HASH`) for a witness off this machine.
    Anchor {
        #[command(flatten)]
        data: DataArgs,
    },
    /// The newest entries.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(args: AuditArgs) -> Result<i32> {
    match args.command {
        AuditCommand::Verify { witness, data } => {
            let state = super::state(&data)?;
            let witness = witness
                .as_deref()
                .map(|w| -> Result<(i64, &str)> {
                    let (seq, hash) = w.split_once(':').context("--witness takes SEQ:HASH")?;
                    Ok((seq.parse().context("--witness: SEQ is a number")?, hash))
                })
                .transpose()?;
            let v = audit::verify(state.conn(), state.dir(), witness)?;
            if v.holds() {
                let anchored = v.anchored.map(|s| format!(", anchored at entry {s}")).unwrap_or_default();
                println!("the audit trail holds: {} entries{anchored}", v.entries);
                Ok(0)
            } else {
                for p in &v.problems {
                    println!("{p}");
                }
                println!("the audit trail does NOT hold ({} entries read)", v.entries);
                Ok(1)
            }
        }
        AuditCommand::Anchor { data } => {
            let state = super::state(&data)?;
            let Some(head) = audit::recent(state.conn(), 1)?.into_iter().next() else {
                bail!("the audit trail is empty");
            };
            println!("{}:{}", head.seq, head.hash);
            Ok(0)
        }
        AuditCommand::List { limit, data } => {
            let state = super::state(&data)?;
            for e in audit::recent(state.conn(), limit)? {
                println!(
                    "{:>6} {} {} {} {} {} {}",
                    e.seq,
                    e.ts,
                    terminal(&e.actor),
                    e.action,
                    terminal(&e.target),
                    e.outcome,
                    terminal(&e.detail)
                );
            }
            Ok(0)
        }
    }
}
