//! The rule packs built into the `canh` binary (the folders under `rules/packs/`), so that an
//! installed binary, far from any source tree, has Canh's own rules: `--rules vn-gov` names
//! the bundled pack when no directory of that name is there, `--rules bundled:vn-gov` always.

use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry, include_dir};

use crate::pack::PackFile;

static PACKS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/packs");

/// The bundled packs' names.
pub fn names() -> impl Iterator<Item = &'static str> {
    PACKS.dirs().filter_map(|d| d.path().to_str())
}

/// What names a bundled pack whatever the working directory holds.
pub const PREFIX: &str = "bundled:";

/// Where a bundled pack's files are said to be, in problems and alerts: `bundled:NAME`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(format!("{PREFIX}{}", name.strip_prefix(PREFIX).unwrap_or(name)))
}

/// The files of the bundled pack `name` (or `bundled:name`), sorted by path as a pack on disk
/// is read.
pub fn files(name: &str) -> Option<Vec<PackFile>> {
    let name = name.strip_prefix(PREFIX).unwrap_or(name);
    let dir = PACKS.get_dir(name)?;
    let mut files = Vec::new();
    collect(dir, Path::new(name), &mut files);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Some(files)
}

fn collect(dir: &Dir<'static>, root: &Path, out: &mut Vec<PackFile>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => collect(d, root, out),
            DirEntry::File(f) => {
                // Paths inside the embedded tree start with the pack's name.
                let inside = f.path().strip_prefix(root).unwrap_or(f.path());
                out.push(PackFile {
                    path: path(&root.display().to_string()).join(inside),
                    bytes: f.contents().to_vec(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vn_gov_is_bundled_whole() {
        assert_eq!(names().collect::<Vec<_>>(), ["vn-gov"]);
        let bundled = files("vn-gov").unwrap();
        let on_disk = |rel: &Path| std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("packs/vn-gov").join(rel));
        let mut disk = Vec::new();
        crate::pack::files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("packs/vn-gov"), &mut disk);
        assert_eq!(bundled.len(), disk.len());
        for f in &bundled {
            let rel = f.path.strip_prefix("bundled:vn-gov").unwrap();
            assert_eq!(on_disk(rel).unwrap(), f.bytes, "{}", f.path.display());
        }
        assert!(bundled.iter().any(|f| f.path == Path::new("bundled:vn-gov/pack.toml")));
        assert!(files("no-such-pack").is_none());
        assert_eq!(files("bundled:vn-gov").unwrap().len(), bundled.len());
    }
}
