//! Working days (ngày làm việc) for statutory deadlines: Monday to Friday, less Vietnam's
//! public holidays, with the administrator's edits for each year's announced arrangement
//! (an extra day off, a Saturday worked in exchange — ngày làm bù).
//!
//! A period "within N working days" of an event ends on the N-th working day after it (the
//! day of the event does not count). A period of N calendar days that ends on a day off ends
//! with the next working day instead (Civil Code 2015 Art. 148.5), as Decree 85's "ngày"
//! periods are read.

pub mod holidays;
pub mod lunar;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

pub use holidays::Holiday;

/// What an edit makes of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// Not worked (an announced extra day off).
    DayOff,
    /// Worked even though a weekend or a computed holiday (a make-up Saturday; a holiday the
    /// announcement moved elsewhere).
    WorkingDay,
}

/// One administrator's correction of the computed calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub date: Date,
    pub kind: DayKind,
    pub name: String,
}

/// The calendar deadlines are counted on.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    edits: BTreeMap<Date, Edit>,
}

impl WorkCalendar {
    /// The computed calendar corrected by `edits` (a later edit of the same date wins).
    pub fn new(edits: impl IntoIterator<Item = Edit>) -> Self {
        Self { edits: edits.into_iter().map(|e| (e.date, e)).collect() }
    }

    /// Is `date` a working day?
    pub fn is_working_day(&self, date: Date) -> bool {
        if let Some(edit) = self.edits.get(&date) {
            return edit.kind == DayKind::WorkingDay;
        }
        !holidays::is_weekend(date) && !holidays::days_off(date.year()).iter().any(|h| h.date == date)
    }

    /// The days off of a year that fall on weekdays or were added, and the weekend days worked:
    /// what the console lists for the administrator.
    pub fn year(&self, year: i32) -> Vec<(Date, DayKind, String)> {
        let mut days: BTreeMap<Date, (DayKind, String)> =
            holidays::days_off(year).into_iter().map(|h| (h.date, (DayKind::DayOff, h.name))).collect();
        for edit in self.edits.values().filter(|e| e.date.year() == year) {
            days.insert(edit.date, (edit.kind, edit.name.clone()));
        }
        days.into_iter().map(|(d, (k, n))| (d, k, n)).collect()
    }

    /// The `n`-th working day after `start`: the last day of a period of `n` working days.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut date = start;
        let mut left = n;
        while left > 0 {
            date += Duration::days(1);
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// The last day of a period of `n` calendar days after `start`, moved to the next
    /// working day when it falls on a day off.
    pub fn add_calendar_days(&self, start: Date, n: u32) -> Date {
        let mut date = start + Duration::days(i64::from(n));
        while !self.is_working_day(date) {
            date += Duration::days(1);
        }
        date
    }

    /// Working days from `today` until `due`: 0 on the due day, negative once past it.
    pub fn working_days_left(&self, today: Date, due: Date) -> i64 {
        let (from, to, sign) = if today <= due { (today, due, 1) } else { (due, today, -1) };
        let mut count = 0i64;
        let mut date = from;
        while date < to {
            date += Duration::days(1);
            if self.is_working_day(date) {
                count += 1;
            }
        }
        sign * count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn working_days_skip_weekends_and_tet() {
        let cal = WorkCalendar::default();
        // Filed Thursday 12/2/2026: the 5th working day skips the weekend and Tết (16–20/2).
        assert_eq!(cal.add_working_days(date!(2026 - 02 - 12), 5), date!(2026 - 02 - 26));
        // A 15-working-day appraisal from Monday 23/11/2026 ends Monday 14/12/2026.
        assert_eq!(cal.add_working_days(date!(2026 - 11 - 23), 15), date!(2026 - 12 - 14));
        assert_eq!(cal.working_days_left(date!(2026 - 11 - 23), date!(2026 - 12 - 14)), 15);
        assert_eq!(cal.working_days_left(date!(2026 - 12 - 15), date!(2026 - 12 - 14)), -1);
    }

    #[test]
    fn calendar_periods_end_on_a_working_day() {
        let cal = WorkCalendar::default();
        // 15 days from 2/2/2026 is Tuesday 17/2, mùng 1 Tết: the period ends Monday 23/2.
        assert_eq!(cal.add_calendar_days(date!(2026 - 02 - 02), 15), date!(2026 - 02 - 23));
    }

    #[test]
    fn edits_move_days() {
        // Tết Ất Tỵ 2025 as announced: 27/1 off as well, 3/2 worked (the rule gave 3/2 in lieu).
        let cal = WorkCalendar::new([
            Edit { date: date!(2025 - 01 - 27), kind: DayKind::DayOff, name: "Tết (công bố)".into() },
            Edit { date: date!(2025 - 02 - 03), kind: DayKind::WorkingDay, name: "Đi làm".into() },
        ]);
        assert!(!cal.is_working_day(date!(2025 - 01 - 27)));
        assert!(cal.is_working_day(date!(2025 - 02 - 03)));
        assert!(!WorkCalendar::default().is_working_day(date!(2025 - 02 - 03)));
        let listed = cal.year(2025);
        assert!(listed.iter().any(|(d, k, _)| *d == date!(2025 - 02 - 03) && *k == DayKind::WorkingDay));
    }
}
