//! Gap assessments as the console keeps them: one row per (system, regime, requirement item)
//! with its status, measure, owner and due date; snapshots taken when an assessment round is
//! closed, so that "what changed since the last assessment" has something to compare with.

use canh_compliance::assessment::{Assessment, Entry, Status};
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::Date;

use super::{Actor, StateError, audit, now_text};

/// A system's current assessment under a regime at a level (items of other levels ignored).
pub fn load(conn: &Connection, system: i64, regime: Regime, level: Level) -> Result<Assessment, StateError> {
    let mut stmt = conn.prepare_cached(
        "SELECT item, status, reason, measure, owner, due FROM assessments WHERE system = ?1 AND regime = ?2",
    )?;
    let rows = stmt.query_map(params![system, regime.id()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut a = Assessment::new(regime, level);
    let prefix = format!("{}/", level.number());
    for row in rows {
        let (item, status, reason, measure, owner, due) = row?;
        if !item.starts_with(&prefix) {
            continue;
        }
        let entry = Entry {
            status: Status::parse(&status).unwrap_or_default(),
            reason,
            measure,
            owner,
            due: due.and_then(|d| Date::parse(&d, time::macros::format_description!("[year]-[month]-[day]")).ok()),
            evidence: Vec::new(),
        };
        a.entries.insert(item, entry);
    }
    Ok(a)
}

/// Records one item's row, checked by the compliance crate (the item must be of the level; "not
/// applicable" needs a reason).
pub fn set(
    tx: &Transaction<'_>,
    actor: &Actor,
    system: i64,
    regime: Regime,
    level: Level,
    item: &str,
    entry: Entry,
) -> Result<(), StateError> {
    let mut a = load(tx, system, regime, level)?;
    let before = a.status(item);
    a.set(item, entry.clone()).map_err(|e| StateError::Invalid { field: "item", message: e.to_string() })?;
    tx.execute(
        "INSERT INTO assessments (system, regime, item, status, reason, measure, owner, due, actor, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (system, regime, item) DO UPDATE SET status = ?4, reason = ?5, measure = ?6, owner = ?7, due = ?8, actor = ?9, updated = ?10",
        params![
            system,
            regime.id(),
            item,
            entry.status.key(),
            entry.reason,
            entry.measure,
            entry.owner,
            entry.due.map(|d| d.to_string()),
            actor.name,
            now_text()
        ],
    )?;
    let detail = format!("{} → {}", before.key(), entry.status.key());
    audit::append(tx, audit::Entry::done(actor, "assessment.set", &format!("{system}:{item}")).detail(&detail))?;
    Ok(())
}

/// Closes an assessment round: its entries are kept as they stand.
pub fn snapshot(
    tx: &Transaction<'_>,
    actor: &Actor,
    system: i64,
    regime: Regime,
    level: Level,
) -> Result<i64, StateError> {
    let a = load(tx, system, regime, level)?;
    let entries = serde_json::to_string(&a.entries).expect("entries serialize");
    tx.execute(
        "INSERT INTO assessment_snapshots (system, regime, level, entries, actor, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![system, regime.id(), level.number(), entries, actor.name, now_text()],
    )?;
    let id = tx.last_insert_rowid();
    let (overall, _) = a.progress();
    audit::append(
        tx,
        audit::Entry::done(actor, "assessment.close", &system.to_string())
            .detail(&format!("{}% met", overall.met_percent())),
    )?;
    Ok(id)
}

/// The last closed round of a system under a regime: when, and its entries.
pub fn last_snapshot(
    conn: &Connection,
    system: i64,
    regime: Regime,
) -> Result<Option<(String, Assessment)>, StateError> {
    let found = conn
        .query_row(
            "SELECT ts, level, entries FROM assessment_snapshots WHERE system = ?1 AND regime = ?2 ORDER BY id DESC LIMIT 1",
            params![system, regime.id()],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, u8>(1)?, r.get::<_, String>(2)?)),
        )
        .optional()?;
    let Some((ts, level, entries)) = found else { return Ok(None) };
    let level = Level::new(level).ok_or_else(|| StateError::Invalid { field: "level", message: level.to_string() })?;
    let entries =
        serde_json::from_str(&entries).map_err(|e| StateError::Invalid { field: "entries", message: e.to_string() })?;
    Ok(Some((ts, Assessment { regime, level, entries })))
}
