//! Sign-in and sessions: a password, a TOTP code where the user has one (an admin must),
//! failed attempts counted per account and per address with a lockout, and sessions whose
//! tokens are stored only as hashes, ended after 30 minutes idle or 12 hours in all (both
//! configurable), rotated at every sign-in and ended server-side at sign-out. Each sign-in,
//! refusal and sign-out is an audit entry.

use rusqlite::{Connection, OptionalExtension, params};

use super::audit::{self, Outcome};
use super::user::{self, Role, User};
use super::{Actor, State, StateError, secret_hash};

/// The limits of sign-in and sessions, in seconds and counts.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A session unused this long ends.
    pub idle: i64,
    /// A session ends this long after sign-in, used or not.
    pub absolute: i64,
    /// Failed attempts on one account within `window` before it is locked.
    pub account_failures: u32,
    /// Failed attempts from one address within `window` before it is locked.
    pub address_failures: u32,
    pub window: i64,
    /// How long a lock lasts.
    pub lockout: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            idle: 30 * 60,
            absolute: 12 * 3600,
            account_failures: 5,
            address_failures: 20,
            window: 15 * 60,
            lockout: 15 * 60,
        }
    }
}

/// Why a sign-in was refused. What the page says is vaguer ("wrong name, password or code")
/// for the first three, so that it tells an attacker nothing; the audit trail keeps which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    BadPassword,
    /// The user has a second factor and the code was missing, wrong or used already.
    BadCode,
    /// An admin without a second factor enrolled (`canh user totp NAME`).
    NoSecondFactor,
    /// Too many failures on the account or from the address; until then (unix seconds).
    Locked {
        until: i64,
    },
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Self::BadPassword => "bad password",
            Self::BadCode => "bad second-factor code",
            Self::NoSecondFactor => "admin without a second factor",
            Self::Locked { .. } => "locked",
        }
    }
}

/// A session just opened: the token for the cookie, and the CSRF token for the forms.
#[derive(Debug, Clone)]
pub struct Opened {
    pub token: String,
    pub csrf: String,
    pub user: User,
}

fn random_token() -> String {
    hex::encode(super::random_bytes::<32>())
}

fn lock_of(conn: &Connection, kind: &str, key: &str, now: i64) -> Result<Option<i64>, StateError> {
    let until: Option<i64> = conn
        .query_row("SELECT locked_until FROM signin_failures WHERE kind = ?1 AND key = ?2", [kind, key], |r| r.get(0))
        .optional()?;
    Ok(until.filter(|&u| u > now))
}

fn count_failure(
    tx: &rusqlite::Transaction<'_>,
    policy: &Policy,
    kind: &str,
    key: &str,
    limit: u32,
    now: i64,
) -> Result<(), StateError> {
    let row: Option<(u32, i64)> = tx
        .query_row("SELECT count, first FROM signin_failures WHERE kind = ?1 AND key = ?2", [kind, key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (count, first) = match row {
        Some((count, first)) if now - first < policy.window => (count + 1, first),
        _ => (1, now),
    };
    let locked_until = if count >= limit { now + policy.lockout } else { 0 };
    tx.execute(
        "INSERT INTO signin_failures (kind, key, count, first, locked_until) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, key) DO UPDATE SET count = ?3, first = ?4, locked_until = ?5",
        params![kind, key, count, first, locked_until],
    )?;
    Ok(())
}

/// Signs `name` in from `address` at `now` (unix seconds). On success the account's and the
/// address's failures are forgotten and a new session opens (a session the browser held
/// before is ended by the caller: [`end`]).
pub fn sign_in(
    state: &mut State,
    policy: &Policy,
    name: &str,
    password: &str,
    code: Option<&str>,
    address: &str,
    now: i64,
) -> Result<Result<Opened, Refusal>, StateError> {
    let who = Actor { name: name.to_string(), org: String::new() };
    let locked = lock_of(state.conn(), "account", name, now)?.max(lock_of(state.conn(), "address", address, now)?);
    let outcome = match locked {
        Some(until) => Err(Refusal::Locked { until }),
        None => match user::authenticate(state.conn(), name, password)? {
            None => Err(Refusal::BadPassword),
            Some(u) => check_code(state.conn(), &u, code, now)?.map(|step| (u, step)),
        },
    };
    state.change(|tx| match outcome {
        Ok((u, step)) => {
            tx.execute(
                "DELETE FROM signin_failures WHERE (kind = 'account' AND key = ?1) OR (kind = 'address' AND key = ?2)",
                [name, address],
            )?;
            if let Some(step) = step {
                tx.execute("UPDATE users SET totp_last_step = ?1 WHERE id = ?2", params![step as i64, u.id])?;
            }
            let (token, csrf) = (random_token(), random_token());
            tx.execute(
                "INSERT INTO sessions (token_hash, user, csrf, created, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![secret_hash(&token), u.id, csrf, now],
            )?;
            let actor = Actor { name: u.name.clone(), org: u.org.clone() };
            audit::append(tx, audit::Entry::done(&actor, "signin", name).detail(&format!("from {address}")))?;
            Ok(Ok(Opened { token, csrf, user: u }))
        }
        Err(refusal) => {
            if !matches!(refusal, Refusal::Locked { .. }) {
                count_failure(tx, policy, "account", name, policy.account_failures, now)?;
                count_failure(tx, policy, "address", address, policy.address_failures, now)?;
            }
            let detail = format!("{} from {address}", refusal.as_str());
            audit::append(tx, audit::Entry::new(&who, "signin", name, Outcome::Denied).detail(&detail))?;
            Ok(Err(refusal))
        }
    })
}

/// The second factor: required when the user has one, and for every admin. Returns the TOTP
/// step used, which may not be used again.
fn check_code(
    conn: &Connection,
    u: &User,
    code: Option<&str>,
    now: i64,
) -> Result<Result<Option<u64>, Refusal>, StateError> {
    let (secret, last_step): (Option<String>, i64) =
        conn.query_row("SELECT totp_secret, totp_last_step FROM users WHERE id = ?1", [u.id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let Some(secret) = secret else {
        return Ok(if u.role == Role::Admin { Err(Refusal::NoSecondFactor) } else { Ok(None) });
    };
    let Some(totp) = super::totp::of(&secret) else { return Ok(Err(Refusal::BadCode)) };
    match code.and_then(|c| totp.check(c.trim(), now.max(0) as u64)) {
        Some(step) if step as i64 > last_step => Ok(Ok(Some(step))),
        _ => Ok(Err(Refusal::BadCode)),
    }
}

/// A session as a read connection sees it: live and recently touched (nothing to write), or
/// needing the writer (to be touched, or ended as expired), or unknown.
pub enum Peeked {
    Live(User, String),
    NeedsWriter,
    Unknown,
}

/// How often a session's last use is written down, in seconds: a write (and its disk flush)
/// on every request would make every request wait for the writer, and idle time counted to
/// 30 s is close enough.
pub const TOUCH_EVERY: i64 = 30;

/// A session's user, CSRF token, and whether it ran out (`now`) or is due a touch.
struct Found {
    user: User,
    csrf: String,
    expired: bool,
    touch: bool,
}

fn find(conn: &Connection, policy: &Policy, hash: &str, now: i64) -> Result<Option<Found>, StateError> {
    let sql = concat!(
        "SELECT ",
        user::user_columns!(),
        ", s.csrf, s.created, s.last_seen FROM sessions s JOIN users u ON u.id = s.user
         JOIN orgs o ON o.id = u.org WHERE s.token_hash = ?1 AND u.disabled = 0"
    );
    let row = conn.query_row(sql, [hash], |r| Ok((user::row(r)?, r.get(7)?, r.get(8)?, r.get(9)?))).optional()?;
    Ok(row.map(|(user, csrf, created, last_seen): (User, String, i64, i64)| Found {
        user,
        csrf,
        expired: now - last_seen >= policy.idle || now - created >= policy.absolute,
        touch: now - last_seen >= TOUCH_EVERY,
    }))
}

/// Looks a session up without writing: most requests need no more.
pub fn peek(conn: &Connection, policy: &Policy, token: &str, now: i64) -> Result<Peeked, StateError> {
    Ok(match find(conn, policy, &secret_hash(token), now)? {
        None => Peeked::Unknown,
        Some(f) if f.expired || f.touch => Peeked::NeedsWriter,
        Some(f) => Peeked::Live(f.user, f.csrf),
    })
}

/// The user and CSRF token of a live session, touching it (at most every [`TOUCH_EVERY`]);
/// `None` when the token is unknown or the session ran out (then it is deleted).
pub fn lookup(conn: &Connection, policy: &Policy, token: &str, now: i64) -> Result<Option<(User, String)>, StateError> {
    let hash = secret_hash(token);
    let Some(found) = find(conn, policy, &hash, now)? else { return Ok(None) };
    if found.expired {
        conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [&hash])?;
        return Ok(None);
    }
    if found.touch {
        conn.execute("UPDATE sessions SET last_seen = ?1 WHERE token_hash = ?2", params![now, hash])?;
    }
    Ok(Some((found.user, found.csrf)))
}

/// Ends a session (sign-out), with its audit entry.
pub fn end(state: &mut State, token: &str) -> Result<(), StateError> {
    let hash = secret_hash(token);
    let name: Option<(String, String)> = state
        .conn()
        .query_row("SELECT u.name, o.code FROM sessions s JOIN users u ON u.id = s.user JOIN orgs o ON o.id = u.org WHERE s.token_hash = ?1", [&hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((name, org)) = name else { return Ok(()) };
    let actor = Actor { name: name.clone(), org };
    state.change(|tx| {
        tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [&hash])?;
        audit::append(tx, audit::Entry::done(&actor, "signout", &name))?;
        Ok(())
    })
}
