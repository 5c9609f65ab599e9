//! The console's mutable state in SQLite: organizations, users, sessions and tokens, alert
//! triage, suppressions and cases, the compliance desk (information systems, dossiers,
//! assessments, evidence), and the audit trail.
//!
//! One database file per data directory (`DATA/canh.db`), in WAL mode so that readers never
//! wait for the writer, with foreign keys on and versioned migrations ([`migrate`]). Every
//! change is made in one transaction together with its audit entry ([`audit::append`]), so
//! the trail and the state cannot disagree. The SQL is kept portable (no SQLite-only types
//! beyond `INTEGER PRIMARY KEY`) so that a deployment can move to PostgreSQL.

pub mod alerts;
pub mod assessment;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod dossier;
pub mod evidence;
pub mod incident;
pub mod inventory;
mod migrate;
pub mod org;
pub mod packets;
pub mod password;
pub mod saved;
pub mod sensor;
pub mod session;
pub mod suppression;
pub mod token;
pub mod totp;
pub mod user;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction};

/// What went wrong with the state, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no {what} `{name}`")]
    NotFound { what: &'static str, name: String },
    #[error("{what} `{name}` exists already")]
    Exists { what: &'static str, name: String },
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("the database was made by a newer canh (schema version {found}; this one knows up to {known})")]
    TooNew { found: u32, known: u32 },
}

/// Who did something: a console user, an API token, or the command line (`cli:<login>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    /// The organization the actor acts for (empty for the command line, which acts for the
    /// whole installation).
    pub org: String,
}

impl Actor {
    /// The operator at the command line, named by the login the process runs under.
    pub fn cli() -> Self {
        // The login, else the user id (a service or container may set no USER).
        let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| {
            use std::os::unix::fs::MetadataExt as _;
            std::fs::metadata("/proc/self").map_or_else(|_| "unknown".into(), |m| format!("uid{}", m.uid()))
        });
        Self { name: format!("cli:{login}"), org: String::new() }
    }
}

/// The state database of one data directory.
pub struct State {
    conn: Connection,
    dir: PathBuf,
    /// The audit anchor's key, read (or made) at the first change.
    anchor_key: Option<Vec<u8>>,
}

impl State {
    /// The file under the data directory.
    pub const FILE: &'static str = "canh.db";

    /// Opens (creating and migrating as needed) the state of the data directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        std::fs::create_dir_all(dir).map_err(|source| StateError::Io { path: dir.to_path_buf(), source })?;
        let path = dir.join(Self::FILE);
        let open = |path: &Path| -> rusqlite::Result<Connection> {
            let conn = Connection::open(path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // A second process (the CLI beside a running server) waits for the writer a
            // while rather than failing at once.
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            Ok(conn)
        };
        let mut conn = open(&path).map_err(|source| StateError::Open { path: path.clone(), source })?;
        migrate::run(&mut conn)?;
        Ok(Self { conn, dir: dir.to_path_buf(), anchor_key: None })
    }

    /// A connection for reads only, beside the writer: in WAL mode a reader never waits for
    /// the writer nor the writer for it.
    pub fn open_reader(&self) -> Result<Connection, StateError> {
        let path = self.dir.join(Self::FILE);
        let open = || -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            Ok(conn)
        };
        open().map_err(|source| StateError::Open { path: path.clone(), source })
    }

    /// The data directory this state belongs to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Read access.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `change` in one immediate transaction (the write lock taken at once, so two
    /// writers never deadlock upgrading a read), then moves the audit trail's anchor.
    pub fn change<T>(
        &mut self,
        change: impl FnOnce(&Transaction<'_>) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = change(&tx)?;
        tx.commit()?;
        if self.anchor_key.is_none() {
            self.anchor_key = Some(audit::Anchor::key_or_create(&self.dir)?);
        }
        audit::Anchor::advance(&self.conn, &self.dir, self.anchor_key.as_deref().expect("just set"))?;
        Ok(out)
    }

    /// Records an action that changed nothing (a view, a search, an export, a refusal).
    pub fn record(&mut self, entry: audit::Entry<'_>) -> Result<(), StateError> {
        self.change(|tx| audit::append(tx, entry).map(|_| ()))
    }
}

/// `N` bytes from the operating system's random source: salts, keys, tokens.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
}

/// A bearer secret as stored (session and API tokens): its SHA-256 in hex, so that a copy of
/// the database gives no usable token.
pub(crate) fn secret_hash(secret: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// Now, in seconds since the epoch, as sessions, locks and tokens count time.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Now, as the audit trail and the tables write it: RFC 3339 in UTC, microseconds.
pub(crate) fn now_text() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(now.microsecond() * 1000).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
