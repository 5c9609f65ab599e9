//! Requests for the packets behind an alert: a console user asks (the alert's flow, by its
//! Community ID and a time window, from the sensor that saw it); the sensor, asking the server
//! every few seconds over its mutual-TLS channel, answers with a pcap or with why it has none.
//! The pcap is kept as a file under `<data>/packets/`, named by the request.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::StateError;

/// A request not answered within this long is shown as unanswered and no longer handed to
/// the sensor (it was away, or has no packet store).
pub const WAIT_SECONDS: i64 = 3600;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PacketRequest {
    pub id: i64,
    pub alert: String,
    pub sensor: String,
    pub org: String,
    pub community_id: String,
    /// The window, in Unix seconds.
    pub from: f64,
    pub to: f64,
    pub requested_by: String,
    pub requested_at: i64,
    pub state: State,
    /// Why there are no packets (the sensor's words), when there are none.
    pub detail: String,
    pub packets: i64,
    pub bytes: i64,
    /// The sensor's limit cut the flow short.
    pub truncated: bool,
    pub answered_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Asked; the sensor has not answered.
    Waiting,
    /// Waited [`WAIT_SECONDS`] without an answer.
    Unanswered,
    /// The pcap is here.
    Ready,
    /// The sensor answered that it has none.
    None,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Unanswered => "unanswered",
            Self::Ready => "ready",
            Self::None => "none",
        }
    }
}

const COLUMNS: &str = "id, alert, sensor, org, community_id, from_ts, to_ts, requested_by, requested_at, state, \
                       detail, packets, bytes, truncated, answered_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PacketRequest> {
    let requested_at: i64 = r.get(8)?;
    let stored: String = r.get(9)?;
    let state = match stored.as_str() {
        "ready" => State::Ready,
        "none" => State::None,
        _ if requested_at + WAIT_SECONDS < super::now_unix() => State::Unanswered,
        _ => State::Waiting,
    };
    Ok(PacketRequest {
        id: r.get(0)?,
        alert: r.get(1)?,
        sensor: r.get(2)?,
        org: r.get(3)?,
        community_id: r.get(4)?,
        from: r.get(5)?,
        to: r.get(6)?,
        requested_by: r.get(7)?,
        requested_at,
        state,
        detail: r.get(10)?,
        packets: r.get(11)?,
        bytes: r.get(12)?,
        truncated: r.get(13)?,
        answered_at: r.get(14)?,
    })
}

/// What is asked: an alert's flow, from its sensor.
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    pub alert: &'a str,
    pub sensor: &'a str,
    pub org: &'a str,
    pub community_id: &'a str,
    pub from: f64,
    pub to: f64,
    pub by: &'a str,
}

/// Records a request; a request for the same alert still waiting is the one returned (asking
/// twice does not make the sensor work twice). Returns its id and whether it is new.
pub fn request(tx: &Transaction<'_>, ask: &Ask<'_>) -> Result<(i64, bool), StateError> {
    let waiting: Option<i64> = tx
        .query_row(
            "SELECT id FROM packet_requests WHERE alert = ?1 AND state = 'waiting' AND requested_at >= ?2",
            params![ask.alert, super::now_unix() - WAIT_SECONDS],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = waiting {
        return Ok((id, false));
    }
    tx.execute(
        "INSERT INTO packet_requests (alert, sensor, org, community_id, from_ts, to_ts, requested_by, requested_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'waiting')",
        params![ask.alert, ask.sensor, ask.org, ask.community_id, ask.from, ask.to, ask.by, super::now_unix()],
    )?;
    Ok((tx.last_insert_rowid(), true))
}

/// The requests a sensor has to answer, oldest first.
pub fn wanted(conn: &Connection, sensor: &str) -> Result<Vec<PacketRequest>, StateError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM packet_requests WHERE sensor = ?1 AND state = 'waiting' AND requested_at >= ?2
         ORDER BY id LIMIT 16"
    ))?;
    let rows = stmt.query_map(params![sensor, super::now_unix() - WAIT_SECONDS], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A sensor's answer.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The pcap (already in its file): frames, bytes, cut short.
    Packets { packets: i64, bytes: i64, truncated: bool },
    /// None, and why.
    Nothing(String),
}

/// Records `sensor`'s answer to request `id`; false when it was not that sensor's to answer
/// or was answered already.
pub fn answer(tx: &Transaction<'_>, id: i64, sensor: &str, answer: &Answer) -> Result<bool, StateError> {
    let (state, detail, packets, bytes, truncated) = match answer {
        Answer::Packets { packets, bytes, truncated } => ("ready", String::new(), *packets, *bytes, *truncated),
        Answer::Nothing(why) => ("none", why.chars().take(500).collect(), 0, 0, false),
    };
    let changed = tx.execute(
        "UPDATE packet_requests SET state = ?1, detail = ?2, packets = ?3, bytes = ?4, truncated = ?5, answered_at = ?6
         WHERE id = ?7 AND sensor = ?8 AND state = 'waiting'",
        params![state, detail, packets, bytes, truncated, super::now_unix(), id, sensor],
    )?;
    Ok(changed == 1)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<PacketRequest>, StateError> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM packet_requests WHERE id = ?1"), [id], row).optional()?)
}

/// Whether `sensor` may answer request `id` now (it is that sensor's, and waiting).
pub fn answerable(conn: &Connection, id: i64, sensor: &str) -> Result<bool, StateError> {
    Ok(get(conn, id)?.is_some_and(|r| r.sensor == sensor && r.state == State::Waiting))
}

/// An alert's requests, newest first.
pub fn of_alert(conn: &Connection, alert: &str) -> Result<Vec<PacketRequest>, StateError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM packet_requests WHERE alert = ?1 ORDER BY id DESC"))?;
    let rows = stmt.query_map([alert], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Where the pcap of request `id` is kept.
pub fn file(data: &Path, id: i64) -> PathBuf {
    data.join("packets").join(format!("{id}.pcap"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_answered_once_by_its_sensor() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = super::super::State::open(dir.path()).unwrap();
        let ask =
            Ask { alert: "a1", sensor: "s1", org: "o", community_id: "1:abc=", from: 10.0, to: 20.0, by: "analyst" };
        let (id, new) = state.change(|tx| request(tx, &ask)).unwrap();
        assert!(new);
        // Asked again while waiting: the same request.
        assert_eq!(state.change(|tx| request(tx, &ask)).unwrap(), (id, false));
        assert_eq!(wanted(state.conn(), "s1").unwrap().len(), 1);
        assert!(wanted(state.conn(), "s2").unwrap().is_empty());
        // Another sensor cannot answer it; its own can, once.
        let got = Answer::Packets { packets: 3, bytes: 300, truncated: false };
        assert!(!state.change(|tx| answer(tx, id, "s2", &got)).unwrap());
        assert!(state.change(|tx| answer(tx, id, "s1", &got)).unwrap());
        assert!(!state.change(|tx| answer(tx, id, "s1", &Answer::Nothing("late".into()))).unwrap());
        let r = get(state.conn(), id).unwrap().unwrap();
        assert_eq!((r.state, r.packets, r.bytes), (State::Ready, 3, 300));
        assert!(wanted(state.conn(), "s1").unwrap().is_empty());
        // Answered: a new click makes a new request.
        assert!(state.change(|tx| request(tx, &ask)).unwrap().1);
        assert_eq!(of_alert(state.conn(), "a1").unwrap().len(), 2);
    }
}
