//! The Vietnamese lunar calendar (âm lịch), for the holidays that follow it: Tết Nguyên Đán
//! and the Hùng Kings' commemoration (10/3 âm lịch).
//!
//! Hồ Ngọc Đức's published method: new moons and the sun's longitude from Jean Meeus'
//! "Astronomical Algorithms" series, reckoned at UTC+7 — which is why Vietnam's Tết falls
//! apart from China's in some years (a month earlier in 1985, a day in 2007). No maintained
//! crate computes it.

use std::f64::consts::PI;

use time::Date;

/// Vietnam's time zone, in hours east of UTC: months start on the day of the new moon here.
const ZONE_HOURS: f64 = 7.0;

/// The Julian day number of the first new moon counted (1 January 1900).
const EPOCH: f64 = 2_415_021.076_998_695;

/// Mean length of a lunar month, in days.
const SYNODIC_MONTH: f64 = 29.530_588_853;

/// The moment (Julian date, fractional) of the k-th new moon after 1 January 1900.
fn new_moon(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85;
    let (t2, t3) = (t * t, t * t * t);
    let dr = PI / 180.0;
    let mut jd = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    let mpr = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let mut c1 = (0.1734 - 0.000_393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd + c1 - delta_t
}

/// The day (Julian day number) of the k-th new moon, in Vietnam's time.
fn new_moon_day(k: i64) -> i64 {
    (new_moon(k) + 0.5 + ZONE_HOURS / 24.0).floor() as i64
}

/// The sun's longitude at a Julian date, in radians (0 to 2π).
fn sun_longitude(jdn: f64) -> f64 {
    let t = (jdn - 2_451_545.0) / 36_525.0;
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2;
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let mut dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin();
    dl += (0.019_993 - 0.000_101 * t) * (dr * 2.0 * m).sin() + 0.000_290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr;
    l - 2.0 * PI * (l / (2.0 * PI)).floor()
}

/// Which of the twelve 30° sectors the sun is in at the start of a day (0 = from the vernal
/// equinox); a lunar month in which the sun enters no new sector is the leap month.
fn sun_sector(day: i64) -> i64 {
    (sun_longitude(day as f64 - 0.5 - ZONE_HOURS / 24.0) / PI * 6.0).floor() as i64
}

/// The first day of the 11th lunar month (the month holding the winter solstice) of a year.
fn month_11(year: i32) -> i64 {
    let last = Date::from_calendar_date(year, time::Month::December, 31).expect("31 December exists");
    let off = f64::from(last.to_julian_day()) - 2_415_021.0;
    let k = (off / SYNODIC_MONTH).floor() as i64;
    let start = new_moon_day(k);
    if sun_sector(start) >= 9 { new_moon_day(k - 1) } else { start }
}

/// How many months after the 11th month the leap month comes, in a lunar year that has one.
fn leap_month_offset(month_11_start: i64) -> i64 {
    let k = ((month_11_start as f64 - EPOCH) / SYNODIC_MONTH + 0.5).floor() as i64;
    let mut i = 1;
    let mut sector = sun_sector(new_moon_day(k + i));
    loop {
        let last = sector;
        i += 1;
        sector = sun_sector(new_moon_day(k + i));
        if sector == last || i >= 14 {
            return i - 1;
        }
    }
}

/// The solar date of a lunar date (`leap` for a day of the leap month); `None` when that
/// year has no such leap month or the day falls outside the dates `time` can hold.
pub fn to_solar(day: u8, month: u8, year: i32, leap: bool) -> Option<Date> {
    let (a11, b11) =
        if month < 11 { (month_11(year - 1), month_11(year)) } else { (month_11(year), month_11(year + 1)) };
    let k = (0.5 + (a11 as f64 - EPOCH) / SYNODIC_MONTH).floor() as i64;
    let mut off = i64::from(month) - 11;
    if off < 0 {
        off += 12;
    }
    if b11 - a11 > 365 {
        let leap_off = leap_month_offset(a11);
        let mut leap_month = leap_off - 2;
        if leap_month < 0 {
            leap_month += 12;
        }
        if leap && i64::from(month) != leap_month {
            return None;
        }
        if leap || off >= leap_off {
            off += 1;
        }
    } else if leap {
        return None;
    }
    let start = new_moon_day(k + off);
    Date::from_julian_day(i32::try_from(start + i64::from(day) - 1).ok()?).ok()
}

/// Mùng 1 Tết: the first day of the lunar year that begins in the solar year `year`.
pub fn new_year(year: i32) -> Date {
    to_solar(1, 1, year, false).expect("every lunar year has a first month")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn tet_as_vietnam_kept_it() {
        // The first day of each lunar year, as printed on Vietnam's calendars.
        let known = [
            (1985, date!(1985 - 01 - 21)), // a month before China's (20/2): month 11 fell differently at UTC+7
            (2007, date!(2007 - 02 - 17)), // a day before China's (18/2)
            (2020, date!(2020 - 01 - 25)),
            (2021, date!(2021 - 02 - 12)),
            (2022, date!(2022 - 02 - 01)),
            (2023, date!(2023 - 01 - 22)),
            (2024, date!(2024 - 02 - 10)),
            (2025, date!(2025 - 01 - 29)),
            (2026, date!(2026 - 02 - 17)),
            (2027, date!(2027 - 02 - 06)),
        ];
        for (year, tet) in known {
            assert_eq!(new_year(year), tet, "Tết {year}");
        }
    }

    #[test]
    fn hung_kings_day_and_leap_months() {
        // 10/3 âm lịch; 2023 had a leap second month, which pushes the third month later.
        assert_eq!(to_solar(10, 3, 2023, false), Some(date!(2023 - 04 - 29)));
        assert_eq!(to_solar(10, 3, 2024, false), Some(date!(2024 - 04 - 18)));
        assert_eq!(to_solar(10, 3, 2025, false), Some(date!(2025 - 04 - 07)));
        assert_eq!(to_solar(10, 3, 2026, false), Some(date!(2026 - 04 - 26)));
        // 2025 had a leap sixth month (6 nhuận began 25 July 2025); 2024 had none.
        assert_eq!(to_solar(1, 6, 2025, true), Some(date!(2025 - 07 - 25)));
        assert_eq!(to_solar(1, 6, 2024, true), None);
    }
}
