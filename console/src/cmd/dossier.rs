//! `canh dossier open | list | show | act`, `canh dossier regulation`, `canh dossier authority`
//! and `canh calendar`: the level dossiers (hồ sơ đề xuất cấp độ) and what their deadlines
//! are counted on, from the command line (which acts for the whole installation).

use anyhow::{Result, bail};
use canh_compliance::calendar::DayKind;
use canh_compliance::dossier::{Action, Part};
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use clap::{Args, Subcommand, ValueEnum};

use crate::config::DataArgs;
use crate::escape::terminal;
use crate::state::{Actor, calendar, dossier, inventory};
use crate::when::{parse_date, today_in_vietnam};

#[derive(Debug, Args)]
pub struct DossierArgs {
    #[command(subcommand)]
    pub command: DossierCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum PartArg {
    Preparer,
    Opinion,
    Appraiser,
    Approver,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ActionArg {
    RequestOpinion,
    GiveOpinion,
    Submit,
    ReturnForCompletion,
    AcceptComplete,
    AppraiseSuitable,
    AppraiseNotSuitable,
    Listed,
    SubmitForApproval,
    Approve,
    ReturnByApprover,
    Withdraw,
}

#[derive(Debug, Subcommand)]
pub enum DossierCommand {
    /// Open a draft dossier for one system, or several level 1–2 systems of one organization.
    Open {
        /// The systems (CODE or ORG/CODE).
        #[arg(required = true)]
        systems: Vec<String>,
        #[arg(long, default_value = "nd331-tcvn14423-2026")]
        regime: Regime,
        /// The proposed level; default: the highest classified.
        #[arg(long)]
        level: Option<Level>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the dossiers with their stage and deadline.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// One dossier with its steps.
    Show {
        id: i64,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Take a step.
    Act {
        id: i64,
        #[arg(value_enum)]
        action: ActionArg,
        /// The part taken (default: the action's).
        #[arg(long = "as", value_enum)]
        part: Option<PartArg>,
        /// Why (required to return, find not suitable, or withdraw).
        #[arg(long, default_value = "")]
        reason: String,
        /// The approval decision's number and symbol (approve).
        #[arg(long)]
        decision: Option<String>,
        /// The day it counts as (default: today in Vietnam).
        #[arg(long)]
        on: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Record an organization's security regulation (quy chế, Art. 30.7): approval needs it.
    Regulation {
        org: String,
        #[arg(long)]
        number: String,
        #[arg(long)]
        issued: String,
        #[arg(long, default_value = "")]
        issuer: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Record that a system's risk assessment was done (Art. 10.2.a): approval needs it.
    RiskAssessed {
        system: String,
        #[arg(long)]
        on: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Set the organization that plays a part at a level (`0 cybersecurity_unit ORG`: the
    /// province's cybersecurity unit).
    Authority {
        level: u8,
        part: String,
        org: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    #[command(subcommand)]
    pub command: CalendarCommand,
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// A year's days off on weekdays and weekend days worked, with the edits applied.
    List {
        year: i32,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Mark a day off (an announced extra day) or a working day (a Saturday worked).
    Set {
        day: String,
        #[arg(value_enum)]
        kind: KindArg,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Remove an edit.
    Unset {
        day: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum KindArg {
    DayOff,
    WorkingDay,
}

fn action_of(a: ActionArg, decision: Option<String>, on: time::Date) -> Result<Action> {
    Ok(match a {
        ActionArg::RequestOpinion => Action::RequestOpinion,
        ActionArg::GiveOpinion => Action::GiveOpinion,
        ActionArg::Submit => Action::Submit,
        ActionArg::ReturnForCompletion => Action::ReturnForCompletion,
        ActionArg::AcceptComplete => Action::AcceptComplete,
        ActionArg::AppraiseSuitable => Action::Appraise { suitable: true },
        ActionArg::AppraiseNotSuitable => Action::Appraise { suitable: false },
        ActionArg::Listed => Action::Listed,
        ActionArg::SubmitForApproval => Action::SubmitForApproval,
        ActionArg::Approve => match decision {
            Some(n) if !n.trim().is_empty() => Action::Approve { decision_number: n, decision_date: on },
            _ => bail!("approve needs --decision (the decision's number and symbol)"),
        },
        ActionArg::ReturnByApprover => Action::ReturnByApprover,
        ActionArg::Withdraw => Action::Withdraw,
    })
}

pub fn run(args: DossierArgs) -> Result<i32> {
    let actor = Actor::cli();
    match args.command {
        DossierCommand::Open { systems, regime, level, data } => {
            let mut state = super::state(&data)?;
            let ids = systems
                .iter()
                .map(|s| inventory::named(state.conn(), s).map(|s| s.id))
                .collect::<Result<Vec<_>, _>>()?;
            let d = state.change(|tx| dossier::open(tx, &actor, regime, level, &ids, today_in_vietnam()))?;
            println!(
                "dossier {} opened: {}, level {}, {}",
                d.id,
                d.dossier.regime,
                d.dossier.level.number(),
                d.dossier.systems.join(", ")
            );
        }
        DossierCommand::List { data } => {
            let state = super::state(&data)?;
            let cal = calendar::work_calendar(state.conn())?;
            let today = today_in_vietnam();
            println!("{:<5} {:<14} {:<5} {:<24} {:<11} {:<8} SYSTEMS", "ID", "ORG", "LEVEL", "STAGE", "DUE", "LATE");
            for d in dossier::list(state.conn())? {
                let late = d.dossier.overdue(today, &cal).map_or(String::new(), |n| format!("{n} WD"));
                let due = d.dossier.due.map_or("-".into(), |d| d.to_string());
                println!(
                    "{:<5} {:<14} {:<5} {:<24} {:<11} {:<8} {}",
                    d.id,
                    terminal(&d.org),
                    d.dossier.level.number(),
                    d.dossier.stage.key(),
                    due,
                    late,
                    terminal(&d.dossier.systems.join(", "))
                );
            }
        }
        DossierCommand::Show { id, data } => {
            let state = super::state(&data)?;
            let Some(d) = dossier::get(state.conn(), &None, id)? else { bail!("no dossier {id}") };
            println!(
                "dossier {} of {}: {} ({}), level {}",
                d.id,
                terminal(&d.org),
                d.dossier.stage.name_vi(),
                d.dossier.regime,
                d.dossier.level.number()
            );
            println!("  systems: {}", terminal(&d.dossier.systems.join(", ")));
            if let Some(due) = d.dossier.due {
                println!("  due: {due}");
            }
            if let Some(deadline) = d.dossier.regime_deadline() {
                println!("  to be approved by {deadline} (Decree 331 Art. 39.1)");
            }
            for e in dossier::events(state.conn(), id)? {
                let reason = if e.reason.is_empty() { String::new() } else { format!(" — {}", terminal(&e.reason)) };
                println!(
                    "  {} {} as {}: {} ({} → {}){reason}",
                    e.day,
                    terminal(&e.actor),
                    e.part,
                    e.action,
                    e.from,
                    e.to
                );
            }
        }
        DossierCommand::Act { id, action, part, reason, decision, on, data } => {
            let mut state = super::state(&data)?;
            let on = on.as_deref().map(parse_date).transpose()?.unwrap_or_else(today_in_vietnam);
            let action = action_of(action, decision, on)?;
            let part = match part {
                None => action.part(),
                Some(PartArg::Preparer) => Part::Preparer,
                Some(PartArg::Opinion) => Part::Opinion,
                Some(PartArg::Appraiser) => Part::Appraiser,
                Some(PartArg::Approver) => Part::Approver,
            };
            let cal = calendar::work_calendar(state.conn())?;
            let step = dossier::Step { action: &action, part, reason: &reason, today: on, cal: &cal };
            let d = dossier::act_recorded(&mut state, &actor, id, &step)?;
            let due = d.dossier.due.map_or(String::new(), |d| format!(", due {d}"));
            println!("dossier {}: {}{due}", d.id, d.dossier.stage.name_vi());
        }
        DossierCommand::Regulation { org, number, issued, issuer, data } => {
            let mut state = super::state(&data)?;
            let issued = parse_date(&issued)?;
            state.change(|tx| dossier::set_regulation(tx, &actor, &org, &number, issued, &issuer))?;
            println!("{org}: regulation {} of {issued}", terminal(&number));
        }
        DossierCommand::RiskAssessed { system, on, data } => {
            let mut state = super::state(&data)?;
            let on = on.as_deref().map(parse_date).transpose()?.unwrap_or_else(today_in_vietnam);
            let s = inventory::named(state.conn(), &system)?;
            state.change(|tx| inventory::set_risk_assessed(tx, &actor, s.id, &on.to_string()))?;
            println!("{}/{}: risk assessed on {on}", s.system.org, s.system.code);
        }
        DossierCommand::Authority { level, part, org, data } => {
            let mut state = super::state(&data)?;
            state.change(|tx| dossier::set_authority(tx, &actor, level, &part, &org))?;
            println!("level {level}, {part}: {org}");
        }
    }
    Ok(0)
}

pub fn run_calendar(args: CalendarArgs) -> Result<i32> {
    let actor = Actor::cli();
    match args.command {
        CalendarCommand::List { year, data } => {
            let state = super::state(&data)?;
            let cal = calendar::work_calendar(state.conn())?;
            for (day, kind, name) in cal.year(year) {
                let kind = match kind {
                    DayKind::DayOff => "nghỉ",
                    DayKind::WorkingDay => "làm việc",
                };
                println!("{day}  {:<9} {:<9} {}", day.weekday().to_string(), kind, terminal(&name));
            }
        }
        CalendarCommand::Set { day, kind, name, data } => {
            let mut state = super::state(&data)?;
            let kind = match kind {
                KindArg::DayOff => DayKind::DayOff,
                KindArg::WorkingDay => DayKind::WorkingDay,
            };
            state.change(|tx| calendar::set(tx, &actor, &day, kind, &name))?;
            println!("{day}: set");
        }
        CalendarCommand::Unset { day, data } => {
            let mut state = super::state(&data)?;
            state.change(|tx| calendar::unset(tx, &actor, &day))?;
            println!("{day}: as computed");
        }
    }
    Ok(0)
}
