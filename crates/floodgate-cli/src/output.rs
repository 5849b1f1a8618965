//! Writing the report files of a run into `--out`.

use anyhow::Context;
use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::report::Report;
use floodgate_core::state::State;
use std::path::{Path, PathBuf};

/// Write report.json, report.md, report.html and the two blocklist files; returns the HTML path.
pub fn write_reports(
    config: &Config,
    state: &State,
    decision: &Decision,
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let report = Report::build(config, state, decision);
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, _, text) in report.files() {
        write_atomic(&out.join(name), text.as_bytes())?;
    }
    Ok(out.join("report.html"))
}

/// Write to a temporary file beside `path`, then rename: readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}
