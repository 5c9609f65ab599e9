//! Console users: a name, one role, one organization (whose subtree the user sees), an
//! argon2id password hash ([`super::password`]) and, later, a TOTP second factor.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{StateError, audit, org, password};

/// What a user may do; each route of the console declares the permission it needs, and a
/// role grants a set of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
// On the command line as stored and documented: `system_owner`, not clap's `system-owner`.
#[value(rename_all = "snake_case")]
pub enum Role {
    /// Users, organizations, sensors, configuration.
    Admin,
    /// The SOC: alert triage, cases, search.
    Analyst,
    /// An information system's owner (chủ quản): files its dossier.
    SystemOwner,
    /// The appraising unit (thẩm định).
    Appraiser,
    /// The approving authority (phê duyệt).
    Approver,
    /// Reads logs, alerts and the audit trail; changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Admin, Role::Analyst, Role::SystemOwner, Role::Appraiser, Role::Approver, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Analyst => "analyst",
            Self::SystemOwner => "system_owner",
            Self::Appraiser => "appraiser",
            Self::Approver => "approver",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The organization's code.
    pub org: String,
    pub has_totp: bool,
    pub disabled: bool,
    /// The offset from UTC the console shows this user's times in, in minutes.
    pub utc_offset: i32,
}

/// A user name: 1 to 64 of letters, digits, `. _ - @`.
fn check_name(name: &str) -> Result<(), StateError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(StateError::Invalid {
            field: "name",
            message: format!("`{name}` is not a user name (1 to 64 letters, digits, . _ - @)"),
        })
    }
}

/// Adds a user, with its audit entry; the password must meet the rule.
pub fn add(
    tx: &Transaction<'_>,
    actor: &super::Actor,
    name: &str,
    role: Role,
    org_code: &str,
    password_text: &str,
) -> Result<User, StateError> {
    check_name(name)?;
    password::check(password_text)
        .map_err(|lacks| StateError::Invalid { field: "password", message: password::explain(&lacks) })?;
    if tx.query_row("SELECT 1 FROM users WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some() {
        return Err(StateError::Exists { what: "user", name: name.to_string() });
    }
    let org_id = org::id_of(tx, org_code)?;
    tx.execute(
        "INSERT INTO users (name, role, org, password, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, role.as_str(), org_id, password::hash(password_text), super::now_text()],
    )?;
    let id = tx.last_insert_rowid();
    audit::append(
        tx,
        audit::Entry::done(actor, "user.add", name).detail(&format!("role {} in {org_code}", role.as_str())),
    )?;
    Ok(User {
        id,
        name: name.to_string(),
        role,
        org: org_code.to_string(),
        has_totp: false,
        disabled: false,
        utc_offset: crate::when::VIETNAM_MINUTES,
    })
}

/// The columns [`row`] reads, from `users u` joined with `orgs o` (a macro, so that queries
/// can be put together from it at compile time).
macro_rules! user_columns {
    () => {
        "u.id, u.name, u.role, o.code, u.totp_secret IS NOT NULL, u.disabled, u.utc_offset"
    };
}
pub(super) use user_columns;

const SELECT: &str = concat!("SELECT ", user_columns!(), " FROM users u JOIN orgs o ON o.id = u.org");

/// A user from a row whose first columns are [`COLUMNS`].
pub(super) fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role)
            .ok_or_else(|| rusqlite::Error::InvalidColumnType(2, role, rusqlite::types::Type::Text))?,
        org: r.get(3)?,
        has_totp: r.get(4)?,
        disabled: r.get(5)?,
        utc_offset: r.get(6)?,
    })
}

/// The offsets from UTC a user may choose for the times the console shows, in minutes;
/// Vietnam's (Asia/Ho_Chi_Minh, +07:00 all year) is the default.
pub const UTC_OFFSETS: &[i32] = &[
    -720, -660, -600, -540, -480, -420, -360, -300, -240, -180, -120, -60, 0, 60, 120, 180, 210, 240, 270, 300, 330,
    345, 360, 390, 420, 480, 525, 540, 570, 600, 660, 720, 780, 840,
];

/// Sets the offset from UTC the console shows `name`'s times in, with its audit entry.
pub fn set_utc_offset(tx: &Transaction<'_>, actor: &super::Actor, name: &str, minutes: i32) -> Result<(), StateError> {
    if !UTC_OFFSETS.contains(&minutes) {
        return Err(StateError::Invalid {
            field: "utc_offset",
            message: format!("{minutes} minutes is not an offset of a time zone"),
        });
    }
    let changed = tx.execute("UPDATE users SET utc_offset = ?1 WHERE name = ?2", rusqlite::params![minutes, name])?;
    if changed == 0 {
        return Err(StateError::NotFound { what: "user", name: name.to_string() });
    }
    audit::append(
        tx,
        audit::Entry::done(actor, "user.zone", name).detail(&crate::when::Zone::minutes(minutes).label()),
    )?;
    Ok(())
}

pub fn list(conn: &Connection) -> Result<Vec<User>, StateError> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY o.code, u.name"))?;
    let users = stmt.query_map([], row)?.collect::<Result<_, _>>()?;
    Ok(users)
}

pub fn get(conn: &Connection, name: &str) -> Result<User, StateError> {
    conn.query_row(&format!("{SELECT} WHERE u.name = ?1"), [name], row)
        .optional()?
        .ok_or_else(|| StateError::NotFound { what: "user", name: name.to_string() })
}

/// The user whose name and password these are, if they are a user's and the user is not
/// disabled. A wrong name costs a hash as a wrong password does, so timing tells neither.
pub fn authenticate(conn: &Connection, name: &str, password_text: &str) -> Result<Option<User>, StateError> {
    let stored: Option<(String, bool)> = conn
        .query_row("SELECT password, disabled FROM users WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((hash, disabled)) = stored else {
        // A hash of nothing anyone types, so an unknown name takes as long as a wrong password.
        password::verify(password_text, &DUMMY_HASH);
        return Ok(None);
    };
    if !password::verify(password_text, &hash) || disabled {
        return Ok(None);
    }
    get(conn, name).map(Some)
}

static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| password::hash("\u{0}no one's password"));
