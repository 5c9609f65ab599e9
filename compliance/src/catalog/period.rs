//! A period written as the catalog writes it: `12M` (months), `45D` (days).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Days,
    Months,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub amount: u32,
    pub unit: Unit,
}

impl Period {
    pub fn months(amount: u32) -> Self {
        Self { amount, unit: Unit::Months }
    }

    pub fn days(amount: u32) -> Self {
        Self { amount, unit: Unit::Days }
    }

    /// The date one period after `date` (a month-end date stays within its target month:
    /// 31/8 + 6 months is 28/2 or 29/2).
    pub fn after(self, date: Date) -> Date {
        match self.unit {
            Unit::Days => date + Duration::days(i64::from(self.amount)),
            Unit::Months => {
                let total = date.year() * 12 + (date.month() as i32 - 1) + self.amount as i32;
                let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u8 + 1);
                let month = Month::try_from(month).expect("1 to 12");
                let last = time::util::days_in_month(month, year);
                Date::from_calendar_date(year, month, date.day().min(last)).expect("a day within the month")
            }
        }
    }

    /// Days that always cover the period (a month as 31 days): for "held at least this long".
    pub fn covering_days(self) -> u32 {
        match self.unit {
            Unit::Days => self.amount,
            Unit::Months => match self.amount {
                1 => 31,
                3 => 92,
                6 => 184,
                12 => 366,
                n => n * 31,
            },
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            Unit::Days => write!(f, "{} ngày", self.amount),
            Unit::Months => write!(f, "{} tháng", self.amount),
        }
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (n, unit) = s.split_at(s.len().saturating_sub(1));
        let amount: u32 = n.parse().map_err(|_| format!("`{s}` is not a period (12M, 45D)"))?;
        match unit {
            "M" => Ok(Period::months(amount)),
            "D" => Ok(Period::days(amount)),
            _ => Err(format!("`{s}` is not a period (12M, 45D)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_clamp_to_the_month_end() {
        assert_eq!(Period::months(6).after(date!(2026 - 08 - 31)), date!(2027 - 02 - 28));
        assert_eq!(Period::months(12).after(date!(2026 - 12 - 03)), date!(2027 - 12 - 03));
        assert_eq!(Period::days(45).after(date!(2026 - 12 - 03)), date!(2027 - 01 - 17));
        assert_eq!("3M".parse::<Period>().unwrap().covering_days(), 92);
        assert!("3X".parse::<Period>().is_err() && "M".parse::<Period>().is_err());
    }
}
