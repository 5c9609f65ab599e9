//! NDJSON into the store: the lines a replay writes (as its [`Sink`]), a log file, or a pipe.
//! A line that is not a record is reported with its place and skipped; the lines around it are
//! kept. Errors of the store itself (disk, index) stop the ingest.

use std::io::{self, BufRead};

use canh_sensor::output::Sink;

use super::StoreError;
use super::writer::{Rejected, StoreWriter};

/// Rejected lines kept for the report (the count goes on past it).
const REJECTED_KEPT: usize = 100;

/// A line that was not taken, and where it was.
#[derive(Debug, Clone)]
pub struct LineError {
    pub source: String,
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.reason)
    }
}

/// Lines into a [`StoreWriter`], counted and placed.
pub struct LineIngest {
    writer: StoreWriter,
    source: String,
    line: u64,
    pub accepted: u64,
    pub acknowledged: u64,
    pub rejected: u64,
    /// The first rejected lines, with their place.
    pub errors: Vec<LineError>,
}

impl LineIngest {
    /// `source` names where the lines come from, in errors (a file name, `stdin`, `replay`).
    pub fn new(writer: StoreWriter, source: &str) -> Self {
        Self {
            writer,
            source: source.to_string(),
            line: 0,
            accepted: 0,
            acknowledged: 0,
            rejected: 0,
            errors: Vec::new(),
        }
    }

    /// Takes a buffer of whole lines.
    pub fn lines(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        for line in bytes.split(|&b| b == b'\n') {
            self.line(line)?;
        }
        // `split` yields an empty piece after the last newline: not a line of its own.
        if bytes.ends_with(b"\n") {
            self.line -= 1;
        }
        Ok(())
    }

    /// Reads lines to the end; `acknowledged` hears every new acknowledgement count. A line
    /// longer than [`MAX_LINE`] is skipped (an error names it) and the rest is read; a NUL byte
    /// ends the read with an error at its offset: NDJSON never holds one, and a stream of them
    /// (`/dev/zero`, a binary file given by mistake) would otherwise be read for ever.
    pub fn read(&mut self, mut input: impl BufRead, mut acknowledged: impl FnMut(u64)) -> Result<(), IngestError> {
        let mut buf = Vec::new();
        let mut offset = 0u64;
        loop {
            buf.clear();
            let (n, complete) = read_line(&mut input, &mut buf).map_err(|e| IngestError::Read {
                file: self.source.clone(),
                line: self.line + 1,
                error: e,
            })?;
            if n == 0 {
                return Ok(());
            }
            if let Some(at) = memchr::memchr(0, &buf) {
                return Err(IngestError::Binary { file: self.source.clone(), offset: offset + at as u64 });
            }
            offset += n as u64;
            if !complete {
                // Past the cap: the rest of the line is read and dropped, not kept.
                let (rest, nul) = skip_line(&mut input).map_err(|e| IngestError::Read {
                    file: self.source.clone(),
                    line: self.line + 1,
                    error: e,
                })?;
                if let Some(at) = nul {
                    return Err(IngestError::Binary { file: self.source.clone(), offset: offset + at });
                }
                offset += rest;
                self.line += 1;
                self.reject(Rejected::TooLong(MAX_LINE));
                continue;
            }
            let before = self.acknowledged;
            self.line(buf.strip_suffix(b"\n").unwrap_or(&buf))?;
            if self.acknowledged != before {
                acknowledged(self.acknowledged);
            }
        }
    }

    /// Records taken that the store held already, or that came twice: kept once, not
    /// written again (counted over the writer's life).
    pub fn duplicates(&self) -> u64 {
        self.writer.duplicates()
    }

    /// The writer back, for the next source (its acknowledgement count goes on).
    pub fn into_writer(self) -> StoreWriter {
        self.writer
    }

    /// Commits what is pending; returns the records acknowledged in all.
    pub fn finish(&mut self) -> Result<u64, StoreError> {
        self.acknowledged = self.writer.commit()?;
        Ok(self.acknowledged)
    }

    fn line(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.line += 1;
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let outcome = match std::str::from_utf8(bytes) {
            Ok(text) => self.writer.add_line(text),
            Err(e) => Err(Rejected::NotJson(format!("not UTF-8 at byte {}", e.valid_up_to()))),
        };
        match outcome {
            Ok(acknowledged) => {
                self.accepted += 1;
                self.acknowledged = acknowledged;
            }
            Err(Rejected::Store(e)) => return Err(e),
            Err(reason) => self.reject(reason),
        }
        Ok(())
    }

    /// Counts the current line as not taken, and keeps its place for the report.
    fn reject(&mut self, reason: Rejected) {
        self.rejected += 1;
        if self.errors.len() < REJECTED_KEPT {
            self.errors.push(LineError { source: self.source.clone(), line: self.line, reason: reason.to_string() });
        }
    }
}

/// Longest line taken, in bytes: a record is a few hundred bytes, the longest of Canh's own a few
/// KiB; past this a line is an attack or a mistake, and holding it would cost its size in memory.
pub const MAX_LINE: usize = 1 << 20;

/// Reads up to and including the next newline, at most [`MAX_LINE`] + 1 bytes into `buf`;
/// returns the bytes read and whether the line ended within the cap (or at the end of input).
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let mut n = 0;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((n, true));
        }
        let room = MAX_LINE + 1 - buf.len();
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) if i < room => (i + 1, true),
            _ => (available.len().min(room), false),
        };
        buf.extend_from_slice(&available[..take]);
        input.consume(take);
        n += take;
        if done {
            return Ok((n, true));
        }
        if buf.len() > MAX_LINE {
            return Ok((n, false));
        }
    }
}

/// Reads and drops the rest of a line; returns the bytes dropped and where in them a NUL was.
fn skip_line(input: &mut impl BufRead) -> io::Result<(u64, Option<u64>)> {
    let mut n = 0u64;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((n, None));
        }
        let newline = memchr::memchr(b'\n', available);
        let end = newline.map_or(available.len(), |i| i + 1);
        if let Some(at) = memchr::memchr(0, &available[..end]) {
            return Ok((n, Some(n + at as u64)));
        }
        input.consume(end);
        n += end as u64;
        if newline.is_some() {
            return Ok((n, None));
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}:{line}: reading: {error}")]
    Read { file: String, line: u64, error: io::Error },
    #[error("{file}: a NUL byte at byte offset {offset}: not NDJSON text; stopped here (what came before is kept)")]
    Binary { file: String, offset: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A replay writes into the store through this.
impl Sink for LineIngest {
    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        self.lines(lines).map_err(io::Error::other)
    }

    fn finish(&mut self) -> io::Result<()> {
        LineIngest::finish(self).map(|_| ()).map_err(io::Error::other)
    }
}
