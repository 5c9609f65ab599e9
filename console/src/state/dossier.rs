//! Dossiers (hồ sơ đề xuất cấp độ) as the console keeps them: the compliance crate's
//! [`Dossier`] state as JSON beside the columns lists filter on, the systems it covers, every
//! step with who, when, why and the deadline it opened, and the routing of each part (who
//! prepares, gives the professional opinion, appraises, approves) per the province's
//! configuration of authorities.

use canh_compliance::calendar::WorkCalendar;
use canh_compliance::dossier::authority::{Body, default_authority};
use canh_compliance::dossier::{Action, Dossier, Issued, Part, Stage};
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::Date;

use super::{Actor, StateError, audit, inventory, now_text, org};

/// A dossier as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    /// The organization that prepares it (its systems' organization).
    pub org: String,
    pub dossier: Dossier,
    /// The ids of the systems it covers.
    pub systems: Vec<i64>,
    pub redetermines: Option<i64>,
    pub created: String,
    pub updated: String,
}

/// A recorded step.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub ts: String,
    /// The working day it counts as.
    pub day: String,
    pub actor: String,
    pub action: String,
    pub part: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub due: Option<String>,
}

fn json_err(i: usize, e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

fn load(conn: &Connection, id: i64) -> Result<Option<Stored>, StateError> {
    let found = conn
        .query_row("SELECT id, org, state, redetermines, created, updated FROM dossiers WHERE id = ?1", [id], |r| {
            let state: String = r.get(2)?;
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                serde_json::from_str::<Dossier>(&state).map_err(|e| json_err(2, e))?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let Some((id, org, dossier, redetermines, created, updated)) = found else { return Ok(None) };
    let mut stmt = conn.prepare_cached("SELECT system FROM dossier_systems WHERE dossier = ?1 ORDER BY system")?;
    let systems = stmt.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(Some(Stored { id, org, dossier, systems, redetermines, created, updated }))
}

fn visible(scope: &Option<Vec<String>>, org: &str) -> bool {
    scope.as_ref().is_none_or(|orgs| orgs.iter().any(|o| o == org))
}

/// One dossier, if its organization is within `scope`.
pub fn get(conn: &Connection, scope: &Option<Vec<String>>, id: i64) -> Result<Option<Stored>, StateError> {
    Ok(load(conn, id)?.filter(|d| visible(scope, &d.org)))
}

/// Every dossier, the open ones first, newest change first.
pub fn list(conn: &Connection) -> Result<Vec<Stored>, StateError> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM dossiers ORDER BY (stage IN ('approved', 'withdrawn')), updated DESC")?;
    let ids: Vec<i64> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    ids.into_iter().filter_map(|id| load(conn, id).transpose()).collect()
}

/// A dossier's steps, oldest first.
pub fn events(conn: &Connection, id: i64) -> Result<Vec<Event>, StateError> {
    let mut stmt = conn.prepare_cached(
        "SELECT ts, day, actor, action, part, from_stage, to_stage, reason, due FROM dossier_events WHERE dossier = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Event {
            ts: r.get(0)?,
            day: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            part: r.get(4)?,
            from: r.get(5)?,
            to: r.get(6)?,
            reason: r.get(7)?,
            due: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn part_text(part: Part) -> &'static str {
    match part {
        Part::Preparer => "preparer",
        Part::Opinion => "opinion",
        Part::Appraiser => "appraiser",
        Part::Approver => "approver",
    }
}

pub fn parse_part(s: &str) -> Option<Part> {
    [Part::Preparer, Part::Opinion, Part::Appraiser, Part::Approver].into_iter().find(|p| part_text(*p) == s)
}

fn refused(e: impl std::fmt::Display) -> StateError {
    StateError::Invalid { field: "dossier", message: e.to_string() }
}

fn save(tx: &Transaction<'_>, id: i64, d: &Dossier) -> Result<(), StateError> {
    let state = serde_json::to_string(d).expect("a dossier serializes");
    tx.execute(
        "UPDATE dossiers SET stage = ?2, since = ?3, due = ?4, state = ?5, updated = ?6 WHERE id = ?1",
        params![id, d.stage.key(), d.since.to_string(), d.due.map(|d| d.to_string()), state, now_text()],
    )?;
    Ok(())
}

fn event(
    tx: &Transaction<'_>,
    id: i64,
    actor: &Actor,
    t: &canh_compliance::dossier::Transition,
) -> Result<(), StateError> {
    tx.execute(
        "INSERT INTO dossier_events (dossier, ts, day, actor, action, part, from_stage, to_stage, reason, due)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            now_text(),
            t.on.to_string(),
            actor.name,
            t.action,
            part_text(t.part),
            t.from.key(),
            t.to.key(),
            t.reason,
            t.due.map(|d| d.to_string())
        ],
    )?;
    Ok(())
}

/// Opens a draft dossier for `systems` (ids, all of one organization) under `regime`; its
/// level is `level`, else the highest level the systems were classified at under `regime`.
pub fn open(
    tx: &Transaction<'_>,
    actor: &Actor,
    regime: Regime,
    level: Option<Level>,
    systems: &[i64],
    today: Date,
) -> Result<Stored, StateError> {
    let mut found = Vec::new();
    for id in systems {
        found.push(
            inventory::get(tx, &None, *id)?
                .ok_or_else(|| StateError::NotFound { what: "information system", name: id.to_string() })?,
        );
    }
    let org =
        found.first().map(|s| s.system.org.clone()).ok_or_else(|| refused("a dossier covers at least one system"))?;
    if found.iter().any(|s| s.system.org != org) {
        return Err(refused("the systems of one dossier belong to one organization"));
    }
    let level = match level {
        Some(l) => l,
        None => found
            .iter()
            .map(|s| if s.regime == Some(regime) { s.level.and_then(Level::new) } else { None })
            .collect::<Option<Vec<_>>>()
            .and_then(|levels| levels.into_iter().max())
            .ok_or_else(|| refused(format!("classify every system under {regime} first, or give the level")))?,
    };
    let codes = found.iter().map(|s| s.system.code.clone()).collect();
    let dossier = Dossier::new(regime, level, codes, today).map_err(refused)?;
    let now = now_text();
    let state = serde_json::to_string(&dossier).expect("a dossier serializes");
    tx.execute(
        "INSERT INTO dossiers (org, regime, level, stage, since, due, state, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?7)",
        params![org, regime.id(), level.number(), dossier.stage.key(), today.to_string(), state, now],
    )?;
    let id = tx.last_insert_rowid();
    for s in &found {
        tx.execute("INSERT INTO dossier_systems (dossier, system) VALUES (?1, ?2)", params![id, s.id])?;
    }
    tx.execute(
        "INSERT INTO dossier_events (dossier, ts, day, actor, action, part, from_stage, to_stage, reason, due)
         VALUES (?1, ?2, ?3, ?4, 'open', 'preparer', 'draft', 'draft', '', NULL)",
        params![id, now, today.to_string(), actor.name],
    )?;
    let detail = format!(
        "{regime}, cấp độ {}, {}",
        level.number(),
        found.iter().map(|s| s.system.code.as_str()).collect::<Vec<_>>().join(", ")
    );
    audit::append(tx, audit::Entry::done(actor, "dossier.open", &id.to_string()).detail(&detail))?;
    Ok(load(tx, id)?.expect("just inserted"))
}

/// The security regulation in force for `org`: its own, else its nearest ancestor's.
pub fn regulation(conn: &Connection, org_code: &str) -> Result<Option<Issued>, StateError> {
    let mut chain = vec![org_code.to_string()];
    chain.extend(org::ancestors(conn, org_code)?.into_iter().rev());
    for code in chain {
        let found = conn
            .query_row("SELECT number, issued FROM regulations WHERE org = ?1", [&code], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        if let Some((number, issued)) = found {
            let date = Date::parse(&issued, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| StateError::Invalid { field: "issued", message: format!("`{issued}` is not a date") })?;
            return Ok(Some(Issued { number, date }));
        }
    }
    Ok(None)
}

/// Records an organization's security regulation (quy chế bảo đảm an ninh mạng, Art. 30.7).
pub fn set_regulation(
    tx: &Transaction<'_>,
    actor: &Actor,
    org_code: &str,
    number: &str,
    issued: Date,
    issuer: &str,
) -> Result<(), StateError> {
    org::id_of(tx, org_code)?;
    if number.trim().is_empty() {
        return Err(StateError::Invalid {
            field: "number",
            message: "the regulation's number and symbol (số, ký hiệu)".into(),
        });
    }
    tx.execute(
        "INSERT INTO regulations (org, number, issued, issuer, actor, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (org) DO UPDATE SET number = ?2, issued = ?3, issuer = ?4, actor = ?5, ts = ?6",
        params![org_code, number.trim(), issued.to_string(), issuer.trim(), actor.name, now_text()],
    )?;
    audit::append(
        tx,
        audit::Entry::done(actor, "regulation.set", org_code).detail(&format!("{} ({issued})", number.trim())),
    )?;
    Ok(())
}

/// A step to take on a dossier: the action, the part it is taken in, why, the day it counts
/// as, and the calendar its deadline is counted on.
pub struct Step<'a> {
    pub action: &'a Action,
    pub part: Part,
    pub reason: &'a str,
    pub today: Date,
    pub cal: &'a WorkCalendar,
}

/// Takes a step on dossier `id`: the facts approval is gated on (the regulation, the risk
/// assessments) are read fresh, the step is recorded and audited, and an approval sets the
/// systems' approved level.
pub fn act(tx: &Transaction<'_>, actor: &Actor, id: i64, step: &Step<'_>) -> Result<Stored, StateError> {
    let Step { action, part, reason, today, cal } = *step;
    let stored = load(tx, id)?.ok_or_else(|| StateError::NotFound { what: "dossier", name: id.to_string() })?;
    let mut current = stored.dossier.clone();
    current.regulation = regulation(tx, &stored.org)?;
    let mut assessed = true;
    for s in &stored.systems {
        assessed &= inventory::get(tx, &None, *s)?.is_some_and(|s| s.risk_assessed.is_some());
    }
    current.risk_assessment_done = assessed;
    let (next, transition) = current.apply(action, part, reason, today, cal).map_err(refused)?;
    save(tx, id, &next)?;
    event(tx, id, actor, &transition)?;
    if next.stage == Stage::Approved {
        for s in &stored.systems {
            let system = inventory::get(tx, &None, *s)?.expect("a dossier's system exists");
            let profile = serde_json::to_string(&system.system.profile).expect("a profile serializes");
            tx.execute(
                "UPDATE systems SET approved_level = ?2, approved_regime = ?3, approved_profile = ?4, updated = ?5 WHERE id = ?1",
                params![s, next.level.number(), next.regime.id(), profile, now_text()],
            )?;
        }
    }
    let detail = format!(
        "{} → {}{}",
        transition.from.key(),
        transition.to.key(),
        if reason.is_empty() { String::new() } else { format!(": {reason}") }
    );
    audit::append(
        tx,
        audit::Entry::done(actor, &format!("dossier.{}", action.key()), &id.to_string()).detail(&detail),
    )?;
    Ok(load(tx, id)?.expect("exists"))
}

/// [`act`] in its own transaction; a refusal is kept in the audit trail (the refused
/// transaction itself leaves nothing).
pub fn act_recorded(state: &mut super::State, actor: &Actor, id: i64, step: &Step<'_>) -> Result<Stored, StateError> {
    let result = state.change(|tx| act(tx, actor, id, step));
    if let Err(e) = &result {
        let detail = format!("{} as {}: {e}", step.action.key(), part_text(step.part));
        state.record(
            audit::Entry::new(
                actor,
                &format!("dossier.{}", step.action.key()),
                &id.to_string(),
                audit::Outcome::Denied,
            )
            .detail(&detail),
        )?;
    }
    result
}

/// Which organization plays a part on dossiers of a level: the province's configuration,
/// else the decree's default body mapped onto the tree (the owner and the cybersecurity unit
/// default to the root of the preparing organization's tree; bodies outside the province —
/// the Ministry of Public Security, the Prime Minister — are recorded by the cybersecurity
/// unit on their behalf).
pub fn routed_org(conn: &Connection, dossier_org: &str, level: Level, part: Part) -> Result<String, StateError> {
    let configured: Option<String> = conn
        .query_row(
            "SELECT org FROM authorities WHERE level = ?1 AND part = ?2",
            params![level.number(), part_text(part)],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(org) = configured {
        return Ok(org);
    }
    let root = org::ancestors(conn, dossier_org)?.into_iter().next().unwrap_or_else(|| dossier_org.to_string());
    let unit: Option<String> = conn
        .query_row("SELECT org FROM authorities WHERE level = 0 AND part = 'cybersecurity_unit'", [], |r| r.get(0))
        .optional()?;
    let unit = unit.unwrap_or_else(|| root.clone());
    let authority = default_authority(level);
    let body = match part {
        Part::Preparer => return Ok(dossier_org.to_string()),
        Part::Opinion => authority.opinion.unwrap_or(Body::CybersecurityUnit),
        Part::Appraiser => authority.appraiser,
        Part::Approver => authority.approver,
    };
    Ok(match body {
        Body::SystemOwner => root,
        Body::CybersecurityUnit | Body::MinistryOfPublicSecurity | Body::PrimeMinister => unit,
        Body::Organization(code) => code,
    })
}

/// Sets the organization that plays `part` at `level` (0 with part `cybersecurity_unit`: the
/// province's cybersecurity unit for every level).
pub fn set_authority(
    tx: &Transaction<'_>,
    actor: &Actor,
    level: u8,
    part: &str,
    org_code: &str,
) -> Result<(), StateError> {
    org::id_of(tx, org_code)?;
    let ok = (level == 0 && part == "cybersecurity_unit")
        || ((1..=5).contains(&level) && parse_part(part).is_some_and(|p| p != Part::Preparer));
    if !ok {
        return Err(StateError::Invalid {
            field: "part",
            message: format!(
                "`{part}` at level {level}: opinion, appraiser or approver at 1–5, or cybersecurity_unit at 0"
            ),
        });
    }
    tx.execute(
        "INSERT INTO authorities (level, part, org) VALUES (?1, ?2, ?3) ON CONFLICT (level, part) DO UPDATE SET org = ?3",
        params![level, part, org_code],
    )?;
    audit::append(tx, audit::Entry::done(actor, "authority.set", &format!("{level}/{part}")).detail(org_code))?;
    Ok(())
}

/// Dossiers whose current step is past its deadline on `today`, with the working days late.
pub fn overdue(conn: &Connection, today: Date, cal: &WorkCalendar) -> Result<Vec<(Stored, i64)>, StateError> {
    Ok(list(conn)?.into_iter().filter_map(|d| d.dossier.overdue(today, cal).map(|late| (d, late))).collect())
}
