//! Time as people read and type it: local time in a [`Zone`] (Vietnam's, Asia/Ho_Chi_Minh, by
//! default; a console user may choose another offset) for display, and the forms a time range
//! is given in (`24h`, `2026-11-02`, `2026-11-02 08:00`, RFC 3339) — one reading for the
//! command line and the console.

use anyhow::{Result, bail};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Vietnam's offset from UTC in minutes (Asia/Ho_Chi_Minh has kept +07:00 without daylight
/// saving since 1975): the default zone of every user.
pub const VIETNAM_MINUTES: i32 = 420;

fn vietnam() -> UtcOffset {
    UtcOffset::from_whole_seconds(VIETNAM_MINUTES * 60).expect("valid offset")
}

/// Where times are shown and read: an offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(pub UtcOffset);

impl Zone {
    pub fn vietnam() -> Self {
        Self(vietnam())
    }

    /// An offset in minutes (Vietnam's when out of range).
    pub fn minutes(minutes: i32) -> Self {
        Self(UtcOffset::from_whole_seconds(minutes * 60).unwrap_or_else(|_| vietnam()))
    }

    /// `UTC+07:00`.
    pub fn label(self) -> String {
        let (h, m, _) = self.0.as_hms();
        format!("UTC{}{:02}:{:02}", if self.0.is_negative() { '-' } else { '+' }, h.abs(), m.abs())
    }

    /// A time in microseconds since the epoch, to the second.
    pub fn micros(self, micros: i64) -> String {
        let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000) else {
            return micros.to_string();
        };
        let t = t.to_offset(self.0);
        t.format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"))
            .unwrap_or_else(|_| micros.to_string())
    }

    /// A record's time (seconds since the epoch), to the millisecond.
    pub fn seconds(self, ts: f64) -> String {
        let nanos = (ts * 1e9) as i128;
        let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else { return ts.to_string() };
        let t = t.to_offset(self.0);
        let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
        t.format(format).unwrap_or_else(|_| ts.to_string())
    }

    /// A time as the state tables write it (RFC 3339, UTC), to the second; other text as it is.
    pub fn text(self, rfc3339: &str) -> String {
        match OffsetDateTime::parse(rfc3339, &Rfc3339) {
            Ok(t) => self.micros((t.unix_timestamp_nanos() / 1000) as i64),
            Err(_) => rfc3339.to_string(),
        }
    }

    /// A time range's end as typed (an age, a date, a local time in this zone, RFC 3339).
    pub fn parse(self, s: &str, now: OffsetDateTime) -> Result<i64> {
        parse_time_in(s, now, self.0)
    }
}

/// A `--since`/`--until` value as microseconds since the epoch, given the time now; dates and
/// local times are Vietnam's.
/// Today's date in Vietnam: the day deadlines are counted from.
pub fn today_in_vietnam() -> Date {
    OffsetDateTime::now_utc().to_offset(vietnam()).date()
}

/// A date written YYYY-MM-DD.
pub fn parse_date(s: &str) -> Result<Date> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| anyhow::anyhow!("`{s}` is not a date (YYYY-MM-DD)"))
}

pub fn parse_time(s: &str, now: OffsetDateTime) -> Result<i64> {
    parse_time_in(s, now, vietnam())
}

/// The same, with dates and local times in `zone`.
fn parse_time_in(s: &str, now: OffsetDateTime, zone: UtcOffset) -> Result<i64> {
    let micros = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1000) as i64;
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && !unit.is_empty() {
        let per_unit: i64 = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => bail!("`{s}`: an age ends in s, m, h or d (`24h`)"),
        };
        // Ages past a century are refused rather than wrapped around.
        let secs =
            digits.parse::<i64>().ok().and_then(|n| n.checked_mul(per_unit)).filter(|s| *s <= 100 * 366 * 86_400);
        let Some(secs) = secs else { bail!("`{s}`: an age of at most a hundred years") };
        return Ok(micros(now) - secs * 1_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(micros(t));
    }
    if let Ok(d) = Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return Ok(micros(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(zone)));
    }
    // The table's own format, in the zone's time: what an analyst copies from a result.
    for format in [
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ] {
        if let Ok(t) = PrimitiveDateTime::parse(s, format) {
            return Ok(micros(t.assume_offset(zone)));
        }
    }
    bail!(
        "`{s}`: expected an age (`24h`, `7d`), a date (`2026-11-02`), a local time as the table shows it (`2026-11-02 08:00:00.500`) or a time with its offset (`2026-11-02T08:00:00+07:00`)"
    )
}

/// A record's time as Vietnam's local time, to the millisecond.
pub fn local_time(ts: f64) -> String {
    Zone::vietnam().seconds(ts)
}
