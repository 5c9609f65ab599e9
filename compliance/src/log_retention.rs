//! How long an information system's logs must be kept, by security level: TCVN 14423:2026
//! clauses 4/5/6/7.8.2.1 a under Decree 331/2026 (the same 1/3/6/12 months TCVN 11930:2017
//! asked under Decree 85/2016). Level 1 has no stated minimum.
//!
//! Months become days by the longest span that many calendar months can have, so that
//! whole-day retention never keeps less than the standard asks.

use crate::level::Level;

/// The minimum for a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRetention {
    /// Months the standard states; `None` when it states none (level 1).
    pub months: Option<u8>,
    /// Days that cover those months; for level 1, Canh keeps level 2's month.
    pub days: u32,
    /// Where the standard says it.
    pub clause: &'static str,
}

/// The longest span of `months` consecutive calendar months, in days.
fn days_covering(months: u8) -> u32 {
    match months {
        1 => 31,
        3 => 92,
        6 => 184,
        12 => 366,
        n => u32::from(n) * 31,
    }
}

/// The minimum log retention of a level.
pub fn minimum_log_retention(level: Level) -> LogRetention {
    let (months, clause) = match level.number() {
        1 => (None, "TCVN 14423:2026 (no minimum stated for level 1)"),
        2 => (Some(1), "TCVN 14423:2026 4.8.2.1 a"),
        3 => (Some(3), "TCVN 14423:2026 5.8.2.1 a"),
        4 => (Some(6), "TCVN 14423:2026 6.8.2.1 a"),
        _ => (Some(12), "TCVN 14423:2026 7.8.2.1 a"),
    };
    LogRetention { months, days: days_covering(months.unwrap_or(1)), clause }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_by_level_as_days_that_cover_them() {
        let days: Vec<u32> = Level::ALL.iter().map(|l| minimum_log_retention(*l).days).collect();
        assert_eq!(days, [31, 31, 92, 184, 366]);
        assert_eq!(minimum_log_retention(Level::new(3).unwrap()).months, Some(3));
        assert_eq!(minimum_log_retention(Level::new(1).unwrap()).months, None);
    }
}
