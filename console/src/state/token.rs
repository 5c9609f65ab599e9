//! API tokens for scripts: a bearer secret shown once, stored only as its SHA-256, scoped to
//! a role and an organization no wider than its owner's, expiring, revocable. A token acts
//! as a principal of its own in the audit trail (`token:<id>:<label>`).

use rusqlite::{Connection, OptionalExtension, params};

use super::user::{self, Role};
use super::{Actor, StateError, audit, org, secret_hash};

/// What a valid token may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: i64,
    pub label: String,
    pub owner: String,
    pub role: Role,
    pub org: String,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor { name: format!("token:{}:{}", self.token_id, self.label), org: self.org.clone() }
    }
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: i64,
    pub label: String,
    pub owner: String,
    pub role: Role,
    pub org: String,
    pub expires: i64,
    pub revoked: bool,
}

/// Issues a token for `owner`, valid until `expires` (unix seconds). Its organization must be
/// the owner's or under it, and its role the owner's or `auditor` (read-only).
#[allow(clippy::too_many_arguments)]
pub fn issue(
    tx: &rusqlite::Transaction<'_>,
    actor: &Actor,
    owner: &str,
    label: &str,
    role: Role,
    org_code: &str,
    now: i64,
    expires: i64,
) -> Result<(i64, String), StateError> {
    let o = user::get(tx, owner)?;
    if role != o.role && role != Role::Auditor {
        return Err(StateError::Invalid {
            field: "role",
            message: format!("a token of {owner} may be {} or auditor, not {}", o.role.as_str(), role.as_str()),
        });
    }
    if !org::subtree(tx, &o.org)?.iter().any(|c| c == org_code) {
        return Err(StateError::Invalid {
            field: "org",
            message: format!("{org_code} is not {owner}'s organization ({}) or under it", o.org),
        });
    }
    if expires <= now {
        return Err(StateError::Invalid { field: "expires", message: "a token must expire in the future".into() });
    }
    let label = label.trim();
    if label.is_empty() {
        return Err(StateError::Invalid { field: "label", message: "a token needs a label".into() });
    }
    let secret = format!("canh_{}", hex::encode(super::random_bytes::<32>()));
    tx.execute(
        "INSERT INTO tokens (label, hash, owner, role, org, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![label, secret_hash(&secret), o.id, role.as_str(), org::id_of(tx, org_code)?, now, expires],
    )?;
    let id = tx.last_insert_rowid();
    let detail = format!("{label}: {} in {org_code} for {owner}, until {expires}", role.as_str());
    audit::append(tx, audit::Entry::done(actor, "token.issue", &id.to_string()).detail(&detail))?;
    Ok((id, secret))
}

/// The principal of a live token (unknown, expired, revoked, or its owner disabled: `None`),
/// and whether its last use is older than `session::TOUCH_EVERY` (so that [`check`], on the
/// writer, should record this one). Reads only.
pub fn peek(conn: &Connection, secret: &str, now: i64) -> Result<Option<(Principal, bool)>, StateError> {
    let row: Option<(i64, String, String, String, String, Option<i64>)> = conn
        .query_row(
            "SELECT t.id, t.label, u.name, t.role, o.code, t.last_used FROM tokens t JOIN users u ON u.id = t.owner
             JOIN orgs o ON o.id = t.org
             WHERE t.hash = ?1 AND t.revoked IS NULL AND t.expires > ?2 AND u.disabled = 0",
            params![secret_hash(secret), now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    let Some((token_id, label, owner, role, org, last_used)) = row else { return Ok(None) };
    let role = Role::parse(&role).ok_or_else(|| StateError::Invalid { field: "role", message: role.clone() })?;
    let stale = last_used.is_none_or(|t| now - t >= super::session::TOUCH_EVERY);
    Ok(Some((Principal { token_id, label, owner, role, org }, stale)))
}

/// The principal of a live token, its use recorded (at most every half minute).
pub fn check(conn: &Connection, secret: &str, now: i64) -> Result<Option<Principal>, StateError> {
    let Some((principal, stale)) = peek(conn, secret, now)? else { return Ok(None) };
    if stale {
        conn.execute("UPDATE tokens SET last_used = ?1 WHERE id = ?2", params![now, principal.token_id])?;
    }
    Ok(Some(principal))
}

/// Revokes a token at once.
pub fn revoke(tx: &rusqlite::Transaction<'_>, actor: &Actor, id: i64, now: i64) -> Result<(), StateError> {
    let changed = tx.execute("UPDATE tokens SET revoked = ?1 WHERE id = ?2 AND revoked IS NULL", params![now, id])?;
    if changed == 0 {
        return Err(StateError::NotFound { what: "live token", name: id.to_string() });
    }
    audit::append(tx, audit::Entry::done(actor, "token.revoke", &id.to_string()))?;
    Ok(())
}

pub fn list(conn: &Connection) -> Result<Vec<Listed>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT t.id, t.label, u.name, t.role, o.code, t.expires, t.revoked IS NOT NULL FROM tokens t
         JOIN users u ON u.id = t.owner JOIN orgs o ON o.id = t.org ORDER BY t.id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let role: String = r.get(3)?;
            let role = Role::parse(&role)
                .ok_or_else(|| rusqlite::Error::InvalidColumnType(3, role, rusqlite::types::Type::Text))?;
            Ok(Listed {
                id: r.get(0)?,
                label: r.get(1)?,
                owner: r.get(2)?,
                role,
                org: r.get(4)?,
                expires: r.get(5)?,
                revoked: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
