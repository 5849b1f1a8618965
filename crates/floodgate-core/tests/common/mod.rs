//! Helpers shared by the core's integration tests.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};

/// `../shared/realworld` next to the repository, or `FLOODGATE_REALWORLD`; `None` (said on
/// stderr) when it is not there, except under `CI=true`, where a missing directory fails.
pub fn realworld_root() -> Option<PathBuf> {
    let dir = std::env::var_os("FLOODGATE_REALWORLD").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/realworld"),
        PathBuf::from,
    );
    if dir.is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "CI=true but the real-world samples are not at {} (set FLOODGATE_REALWORLD)",
        dir.display()
    );
    eprintln!(
        "SKIPPED: no real-world samples at {} (set FLOODGATE_REALWORLD)",
        dir.display()
    );
    None
}
