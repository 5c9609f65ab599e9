//! The audit trail: every action through the console, the API and the command line — sign-ins
//! and their failures, views, searches, exports, every change — as an append-only,
//! hash-chained table, written in the same transaction as the change it records.
//!
//! Each entry's `hash` is SHA-256 over a version tag, its sequence number, the previous
//! entry's hash and its own fields (each length-prefixed, so no two entries encode alike).
//! Editing, deleting or reordering an entry breaks the chain from there on.
//!
//! A chain cannot show that its last entries were cut off: a shorter chain is still a valid
//! chain. So after every change the **anchor** moves: the last entry's number and hash,
//! written to `DATA/audit.anchor` with an HMAC-SHA-256 under a key kept apart from the
//! database (`DATA/secrets/audit.key`, created 0600). A trail shorter than its anchor, or
//! different at it, fails [`verify`]; an anchor edited without the key fails too. Someone who
//! holds the key *and* can write the database can still rewrite both: against that, `canh
//! audit anchor` prints the head for a witness off the machine (the province SOC's ticket, a
//! signed daily report), and `canh audit verify --witness SEQ:HASH` checks the trail still
//! holds that entry.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use super::{Actor, StateError};

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// Refused: no permission, a bad password, a locked account.
    Denied,
    /// Attempted and failed (bad input, an error).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: &'a str,
    pub org: &'a str,
    /// What was done, dotted: `org.add`, `user.add`, `signin`, `alert.close`, `search`.
    pub action: &'a str,
    /// What it was done to: a name, an id, a query.
    pub target: &'a str,
    pub outcome: Outcome,
    pub detail: String,
}

impl<'a> Entry<'a> {
    pub fn new(actor: &'a Actor, action: &'a str, target: &'a str, outcome: Outcome) -> Self {
        Self { actor: &actor.name, org: &actor.org, action, target, outcome, detail: String::new() }
    }

    pub fn done(actor: &'a Actor, action: &'a str, target: &'a str) -> Self {
        Self::new(actor, action, target, Outcome::Ok)
    }

    pub fn detail(mut self, detail: &str) -> Self {
        self.detail = detail.to_string();
        self
    }
}

/// An entry that owns its text, to be appended later (by the console's audit writer, which
/// appends the entries of concurrent requests in one transaction).
#[derive(Debug, Clone)]
pub struct OwnedEntry {
    pub actor: String,
    pub org: String,
    pub action: String,
    pub target: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl OwnedEntry {
    pub fn of(e: &Entry<'_>) -> Self {
        Self {
            actor: e.actor.into(),
            org: e.org.into(),
            action: e.action.into(),
            target: e.target.into(),
            outcome: e.outcome,
            detail: e.detail.clone(),
        }
    }

    pub fn entry(&self) -> Entry<'_> {
        Entry {
            actor: &self.actor,
            org: &self.org,
            action: &self.action,
            target: &self.target,
            outcome: self.outcome,
            detail: self.detail.clone(),
        }
    }
}

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Stored {
    pub seq: i64,
    pub ts: String,
    pub actor: String,
    pub org: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
    pub prev: String,
    pub hash: String,
}

/// The hash before the first entry.
const GENESIS: [u8; 32] = [0; 32];

fn digest(seq: i64, prev: &[u8; 32], fields: [&str; 7]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"canh-audit-v1\0");
    h.update(seq.to_be_bytes());
    h.update(prev);
    for f in fields {
        h.update((f.len() as u32).to_be_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().into()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(s).ok()?;
    bytes.try_into().ok()
}

/// Appends an entry in `tx`; returns its number.
pub fn append(tx: &Transaction<'_>, e: Entry<'_>) -> Result<i64, StateError> {
    let last: Option<(i64, String)> = tx
        .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, unhex(&hash).unwrap_or(GENESIS)),
        None => (1, GENESIS),
    };
    let ts = super::now_text();
    let fields = [ts.as_str(), e.actor, e.org, e.action, e.target, e.outcome.as_str(), e.detail.as_str()];
    let hash = digest(seq, &prev, fields);
    tx.execute(
        "INSERT INTO audit (seq, ts, actor, org, action, target, outcome, detail, prev, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            seq,
            ts,
            e.actor,
            e.org,
            e.action,
            e.target,
            e.outcome.as_str(),
            e.detail,
            hex::encode(prev),
            hex::encode(hash)
        ],
    )?;
    Ok(seq)
}

/// The newest entries first, at most `limit`.
pub fn recent(conn: &Connection, limit: usize) -> Result<Vec<Stored>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT seq, ts, actor, org, action, target, outcome, detail, prev, hash FROM audit ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], stored)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

fn stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        seq: r.get(0)?,
        ts: r.get(1)?,
        actor: r.get(2)?,
        org: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        outcome: r.get(6)?,
        detail: r.get(7)?,
        prev: r.get(8)?,
        hash: r.get(9)?,
    })
}

/// The trail's head as last committed, kept apart from the database (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl Anchor {
    const FILE: &'static str = "audit.anchor";
    const KEY: &'static str = "secrets/audit.key";

    fn path(dir: &Path) -> PathBuf {
        dir.join(Self::FILE)
    }

    /// The anchor key, if there is one (read only: verifying never makes one).
    fn load_key(dir: &Path) -> Result<Option<Vec<u8>>, StateError> {
        let path = dir.join(Self::KEY);
        match std::fs::read_to_string(&path) {
            Ok(text) => hex::decode(text.trim()).map(Some).map_err(|_| StateError::Invalid {
                field: "audit key",
                message: format!("{} does not hold a hex key", path.display()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StateError::Io { path, source }),
        }
    }

    /// The anchor key, made on first use (32 random bytes, readable by the owner only).
    pub(super) fn key_or_create(dir: &Path) -> Result<Vec<u8>, StateError> {
        if let Some(key) = Self::load_key(dir)? {
            return Ok(key);
        }
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        let path = dir.join(Self::KEY);
        let io = |source| StateError::Io { path: path.clone(), source };
        let parent = path.parent().expect("under the data directory");
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(io)?;
        let key = super::random_bytes::<32>();
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(io)?;
        f.write_all(hex::encode(key).as_bytes()).and_then(|()| f.sync_all()).map_err(io)?;
        Ok(key.to_vec())
    }

    fn mac(key: &[u8], seq: i64, hash: &str) -> String {
        let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(b"canh-audit-anchor-v1\0");
        m.update(&seq.to_be_bytes());
        m.update(hash.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// Moves the anchor to the trail's last entry (after a commit), under `key`.
    pub(super) fn advance(conn: &Connection, dir: &Path, key: &[u8]) -> Result<(), StateError> {
        let Some((seq, hash)) = conn
            .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?
        else {
            return Ok(());
        };
        let path = Self::path(dir);
        // One temporary file per process: the CLI and the server may both move the anchor.
        let tmp = dir.join(format!("{}.{}.tmp", Self::FILE, std::process::id()));
        let io = |source| StateError::Io { path: path.clone(), source };
        let line = format!("{seq} {hash} {}\n", Self::mac(key, seq, &hash));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(line.as_bytes()).and_then(|()| f.sync_all()).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    /// The anchor, checked against its key; `None` when there is none yet.
    pub fn read(dir: &Path) -> Result<Option<Anchor>, AnchorError> {
        let path = Self::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(AnchorError::Unreadable(format!("{}: {e}", path.display()))),
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [seq, hash, mac] = parts.as_slice() else {
            return Err(AnchorError::Forged(format!("{} is not an anchor", path.display())));
        };
        let seq: i64 = seq.parse().map_err(|_| AnchorError::Forged(format!("{}: bad number", path.display())))?;
        let key = Self::load_key(dir).map_err(|e| AnchorError::Unreadable(e.to_string()))?.ok_or_else(|| {
            AnchorError::Unreadable(format!("its key ({}) is missing", dir.join(Self::KEY).display()))
        })?;
        if Self::mac(&key, seq, hash) != *mac {
            return Err(AnchorError::Forged(format!("{}: its HMAC does not match the key", path.display())));
        }
        Ok(Some(Anchor { seq, hash: hash.to_string() }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorError {
    Unreadable(String),
    Forged(String),
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Entries read.
    pub entries: u64,
    /// The anchor's entry number, if there is an anchor.
    pub anchored: Option<i64>,
    /// Where the trail is broken, first place first; empty when it holds.
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Walks the whole trail: each entry's number follows the one before, its `prev` is the hash
/// before it, its hash is its content's; then the trail against its anchor, and against a
/// witnessed `(seq, hash)` if one is given.
pub fn verify(conn: &Connection, dir: &Path, witness: Option<(i64, &str)>) -> Result<Verdict, StateError> {
    let mut v = Verdict::default();
    let mut stmt = conn
        .prepare("SELECT seq, ts, actor, org, action, target, outcome, detail, prev, hash FROM audit ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut expected_seq = 1;
    let mut prev = GENESIS;
    let mut last = 0;
    while let Some(row) = rows.next()? {
        let e = stored(row)?;
        v.entries += 1;
        if e.seq != expected_seq {
            v.problems.push(if e.seq > expected_seq {
                format!("entries {expected_seq} to {} are missing (deleted)", e.seq - 1)
            } else {
                format!("entry {} is out of order", e.seq)
            });
        }
        let its_prev = unhex(&e.prev);
        if its_prev != Some(prev) {
            v.problems
                .push(format!("entry {} does not follow the entry before it (deleted, reordered or inserted)", e.seq));
        }
        let fields = [e.ts.as_str(), &e.actor, &e.org, &e.action, &e.target, &e.outcome, &e.detail];
        let own = digest(e.seq, &its_prev.unwrap_or(GENESIS), fields);
        if unhex(&e.hash) != Some(own) {
            v.problems.push(format!("entry {} was altered (its content does not give its hash)", e.seq));
        }
        prev = unhex(&e.hash).unwrap_or(GENESIS);
        expected_seq = e.seq + 1;
        last = e.seq;
    }
    let hash_at = |seq: i64| -> Result<Option<String>, StateError> {
        Ok(conn.query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0)).optional()?)
    };
    match Anchor::read(dir) {
        Ok(Some(anchor)) => {
            v.anchored = Some(anchor.seq);
            if last < anchor.seq {
                v.problems.push(format!(
                    "the trail ends at entry {last} but its anchor says it reached {} (truncated)",
                    anchor.seq
                ));
            } else if hash_at(anchor.seq)?.as_deref() != Some(anchor.hash.as_str()) {
                v.problems.push(format!("entry {} is not the one anchored (rewritten)", anchor.seq));
            }
        }
        Ok(None) if v.entries > 0 => {
            v.problems.push(format!("the anchor ({}) is missing", Anchor::path(dir).display()));
        }
        Ok(None) => {}
        Err(AnchorError::Unreadable(why) | AnchorError::Forged(why)) => v.problems.push(format!("anchor: {why}")),
    }
    if let Some((seq, hash)) = witness
        && hash_at(seq)?.as_deref() != Some(hash)
    {
        v.problems.push(format!("entry {seq} is not the one witnessed ({hash})"));
    }
    Ok(v)
}
