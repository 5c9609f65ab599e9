//! Suppressions: "this rule, from this source (or to this destination), is known and not worth
//! an analyst's time until then". Made from an alert, with an owner, a reason and an expiry;
//! applied to alerts as they arrive (they are kept, as `suppressed`, never dropped), listed,
//! and removable. A suppression reaches the alerts of its owner's organization subtree only.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Actor, StateError, audit, now_text, org};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Suppression {
    pub id: i64,
    pub rule_id: String,
    /// The source address it is for (`None`: any).
    pub src: Option<String>,
    pub dst: Option<String>,
    /// The organization whose subtree it covers.
    pub org: String,
    pub owner: String,
    pub reason: String,
    pub created: String,
    /// Seconds since the epoch.
    pub expires: i64,
    /// When it was removed, if it was.
    pub removed: Option<String>,
}

/// A suppression in force, with the organizations it reaches.
pub struct InForce {
    pub id: i64,
    rule_id: String,
    src: Option<String>,
    dst: Option<String>,
    orgs: Vec<String>,
}

impl InForce {
    /// Whether an alert of this rule, endpoints and organization is caught.
    pub fn catches(&self, rule_id: &str, src: &str, dst: &str, org: &str) -> bool {
        self.rule_id == rule_id
            && self.src.as_deref().is_none_or(|s| s == src)
            && self.dst.as_deref().is_none_or(|d| d == dst)
            && self.orgs.iter().any(|o| o == org)
    }
}

const COLUMNS: &str = "id, rule_id, src, dst, org, owner, reason, created, expires, removed";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Suppression> {
    Ok(Suppression {
        id: r.get(0)?,
        rule_id: r.get(1)?,
        src: r.get(2)?,
        dst: r.get(3)?,
        org: r.get(4)?,
        owner: r.get(5)?,
        reason: r.get(6)?,
        created: r.get(7)?,
        expires: r.get(8)?,
        removed: r.get(9)?,
    })
}

/// The suppressions in force at `now` (seconds).
pub fn in_force(conn: &Connection, now: i64) -> Result<Vec<InForce>, StateError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM suppressions WHERE removed IS NULL AND expires > ?1"))?;
    let all: Vec<Suppression> = stmt.query_map([now], row)?.collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(all.len());
    for s in all {
        let orgs = org::subtree(conn, &s.org)?;
        out.push(InForce { id: s.id, rule_id: s.rule_id, src: s.src, dst: s.dst, orgs });
    }
    Ok(out)
}

/// What a new suppression says.
#[derive(Debug, Clone, Default)]
pub struct New {
    pub rule_id: String,
    pub src: Option<String>,
    pub dst: Option<String>,
    pub reason: String,
    /// Seconds since the epoch.
    pub expires: i64,
}

/// Adds a suppression owned by `actor`, covering `org`'s subtree (the actor's organization:
/// no one silences alerts they cannot see).
pub fn add(tx: &Transaction<'_>, actor: &Actor, org: &str, new: &New, now: i64) -> Result<i64, StateError> {
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let (src, dst) = (blank(&new.src), blank(&new.dst));
    if new.rule_id.trim().is_empty() {
        return Err(StateError::Invalid { field: "rule_id", message: "a suppression names its rule".into() });
    }
    if src.is_none() && dst.is_none() {
        return Err(StateError::Invalid {
            field: "src",
            message: "a suppression names a source or a destination (a whole rule is turned off in its pack)".into(),
        });
    }
    for (field, addr) in [("src", &src), ("dst", &dst)] {
        if let Some(a) = addr
            && a.parse::<std::net::IpAddr>().is_err()
        {
            return Err(StateError::Invalid { field, message: format!("`{a}` is not an IP address") });
        }
    }
    if new.reason.trim().is_empty() {
        return Err(StateError::Invalid { field: "reason", message: "say why".into() });
    }
    if new.expires <= now {
        return Err(StateError::Invalid { field: "expires", message: "the expiry is in the past".into() });
    }
    tx.execute(
        "INSERT INTO suppressions (rule_id, src, dst, org, owner, reason, created, expires)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![new.rule_id.trim(), src, dst, org, actor.name, new.reason.trim(), now_text(), new.expires],
    )?;
    let id = tx.last_insert_rowid();
    let what = format!(
        "#{id} {} src={} dst={}",
        new.rule_id.trim(),
        src.as_deref().unwrap_or("*"),
        dst.as_deref().unwrap_or("*")
    );
    audit::append(tx, audit::Entry::done(actor, "suppression.add", &what).detail(new.reason.trim()))?;
    Ok(id)
}

/// The suppressions of organizations within `scope`, newest first (removed ones too).
pub fn list(conn: &Connection, scope: &Option<Vec<String>>) -> Result<Vec<Suppression>, StateError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM suppressions ORDER BY id DESC"))?;
    let all: Vec<Suppression> = stmt.query_map([], row)?.collect::<Result<_, _>>()?;
    Ok(all.into_iter().filter(|s| scope.as_ref().is_none_or(|orgs| orgs.contains(&s.org))).collect())
}

/// Removes a suppression within `scope` (alerts it caught stay as they are).
pub fn remove(tx: &Transaction<'_>, actor: &Actor, scope: &Option<Vec<String>>, id: i64) -> Result<(), StateError> {
    let found = tx
        .query_row(&format!("SELECT {COLUMNS} FROM suppressions WHERE id = ?1 AND removed IS NULL"), [id], row)
        .optional()?
        .filter(|s| scope.as_ref().is_none_or(|orgs| orgs.contains(&s.org)));
    let Some(s) = found else {
        return Err(StateError::NotFound { what: "suppression", name: format!("#{id}") });
    };
    tx.execute("UPDATE suppressions SET removed = ?1 WHERE id = ?2", params![now_text(), id])?;
    audit::append(tx, audit::Entry::done(actor, "suppression.remove", &format!("#{id} {}", s.rule_id)))?;
    Ok(())
}
