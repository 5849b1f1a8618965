//! Which files an `analyze` run reads: files and folders (recursive), sorted.
//!
//! Sorting fixes the order results are merged in, so reports are byte-identical for any
//! `--jobs` and any order of arguments. Hidden files, `manifest.json` and `README*` inside
//! folders are skipped (they sit beside logs in loggen corpora and S3 syncs); a file named
//! explicitly is always read.

use std::path::{Path, PathBuf};

/// One input file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Path as shown in reports.
    pub path: PathBuf,
    /// Size in bytes (progress, ids).
    pub size: u64,
}

impl Input {
    /// The id recorded in the state so a later run skips this file: absolute path and size.
    pub fn id(&self) -> String {
        let abs = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        format!("file://{}#{}", abs.display(), self.size)
    }
}

fn skipped_in_folder(name: &str) -> bool {
    name.starts_with('.') || name == "manifest.json" || name.starts_with("README")
}

/// Expand `paths` into sorted, de-duplicated files.
pub fn collect(paths: &[PathBuf]) -> std::io::Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(Input {
                path: p.clone(),
                size: meta.len(),
            });
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Input>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if skipped_in_folder(&name) {
            continue;
        }
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk(&e.path(), out)?;
        } else if ft.is_file() || ft.is_symlink() {
            let meta = std::fs::metadata(e.path())?;
            if meta.is_file() {
                out.push(Input {
                    path: e.path(),
                    size: meta.len(),
                });
            }
        }
    }
    Ok(())
}
