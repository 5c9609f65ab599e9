//! Cases: alerts escalated together, with notes, an assignee, a status and a timeline of what
//! happened and who did what. The compliance desk turns a case into a reportable incident.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Actor, StateError, audit, now_text};

/// Where a case stands.
pub const STATUSES: [&str; 3] = ["open", "in_progress", "closed"];

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Case {
    pub id: i64,
    pub title: String,
    pub org: String,
    pub status: String,
    pub assignee: Option<String>,
    pub opened_by: String,
    pub created: String,
    pub updated: String,
    /// How many alerts it holds.
    pub alerts: i64,
}

/// One line of a case's timeline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub ts: String,
    pub actor: String,
    /// opened, alerts, note, assigned, status.
    pub kind: String,
    pub text: String,
}

/// Where escalated alerts go.
#[derive(Debug, Clone)]
pub enum Into {
    /// An existing case.
    Case(i64),
    /// A new case with this title.
    New(String),
}

const COLUMNS: &str = "c.id, c.title, c.org, c.status, c.assignee, c.opened_by, c.created, c.updated, \
     (SELECT COUNT(*) FROM alerts a WHERE a.case_id = c.id)";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Case> {
    Ok(Case {
        id: r.get(0)?,
        title: r.get(1)?,
        org: r.get(2)?,
        status: r.get(3)?,
        assignee: r.get(4)?,
        opened_by: r.get(5)?,
        created: r.get(6)?,
        updated: r.get(7)?,
        alerts: r.get(8)?,
    })
}

fn visible(scope: &Option<Vec<String>>, org: &str) -> bool {
    scope.as_ref().is_none_or(|orgs| orgs.iter().any(|o| o == org))
}

/// One case, if it exists within `scope`.
pub fn get(conn: &Connection, scope: &Option<Vec<String>>, id: i64) -> Result<Option<Case>, StateError> {
    let found = conn.query_row(&format!("SELECT {COLUMNS} FROM cases c WHERE c.id = ?1"), [id], row).optional()?;
    Ok(found.filter(|c| visible(scope, &c.org)))
}

/// The cases within `scope`, open ones first, then the most recently changed.
pub fn list(conn: &Connection, scope: &Option<Vec<String>>, limit: usize) -> Result<Vec<Case>, StateError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM cases c ORDER BY (c.status = 'closed'), c.updated DESC"))?;
    let all = stmt.query_map([], row)?;
    let mut out = Vec::new();
    for c in all {
        let c = c?;
        if visible(scope, &c.org) {
            out.push(c);
            if out.len() == limit {
                break;
            }
        }
    }
    Ok(out)
}

/// A case's timeline, oldest first.
pub fn timeline(conn: &Connection, id: i64) -> Result<Vec<Event>, StateError> {
    let mut stmt =
        conn.prepare_cached("SELECT ts, actor, kind, text FROM case_events WHERE case_id = ?1 ORDER BY id")?;
    let rows =
        stmt.query_map([id], |r| Ok(Event { ts: r.get(0)?, actor: r.get(1)?, kind: r.get(2)?, text: r.get(3)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn event(tx: &Transaction<'_>, id: i64, actor: &Actor, kind: &str, text: &str) -> Result<(), StateError> {
    let now = now_text();
    tx.execute(
        "INSERT INTO case_events (case_id, ts, actor, kind, text) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, now, actor.name, kind, text],
    )?;
    tx.execute("UPDATE cases SET updated = ?1 WHERE id = ?2", params![now, id])?;
    Ok(())
}

fn found(conn: &Connection, scope: &Option<Vec<String>>, id: i64) -> Result<Case, StateError> {
    get(conn, scope, id)?.ok_or_else(|| StateError::NotFound { what: "case", name: format!("#{id}") })
}

/// Puts alerts into a case (opened for them, of organization `org`, when `into` is new); the
/// caller marks the alerts. Returns the case's id.
pub(super) fn take_alerts(
    tx: &Transaction<'_>,
    actor: &Actor,
    scope: &Option<Vec<String>>,
    into: &Into,
    org: &str,
    alerts: &[String],
) -> Result<i64, StateError> {
    let id = match into {
        Into::Case(id) => {
            let case = found(tx, scope, *id)?;
            if case.status == "closed" {
                return Err(StateError::Invalid { field: "case", message: format!("case #{id} is closed") });
            }
            *id
        }
        Into::New(title) => {
            let title = title.trim();
            if title.is_empty() || title.chars().count() > 200 {
                return Err(StateError::Invalid {
                    field: "title",
                    message: "a case needs a title (up to 200 characters)".into(),
                });
            }
            let now = now_text();
            tx.execute(
                "INSERT INTO cases (title, org, status, opened_by, created, updated) VALUES (?1, ?2, 'open', ?3, ?4, ?4)",
                params![title, org, actor.name, now],
            )?;
            let id = tx.last_insert_rowid();
            event(tx, id, actor, "opened", title)?;
            audit::append(tx, audit::Entry::done(actor, "case.open", &format!("#{id}")).detail(title))?;
            id
        }
    };
    let listed = if alerts.len() <= 5 {
        alerts.join(", ")
    } else {
        format!("{}, … ({} in all)", alerts[..5].join(", "), alerts.len())
    };
    event(tx, id, actor, "alerts", &listed)?;
    Ok(id)
}

/// A change to a case.
#[derive(Debug, Clone)]
pub enum Change {
    Note(String),
    Assign(String),
    Status(String),
}

/// Changes a case within `scope`, with its timeline line and audit entry.
pub fn change(
    tx: &Transaction<'_>,
    actor: &Actor,
    scope: &Option<Vec<String>>,
    id: i64,
    change: &Change,
) -> Result<(), StateError> {
    found(tx, scope, id)?;
    let target = format!("#{id}");
    match change {
        Change::Note(text) => {
            let text = text.trim();
            if text.is_empty() || text.chars().count() > super::alerts::MAX_COMMENT {
                return Err(StateError::Invalid {
                    field: "note",
                    message: format!("1 to {} characters", super::alerts::MAX_COMMENT),
                });
            }
            event(tx, id, actor, "note", text)?;
            audit::append(tx, audit::Entry::done(actor, "case.note", &target).detail(text))?;
        }
        Change::Assign(name) => {
            let user = super::user::get(tx, name)?;
            if scope.as_ref().is_some_and(|orgs| !orgs.contains(&user.org)) {
                return Err(StateError::NotFound { what: "user", name: name.clone() });
            }
            tx.execute("UPDATE cases SET assignee = ?1 WHERE id = ?2", params![user.name, id])?;
            event(tx, id, actor, "assigned", &user.name)?;
            audit::append(tx, audit::Entry::done(actor, "case.assign", &target).detail(&user.name))?;
        }
        Change::Status(status) => {
            if !STATUSES.contains(&status.as_str()) {
                return Err(StateError::Invalid {
                    field: "status",
                    message: format!("`{status}`: one of {}", STATUSES.join(", ")),
                });
            }
            tx.execute("UPDATE cases SET status = ?1 WHERE id = ?2", params![status, id])?;
            event(tx, id, actor, "status", status)?;
            audit::append(tx, audit::Entry::done(actor, "case.status", &target).detail(status))?;
        }
    }
    Ok(())
}

/// The alerts of a case.
pub fn alerts(
    conn: &Connection,
    scope: &Option<Vec<String>>,
    id: i64,
) -> Result<Vec<super::alerts::Alert>, StateError> {
    let filter = super::alerts::Filter { status: "all".into(), case_id: Some(id), ..Default::default() };
    Ok(super::alerts::list(conn, scope, &filter, 1000, 0)?.0)
}
