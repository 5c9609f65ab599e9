//! Organizations (đơn vị): a tree of any depth — the province, its departments and communes,
//! their units. A record's `_org` is an organization's code; a user sees the records of their
//! organization's subtree ([`subtree`]), which the server computes for every query.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{StateError, audit};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: i64,
    /// Short, stable, lower-case: the `_org` records carry (`so-khcn`, `ubnd-phuong-1`).
    pub code: String,
    /// The organization's name as written (Sở Khoa học và Công nghệ).
    pub name: String,
    /// The parent's code; `None` for a root (the province).
    pub parent: Option<String>,
    /// Distance from the root, for drawing the tree.
    pub depth: usize,
}

/// A code is 1 to 64 of `a-z 0-9 - _ .`: it travels in records, URLs and file names.
pub fn check_code(code: &str) -> Result<(), StateError> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(StateError::Invalid {
            field: "code",
            message: format!("`{code}` is not an organization code (1 to 64 of a-z, 0-9, -, _, .)"),
        })
    }
}

/// The id of the organization `code`.
pub fn id_of(conn: &Connection, code: &str) -> Result<i64, StateError> {
    conn.query_row("SELECT id FROM orgs WHERE code = ?1", [code], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StateError::NotFound { what: "organization", name: code.to_string() })
}

/// Adds an organization under `parent` (a root when `None`), with its audit entry.
pub fn add(
    tx: &Transaction<'_>,
    actor: &super::Actor,
    code: &str,
    name: &str,
    parent: Option<&str>,
) -> Result<Org, StateError> {
    check_code(code)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(StateError::Invalid { field: "name", message: "an organization needs a name".into() });
    }
    if tx.query_row("SELECT 1 FROM orgs WHERE code = ?1", [code], |_| Ok(())).optional()?.is_some() {
        return Err(StateError::Exists { what: "organization", name: code.to_string() });
    }
    let parent_id = parent.map(|p| id_of(tx, p)).transpose()?;
    tx.execute(
        "INSERT INTO orgs (code, name, parent, created) VALUES (?1, ?2, ?3, ?4)",
        params![code, name, parent_id, super::now_text()],
    )?;
    let id = tx.last_insert_rowid();
    let under = parent.map(|p| format!(" under {p}")).unwrap_or_default();
    audit::append(tx, audit::Entry::done(actor, "org.add", code).detail(&format!("{name}{under}")))?;
    let depth = match parent {
        Some(p) => ancestors(tx, p)?.len(),
        None => 0,
    };
    Ok(Org { id, code: code.to_string(), name: name.to_string(), parent: parent.map(String::from), depth })
}

/// Every organization, depth first: each one followed by its subtree, siblings by code.
pub fn list(conn: &Connection) -> Result<Vec<Org>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT o.id, o.code, o.name, p.code FROM orgs o LEFT JOIN orgs p ON p.id = o.parent ORDER BY o.code",
    )?;
    let all: Vec<Org> = stmt
        .query_map([], |r| Ok(Org { id: r.get(0)?, code: r.get(1)?, name: r.get(2)?, parent: r.get(3)?, depth: 0 }))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(all.len());
    fn visit(all: &[Org], parent: Option<&str>, depth: usize, out: &mut Vec<Org>) {
        for org in all.iter().filter(|o| o.parent.as_deref() == parent) {
            out.push(Org { depth, ..org.clone() });
            visit(all, Some(&org.code), depth + 1, out);
        }
    }
    visit(&all, None, 0, &mut out);
    Ok(out)
}

/// The codes of `code` and of every organization under it, at any depth.
pub fn subtree(conn: &Connection, code: &str) -> Result<Vec<String>, StateError> {
    let id = id_of(conn, code)?;
    let mut stmt = conn.prepare(
        "WITH RECURSIVE under(id) AS (SELECT ?1 UNION SELECT o.id FROM orgs o JOIN under u ON o.parent = u.id)
         SELECT code FROM orgs WHERE id IN (SELECT id FROM under) ORDER BY code",
    )?;
    let codes = stmt.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(codes)
}

/// What a user of `code` may read: `None` for a root of the tree (the province SOC sees
/// everything, the command line's own entries included), else the codes of its subtree.
pub fn scope(conn: &Connection, code: &str) -> Result<Option<Vec<String>>, StateError> {
    if ancestors(conn, code)?.is_empty() {
        return Ok(None);
    }
    subtree(conn, code).map(Some)
}

/// The codes from the root down to `code`'s parent.
pub fn ancestors(conn: &Connection, code: &str) -> Result<Vec<String>, StateError> {
    let id = id_of(conn, code)?;
    let mut stmt = conn.prepare(
        "WITH RECURSIVE up(id, parent, n) AS (SELECT id, parent, 0 FROM orgs WHERE id = ?1
             UNION SELECT o.id, o.parent, up.n + 1 FROM orgs o JOIN up ON o.id = up.parent)
         SELECT code FROM orgs JOIN up USING (id) WHERE up.n > 0 ORDER BY up.n DESC",
    )?;
    let codes = stmt.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(codes)
}
