//! The report files of a run, the same set the CLI writes with `--out`, and their upload.

use crate::objects::{ObjectStore, PutCondition, StoreError};
use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::report::Report;
use floodgate_core::state::State;

/// `(file name, content type, content)` of every report file (the list lives in the core so
/// the CLI writes exactly the same files).
pub fn report_files(
    config: &Config,
    state: &State,
    decision: &Decision,
) -> Vec<(&'static str, &'static str, String)> {
    Report::build(config, state, decision).files()
}

/// Upload the files to `<prefix>runs/<run>/…` and copy them to `<prefix>latest/…`.
/// Returns the run folder's key prefix.
pub async fn write_reports<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
    run: &str,
    files: &[(&'static str, &'static str, String)],
) -> Result<String, StoreError> {
    let folder = format!("{prefix}runs/{run}/");
    for dir in [folder.clone(), format!("{prefix}latest/")] {
        for (name, content_type, body) in files {
            store
                .put(
                    bucket,
                    &format!("{dir}{name}"),
                    body.clone().into_bytes(),
                    content_type,
                    PutCondition::None,
                )
                .await?;
        }
    }
    Ok(folder)
}
