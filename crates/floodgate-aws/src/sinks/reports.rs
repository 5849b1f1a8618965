//! The reports sink: the run's report files under the reports prefix, at most once per interval.

use super::{BoxFuture, DecisionSink, Delivery, Outcome};
use crate::objects::{ObjectStore, PutCondition, StoreError};
use crate::retry::RetryPolicy;
use crate::state_store::{update, Changed, StateBackend};
use floodgate_core::report::Report;

/// Writes report.json, report.md, report.html and the blocklist files to
/// `s3://<bucket>/<prefix>runs/<run>/` and copies them to `<prefix>latest/`.
///
/// During an attack the Lambda runs every few seconds and report.json holds every ban (tens of
/// MB at 40,000 bans), so reports are written at most once per `interval_ms` (0: every run);
/// the time of the last write is in the state, and the schedule catches up when invocations
/// stop. A failed write is not recorded, so the next run writes again.
pub struct ReportSink<S, B> {
    /// The store.
    pub store: S,
    /// Bucket of the reports.
    pub bucket: String,
    /// Key prefix (ends with `/`, or empty).
    pub prefix: String,
    /// Least time between two writes, ms.
    pub interval_ms: i64,
    /// Where the time of the last write is recorded.
    pub backend: B,
    /// Retries of that record.
    pub state_retry: RetryPolicy,
}

/// Upload `files` to `<prefix>runs/<run>/…` and copy them to `<prefix>latest/…`; returns the run
/// folder's key prefix.
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

impl<S: ObjectStore, B: StateBackend> DecisionSink for ReportSink<S, B> {
    fn name(&self) -> &'static str {
        "reports"
    }

    fn deliver<'a>(
        &'a self,
        o: &'a Outcome<'a>,
        _earlier: &'a [Delivery],
    ) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let mut d = Delivery::done("reports");
            if let Some(last) = o.state.reports_ms {
                if self.interval_ms > 0 && o.now_ms - last < self.interval_ms {
                    d.skipped = Some(format!(
                        "not due: reports were written {} s ago (interval {} s)",
                        (o.now_ms - last) / 1000,
                        self.interval_ms / 1000
                    ));
                    return d;
                }
            }
            let files = Report::build(o.config, o.state, o.decision).files();
            match write_reports(&self.store, &self.bucket, &self.prefix, o.run, &files).await {
                Ok(folder) => {
                    d.location = Some(format!("s3://{}/{folder}", self.bucket));
                    let now = o.now_ms;
                    let r = update(&self.backend, self.state_retry, |s| {
                        let at = Some(s.reports_ms.map_or(now, |t| t.max(now)));
                        let changed = s.reports_ms != at;
                        s.reports_ms = at;
                        Ok(Changed { value: (), changed })
                    })
                    .await;
                    if let Err(e) = r {
                        // The reports are written; only the pacing record failed.
                        d.error = Some(format!("recording the report time: {e}"));
                    }
                }
                Err(e) => d.error = Some(e.to_string()),
            }
            d
        })
    }
}
