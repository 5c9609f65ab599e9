//! `canh system add | list | show | import | classify`: the inventory of information systems
//! and their security level (cấp độ), from the command line.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use canh_compliance::catalog::Catalog;
use canh_compliance::classify::{Classification, cite_vi};
use canh_compliance::import;
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use canh_compliance::system::{
    InformationClass, InformationSystem, InfrastructureScope, NationalSecurityHarm, PublicService, SystemType,
    WorksGrade,
};
use clap::{Args, Subcommand, ValueEnum};

use crate::config::DataArgs;
use crate::escape::terminal;
use crate::state::{Actor, inventory};

#[derive(Debug, Args)]
pub struct SystemArgs {
    #[command(subcommand)]
    pub command: SystemCommand,
}

/// Art. 9.2's types as typed on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum TypeArg {
    Internal,
    CitizenService,
    Infrastructure,
    IndustrialControl,
    Other,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum InfoArg {
    Public,
    Private,
    Personal,
    StateSecret,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ScopeArg {
    OneBody,
    ProvinceOrSector,
    Nationwide,
    International,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum HarmArg {
    Harm,
    Serious,
    EspeciallySerious,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum WorksArg {
    GradeTwoToFour,
    GradeOne,
    Special,
    NationalSecurity,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ServiceArg {
    Information,
    Partial,
    EndToEnd,
}

/// The facts of a system given as flags.
#[derive(Debug, Args)]
pub struct Facts {
    /// Its type (Decree 331 Art. 9.2 a–đ).
    #[arg(long = "type", value_enum)]
    system_type: TypeArg,
    /// The information it processes (Art. 9.1), comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    info: Vec<InfoArg>,
    /// Data subjects of basic personal data.
    #[arg(long, default_value_t = 0)]
    basic_subjects: u64,
    /// Data subjects of sensitive personal data.
    #[arg(long, default_value_t = 0)]
    sensitive_subjects: u64,
    /// It handles administrative procedures (Art. 13.2.b).
    #[arg(long)]
    procedures: bool,
    /// Its online service is a conditional business line (Appendix IV, Law 143/2025).
    #[arg(long)]
    conditional: bool,
    /// Decree 85's online public-service level.
    #[arg(long, value_enum)]
    public_service: Option<ServiceArg>,
    /// Whom the infrastructure serves (type c).
    #[arg(long, value_enum)]
    scope: Option<ScopeArg>,
    /// Harm to national security if sabotaged (state secrets, defence or security).
    #[arg(long, value_enum)]
    harm: Option<HarmArg>,
    /// The construction works it controls (type d).
    #[arg(long, value_enum)]
    works: Option<WorksArg>,
    /// Must run 24/7 with no unplanned downtime.
    #[arg(long)]
    round_the_clock: bool,
    /// The level the risk assessment points to (may only raise, Art. 10.5).
    #[arg(long)]
    risk_level: Option<Level>,
}

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Add an information system to an organization's inventory.
    Add {
        /// Its code within the organization (a-z, 0-9, -, _).
        code: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        facts: Facts,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the systems, with their level.
    List {
        /// Only this organization's.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Show one system (CODE, or ORG/CODE).
    Show {
        system: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Import systems from a CSV or XLSX sheet (a row per system); all or nothing.
    Import {
        file: PathBuf,
        /// The organization of every row, when the sheet has no organization column.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Determine a system's level: every criterion that fires, with its article and clause.
    Classify {
        system: String,
        /// The rulebook: nd331-tcvn14423-2026 (default) or nd85-tcvn11930-2017.
        #[arg(long, default_value = "nd331-tcvn14423-2026")]
        regime: Regime,
        #[command(flatten)]
        data: DataArgs,
    },
}

fn profile_from(f: &Facts) -> canh_compliance::system::Profile {
    use canh_compliance::system::Profile;
    Profile {
        system_type: match f.system_type {
            TypeArg::Internal => SystemType::Internal,
            TypeArg::CitizenService => SystemType::CitizenService,
            TypeArg::Infrastructure => SystemType::Infrastructure,
            TypeArg::IndustrialControl => SystemType::IndustrialControl,
            TypeArg::Other => SystemType::Other,
        },
        information: f
            .info
            .iter()
            .map(|i| match i {
                InfoArg::Public => InformationClass::Public,
                InfoArg::Private => InformationClass::Private,
                InfoArg::Personal => InformationClass::Personal,
                InfoArg::StateSecret => InformationClass::StateSecret,
            })
            .collect(),
        basic_subjects: f.basic_subjects,
        sensitive_subjects: f.sensitive_subjects,
        handles_administrative_procedures: f.procedures,
        conditional_business_line: f.conditional,
        public_service: match f.public_service {
            None => PublicService::None,
            Some(ServiceArg::Information) => PublicService::Information,
            Some(ServiceArg::Partial) => PublicService::Partial,
            Some(ServiceArg::EndToEnd) => PublicService::EndToEnd,
        },
        infrastructure_scope: f.scope.map(|s| match s {
            ScopeArg::OneBody => InfrastructureScope::OneBody,
            ScopeArg::ProvinceOrSector => InfrastructureScope::ProvinceOrSector,
            ScopeArg::Nationwide => InfrastructureScope::Nationwide,
            ScopeArg::International => InfrastructureScope::International,
        }),
        national_security_harm: match f.harm {
            None => NationalSecurityHarm::None,
            Some(HarmArg::Harm) => NationalSecurityHarm::Harm,
            Some(HarmArg::Serious) => NationalSecurityHarm::Serious,
            Some(HarmArg::EspeciallySerious) => NationalSecurityHarm::EspeciallySerious,
        },
        works_grade: f.works.map(|w| match w {
            WorksArg::GradeTwoToFour => WorksGrade::GradeTwoToFour,
            WorksArg::GradeOne => WorksGrade::GradeOne,
            WorksArg::Special => WorksGrade::Special,
            WorksArg::NationalSecurity => WorksGrade::NationalSecurity,
        }),
        round_the_clock: f.round_the_clock,
        risk_assessment_level: f.risk_level,
        ..Default::default()
    }
}

pub fn run(args: SystemArgs) -> Result<i32> {
    let actor = Actor::cli();
    match args.command {
        SystemCommand::Add { code, org, name, facts, data } => {
            let mut state = super::state(&data)?;
            let system = InformationSystem { code, org, name, profile: profile_from(&facts), ..Default::default() };
            let stored = state.change(|tx| inventory::add(tx, &actor, &system))?;
            println!("added {}/{} ({})", stored.system.org, stored.system.code, terminal(&stored.system.name));
        }
        SystemCommand::List { org, data } => {
            let state = super::state(&data)?;
            let systems = inventory::list(state.conn(), &None)?;
            println!("{:<32} {:<4} {:<8} {:<9} NAME", "SYSTEM", "TYPE", "LEVEL", "APPROVED");
            for s in systems.iter().filter(|s| org.as_deref().is_none_or(|o| o == s.system.org)) {
                let id = format!("{}/{}", s.system.org, s.system.code);
                let level = s.level.map_or("-".to_string(), |l| l.to_string());
                let approved = s.approved_level.map_or("-".to_string(), |l| l.to_string());
                println!(
                    "{:<32} {:<4} {:<8} {:<9} {}",
                    terminal(&id),
                    s.system.profile.system_type.point(),
                    level,
                    approved,
                    terminal(&s.system.name)
                );
            }
        }
        SystemCommand::Show { system, data } => {
            let state = super::state(&data)?;
            let s = inventory::named(state.conn(), &system)?;
            show(&s);
            if let Some(kept) = inventory::classifications(state.conn(), s.id)?.first() {
                println!("\nlatest classification ({} by {}):", terminal(&kept.ts), terminal(&kept.actor));
                print_classification(&kept.result);
            }
        }
        SystemCommand::Import { file, org, data } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let is_workbook = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
            let sheet = if is_workbook {
                import::from_workbook(&bytes, org.as_deref())
            } else {
                import::from_csv(&bytes, org.as_deref())
            };
            let sheet = match sheet {
                Ok(sheet) => sheet,
                Err(e) => bail!("{}: {e}", file.display()),
            };
            let mut state = super::state(&data)?;
            let done = state
                .change(|tx| inventory::import(tx, &actor, &sheet.systems))
                .with_context(|| format!("{}: nothing imported", file.display()))?;
            println!("{}: {} added, {} updated", file.display(), done.added, done.updated);
            if !sheet.ignored_columns.is_empty() {
                println!("columns ignored: {}", terminal(&sheet.ignored_columns.join(", ")));
            }
        }
        SystemCommand::Classify { system, regime, data } => {
            let mut state = super::state(&data)?;
            let s = inventory::named(state.conn(), &system)?;
            let result = state.change(|tx| inventory::classify_system(tx, &actor, s.id, regime))?;
            println!("{}/{}: {}", s.system.org, s.system.code, terminal(&s.system.name));
            print_classification(&result);
            if let Some(level) = result.level {
                let catalog = Catalog::of(regime);
                println!(
                    "\n{} requirements of {} at level {} ({} groups)",
                    catalog.items(level).len(),
                    catalog.standard,
                    level.number(),
                    catalog.items(level).iter().filter(|i| i.requirement.is_none()).count()
                );
            }
        }
    }
    Ok(0)
}

fn show(s: &inventory::Stored) {
    let sys = &s.system;
    println!("{}/{}: {}", sys.org, sys.code, terminal(&sys.name));
    println!("  type:        {} ({})", sys.profile.system_type.point(), sys.profile.system_type.name_vi());
    let info: Vec<&str> = sys.profile.information.iter().map(|c| c.name_vi()).collect();
    println!("  information: {}", info.join(", "));
    println!("  owner:       {}", terminal(&sys.owner.name));
    println!("  operator:    {}", terminal(&sys.operator.name));
    println!("  subjects:    {} basic, {} sensitive", sys.profile.basic_subjects, sys.profile.sensitive_subjects);
    if !sys.administrative_procedures.is_empty() {
        println!("  procedures:  {}", terminal(&sys.administrative_procedures.join("; ")));
    }
    for z in &sys.zones {
        let ranges: Vec<String> = z.private_ranges.iter().chain(&z.public_ranges).map(|r| r.to_string()).collect();
        println!("  zone {}: {}", terminal(&z.name), ranges.join(", "));
    }
    match (s.level, s.regime) {
        (Some(l), Some(r)) => println!("  level:       {l} ({r})"),
        _ => println!("  level:       not classified"),
    }
    if let (Some(l), Some(r)) = (s.approved_level, s.approved_regime) {
        println!("  approved:    {l} ({r})");
    }
}

fn print_classification(c: &Classification) {
    match c.level {
        Some(level) => println!("level {} under {} ({})", level.number(), c.regime.decree(), c.regime.standard()),
        None => println!("no level yet under {}: see the points to confirm", c.regime.decree()),
    }
    for f in &c.fired {
        let mark = if Some(f.level) == c.level { "*" } else { " " };
        let detail = if f.detail.is_empty() { String::new() } else { format!(" [{}]", terminal(&f.detail)) };
        println!(" {mark} level {} — {}: {}{detail}", f.level.number(), cite_vi(&f.clause), f.vi);
    }
    if c.raised_by_risk {
        println!("   raised by the risk assessment (Art. 10.5)");
    }
    for f in &c.national_security_critical {
        println!(" ! critical to national security — {}: {}", cite_vi(&f.clause), f.vi);
    }
    for g in &c.grey {
        println!(" ? {}", g.vi);
    }
}
