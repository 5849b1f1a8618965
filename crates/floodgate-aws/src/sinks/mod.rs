//! Sinks: where a committed decision goes — WAF IP sets, reports, notifications, metrics.
//!
//! After a run is committed to the state, [`deliver_all`] hands the [`Outcome`] to every
//! configured sink in order; each returns a [`Delivery`]. A sink that fails is reported (in its
//! delivery, the log and the metrics) and does not stop the others; it is retried on the next
//! run by its own nature: IP sets are synced to the state's blocklist every run, reports are due
//! again until written, an undelivered notification stays in the state until it is sent.
//! Later sinks see earlier deliveries (a notification says that a sync failed).
//!
//! The Lambda and `floodgate sync` drive the same sinks. **Adding a sink** is one new file
//! here implementing [`DecisionSink`] and one line where the front ends build their list
//! (`floodgate-lambda`'s `App::new`, the CLI's `sync`).

mod ipsets;
mod metrics;
mod notify;
mod reports;

pub use ipsets::IpSetSink;
pub use metrics::MetricsSink;
pub use notify::NotifySink;
pub use reports::ReportSink;

use crate::ipsets::SyncReport;
use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::state::State;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that sinks of different types live in one list.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A committed run, as every sink receives it.
#[derive(Clone, Copy)]
pub struct Outcome<'a> {
    /// The configuration.
    pub config: &'a Config,
    /// The state as committed.
    pub state: &'a State,
    /// The decision of the run.
    pub decision: &'a Decision,
    /// Wall-clock time of the run, ms.
    pub now_ms: i64,
    /// A name for the run (reports go to `runs/<run>/`).
    pub run: &'a str,
    /// Decide and report only: no IP set is written.
    pub dry_run: bool,
    /// Conflicting state writes the commit met (for the metrics).
    pub state_conflicts: u32,
    /// When the invocation started (for the metrics' duration).
    pub started: std::time::Instant,
}

/// What one sink did with an outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The sink (`ip-sets`, `reports`, `notify`, `metrics`).
    pub sink: &'static str,
    /// Why nothing was done, when nothing was due (`not due`, `nothing to tell`).
    pub skipped: Option<String>,
    /// Why it failed; it is retried on the next run.
    pub error: Option<String>,
    /// Where it wrote (the reports' folder).
    pub location: Option<String>,
    /// The IP sets' sync, for the IP set sink.
    pub sync: Option<SyncReport>,
}

impl Delivery {
    /// A delivery of `sink` that did its job.
    pub fn done(sink: &'static str) -> Delivery {
        Delivery {
            sink,
            ..Delivery::default()
        }
    }

    /// Whether the sink failed.
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.sync.as_ref().is_some_and(|s| s.failures() > 0)
    }

    /// The failure in one line, for the notification and the log.
    pub fn failure(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(format!("{}: {e}", self.sink));
        }
        let sync = self.sync.as_ref()?;
        let errors: Vec<String> = sync
            .sets
            .iter()
            .filter_map(|s| s.error.as_ref().map(|e| format!("{} {}", s.name, e)))
            .collect();
        (!errors.is_empty()).then(|| format!("{}: {}", self.sink, errors.join("; ")))
    }
}

/// A destination of committed decisions. See the module docs.
pub trait DecisionSink: Send + Sync {
    /// Its name in deliveries and logs.
    fn name(&self) -> &'static str;
    /// Deliver `outcome`; `earlier` are the deliveries of the sinks before this one.
    fn deliver<'a>(
        &'a self,
        outcome: &'a Outcome<'a>,
        earlier: &'a [Delivery],
    ) -> BoxFuture<'a, Delivery>;
}

/// Hand `outcome` to every sink in order; one delivery per sink, failures included.
pub async fn deliver_all(sinks: &[Box<dyn DecisionSink>], outcome: &Outcome<'_>) -> Vec<Delivery> {
    let mut out: Vec<Delivery> = Vec::with_capacity(sinks.len());
    for sink in sinks {
        let d = sink.deliver(outcome, &out).await;
        out.push(d);
    }
    out
}
