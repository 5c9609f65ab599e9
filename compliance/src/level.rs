//! The security level (cấp độ) of an information system: 1 (lowest) to 5 (systems critical
//! to national security), under Decree 331/2026/NĐ-CP Art. 11–15 (Decree 85/2016 used the
//! same five levels).

use std::fmt;
use std::str::FromStr;

/// A cấp độ — security level, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    pub const ALL: [Level; 5] = [Level(1), Level(2), Level(3), Level(4), Level(5)];

    /// The level numbered `n`, if there is one.
    pub fn new(n: u8) -> Option<Self> {
        (1..=5).contains(&n).then_some(Self(n))
    }

    pub fn number(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cấp độ {}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotALevel(pub String);

impl fmt::Display for NotALevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a security level (cấp độ 1 to 5)", self.0)
    }
}

impl std::error::Error for NotALevel {}

impl FromStr for Level {
    type Err = NotALevel;

    fn from_str(s: &str) -> Result<Self, NotALevel> {
        s.trim().parse::<u8>().ok().and_then(Level::new).ok_or_else(|| NotALevel(s.to_string()))
    }
}

impl TryFrom<u8> for Level {
    type Error = NotALevel;

    fn try_from(n: u8) -> Result<Self, NotALevel> {
        Level::new(n).ok_or_else(|| NotALevel(n.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_five() {
        assert_eq!("3".parse::<Level>().unwrap().number(), 3);
        assert!("0".parse::<Level>().is_err() && "6".parse::<Level>().is_err() && "ba".parse::<Level>().is_err());
        assert_eq!(Level::new(5).unwrap().to_string(), "cấp độ 5");
    }
}
