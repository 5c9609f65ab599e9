//! Artifacts: bytes worth scanning (HTTP bodies, the heads of TCP streams), MIME-sniffed and
//! kept up to a configured size for the rule engines and for `--extract-files`. A file (an
//! HTTP body) is hashed as it streams by and becomes a `files` record whose `fuid` links to its
//! connection's `uid`; a stream head is an artifact only ([`StreamHead`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use md5::{Digest as _, Md5};
use sha1::Sha1;
use sha2::Sha256;

use crate::record::{FileRecord, Head};
use crate::time::{Micros, as_secs_f64};

/// Bytes kept at least, so the MIME type can be sniffed even when artifacts are not kept.
const SNIFF_BYTES: usize = 4096;

/// An artifact handed to whoever scans or stores them (YARA in the analyzer, the extractor).
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Context of the carrying connection (uid, endpoints, sensor).
    pub head: Head,
    pub fuid: String,
    /// "HTTP" for a body, "TCP" for a stream head.
    pub source: &'static str,
    /// Application protocol of the connection ("http", "ssl", …), when known.
    pub service: Option<&'static str>,
    pub is_orig: bool,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    /// The bytes kept (at most the configured artifact size).
    pub data: Vec<u8>,
    /// Total bytes seen; more than `data.len()` when the artifact was cut.
    pub total_bytes: u64,
}

/// Bytes held by all artifacts still being built in one engine. Each artifact is capped on its
/// own, but a hostile capture can open very many at once; this caps their sum. Past it,
/// artifacts are still hashed and logged, only their bytes are not kept.
#[derive(Debug, Clone)]
pub struct RetainBudget {
    used: Arc<AtomicUsize>,
    cap: usize,
}

impl RetainBudget {
    pub fn new(cap: usize) -> Self {
        Self { used: Arc::new(AtomicUsize::new(0)), cap }
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Grants up to `want` bytes. One engine is one thread, so load-then-add cannot race.
    fn reserve(&self, want: usize) -> usize {
        let grant = want.min(self.cap.saturating_sub(self.used()));
        if grant > 0 {
            self.used.fetch_add(grant, Ordering::Relaxed);
        }
        grant
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::Relaxed);
    }
}

/// The bytes of one artifact kept while it is built, up to its cap and within the engine's
/// [`RetainBudget`]; given back to the budget when taken or dropped.
struct Retained {
    bytes: Vec<u8>,
    cap: usize,
    budget: RetainBudget,
}

impl Retained {
    fn new(cap: usize, budget: &RetainBudget) -> Self {
        Self { bytes: Vec::new(), cap, budget: budget.clone() }
    }

    fn push(&mut self, data: &[u8]) {
        let room = self.cap.saturating_sub(self.bytes.len());
        if room > 0 {
            let granted = self.budget.reserve(data.len().min(room));
            self.bytes.extend_from_slice(&data[..granted]);
        }
    }

    /// The bytes, which leave the budget: they are handed on (or dropped) with the artifact.
    fn take(&mut self) -> Vec<u8> {
        let bytes = std::mem::take(&mut self.bytes);
        self.budget.release(bytes.len());
        bytes
    }
}

impl Drop for Retained {
    fn drop(&mut self) {
        // An artifact abandoned before it is finished gives its bytes back.
        self.budget.release(self.bytes.len());
    }
}

/// Builds one file (an HTTP body) as its bytes arrive: hashed whole, kept up to a cap.
pub struct FileBuilder {
    md5: Md5,
    sha1: Sha1,
    sha256: Sha256,
    seen: u64,
    missing: u64,
    keep: Retained,
    first_ts: Micros,
    last_ts: Micros,
}

impl FileBuilder {
    pub fn new(keep_cap: usize, ts: Micros, retain: &RetainBudget) -> Self {
        Self {
            md5: Md5::new(),
            sha1: Sha1::new(),
            sha256: Sha256::new(),
            seen: 0,
            missing: 0,
            keep: Retained::new(keep_cap.max(SNIFF_BYTES), retain),
            first_ts: ts,
            last_ts: ts,
        }
    }

    /// The budget this artifact draws on (for a replacement builder).
    pub fn budget(&self) -> &RetainBudget {
        &self.keep.budget
    }

    pub fn update(&mut self, data: &[u8], ts: Micros) {
        self.md5.update(data);
        self.sha1.update(data);
        self.sha256.update(data);
        self.seen += data.len() as u64;
        self.last_ts = ts;
        self.keep.push(data);
    }

    pub fn gap(&mut self, n: u64) {
        self.missing += n;
    }

    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Finishes the artifact. `keep_data`: hand the bytes on (false drops them after sniffing).
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        mut self,
        head: &Head,
        fuid: String,
        source: &'static str,
        service: Option<&'static str>,
        is_orig: bool,
        filename: Option<String>,
        keep_data: bool,
    ) -> (FileRecord, Artifact) {
        let keep = self.keep.take();
        let mime_type = sniff_mime(&keep);
        let record = FileRecord {
            fuid: fuid.clone(),
            source,
            is_orig,
            mime_type: mime_type.clone(),
            filename: filename.clone(),
            duration: as_secs_f64(self.last_ts.saturating_sub(self.first_ts)),
            seen_bytes: self.seen,
            total_bytes: Some(self.seen + self.missing),
            missing_bytes: self.missing,
            overflow_bytes: 0,
            md5: hex::encode(self.md5.finalize_reset()),
            sha1: hex::encode(self.sha1.finalize_reset()),
            sha256: hex::encode(self.sha256.finalize_reset()),
            extracted: None,
        };
        let mut head = head.clone();
        head.ts = as_secs_f64(self.first_ts);
        let artifact = Artifact {
            head,
            fuid,
            source,
            service,
            is_orig,
            mime_type,
            filename,
            data: if keep_data { keep } else { Vec::new() },
            total_bytes: self.seen,
        };
        (record, artifact)
    }
}

/// The head of one TCP stream direction, for YARA: its first bytes kept, not hashed. A stream
/// head is no file — Zeek's and Suricata's file logs have none — so it becomes an artifact
/// only, never a `files` record, and is built only when artifacts are handed on.
pub struct StreamHead {
    keep: Retained,
    seen: u64,
    first_ts: Micros,
}

impl StreamHead {
    pub fn new(cap: usize, ts: Micros, retain: &RetainBudget) -> Self {
        Self { keep: Retained::new(cap, retain), seen: 0, first_ts: ts }
    }

    /// Bytes of the stream this head has taken (its cap is the caller's).
    pub fn seen(&self) -> u64 {
        self.seen
    }

    pub fn update(&mut self, data: &[u8]) {
        self.seen += data.len() as u64;
        self.keep.push(data);
    }

    /// A hole in the stream: the head ends before it (bytes after it, joined to those before,
    /// would make content that never was on the wire).
    pub fn gap(&mut self) {
        self.keep.cap = self.keep.bytes.len();
    }

    pub fn finish(mut self, head: &Head, fuid: String, service: Option<&'static str>, is_orig: bool) -> Artifact {
        let data = self.keep.take();
        let mut head = head.clone();
        head.ts = as_secs_f64(self.first_ts);
        Artifact {
            head,
            fuid,
            source: "TCP",
            service,
            is_orig,
            mime_type: sniff_mime(&data),
            filename: None,
            total_bytes: self.seen,
            data,
        }
    }
}

/// The MIME type of content, from its first bytes: magic numbers first (`infer`), then the
/// text formats that have none.
pub fn sniff_mime(b: &[u8]) -> Option<String> {
    if b.is_empty() {
        return None;
    }
    if b.starts_with(b"PK\x03\x04") {
        return Some(zip_document_type(b).to_string());
    }
    if let Some(kind) = infer::get(b) {
        return Some(kind.mime_type().to_string());
    }
    let head = &b[..b.len().min(512)];
    let trimmed = {
        let start = head.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(head.len());
        &head[start..]
    };
    let lower: Vec<u8> = trimmed.iter().take(64).map(|c| c.to_ascii_lowercase()).collect();
    let starts = |p: &[u8]| lower.starts_with(p);
    if starts(b"<!doctype html") || starts(b"<html") || starts(b"<head") || starts(b"<body") || starts(b"<script") {
        return Some("text/html".into());
    }
    if starts(b"<?xml") {
        return Some(if lower.windows(4).any(|w| w == b"<svg") { "image/svg+xml" } else { "text/xml" }.into());
    }
    if is_text(b) {
        if (trimmed.starts_with(b"{") || trimmed.starts_with(b"[")) && b.iter().any(|c| *c == b':' || *c == b']') {
            return Some("application/json".into());
        }
        return Some("text/plain".into());
    }
    Some("application/octet-stream".into())
}

/// Office documents are ZIP archives; their part names (stored uncompressed in the local
/// file headers) tell which kind. Matters because rules treat documents apart from archives.
fn zip_document_type(b: &[u8]) -> &'static str {
    let has = |needle: &[u8]| memchr::memmem::find(b, needle).is_some();
    if has(b"mimetypeapplication/vnd.oasis.opendocument.text") {
        "application/vnd.oasis.opendocument.text"
    } else if has(b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet") {
        "application/vnd.oasis.opendocument.spreadsheet"
    } else if has(b"word/") {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    } else if has(b"xl/") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if has(b"ppt/") {
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    } else {
        "application/zip"
    }
}

/// UTF-8 text without control characters other than whitespace (a cut multi-byte character at
/// the end is allowed: artifacts are often cut).
fn is_text(b: &[u8]) -> bool {
    let sample = &b[..b.len().min(SNIFF_BYTES)];
    let valid = match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > sample.len(),
    };
    valid && !sample.iter().any(|&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_types() {
        assert_eq!(sniff_mime(b"%PDF-1.7\n...").as_deref(), Some("application/pdf"));
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").as_deref(), Some("image/png"));
        assert_eq!(sniff_mime(b"  <!DOCTYPE html><html>").as_deref(), Some("text/html"));
        assert_eq!(sniff_mime("Số CCCD,Họ tên\n001099012345,Nguyễn Văn A\n".as_bytes()).as_deref(), Some("text/plain"));
        assert_eq!(sniff_mime(br#"{"a": 1}"#).as_deref(), Some("application/json"));
        assert_eq!(sniff_mime(&[0, 1, 2, 3, 0xff]).as_deref(), Some("application/octet-stream"));
        assert_eq!(sniff_mime(b""), None);
    }

    #[test]
    fn hashes_stream_and_keep_is_bounded() {
        let budget = RetainBudget::new(usize::MAX);
        let mut f = FileBuilder::new(0, 10, &budget);
        f.update(b"hello ", 10);
        f.update(b"world", 20);
        let mut big = FileBuilder::new(0, 0, &budget);
        big.update(&vec![b'a'; 10_000], 0);
        assert_eq!(big.keep.bytes.len(), SNIFF_BYTES);
        drop(big);
        let (rec, art) = f.finish(&crate::record::tests_support::head(), "F1".into(), "HTTP", None, false, None, true);
        assert_eq!(rec.md5, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(rec.sha1, "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed");
        assert_eq!(rec.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert_eq!(rec.seen_bytes, 11);
        assert_eq!(art.data, b"hello world");
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn retained_bytes_are_capped_across_artifacts() {
        let budget = RetainBudget::new(10_000);
        let mut open: Vec<FileBuilder> = (0..100).map(|_| FileBuilder::new(1 << 20, 0, &budget)).collect();
        for f in &mut open {
            f.update(&[b'x'; 5_000], 1);
        }
        assert_eq!(budget.used(), 10_000);
        // Hashing and counting go on past the budget.
        assert!(open.iter().all(|f| f.seen() == 5_000));
        open.truncate(1);
        assert_eq!(budget.used(), 5_000);
        drop(open);
        assert_eq!(budget.used(), 0);
    }
}
