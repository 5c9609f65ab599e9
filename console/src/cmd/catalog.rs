//! `canh catalog show | text`: the requirement catalogs built into Canh, and the full text of
//! the standard an organization holds (the catalogs carry paraphrases only: the standards are
//! copyrighted), imported as a local file that the console shows beside each requirement.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use canh_compliance::catalog::{Catalog, LocalText};
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use clap::{Args, Subcommand};

use crate::config::DataArgs;
use crate::escape::terminal;

#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub command: CatalogCommand,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// The requirements of a level: clause, group, paraphrase, period.
    Show {
        level: Level,
        #[arg(long, default_value = "nd331-tcvn14423-2026")]
        regime: Regime,
    },
    /// Import the full text of the standard you hold: a CSV of `level,clause,text` rows
    /// (header first), checked, kept under DATA/catalog/ and shown in the console.
    Text {
        file: PathBuf,
        #[arg(long, default_value = "nd331-tcvn14423-2026")]
        regime: Regime,
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Where a regime's imported text is kept.
pub fn text_path(data: &Path, regime: Regime) -> PathBuf {
    data.join("catalog").join(format!("{}.csv", regime.id()))
}

/// The imported text of a regime, if any (a file that no longer parses is ignored, with a log).
pub fn local_text(data: &Path, regime: Regime) -> Option<LocalText> {
    let bytes = std::fs::read(text_path(data, regime)).ok()?;
    LocalText::parse(&bytes).map_err(|e| tracing::warn!("{}: {e}", text_path(data, regime).display())).ok()
}

pub fn run(args: CatalogArgs) -> Result<i32> {
    match args.command {
        CatalogCommand::Show { level, regime } => {
            let catalog = Catalog::of(regime);
            println!(
                "{} ({}), level {}; paraphrased from a guide of {}{}",
                catalog.standard,
                catalog.decree,
                level.number(),
                catalog.source_date,
                if catalog.verified { "" } else { ", clause numbers not verified against the standard" }
            );
            for item in catalog.items(level) {
                let period = item.period().map(|p| format!("  [{p}]")).unwrap_or_default();
                println!("{:<14} {:<16} {}{period}", item.clause, item.group.key, item.vi());
            }
        }
        CatalogCommand::Text { file, regime, data } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = match LocalText::parse(&bytes) {
                Ok(t) => t,
                Err(e) => bail!("{}: {e}", file.display()),
            };
            let catalog = Catalog::of(regime);
            let known = Level::ALL.iter().flat_map(|l| catalog.items(*l)).filter(|i| text.get(i).is_some()).count();
            let config = data.load()?;
            let dir = data.data_dir(&config);
            let path = text_path(&dir, regime);
            std::fs::create_dir_all(path.parent().expect("a parent"))
                .with_context(|| format!("creating {}", path.display()))?;
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            println!(
                "{}: {} clauses, {known} of them requirements of the catalog; kept as {}",
                terminal(&file.display().to_string()),
                text.len(),
                path.display()
            );
        }
    }
    Ok(0)
}
