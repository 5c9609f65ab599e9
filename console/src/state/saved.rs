//! Searches a user saved by name: the query and its time range as typed (`24h` stays relative).

use rusqlite::{Connection, Transaction, params};

use super::{Actor, StateError, audit, now_text};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Saved {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub since: String,
    pub until: String,
}

/// The user's saved searches, by name.
pub fn list(conn: &Connection, user: i64) -> Result<Vec<Saved>, StateError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name, query, since, until FROM saved_searches WHERE user = ?1 ORDER BY name")?;
    let rows = stmt.query_map([user], |r| {
        Ok(Saved { id: r.get(0)?, name: r.get(1)?, query: r.get(2)?, since: r.get(3)?, until: r.get(4)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Saves (or replaces, by name) a search of `user`.
pub fn save(tx: &Transaction<'_>, actor: &Actor, user: i64, s: &Saved) -> Result<i64, StateError> {
    let name = s.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StateError::Invalid { field: "name", message: "1 to 100 characters".into() });
    }
    tx.execute(
        "INSERT INTO saved_searches (user, name, query, since, until, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user, name) DO UPDATE SET query = excluded.query, since = excluded.since, until = excluded.until",
        params![user, name, s.query, s.since, s.until, now_text()],
    )?;
    let id =
        tx.query_row("SELECT id FROM saved_searches WHERE user = ?1 AND name = ?2", params![user, name], |r| r.get(0))?;
    audit::append(tx, audit::Entry::done(actor, "search.save", name).detail(&s.query))?;
    Ok(id)
}

/// Deletes one of `user`'s saved searches.
pub fn delete(tx: &Transaction<'_>, actor: &Actor, user: i64, id: i64) -> Result<(), StateError> {
    let gone = tx.execute("DELETE FROM saved_searches WHERE id = ?1 AND user = ?2", params![id, user])?;
    if gone == 0 {
        return Err(StateError::NotFound { what: "saved search", name: format!("#{id}") });
    }
    audit::append(tx, audit::Entry::done(actor, "search.delete", &format!("#{id}")))?;
    Ok(())
}
