//! Incidents declared from cases: the compliance crate's [`Incident`] (detection time, the
//! facts of the report, what was sent when) kept per case, each change on the case's timeline
//! and in the audit trail.

use canh_compliance::incident::{Incident, Obligation};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use super::{Actor, StateError, audit, case, now_text};

#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    pub case_id: i64,
    pub org: String,
    pub incident: Incident,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    let data: String = r.get(3)?;
    let incident = serde_json::from_str(&data)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e)))?;
    Ok(Stored { id: r.get(0)?, case_id: r.get(1)?, org: r.get(2)?, incident })
}

/// The incident of a case, if it was declared one.
pub fn of_case(conn: &Connection, case_id: i64) -> Result<Option<Stored>, StateError> {
    Ok(conn.query_row("SELECT id, case_id, org, data FROM incidents WHERE case_id = ?1", [case_id], row).optional()?)
}

/// Every incident within `scope`, newest first.
pub fn list(conn: &Connection, scope: &Option<Vec<String>>) -> Result<Vec<Stored>, StateError> {
    let mut stmt = conn.prepare_cached("SELECT id, case_id, org, data FROM incidents ORDER BY id DESC")?;
    let all = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(all.into_iter().filter(|i| scope.as_ref().is_none_or(|s| s.contains(&i.org))).collect())
}

fn save(tx: &Transaction<'_>, s: &Stored) -> Result<(), StateError> {
    let data = serde_json::to_string(&s.incident).expect("an incident serializes");
    tx.execute("UPDATE incidents SET data = ?2, updated = ?3 WHERE id = ?1", params![s.id, data, now_text()])?;
    Ok(())
}

/// Declares a case (within `scope`) an incident detected at `detected`.
pub fn declare(
    tx: &Transaction<'_>,
    actor: &Actor,
    scope: &Option<Vec<String>>,
    case_id: i64,
    detected: OffsetDateTime,
    serious: bool,
    personal_data: bool,
) -> Result<Stored, StateError> {
    let c = case::get(tx, scope, case_id)?
        .ok_or_else(|| StateError::NotFound { what: "case", name: case_id.to_string() })?;
    if of_case(tx, case_id)?.is_some() {
        return Err(StateError::Exists { what: "incident of case", name: case_id.to_string() });
    }
    let incident = Incident::new(detected, serious, personal_data);
    let data = serde_json::to_string(&incident).expect("an incident serializes");
    let now = now_text();
    tx.execute(
        "INSERT INTO incidents (case_id, org, data, actor, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![case_id, c.org, data, actor.name, now],
    )?;
    let id = tx.last_insert_rowid();
    let text = format!(
        "sự cố{}{}",
        if serious { ", nghiêm trọng" } else { "" },
        if personal_data { ", có dữ liệu cá nhân" } else { "" }
    );
    case::event(tx, case_id, actor, "incident", &text)?;
    audit::append(tx, audit::Entry::done(actor, "incident.declare", &format!("case #{case_id}")).detail(&text))?;
    Ok(Stored { id, case_id, org: c.org, incident })
}

/// What changes an incident.
pub enum Change {
    /// The report's facts.
    Facts { cause: String, scope: String, impact: String, remedy: String },
    /// An obligation met at a time.
    Sent(Obligation, OffsetDateTime),
}

pub fn change(
    tx: &Transaction<'_>,
    actor: &Actor,
    scope: &Option<Vec<String>>,
    case_id: i64,
    change: Change,
) -> Result<Stored, StateError> {
    case::get(tx, scope, case_id)?.ok_or_else(|| StateError::NotFound { what: "case", name: case_id.to_string() })?;
    let mut s = of_case(tx, case_id)?
        .ok_or_else(|| StateError::NotFound { what: "incident of case", name: case_id.to_string() })?;
    let (action, text) = match change {
        Change::Facts { cause, scope, impact, remedy } => {
            s.incident.cause = cause;
            s.incident.scope = scope;
            s.incident.impact = impact;
            s.incident.remedy = remedy;
            ("incident.facts", "nguyên nhân, phạm vi, tác động, biện pháp".to_string())
        }
        Change::Sent(o, at) => {
            s.incident.mark_sent(o, at);
            ("incident.sent", o.name_vi().to_string())
        }
    };
    save(tx, &s)?;
    case::event(tx, case_id, actor, action, &text)?;
    audit::append(tx, audit::Entry::done(actor, action, &format!("case #{case_id}")).detail(&text))?;
    Ok(s)
}
