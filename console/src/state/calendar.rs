//! The working-day calendar deadlines are counted on: Vietnam's holidays as Canh computes
//! them (canh_compliance::calendar), corrected by the administrator's edits for each year's
//! announced arrangement (an extra day off, a Saturday worked in exchange).

use canh_compliance::calendar::{DayKind, Edit, WorkCalendar};
use rusqlite::{Connection, Transaction, params};
use time::Date;

use super::{Actor, StateError, audit, now_text};

fn kind_text(kind: DayKind) -> &'static str {
    match kind {
        DayKind::DayOff => "day_off",
        DayKind::WorkingDay => "working_day",
    }
}

fn parse_day(s: &str) -> Result<Date, StateError> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| StateError::Invalid { field: "day", message: format!("`{s}` is not a date (YYYY-MM-DD)") })
}

/// The administrator's edits, by date.
pub fn edits(conn: &Connection) -> Result<Vec<Edit>, StateError> {
    let mut stmt = conn.prepare_cached("SELECT day, kind, name FROM holidays ORDER BY day")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (day, kind, name) = row?;
        let kind = if kind == "working_day" { DayKind::WorkingDay } else { DayKind::DayOff };
        out.push(Edit { date: parse_day(&day)?, kind, name });
    }
    Ok(out)
}

/// The calendar with the edits applied.
pub fn work_calendar(conn: &Connection) -> Result<WorkCalendar, StateError> {
    Ok(WorkCalendar::new(edits(conn)?))
}

/// Sets a day's kind (replacing an earlier edit of it).
pub fn set(tx: &Transaction<'_>, actor: &Actor, day: &str, kind: DayKind, name: &str) -> Result<(), StateError> {
    parse_day(day)?;
    if name.trim().is_empty() {
        return Err(StateError::Invalid {
            field: "name", message: "say what the day is (Nghỉ Tết, Làm bù …)".into()
        });
    }
    tx.execute(
        "INSERT INTO holidays (day, kind, name, actor, ts) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (day) DO UPDATE SET kind = ?2, name = ?3, actor = ?4, ts = ?5",
        params![day, kind_text(kind), name.trim(), actor.name, now_text()],
    )?;
    audit::append(
        tx,
        audit::Entry::done(actor, "calendar.set", day).detail(&format!("{}: {}", kind_text(kind), name.trim())),
    )?;
    Ok(())
}

/// Removes a day's edit: the computed calendar holds for it again.
pub fn unset(tx: &Transaction<'_>, actor: &Actor, day: &str) -> Result<(), StateError> {
    let n = tx.execute("DELETE FROM holidays WHERE day = ?1", [day])?;
    if n == 0 {
        return Err(StateError::NotFound { what: "calendar edit", name: day.to_string() });
    }
    audit::append(tx, audit::Entry::done(actor, "calendar.unset", day))?;
    Ok(())
}
