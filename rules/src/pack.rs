//! Rule packs: a directory with `pack.toml` (name, version, description), Sigma rules
//! (`.yml`, `.yaml`), YARA files (`.yar`, `.yara`) and IOC lists (`.csv`, `.txt`, `.ioc`),
//! in any sub-directories. Rule ids must be unique across all loaded packs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ioc::IocSet;
use crate::problem::Problem;
use crate::sigma::{self, SigmaOptions, SigmaRule};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
}

pub struct Pack {
    pub manifest: Manifest,
    /// Where it was read from: a directory or file, or `bundled:NAME` for a pack built into
    /// the binary ([`crate::bundled`]).
    pub dir: PathBuf,
    pub sigma: Vec<SigmaRule>,
    pub correlations: Vec<crate::correlation::CorrelationRule>,
    /// Sigma rules skipped for their status.
    pub sigma_excluded: usize,
    /// Sigma rules reported unsupported.
    pub sigma_unsupported: usize,
    /// YARA sources, compiled together by the detection engine.
    pub yara: Vec<PackFile>,
    pub iocs: IocSet,
}

/// One file of a pack: its path (on disk, or under `bundled:NAME/`) and its bytes.
#[derive(Debug, Clone)]
pub struct PackFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl PackFile {
    /// A file read from disk.
    pub fn read(path: impl Into<PathBuf>) -> std::io::Result<Self> {
        let path = path.into();
        Ok(Self { bytes: std::fs::read(&path)?, path })
    }
}

/// Every file under `dir`, sorted, so that loading order (and so reports) are stable.
pub(crate) fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Loads one pack: a directory with `pack.toml`, a directory without one (a loose rule
/// directory such as a SigmaHQ checkout, named after itself, the missing manifest reported), a
/// single rule file, or — when no such path exists — the bundled pack of that name (`vn-gov`).
pub fn load_pack(dir: &Path, opts: &SigmaOptions, problems: &mut Vec<Problem>) -> Pack {
    let name = dir.file_name().map_or("pack".into(), |n| n.to_string_lossy().into_owned());
    if !dir.exists() {
        if let Some(files) = dir.to_str().and_then(crate::bundled::files) {
            let root = crate::bundled::path(&name);
            return load_files(&root, &root.display().to_string(), files, true, opts, problems);
        }
        let bundled: Vec<&str> = crate::bundled::names().collect();
        problems.push(Problem::error(
            dir,
            1,
            1,
            format!("no such pack: not a directory, a rule file, or a bundled pack ({})", bundled.join(", ")),
        ));
        return load_files(dir, &name, Vec::new(), false, opts, problems);
    }
    let mut paths = Vec::new();
    if dir.is_file() {
        paths.push(dir.to_path_buf());
    } else {
        files_under(dir, &mut paths);
    }
    let mut files = Vec::new();
    for path in paths {
        match PackFile::read(&path) {
            Ok(file) => files.push(file),
            Err(e) => problems.push(Problem::error(&path, 1, 1, format!("cannot read: {e}"))),
        }
    }
    load_files(dir, &name, files, dir.is_dir(), opts, problems)
}

/// Loads a pack from its files, wherever they were read. `wants_manifest`: a directory's
/// pack, whose missing `pack.toml` is a problem.
fn load_files(
    dir: &Path,
    name: &str,
    files: Vec<PackFile>,
    wants_manifest: bool,
    opts: &SigmaOptions,
    problems: &mut Vec<Problem>,
) -> Pack {
    let fallback = Manifest { name: name.to_string(), version: "0".into(), description: String::new() };
    let manifest_path = dir.join("pack.toml");
    let manifest = match files.iter().find(|f| f.path == manifest_path) {
        Some(f) => {
            let text = String::from_utf8_lossy(&f.bytes);
            match toml::from_str::<Manifest>(&text) {
                Ok(m) => m,
                Err(e) => {
                    let (line, col) = e.span().map_or((1, 1), |s| {
                        let before = &text[..s.start.min(text.len())];
                        (before.matches('\n').count() + 1, s.start - before.rfind('\n').map_or(0, |n| n + 1) + 1)
                    });
                    problems.push(Problem::error(&manifest_path, line, col, e.message().to_string()));
                    fallback
                }
            }
        }
        None => {
            if wants_manifest {
                problems.push(Problem::warning(
                    &manifest_path,
                    1,
                    1,
                    "no pack.toml (name, version, description): loaded as a loose rule directory",
                ));
            }
            fallback
        }
    };
    let mut pack = Pack {
        manifest,
        dir: dir.to_path_buf(),
        sigma: Vec::new(),
        correlations: Vec::new(),
        sigma_excluded: 0,
        sigma_unsupported: 0,
        yara: Vec::new(),
        iocs: IocSet::default(),
    };
    for file in files {
        let ext = file.path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        match ext.as_str() {
            "yml" | "yaml" => {
                let Some(text) = text(&file, problems) else { continue };
                let before = problems.len();
                let loaded = sigma::load_file(&file.path, text, opts, problems);
                pack.sigma_unsupported +=
                    problems[before..].iter().filter(|p| p.severity == crate::Severity::Unsupported).count();
                pack.sigma.extend(loaded.rules);
                pack.correlations.extend(loaded.correlations);
                pack.sigma_excluded += loaded.excluded;
            }
            "yar" | "yara" => pack.yara.push(file),
            "csv" | "txt" | "ioc" => {
                let Some(text) = text(&file, problems) else { continue };
                pack.iocs.load(&file.path, text, problems);
            }
            _ => {}
        }
    }
    pack
}

/// A rule file's text; one that is not UTF-8 is a problem at the first bad byte.
fn text<'f>(file: &'f PackFile, problems: &mut Vec<Problem>) -> Option<&'f str> {
    match std::str::from_utf8(&file.bytes) {
        Ok(t) => Some(t),
        Err(e) => {
            let before = &file.bytes[..e.valid_up_to()];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let col = e.valid_up_to() - before.iter().rposition(|b| *b == b'\n').map_or(0, |n| n + 1) + 1;
            problems.push(Problem::error(&file.path, line, col, "not UTF-8 text"));
            None
        }
    }
}

/// Loads packs and checks that rule ids are unique across them (a duplicate names both files).
pub fn load_packs(dirs: &[PathBuf], opts: &SigmaOptions) -> (Vec<Pack>, Vec<Problem>) {
    let mut problems = Vec::new();
    let packs: Vec<Pack> = dirs.iter().map(|d| load_pack(d, opts, &mut problems)).collect();
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for rule in packs.iter().flat_map(|p| &p.sigma) {
        if let Some(first) = seen.insert(&rule.id, &rule.file) {
            problems.push(Problem::error(
                &rule.file,
                rule.at.0,
                rule.at.1,
                format!("duplicate rule id {} (also in {})", rule.id, first.display()),
            ));
        }
    }
    (packs, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_with_manifest_rules_iocs_and_duplicates() {
        let root = tempfile::tempdir().unwrap();
        let a = root.path().join("a");
        std::fs::create_dir_all(a.join("sigma")).unwrap();
        std::fs::write(a.join("pack.toml"), "name = \"vn-gov\"\nversion = \"1.0\"\ndescription = \"d\"\n").unwrap();
        let rule = "title: t\nid: dup-id\nlogsource:\n  product: zeek\n  service: dns\ndetection:\n  sel:\n    query|endswith: '.duckdns.org'\n  condition: sel\n";
        std::fs::write(a.join("sigma/r.yml"), rule).unwrap();
        std::fs::write(a.join("iocs.txt"), "duckdns.org\n").unwrap();
        std::fs::write(a.join("x.yar"), "rule x { condition: true }").unwrap();
        let b = root.path().join("b");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("pack.toml"), "name = \"b\"\nversion = 1\n").unwrap();
        std::fs::write(b.join("r.yml"), rule).unwrap();
        let (packs, problems) = load_packs(&[a.clone(), b.clone()], &SigmaOptions::default());
        assert_eq!(packs[0].manifest.name, "vn-gov");
        assert_eq!((packs[0].sigma.len(), packs[0].iocs.len(), packs[0].yara.len()), (1, 1, 1));
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        // b's manifest has a number for a string; the duplicate id names both files.
        assert!(shown.iter().any(|s| s.contains("b/pack.toml:2:") && s.contains("invalid type")), "{shown:?}");
        assert!(
            shown
                .iter()
                .any(|s| s.contains("b/r.yml:2:5: error: duplicate rule id dup-id (also in")
                    && s.contains("a/sigma/r.yml")),
            "{shown:?}"
        );
    }
}
