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

/// A sensor's last heartbeat.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Health {
    /// When the server received it (Unix seconds).
    pub received: i64,
    /// The server's clock minus the sensor's, in seconds, when it came.
    pub clock_offset: f64,
    /// What the sensor said (packets, drops, records, spool, rules, …).
    pub data: serde_json::Value,
    /// The health conditions alerted on and not cleared since (`silent`, `drops`, `clock`).
    pub raised: Vec<String>,
}

impl Health {
    fn number(&self, key: &str) -> u64 {
        self.data.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)
    }

    pub fn received_packets(&self) -> u64 {
        self.number("received")
    }

    pub fn kernel_dropped(&self) -> u64 {
        self.number("kernel_dropped")
    }

    /// Frames the kernel dropped, of all it saw, since the sensor started.
    pub fn drop_rate(&self) -> f64 {
        let dropped = self.kernel_dropped() as f64;
        let seen = self.received_packets() as f64 + dropped;
        if seen > 0.0 { dropped / seen } else { 0.0 }
    }

    pub fn spool_batches(&self) -> u64 {
        self.number("spool_batches")
    }

    pub fn records_per_s(&self) -> f64 {
        self.data.get("records_per_s").and_then(serde_json::Value::as_f64).unwrap_or(0.0)
    }

    /// Seconds the sensor's clock is ahead of the server's, to a tenth (never "-0.0").
    pub fn clock_ahead(&self) -> f64 {
        let tenths = (-self.clock_offset * 10.0).round();
        if tenths == 0.0 { 0.0 } else { tenths / 10.0 }
    }

    pub fn rules(&self) -> &str {
        self.data.get("rules").and_then(serde_json::Value::as_str).unwrap_or("")
    }
}

/// Keeps a heartbeat; returns the clock offset it measured.
pub fn heartbeat(tx: &Transaction<'_>, name: &str, data: &serde_json::Value, now: f64) -> Result<f64, StateError> {
    let sent_at = data.get("sent_at").and_then(serde_json::Value::as_f64).unwrap_or(now);
    let offset = now - sent_at;
    tx.execute(
        "INSERT INTO sensor_health (name, received, clock_offset, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET received = ?2, clock_offset = ?3, data = ?4",
        params![name, now as i64, offset, data.to_string()],
    )?;
    Ok(offset)
}

pub fn health(conn: &Connection, name: &str) -> Result<Option<Health>, StateError> {
    Ok(conn
        .query_row("SELECT received, clock_offset, data, raised FROM sensor_health WHERE name = ?1", [name], |r| {
            let data: String = r.get(2)?;
            let raised: String = r.get(3)?;
            Ok(Health {
                received: r.get(0)?,
                clock_offset: r.get(1)?,
                data: serde_json::from_str(&data).unwrap_or_default(),
                raised: raised.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
            })
        })
        .optional()?)
}

/// Records which health conditions stand alerted (so that each is alerted once per onset).
pub fn set_raised(tx: &Transaction<'_>, name: &str, raised: &[String]) -> Result<(), StateError> {
    tx.execute(
        "INSERT INTO sensor_health (name, received, clock_offset, data, raised) VALUES (?1, 0, 0, '{}', ?2)
         ON CONFLICT(name) DO UPDATE SET raised = ?2",
        params![name, raised.join(",")],
    )?;
    Ok(())
}

/// A sensor with what it delivered and its last heartbeat: one row of `canh sensor status`.
#[derive(Debug, Clone)]
pub struct Status {
    pub sensor: Sensor,
    pub delivered: Delivered,
    pub health: Option<Health>,
}

pub fn statuses(conn: &Connection) -> Result<Vec<Status>, StateError> {
    list(conn)?
        .into_iter()
        .map(|sensor| {
            Ok(Status { delivered: delivered(conn, &sensor.name)?, health: health(conn, &sensor.name)?, sensor })
        })
        .collect()
}

/// A sensor's certificate renewed (its current one authenticated the request): the new serial
/// is the one accepted from now on, the old one refused.
pub fn renewed(tx: &Transaction<'_>, name: &str, serial: &str, not_after: i64) -> Result<(), StateError> {
    tx.execute("UPDATE sensors SET serial = ?2, not_after = ?3 WHERE name = ?1", params![name, serial, not_after])?;
    let org: String = tx.query_row("SELECT org FROM sensors WHERE name = ?1", [name], |r| r.get(0))?;
    let actor = Actor { name: format!("sensor:{name}"), org };
    audit::append(tx, audit::Entry::done(&actor, "sensor.renew", name).detail(&format!("serial {serial}")))?;
    Ok(())
}
