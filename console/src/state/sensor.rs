//! Sensors enrolled with the province's CA: `canh sensor enroll` makes a one-time token (kept
//! as its hash, valid a day); the sensor redeems it once with its certificate request and gets
//! a certificate naming the enrolled name and organization; a revoked sensor's serial is
//! refused at once by the server.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Actor, StateError, audit, now_text, now_unix, org, secret_hash};

/// How long an enrollment token may wait to be redeemed.
pub const TOKEN_SECONDS: i64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sensor {
    pub name: String,
    pub org: String,
    /// The current certificate's serial (hex) and expiry, once one was issued.
    pub serial: Option<String>,
    pub not_after: Option<i64>,
    pub revoked: Option<String>,
    /// An unredeemed token's expiry.
    pub token_expires: Option<i64>,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Sensor> {
    Ok(Sensor {
        name: r.get(0)?,
        org: r.get(1)?,
        serial: r.get(2)?,
        not_after: r.get(3)?,
        revoked: r.get(4)?,
        token_expires: r.get(5)?,
    })
}

const COLUMNS: &str = "name, org, serial, not_after, revoked, token_expires";

fn check_name(name: &str) -> Result<(), StateError> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StateError::Invalid { field: "name", message: format!("`{name}` is not a sensor name (a-z, 0-9, -, _)") })
    }
}

/// Enrolls a sensor (or re-enrolls one, for a new certificate): returns the one-time token.
pub fn enroll(tx: &Transaction<'_>, actor: &Actor, name: &str, org_code: &str) -> Result<String, StateError> {
    check_name(name)?;
    org::id_of(tx, org_code)?;
    let token = format!("canh-enroll-{}", hex::encode(super::random_bytes::<24>()));
    let expires = now_unix() + TOKEN_SECONDS;
    let existing: Option<String> =
        tx.query_row("SELECT org FROM sensors WHERE name = ?1", [name], |r| r.get(0)).optional()?;
    match existing {
        Some(o) if o != org_code => {
            return Err(StateError::Invalid { field: "org", message: format!("sensor `{name}` belongs to `{o}`") });
        }
        Some(_) => {
            tx.execute(
                "UPDATE sensors SET token_hash = ?2, token_expires = ?3, revoked = NULL WHERE name = ?1",
                params![name, secret_hash(&token), expires],
            )?;
        }
        None => {
            tx.execute(
                "INSERT INTO sensors (name, org, token_hash, token_expires, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, org_code, secret_hash(&token), expires, now_text()],
            )?;
        }
    }
    audit::append(tx, audit::Entry::done(actor, "sensor.enroll", name).detail(org_code))?;
    Ok(token)
}

/// Redeems a token once: the sensor it was made for, whose certificate `issue` then signs
/// (with the enrolled name and organization); the serial and expiry are kept.
pub fn redeem(
    tx: &Transaction<'_>,
    token: &str,
    issue: impl FnOnce(&str, &str) -> anyhow::Result<(String, String, time::OffsetDateTime)>,
) -> Result<(Sensor, String), StateError> {
    let found: Option<(String, String, i64)> = tx
        .query_row("SELECT name, org, token_expires FROM sensors WHERE token_hash = ?1", [secret_hash(token)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let refused = |m: &str| StateError::Invalid { field: "token", message: m.to_string() };
    let Some((name, org_code, expires)) = found else {
        return Err(refused("not an enrollment token, or already used"));
    };
    if expires < now_unix() {
        return Err(refused("the enrollment token expired: enroll the sensor again"));
    }
    let (pem, serial, not_after) =
        issue(&name, &org_code).map_err(|e| StateError::Invalid { field: "csr", message: format!("{e:#}") })?;
    tx.execute(
        "UPDATE sensors SET token_hash = NULL, token_expires = NULL, serial = ?2, not_after = ?3 WHERE name = ?1",
        params![name, serial, not_after.unix_timestamp()],
    )?;
    let actor = Actor { name: format!("sensor:{name}"), org: org_code.clone() };
    audit::append(tx, audit::Entry::done(&actor, "sensor.certificate", &name).detail(&format!("serial {serial}")))?;
    Ok((get(tx, &name)?.expect("just updated"), pem))
}

pub fn get(conn: &Connection, name: &str) -> Result<Option<Sensor>, StateError> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM sensors WHERE name = ?1"), [name], row).optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Sensor>, StateError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM sensors ORDER BY org, name"))?;
    Ok(stmt.query_map([], row)?.collect::<Result<_, _>>()?)
}

/// Revokes a sensor: its certificate is refused from now on, and any unredeemed token voided.
pub fn revoke(tx: &Transaction<'_>, actor: &Actor, name: &str) -> Result<(), StateError> {
    let n = tx.execute(
        "UPDATE sensors SET revoked = ?2, token_hash = NULL, token_expires = NULL WHERE name = ?1",
        params![name, now_text()],
    )?;
    if n == 0 {
        return Err(StateError::NotFound { what: "sensor", name: name.to_string() });
    }
    audit::append(tx, audit::Entry::done(actor, "sensor.revoke", name))?;
    Ok(())
}

/// Whether a certificate is one the server accepts now: its sensor enrolled, not revoked, and
/// this the serial last issued to it (an older certificate of a renewed sensor is refused).
pub fn accepts(conn: &Connection, name: &str, org_code: &str, serial: &str) -> Result<bool, StateError> {
    Ok(get(conn, name)?
        .is_some_and(|s| s.org == org_code && s.revoked.is_none() && s.serial.as_deref() == Some(serial)))
}

/// What a sensor delivered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Delivered {
    /// The last batch a commit holds: a batch at or below it is a replay.
    pub last_seq: u64,
    pub batches: u64,
    pub records: u64,
    /// What the sensor's spool reported dropping (full while the server was away).
    pub dropped_batches: u64,
    pub dropped_records: u64,
    /// When its last batch was committed (Unix seconds).
    pub last_batch: i64,
}

pub fn delivered(conn: &Connection, name: &str) -> Result<Delivered, StateError> {
    Ok(conn
        .query_row(
            "SELECT last_seq, batches, records, dropped_batches, dropped_records, last_batch
             FROM sensor_ingest WHERE name = ?1",
            [name],
            |r| {
                Ok(Delivered {
                    last_seq: r.get::<_, i64>(0)? as u64,
                    batches: r.get::<_, i64>(1)? as u64,
                    records: r.get::<_, i64>(2)? as u64,
                    dropped_batches: r.get::<_, i64>(3)? as u64,
                    dropped_records: r.get::<_, i64>(4)? as u64,
                    last_batch: r.get(5)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

/// Records that batch `seq` of `records` records is committed (the dropped counts are the
/// sensor's running totals, as its batch stated them).
pub fn batch_committed(
    tx: &Transaction<'_>,
    name: &str,
    seq: u64,
    records: u64,
    dropped: (u64, u64),
) -> Result<(), StateError> {
    let i = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO sensor_ingest (name, last_seq, batches, records, dropped_batches, dropped_records, last_batch)
         VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)
         ON CONFLICT(name) DO UPDATE SET last_seq = max(last_seq, ?2), batches = batches + 1,
             records = records + ?3, dropped_batches = max(dropped_batches, ?4),
             dropped_records = max(dropped_records, ?5), last_batch = ?6",
        params![name, i(seq), i(records), i(dropped.0), i(dropped.1), now_unix()],
    )?;
    Ok(())
}
