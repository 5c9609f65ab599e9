//! YARA on artifacts, with YARA-X. All YARA files of the loaded packs compile into one
//! `yara_x::Rules` (a file YARA-X rejects is reported with YARA-X's error and the rest still
//! load). Each artifact is scanned once — never per packet: YARA-X's cost per scan grows with
//! the rule count (ARCHITECTURE.md, "YARA-X") — with a timeout and a size cap; HTTP connections are
//! scanned as their decoded bodies, not their raw stream heads. Office documents and PDFs are
//! also scanned as their text, so that a marking inside a DOCX or a PDF is seen.
//!
//! External variables give rules the artifact's context:
//!
//! | name | type | meaning |
//! |---|---|---|
//! | `service` | string | application protocol of the connection ("http", "ftp", …, or "") |
//! | `source` | string | "HTTP" (a body) or "TCP" (the head of a stream) |
//! | `is_orig` | bool | the bytes travel from the connection's originator |
//! | `orig_internal`, `resp_internal` | bool | the endpoint is in a private range (RFC 1918, ULA, loopback) |
//! | `leaving` | bool | the bytes go from an internal host to an external one |
//! | `mime_type`, `filename` | string | the artifact's sniffed type and name ("" if none) |
//! | `src_port`, `dst_port` | integer | ports of the connection's originator and responder |
//! | `extracted_text` | bool | this scan is of the text extracted from an office document or a PDF |
//! | `cccd_numbers`, `phone_numbers` | integer | citizen identity numbers and mobile phone numbers in the scanned bytes, counted by Canh ([`crate::pii`]) |
//! | `filepath`, `extension`, `filetype`, `owner` | string | defined empty, for scanner rule sets (LOKI/THOR) that use them |

use std::io::Read;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use canh_rules::Problem;
use canh_rules::pack::PackFile;
use canh_sensor::files::Artifact;

use crate::alert::Alert;

/// Matched strings kept per alert, and bytes of each.
const MAX_STRINGS: usize = 5;
const MAX_STRING_BYTES: usize = 48;
/// Text extracted from one office document, at most.
const MAX_TEXT: u64 = 8 << 20;

pub struct YaraDetector {
    rules: yara_x::Rules,
    timeout: Duration,
    max_scan_size: usize,
    /// Whether a rule reads `cccd_numbers` or `phone_numbers`: only then are they counted.
    counts_pii: bool,
}

/// The externals [`crate::pii`] fills.
const PII_EXTERNALS: [&str; 2] = ["cccd_numbers", "phone_numbers"];

fn define_globals(c: &mut yara_x::Compiler<'_>) {
    for s in ["service", "source", "mime_type", "filename", "filepath", "extension", "filetype", "owner"] {
        let _ = c.define_global(s, "");
    }
    for b in ["is_orig", "orig_internal", "resp_internal", "leaving", "extracted_text"] {
        let _ = c.define_global(b, false);
    }
    for i in ["src_port", "dst_port"].into_iter().chain(PII_EXTERNALS) {
        let _ = c.define_global(i, 0i64);
    }
}

impl YaraDetector {
    /// Compiles the files; each file is its own namespace (its stem). `None` if no rule
    /// compiled.
    pub fn compile(files: &[PackFile], problems: &mut Vec<Problem>) -> Option<Self> {
        if files.is_empty() {
            return None;
        }
        let mut compiler = yara_x::Compiler::new();
        define_globals(&mut compiler);
        let mut loaded = 0;
        let mut counts_pii = false;
        for PackFile { path, bytes } in files {
            let namespace =
                path.file_stem().map_or("yara".into(), |s| s.to_string_lossy().replace(['-', '.', ' '], "_"));
            compiler.new_namespace(&namespace);
            let source = yara_x::SourceCode::from(bytes.as_slice()).with_origin(path.display().to_string());
            match compiler.add_source(source) {
                Ok(_) => {
                    loaded += 1;
                    counts_pii |= PII_EXTERNALS.iter().any(|v| memchr::memmem::find(bytes, v.as_bytes()).is_some());
                }
                Err(e) => problems.push(compile_problem(path, &e)),
            }
        }
        (loaded > 0).then(|| Self {
            rules: compiler.build(),
            timeout: Duration::from_secs(5),
            max_scan_size: 16 << 20,
            counts_pii,
        })
    }

    /// A scanner with this detector's timeout and size cap. Scanners are not `Send` and cost
    /// to build (a WASM store per scanner), so each thread keeps one ([`crate::scan_pool`]).
    pub fn scanner(&self) -> yara_x::Scanner<'_> {
        let mut scanner = yara_x::Scanner::new(&self.rules);
        scanner.set_timeout(self.timeout);
        scanner.max_scan_size(self.max_scan_size);
        scanner
    }

    /// Scans artifacts with a scanner of its own (tests, one-off scans).
    pub fn scan(&self, artifacts: &[Artifact], out: &mut Vec<Alert>) {
        if !artifacts.is_empty() {
            self.scan_with(&mut self.scanner(), artifacts, out);
        }
    }

    /// Scans artifacts with a scanner of this detector's rules, documents also as their text.
    pub fn scan_with(&self, scanner: &mut yara_x::Scanner<'_>, artifacts: &[Artifact], out: &mut Vec<Alert>) {
        self.scan_bytes(scanner, artifacts, true, out);
    }

    /// Scans artifacts; with `documents`, office documents and PDFs are also scanned as their
    /// text (without, this is what `yr scan` does: benchmarks compare the two).
    pub fn scan_bytes(
        &self,
        scanner: &mut yara_x::Scanner<'_>,
        artifacts: &[Artifact],
        documents: bool,
        out: &mut Vec<Alert>,
    ) {
        for a in artifacts {
            // An HTTP connection is scanned as its decoded bodies: its stream head would only
            // repeat them (chunked, compressed) and raise the same alerts twice.
            if a.data.is_empty() || (a.source == "TCP" && a.service == Some("http")) {
                continue;
            }
            let mut seen: Vec<String> = Vec::new();
            set_context(scanner, a, false);
            self.scan_one(scanner, a, &a.data, &mut seen, out);
            if let Some(text) = documents.then(|| document_text(&a.data)).flatten() {
                set_context(scanner, a, true);
                self.scan_one(scanner, a, text.as_bytes(), &mut seen, out);
            }
        }
    }

    fn scan_one(
        &self,
        scanner: &mut yara_x::Scanner<'_>,
        a: &Artifact,
        data: &[u8],
        seen: &mut Vec<String>,
        out: &mut Vec<Alert>,
    ) {
        // A pass over the bytes, spared when no rule reads its counts.
        let pii = if self.counts_pii { crate::pii::count(data) } else { crate::pii::PiiCounts::default() };
        let [cccd, phone] = PII_EXTERNALS;
        let _ = scanner.set_global(cccd, pii.cccd);
        let _ = scanner.set_global(phone, pii.phone);
        let Ok(results) = scanner.scan(data) else { return };
        for rule in results.matching_rules() {
            let rule_id = format!("{}.{}", rule.namespace(), rule.identifier());
            if seen.contains(&rule_id) {
                continue;
            }
            seen.push(rule_id.clone());
            let mut title = rule.identifier().to_string();
            let mut severity = "medium".to_string();
            for (key, value) in rule.metadata() {
                match (key, value) {
                    ("description" | "title", yara_x::MetaValue::String(s)) => title = s.to_string(),
                    ("severity" | "level", yara_x::MetaValue::String(s)) => severity = s.to_string(),
                    _ => {}
                }
            }
            let tags: Vec<String> = rule.tags().map(|t| t.identifier().to_string()).collect();
            let mut strings = Vec::new();
            'patterns: for p in rule.patterns() {
                for m in p.matches() {
                    let bytes = m.data();
                    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_STRING_BYTES)]).into_owned();
                    strings.push(format!("{}@{}={shown:?}", p.identifier(), m.range().start));
                    if strings.len() >= MAX_STRINGS {
                        break 'patterns;
                    }
                }
            }
            if strings.is_empty() && pii != crate::pii::PiiCounts::default() {
                // A rule on Canh's counts has no string to show: the counts are the evidence
                // (never the numbers themselves, which are personal data).
                strings.push(format!("cccd_numbers={} phone_numbers={}", pii.cccd, pii.phone));
            }
            let mut alert = Alert::for_head("yara", &rule_id, &title, &severity, &tags, &a.head);
            alert.evidence = format!(
                "{} {} {} bytes{}: {}",
                a.filename.as_deref().unwrap_or(&a.fuid),
                a.mime_type.as_deref().unwrap_or("-"),
                a.total_bytes,
                if data.as_ptr() == a.data.as_ptr() { "" } else { " (extracted text)" },
                strings.join(" ")
            );
            out.push(alert);
        }
    }
}

/// A problem for a file YARA-X refused, at the place YARA-X names.
fn compile_problem(file: &Path, e: &yara_x::errors::CompileError) -> Problem {
    let json = serde_json::to_value(e).unwrap_or_default();
    let line = json["line"].as_u64().unwrap_or(1) as usize;
    let col = json["column"].as_u64().unwrap_or(1) as usize;
    let title = json["title"].as_str().map_or_else(|| e.to_string(), str::to_string);
    Problem::error(file, line, col, format!("YARA-X: {title}"))
}

fn internal(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_private() || v.is_loopback() || v.is_link_local(),
        IpAddr::V6(v) => {
            v.is_loopback() || (v.segments()[0] & 0xfe00) == 0xfc00 || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn set_context(s: &mut yara_x::Scanner<'_>, a: &Artifact, extracted: bool) {
    let (oi, ri) = (internal(&a.head.orig_h), internal(&a.head.resp_h));
    let leaving = if a.is_orig { oi && !ri } else { ri && !oi };
    let _ = s.set_global("service", a.service.unwrap_or(""));
    let _ = s.set_global("source", a.source);
    let _ = s.set_global("mime_type", a.mime_type.as_deref().unwrap_or(""));
    let _ = s.set_global("filename", a.filename.as_deref().unwrap_or(""));
    let _ = s.set_global("is_orig", a.is_orig);
    let _ = s.set_global("orig_internal", oi);
    let _ = s.set_global("resp_internal", ri);
    let _ = s.set_global("leaving", leaving);
    let _ = s.set_global("extracted_text", extracted);
    let _ = s.set_global("src_port", i64::from(a.head.orig_p));
    let _ = s.set_global("dst_port", i64::from(a.head.resp_p));
}

/// The text of a document — office (DOCX, XLSX, PPTX, ODT, ODS) or PDF — for rules that look
/// for words a document's container hides (compressed XML parts, PDF content streams).
pub fn document_text(data: &[u8]) -> Option<String> {
    office_text(data).or_else(|| pdf_text(data))
}

/// Pages of a PDF read for text, at most (a marking is on the first page; the cap bounds the
/// work a hostile document can ask for).
const MAX_PDF_PAGES: u32 = 64;

/// The text of a PDF (lopdf: content streams, fonts' ToUnicode maps), at most [`MAX_TEXT`]
/// bytes decompressed. `None` if the bytes are not a readable PDF.
pub fn pdf_text(data: &[u8]) -> Option<String> {
    if memchr::memmem::find(&data[..data.len().min(1024)], b"%PDF-").is_none() || !has_object_header(data) {
        return None;
    }
    // lopdf is not hardened against hostile files the way the sensor's parsers are: a panic
    // inside it costs this document's text, nothing else.
    std::panic::catch_unwind(|| {
        let doc = lopdf::Document::load_mem(data).ok()?;
        let pages: Vec<u32> = doc.get_pages().keys().copied().filter(|p| *p <= MAX_PDF_PAGES).collect();
        let text = doc.extract_text_with_limit(&pages, MAX_TEXT as usize).ok()?;
        (!text.trim().is_empty()).then_some(text)
    })
    .ok()
    .flatten()
}

/// Bytes a PDF's first object header (`1 0 obj`) is looked for in: writers put it right after
/// the header line and its binary comment.
const PDF_OBJECT_WITHIN: usize = 4096;

/// Whether an indirect object header (`N G obj`) starts near the top, as in every PDF a writer
/// made — including one cut short by a capture gap. Bytes behind a bare `%PDF-` (a download
/// that only claims to be a PDF) would send lopdf rebuilding a cross-reference table over the
/// whole buffer in search of objects that are not there: the costliest thing a scan did.
fn has_object_header(data: &[u8]) -> bool {
    let head = &data[..data.len().min(PDF_OBJECT_WITHIN)];
    memchr::memmem::find_iter(head, b" obj").any(|at| {
        let before = &head[..at];
        let generation = before.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let rest = &before[..before.len() - generation];
        generation > 0 && rest.last() == Some(&b' ') && rest[..rest.len() - 1].last().is_some_and(u8::is_ascii_digit)
    })
}

/// The text of an office document (DOCX, XLSX, PPTX, ODT, ODS): its XML parts with the tags
/// removed. `None` if the bytes are not such a document.
pub fn office_text(data: &[u8]) -> Option<String> {
    if !data.starts_with(b"PK\x03\x04") {
        return None;
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).ok()?;
    let mut text = String::new();
    for i in 0..zip.len() {
        let Ok(file) = zip.by_index(i) else { continue };
        let name = file.name().to_string();
        let wanted = name == "content.xml"
            || (name.starts_with("word/") && name.ends_with(".xml"))
            || name == "xl/sharedStrings.xml"
            || (name.starts_with("ppt/slides/") && name.ends_with(".xml"));
        if !wanted {
            continue;
        }
        let mut xml = String::new();
        if file.take(MAX_TEXT).read_to_string(&mut xml).is_err() {
            continue;
        }
        strip_tags(&xml, &mut text);
        if text.len() as u64 >= MAX_TEXT {
            break;
        }
    }
    (!text.is_empty()).then_some(text)
}

/// Appends the character data of XML, paragraphs on their own lines.
fn strip_tags(xml: &str, out: &mut String) {
    let mut in_tag = false;
    let mut tag = String::new();
    for ch in xml.chars() {
        match (in_tag, ch) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                if tag.starts_with("/w:p") || tag.starts_with("/text:p") || tag.starts_with("/a:p") || tag == "/si" {
                    out.push('\n');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
}
