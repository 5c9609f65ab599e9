//! Evidence (minh chứng) for requirements and dossiers: each file stored once by its SHA-256
//! under `DATA/evidence/` (canh_compliance::evidence::ContentStore), its record here — what it
//! is for, when it was collected, when it expires (a requirement's cycle), which earlier file
//! it revises — and the SOC's own findings per system, refreshed as they are computed.

use canh_compliance::evidence::{SocCheck, SocFinding, Validity, validity};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::Date;

use super::{Actor, StateError, audit, now_text};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Evidence {
    pub id: i64,
    pub org: String,
    pub system: Option<i64>,
    pub dossier: Option<i64>,
    /// The requirement item it evidences (`3/testing/external-pentest`).
    pub item: Option<String>,
    pub name: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub collected: String,
    pub expires: Option<String>,
    /// The evidence this one revises.
    pub revision_of: Option<i64>,
    pub actor: String,
    pub ts: String,
}

const COLUMNS: &str =
    "id, org, system, dossier, item, name, sha256, size, media_type, collected, expires, revision_of, actor, ts";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Evidence> {
    Ok(Evidence {
        id: r.get(0)?,
        org: r.get(1)?,
        system: r.get(2)?,
        dossier: r.get(3)?,
        item: r.get(4)?,
        name: r.get(5)?,
        sha256: r.get(6)?,
        size: r.get(7)?,
        media_type: r.get(8)?,
        collected: r.get(9)?,
        expires: r.get(10)?,
        revision_of: r.get(11)?,
        actor: r.get(12)?,
        ts: r.get(13)?,
    })
}

/// A file to record (already stored by its digest).
pub struct New<'a> {
    pub org: &'a str,
    pub system: Option<i64>,
    pub dossier: Option<i64>,
    pub item: Option<&'a str>,
    pub name: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    pub media_type: &'a str,
    pub collected: Date,
    pub expires: Option<Date>,
}

/// Records a file; a file for the same system and item as an earlier one is its revision.
pub fn add(tx: &Transaction<'_>, actor: &Actor, new: &New<'_>) -> Result<Evidence, StateError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(StateError::Invalid { field: "name", message: "a file name without control characters".into() });
    }
    let revision_of: Option<i64> = match (new.system, new.item) {
        (Some(s), Some(item)) => tx
            .query_row("SELECT max(id) FROM evidence WHERE system = ?1 AND item = ?2", params![s, item], |r| r.get(0))
            .optional()?
            .flatten(),
        _ => None,
    };
    tx.execute(
        &format!(
            "INSERT INTO evidence ({}) VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            COLUMNS
        ),
        params![
            new.org,
            new.system,
            new.dossier,
            new.item,
            name,
            new.sha256,
            new.size,
            new.media_type,
            new.collected.to_string(),
            new.expires.map(|d| d.to_string()),
            revision_of,
            actor.name,
            now_text()
        ],
    )?;
    let id = tx.last_insert_rowid();
    let target = format!("{}:{}", new.system.map_or("-".into(), |s| s.to_string()), new.item.unwrap_or("-"));
    audit::append(
        tx,
        audit::Entry::done(actor, "evidence.add", &target).detail(&format!("{name} sha256:{}", new.sha256)),
    )?;
    get(tx, id).map(|e| e.expect("just inserted"))
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Evidence>, StateError> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM evidence WHERE id = ?1"), [id], row).optional()?)
}

/// A system's evidence, newest first.
pub fn of_system(conn: &Connection, system: i64) -> Result<Vec<Evidence>, StateError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM evidence WHERE system = ?1 ORDER BY id DESC"))?;
    Ok(stmt.query_map([system], row)?.collect::<Result<_, _>>()?)
}

/// A dossier's attachments, oldest first.
pub fn of_dossier(conn: &Connection, dossier: i64) -> Result<Vec<Evidence>, StateError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM evidence WHERE dossier = ?1 ORDER BY id"))?;
    Ok(stmt.query_map([dossier], row)?.collect::<Result<_, _>>()?)
}

/// The latest evidence of each (system, item) that expires within `window` days of `today`
/// or has expired, within `scope`.
pub fn expiring(
    conn: &Connection,
    scope: &Option<Vec<String>>,
    today: Date,
    window: i64,
) -> Result<Vec<(Evidence, Validity)>, StateError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM evidence e WHERE expires IS NOT NULL
           AND id = (SELECT max(id) FROM evidence x WHERE x.system IS e.system AND x.item IS e.item)
         ORDER BY expires"
    ))?;
    let all = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(all
        .into_iter()
        .filter(|e| scope.as_ref().is_none_or(|s| s.contains(&e.org)))
        .filter_map(|e| {
            let expires = e
                .expires
                .as_deref()
                .and_then(|d| Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok());
            match validity(expires, today, window) {
                Validity::Valid => None,
                v => Some((e, v)),
            }
        })
        .collect())
}

fn check_name(c: SocCheck) -> &'static str {
    match c {
        SocCheck::LogRetention => "log_retention",
        SocCheck::TrafficSeen => "traffic_seen",
        SocCheck::TriageTime => "triage_time",
        SocCheck::RulePacksCurrent => "rule_packs_current",
    }
}

/// Keeps a system's latest SOC findings (one per check).
pub fn keep_findings(tx: &Transaction<'_>, system: i64, findings: &[SocFinding]) -> Result<(), StateError> {
    for f in findings {
        let json = serde_json::to_string(f).expect("a finding serializes");
        tx.execute(
            "INSERT INTO soc_findings (system, check_name, finding) VALUES (?1, ?2, ?3)
             ON CONFLICT (system, check_name) DO UPDATE SET finding = ?3",
            params![system, check_name(f.check), json],
        )?;
    }
    Ok(())
}

/// A system's latest SOC findings.
pub fn findings(conn: &Connection, system: i64) -> Result<Vec<SocFinding>, StateError> {
    let mut stmt = conn.prepare_cached("SELECT finding FROM soc_findings WHERE system = ?1 ORDER BY check_name")?;
    let rows = stmt.query_map([system], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for json in rows {
        out.push(
            serde_json::from_str(&json?)
                .map_err(|e| StateError::Invalid { field: "finding", message: e.to_string() })?,
        );
    }
    Ok(out)
}
