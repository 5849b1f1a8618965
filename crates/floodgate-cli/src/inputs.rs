//! Which files an `analyze` run reads: files and folders (recursive), sorted, and what
//! identifies each in the state.
//!
//! Sorting fixes the order results are merged in, so reports are byte-identical for any
//! `--jobs` and any order of arguments. Hidden files, `manifest.json` and `README*` inside
//! folders are skipped (they sit beside logs in loggen corpora and S3 syncs); a file named
//! explicitly is always read. `-` is standard input.
//!
//! A local file is identified by its **content** (`sha256:` of its bytes, as S3 objects are by
//! their ETag), never by path and size: the same folder copied elsewhere is the same logs and
//! is not counted again, and a pipe (`-`, `/dev/stdin`) is not "already in the state" because
//! an earlier pipe had the same size 0. States written before kept `file://PATH#SIZE` ids;
//! those are still honoured ([`Input::legacy_id`]).

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Path as shown in reports (`-` for standard input).
    pub path: PathBuf,
    /// Size in bytes (progress); 0 for a pipe.
    pub size: u64,
    /// A regular file, which can be read twice (hashed first, parsed only when new).
    pub regular: bool,
}

impl Input {
    /// The id states written before content ids recorded: absolute path and size.
    pub fn legacy_id(&self) -> String {
        let abs = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        format!("file://{}#{}", abs.display(), self.size)
    }

    /// Standard input.
    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }

    /// The content id of a regular file, read once from start to end.
    pub fn content_id(&self) -> std::io::Result<String> {
        let mut r = HashingReader::new(std::fs::File::open(&self.path)?, true);
        std::io::copy(&mut r, &mut std::io::sink())?;
        Ok(r.id().unwrap_or_default())
    }

    /// The bytes to read: the file, or standard input for `-`.
    pub fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        if self.is_stdin() {
            Ok(Box::new(std::io::stdin()))
        } else {
            Ok(Box::new(std::fs::File::open(&self.path)?))
        }
    }
}

/// A reader that hashes what passes through it, for inputs that can be read only once.
pub struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> HashingReader<R> {
    /// Hash what `inner` yields (only when `enabled`: a regular file was hashed beforehand).
    pub fn new(inner: R, enabled: bool) -> Self {
        HashingReader {
            inner,
            hasher: enabled.then(Sha256::new),
        }
    }

    /// The content id of everything read so far (`None` when not hashing).
    pub fn id(&self) -> Option<String> {
        let digest = self.hasher.clone()?.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Some(format!("sha256:{hex}"))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

fn skipped_in_folder(name: &str) -> bool {
    name.starts_with('.') || name == "manifest.json" || name.starts_with("README")
}

/// Expand `paths` into sorted, de-duplicated files.
pub fn collect(paths: &[PathBuf]) -> std::io::Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input {
                path: p.clone(),
                size: 0,
                regular: false,
            });
            continue;
        }
        let meta = std::fs::metadata(p)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(Input {
                path: p.clone(),
                size: meta.len(),
                regular: meta.is_file(),
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
                    regular: true,
                });
            }
        }
    }
    Ok(())
}
