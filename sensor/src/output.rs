//! Writing records: NDJSON, one file per log type (`conn.ndjson`, `dns.ndjson`, …) or all
//! records on one stream; artifacts written to a directory when extraction is asked for.
//! Serialization is separate from writing so that worker threads can serialize in parallel
//! while one writer owns the files.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::app::Output;
use crate::files::Artifact;
use crate::record::{Body, LogType, Record};

/// Reads each batch of output and may derive a log of its own — how the analyzer's detection
/// runs inside a replay and writes its alerts beside the logs. Called from worker threads.
///
/// Work on artifacts may finish later, on threads of the inspector's own (YARA scans are the
/// costly part of detection and run beside decoding): what it derives then is picked up by
/// [`Inspector::collect`].
pub trait Inspector: Send + Sync {
    /// File name of the derived log (`alerts.json`).
    fn log_name(&self) -> &str;
    /// Reads a batch: its records, and its artifacts to keep; appends the NDJSON lines derived
    /// at once to `lines` and returns how many it appended.
    fn inspect(&self, records: &[Record], artifacts: Vec<Artifact>, lines: &mut Vec<u8>) -> u64;
    /// Appends lines derived in the background since the last call; with `wait`, first waits
    /// for everything handed over so far. Returns how many it appended.
    fn collect(&self, lines: &mut Vec<u8>, wait: bool) -> u64 {
        let _ = (lines, wait);
        0
    }
}

/// Another place every record goes, beside the logs: the event store when a replay indexes
/// what it writes. Called from the one thread that writes, in order; `lines` is NDJSON (records
/// of every type, then what the inspector derived).
pub trait Sink: Send {
    fn write(&mut self, lines: &[u8]) -> io::Result<()>;
    /// The end of the run: whatever the sink still holds is made durable.
    fn finish(&mut self) -> io::Result<()>;
}

impl std::fmt::Debug for dyn Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

impl std::fmt::Debug for dyn Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Inspector({})", self.log_name())
    }
}

/// Records of one batch, serialized: one NDJSON buffer per log type, plus the inspector's.
#[derive(Debug, Default)]
pub struct Serialized {
    pub lines: [Vec<u8>; LogType::COUNT],
    pub counts: [u64; LogType::COUNT],
    pub extracted: u64,
    pub derived: Vec<u8>,
    pub derived_count: u64,
}

/// Serializes a batch of output; writes its artifacts to `extract_dir` when set, then hands
/// records and artifacts to the inspector, if any.
pub fn serialize(
    out: Output,
    extract_dir: Option<&Path>,
    inspector: Option<&dyn Inspector>,
    into: &mut Serialized,
) -> io::Result<()> {
    let Output { mut records, artifacts, .. } = out;
    if let Some(dir) = extract_dir {
        for artifact in &artifacts {
            let name = extracted_name(&artifact.fuid, artifact.mime_type.as_deref());
            std::fs::write(dir.join(&name), &artifact.data)?;
            into.extracted += 1;
            if let Some(rec) = records.iter_mut().find_map(|r| match &mut r.body {
                Body::Files(f) if f.fuid == artifact.fuid => Some(f),
                _ => None,
            }) {
                rec.extracted = Some(name);
            }
        }
    }
    if let Some(i) = inspector {
        into.derived_count += i.inspect(&records, artifacts, &mut into.derived);
        into.derived_count += i.collect(&mut into.derived, false);
    }
    for rec in &records {
        let i = rec.log_type().index();
        serde_json::to_writer(&mut into.lines[i], rec).map_err(io::Error::other)?;
        into.lines[i].push(b'\n');
        into.counts[i] += 1;
    }
    Ok(())
}

/// `<fuid>.<ext>`: the name never comes from the wire, so no path can be smuggled in.
fn extracted_name(fuid: &str, mime: Option<&str>) -> String {
    let ext = match mime {
        Some("text/plain") => "txt",
        Some("text/html") => "html",
        Some("application/json") => "json",
        Some("application/pdf") => "pdf",
        Some("application/zip") => "zip",
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document") => "docx",
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") => "xlsx",
        Some("image/png") => "png",
        Some("image/jpeg") => "jpg",
        Some("image/gif") => "gif",
        Some("application/gzip") => "gz",
        _ => "bin",
    };
    format!("{fuid}.{ext}")
}

/// What the inspector still had in the background at the end of a run, waited for.
pub fn collect_rest(inspector: Option<&dyn Inspector>) -> Serialized {
    let mut s = Serialized::default();
    if let Some(i) = inspector {
        s.derived_count = i.collect(&mut s.derived, true);
    }
    s
}

/// Where records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One NDJSON file per log type in this directory.
    Dir(PathBuf),
    /// Every record on standard output, one per line.
    Stdout,
    /// Nowhere (benchmarks, tests that read the engine directly).
    Discard,
}

pub struct Writer {
    files: Vec<Option<BufWriter<File>>>,
    derived: Option<BufWriter<File>>,
    stdout: Option<BufWriter<io::Stdout>>,
    sink: Option<SharedSink>,
    pub counts: [u64; LogType::COUNT],
    pub extracted: u64,
    pub derived_count: u64,
}

impl Writer {
    /// Opens the logs; `derived_log` names the inspector's file, when there is one.
    pub fn open(target: &Target, derived_log: Option<&str>, sink: Option<SharedSink>) -> io::Result<Self> {
        let mut w = Self {
            files: (0..LogType::COUNT).map(|_| None).collect(),
            derived: None,
            stdout: None,
            sink,
            counts: [0; LogType::COUNT],
            extracted: 0,
            derived_count: 0,
        };
        match target {
            Target::Dir(dir) => {
                std::fs::create_dir_all(dir)?;
                for (i, t) in LogType::ALL.iter().enumerate() {
                    let file = File::create(dir.join(format!("{}.ndjson", t.name())))?;
                    w.files[i] = Some(BufWriter::with_capacity(1 << 20, file));
                }
                if let Some(name) = derived_log {
                    w.derived = Some(BufWriter::new(File::create(dir.join(name))?));
                }
            }
            Target::Stdout => w.stdout = Some(BufWriter::with_capacity(1 << 20, io::stdout())),
            Target::Discard => {}
        }
        Ok(w)
    }

    pub fn write(&mut self, s: &Serialized) -> io::Result<()> {
        for i in 0..LogType::COUNT {
            self.counts[i] += s.counts[i];
            if let Some(f) = self.files[i].as_mut() {
                f.write_all(&s.lines[i])?;
            }
            if let Some(out) = self.stdout.as_mut() {
                out.write_all(&s.lines[i])?;
            }
        }
        self.extracted += s.extracted;
        self.derived_count += s.derived_count;
        if let Some(f) = self.derived.as_mut() {
            f.write_all(&s.derived)?;
        }
        if let Some(out) = self.stdout.as_mut() {
            out.write_all(&s.derived)?;
        }
        if let Some(sink) = &self.sink {
            let mut sink = sink.lock().map_err(|_| io::Error::other("the sink failed earlier"))?;
            for lines in s.lines.iter().chain([&s.derived]) {
                if !lines.is_empty() {
                    sink.write(lines)?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(&mut self) -> io::Result<()> {
        for f in self.files.iter_mut().flatten().chain(self.derived.as_mut()) {
            f.flush()?;
        }
        if let Some(out) = self.stdout.as_mut() {
            out.flush()?;
        }
        if let Some(sink) = &self.sink {
            sink.lock().map_err(|_| io::Error::other("the sink failed earlier"))?.finish()?;
        }
        Ok(())
    }
}

/// A sink as replay options hold it (cloneable; only the writing thread locks it).
pub type SharedSink = std::sync::Arc<std::sync::Mutex<dyn Sink>>;
