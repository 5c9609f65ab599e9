//! The inventory of information systems (hệ thống thông tin) per organization, and each
//! system's classifications over time. The system itself is the compliance crate's
//! [`InformationSystem`], kept as JSON; the columns beside it are what lists sort and filter
//! on. Every change goes into the audit trail with the change itself.

use canh_compliance::classify::{Classification, classify};
use canh_compliance::regime::Regime;
use canh_compliance::system::InformationSystem;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Actor, StateError, audit, now_text, org};

/// A system as the console holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub system: InformationSystem,
    /// The level of its latest classification, and under which regime.
    pub level: Option<u8>,
    pub regime: Option<Regime>,
    /// The level its approved dossier set, and under which regime.
    pub approved_level: Option<u8>,
    pub approved_regime: Option<Regime>,
    /// Its facts when its level was approved: what re-determination triggers compare with.
    pub approved_profile: Option<canh_compliance::system::Profile>,
    /// When its first risk assessment was recorded (Art. 10.2.a), as a date.
    pub risk_assessed: Option<String>,
    pub updated: String,
}

const COLUMNS: &str =
    "id, data, level, regime, approved_level, approved_regime, risk_assessed, updated, approved_profile";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    let data: String = r.get(1)?;
    let system = serde_json::from_str(&data)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?;
    let regime = |s: Option<String>| s.and_then(|s| s.parse().ok());
    Ok(Stored {
        id: r.get(0)?,
        system,
        level: r.get(2)?,
        regime: regime(r.get(3)?),
        approved_level: r.get(4)?,
        approved_regime: regime(r.get(5)?),
        risk_assessed: r.get(6)?,
        updated: r.get(7)?,
        approved_profile: r.get::<_, Option<String>>(8)?.and_then(|p| serde_json::from_str(&p).ok()),
    })
}

fn visible(scope: &Option<Vec<String>>, org: &str) -> bool {
    scope.as_ref().is_none_or(|orgs| orgs.iter().any(|o| o == org))
}

fn check(system: &InformationSystem) -> Result<(), StateError> {
    match system.problems().into_iter().next() {
        Some((field, message)) => Err(StateError::Invalid { field, message }),
        None => Ok(()),
    }
}

/// One system by id, if within `scope`.
pub fn get(conn: &Connection, scope: &Option<Vec<String>>, id: i64) -> Result<Option<Stored>, StateError> {
    let found = conn.query_row(&format!("SELECT {COLUMNS} FROM systems WHERE id = ?1"), [id], row).optional()?;
    Ok(found.filter(|s| visible(scope, &s.system.org)))
}

/// One system by organization and code.
pub fn find(conn: &Connection, org: &str, code: &str) -> Result<Option<Stored>, StateError> {
    Ok(conn
        .query_row(&format!("SELECT {COLUMNS} FROM systems WHERE org = ?1 AND code = ?2"), [org, code], row)
        .optional()?)
}

/// One system by its code alone, when one organization holds it (the command line's `canh
/// system show CODE`); `org/code` names it exactly.
pub fn named(conn: &Connection, name: &str) -> Result<Stored, StateError> {
    if let Some((org, code)) = name.split_once('/') {
        return find(conn, org, code)?
            .ok_or_else(|| StateError::NotFound { what: "information system", name: name.into() });
    }
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM systems WHERE code = ?1"))?;
    let mut found: Vec<Stored> = stmt.query_map([name], row)?.collect::<Result<_, _>>()?;
    match found.len() {
        0 => Err(StateError::NotFound { what: "information system", name: name.into() }),
        1 => Ok(found.remove(0)),
        _ => Err(StateError::Invalid {
            field: "system",
            message: format!("`{name}` is a system of several organizations: write org/{name}"),
        }),
    }
}

/// The systems within `scope`, by organization then code.
pub fn list(conn: &Connection, scope: &Option<Vec<String>>) -> Result<Vec<Stored>, StateError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM systems ORDER BY org, code"))?;
    let all = stmt.query_map([], row)?;
    let mut out = Vec::new();
    for s in all {
        let s = s?;
        if visible(scope, &s.system.org) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Adds a system to its organization's inventory.
pub fn add(tx: &Transaction<'_>, actor: &Actor, system: &InformationSystem) -> Result<Stored, StateError> {
    check(system)?;
    org::id_of(tx, &system.org)?;
    if find(tx, &system.org, &system.code)?.is_some() {
        return Err(StateError::Exists { what: "information system", name: format!("{}/{}", system.org, system.code) });
    }
    let now = now_text();
    let data = serde_json::to_string(system).expect("a system serializes");
    tx.execute(
        "INSERT INTO systems (org, code, name, data, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![system.org, system.code, system.name, data, now],
    )?;
    let id = tx.last_insert_rowid();
    let target = format!("{}/{}", system.org, system.code);
    audit::append(tx, audit::Entry::done(actor, "system.add", &target).detail(&system.name))?;
    get(tx, &None, id).map(|s| s.expect("just inserted"))
}

/// Replaces a system's record (its organization and code stay).
pub fn update(tx: &Transaction<'_>, actor: &Actor, id: i64, system: &InformationSystem) -> Result<Stored, StateError> {
    check(system)?;
    let old =
        get(tx, &None, id)?.ok_or_else(|| StateError::NotFound { what: "information system", name: id.to_string() })?;
    if old.system.org != system.org || old.system.code != system.code {
        return Err(StateError::Invalid { field: "code", message: "a system keeps its organization and code".into() });
    }
    let data = serde_json::to_string(system).expect("a system serializes");
    tx.execute(
        "UPDATE systems SET name = ?2, data = ?3, updated = ?4 WHERE id = ?1",
        params![id, system.name, data, now_text()],
    )?;
    let target = format!("{}/{}", system.org, system.code);
    let changed = changed_fields(&old.system, system);
    audit::append(tx, audit::Entry::done(actor, "system.update", &target).detail(&changed.join(", ")))?;
    get(tx, &None, id).map(|s| s.expect("exists"))
}

/// The top-level fields that differ, for the audit entry.
fn changed_fields(a: &InformationSystem, b: &InformationSystem) -> Vec<String> {
    let (a, b) = (serde_json::to_value(a).unwrap_or_default(), serde_json::to_value(b).unwrap_or_default());
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return Vec::new() };
    a.iter().filter(|(k, v)| b.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect()
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Imported {
    pub added: usize,
    pub updated: usize,
}

/// Adds or updates every system of a sheet, in the caller's transaction: one refusal and
/// none is kept.
pub fn import(tx: &Transaction<'_>, actor: &Actor, systems: &[InformationSystem]) -> Result<Imported, StateError> {
    let mut done = Imported::default();
    for system in systems {
        match find(tx, &system.org, &system.code)? {
            Some(old) => {
                update(tx, actor, old.id, system)?;
                done.updated += 1;
            }
            None => {
                add(tx, actor, system)?;
                done.added += 1;
            }
        }
    }
    Ok(done)
}

/// Classifies a system's current profile under `regime`, keeps the result with who did it,
/// and sets the system's level.
pub fn classify_system(
    tx: &Transaction<'_>,
    actor: &Actor,
    id: i64,
    regime: Regime,
) -> Result<Classification, StateError> {
    let stored =
        get(tx, &None, id)?.ok_or_else(|| StateError::NotFound { what: "information system", name: id.to_string() })?;
    let result = classify(regime, &stored.system.profile);
    let level = result.level.map(|l| l.number());
    let json = serde_json::to_string(&result).expect("a classification serializes");
    let profile = serde_json::to_string(&stored.system.profile).expect("a profile serializes");
    let now = now_text();
    tx.execute(
        "INSERT INTO classifications (system, regime, level, result, profile, actor, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, regime.id(), level, json, profile, actor.name, now],
    )?;
    tx.execute(
        "UPDATE systems SET level = ?2, regime = ?3, updated = ?4 WHERE id = ?1",
        params![id, level, regime.id(), now],
    )?;
    let target = format!("{}/{}", stored.system.org, stored.system.code);
    let detail = format!(
        "{regime}: {} ({})",
        level.map_or("chưa xác định".to_string(), |l| format!("cấp độ {l}")),
        result.decisive().map(|f| f.clause.as_str()).collect::<Vec<_>>().join(", ")
    );
    audit::append(tx, audit::Entry::done(actor, "system.classify", &target).detail(&detail))?;
    Ok(result)
}

/// A kept classification.
#[derive(Debug, Clone)]
pub struct Kept {
    pub ts: String,
    pub actor: String,
    pub result: Classification,
}

/// A system's classifications, newest first.
pub fn classifications(conn: &Connection, id: i64) -> Result<Vec<Kept>, StateError> {
    let mut stmt = conn.prepare("SELECT ts, actor, result FROM classifications WHERE system = ?1 ORDER BY id DESC")?;
    let rows = stmt.query_map([id], |r| {
        let json: String = r.get(2)?;
        let result = serde_json::from_str(&json)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e)))?;
        Ok(Kept { ts: r.get(0)?, actor: r.get(1)?, result })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records that a system's risk assessment was done on `day` (YYYY-MM-DD).
pub fn set_risk_assessed(tx: &Transaction<'_>, actor: &Actor, id: i64, day: &str) -> Result<(), StateError> {
    let stored =
        get(tx, &None, id)?.ok_or_else(|| StateError::NotFound { what: "information system", name: id.to_string() })?;
    tx.execute("UPDATE systems SET risk_assessed = ?2, updated = ?3 WHERE id = ?1", params![id, day, now_text()])?;
    let target = format!("{}/{}", stored.system.org, stored.system.code);
    audit::append(tx, audit::Entry::done(actor, "system.risk_assessed", &target).detail(day))?;
    Ok(())
}
