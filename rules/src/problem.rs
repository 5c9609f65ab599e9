//! A problem found in a rule pack, printed as `file:line:col: message` like a compiler's.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The rule or file cannot be used.
    Error,
    /// The rule is valid Sigma but uses what Canh cannot evaluate yet; it is not loaded.
    Unsupported,
    /// Worth saying, nothing lost: a rule directory without `pack.toml` is loaded all the same.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    pub fn error(file: impl Into<PathBuf>, line: usize, col: usize, message: impl Into<String>) -> Self {
        Self { file: file.into(), line, col, severity: Severity::Error, message: message.into() }
    }

    pub fn unsupported(file: impl Into<PathBuf>, line: usize, col: usize, reason: impl Into<String>) -> Self {
        Self { file: file.into(), line, col, severity: Severity::Unsupported, message: reason.into() }
    }

    pub fn warning(file: impl Into<PathBuf>, line: usize, col: usize, message: impl Into<String>) -> Self {
        Self { file: file.into(), line, col, severity: Severity::Warning, message: message.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Unsupported => "unsupported",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}:{}: {kind}: {}", self.file.display(), self.line, self.col, self.message)
    }
}

/// Line and column (1-based) of the first occurrence of `needle` in `text`, or 1:1.
pub fn locate(text: &str, needle: &str) -> (usize, usize) {
    match text.find(needle) {
        Some(at) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let col = at - before.rfind('\n').map_or(0, |nl| nl + 1) + 1;
            (line, col)
        }
        None => (1, 1),
    }
}
