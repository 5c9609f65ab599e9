//! Vietnam's public holidays (ngày nghỉ lễ, tết) as the Labour Code 2019 sets them, with the
//! days in lieu when one falls on a weekend.
//!
//! Art. 112.1: Tết Dương lịch 1/1; Tết Âm lịch 5 days; 30/4; 1/5; Quốc khánh 2/9 and one day
//! next to it; Giỗ Tổ Hùng Vương 10/3 âm lịch. Art. 111.3: a holiday on a weekly rest day is
//! taken on the next working day. Which five days of Tết, and which day beside 2/9, the
//! Government announces each year; the rule below is Canh's default (the day before Tết and
//! the first four days of the year; beside 2/9 the day that joins a weekend), and each year's
//! announcement is entered as edits (`calendar::Edit`) by the administrator.

use time::{Date, Duration, Month, Weekday};

use super::lunar;

/// A statutory day off and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    /// Its name in Vietnamese (the console's first language), e.g. "Tết Nguyên Đán (mùng 1)".
    pub name: String,
}

fn day(year: i32, month: Month, d: u8) -> Date {
    Date::from_calendar_date(year, month, d).expect("a fixed holiday exists every year")
}

pub fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The holidays of a solar year by the Labour Code, before any days in lieu.
fn statutory(year: i32) -> Vec<Holiday> {
    let mut days = vec![Holiday { date: day(year, Month::January, 1), name: "Tết Dương lịch".into() }];
    let tet = lunar::new_year(year);
    days.push(Holiday { date: tet - Duration::days(1), name: "Tết Nguyên Đán (ngày cuối năm)".into() });
    for n in 0..4 {
        days.push(Holiday { date: tet + Duration::days(n), name: format!("Tết Nguyên Đán (mùng {})", n + 1) });
    }
    if let Some(hung) = lunar::to_solar(10, 3, year, false) {
        days.push(Holiday { date: hung, name: "Giỗ Tổ Hùng Vương (10/3 âm lịch)".into() });
    }
    days.push(Holiday { date: day(year, Month::April, 30), name: "Ngày Chiến thắng 30/4".into() });
    days.push(Holiday { date: day(year, Month::May, 1), name: "Ngày Quốc tế Lao động 1/5".into() });
    let national = day(year, Month::September, 2);
    days.push(Holiday { date: national, name: "Quốc khánh 2/9".into() });
    // The day beside 2/9: the one that joins a weekend (Monday 1/9 when 2/9 is a Tuesday,
    // Friday 3/9 when it is a Thursday); otherwise the day after.
    let beside = match national.weekday() {
        Weekday::Tuesday | Weekday::Friday | Weekday::Saturday => national - Duration::days(1),
        _ => national + Duration::days(1),
    };
    days.push(Holiday { date: beside, name: "Quốc khánh (ngày liền kề)".into() });
    days.sort_by_key(|h| h.date);
    days
}

/// The days off of a solar year: the statutory holidays, and for each that falls on a
/// weekend a day in lieu on the next working day (Labour Code Art. 111.3).
pub fn days_off(year: i32) -> Vec<Holiday> {
    let statutory = statutory(year);
    let mut off = statutory.clone();
    for h in statutory.iter().filter(|h| is_weekend(h.date)) {
        let mut lieu = h.date + Duration::days(1);
        while is_weekend(lieu) || off.iter().any(|o| o.date == lieu) {
            lieu += Duration::days(1);
        }
        off.push(Holiday { date: lieu, name: format!("Nghỉ bù {}", h.name) });
    }
    off.sort_by_key(|h| h.date);
    off
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn dates(year: i32) -> Vec<Date> {
        days_off(year).into_iter().map(|h| h.date).collect()
    }

    #[test]
    fn tet_2026_is_the_nine_days_announced() {
        // Tết Bính Ngọ: mùng 1 on Tuesday 17/2/2026; the Government's nine days, 14–22/2,
        // are the rule's five weekdays 16–20/2 between two weekends.
        let d = dates(2026);
        for n in 16..=20 {
            assert!(d.contains(&Date::from_calendar_date(2026, Month::February, n).unwrap()), "{n}/2/2026");
        }
        assert!(!d.contains(&date!(2026 - 02 - 13)) && !d.contains(&date!(2026 - 02 - 23)));
    }

    #[test]
    fn weekend_holidays_get_a_day_in_lieu() {
        // Giỗ Tổ 2026 is Sunday 26/4: Monday 27/4 is off. 1/5/2027 is a Saturday: Monday 3/5.
        assert!(dates(2026).contains(&date!(2026 - 04 - 27)));
        assert!(dates(2027).contains(&date!(2027 - 05 - 03)));
        // Tết 2027 (mùng 1 Saturday 6/2): the weekend's two days move to Wednesday and Thursday.
        let d = dates(2027);
        for day in [
            date!(2027 - 02 - 05),
            date!(2027 - 02 - 08),
            date!(2027 - 02 - 09),
            date!(2027 - 02 - 10),
            date!(2027 - 02 - 11),
        ] {
            assert!(d.contains(&day), "{day}");
        }
        // 2/9/2025 was a Tuesday: Monday 1/9 beside it, as the Government announced.
        assert!(dates(2025).contains(&date!(2025 - 09 - 01)));
    }
}
