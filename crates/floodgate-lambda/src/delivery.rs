//! After a commit: the decision goes to every sink in order (WAF IP sets, reports at most once
//! per `FLOODGATE_REPORT_INTERVAL`, the notification when `FLOODGATE_NOTIFY_TOPIC_ARN` is set,
//! EMF metrics), and each delivery is logged as one JSON line.

use crate::handler::App;
use floodgate_aws::ipsets::{IpSetApi, SyncOptions};
use floodgate_aws::metrics::Metrics;
use floodgate_aws::sinks::{
    deliver_all, DecisionSink, Delivery, IpSetSink, MetricsSink, NotifySink, Outcome, ReportSink,
};
use floodgate_aws::state_store::Updated;
use floodgate_aws::{ObjectStore, S3State};
use floodgate_core::decision::Decision;
use floodgate_core::state::State;
use floodgate_core::timefmt::format_rfc3339_ms;
use std::time::Instant;
use tracing::{error, info};

impl<S: ObjectStore, W: IpSetApi + Clone + 'static> App<S, W> {
    /// The sinks a committed decision goes to, in order; `state_bytes` is the committed
    /// state's size for the metrics.
    fn sinks(&self, state_bytes: u64, reports: bool) -> Vec<Box<dyn DecisionSink>> {
        let mut sinks: Vec<Box<dyn DecisionSink>> = vec![Box::new(self.ip_sets())];
        if reports {
            sinks.push(Box::new(ReportSink {
                store: self.store.clone(),
                bucket: self.settings.state_bucket.clone(),
                prefix: self.settings.reports_prefix.clone(),
                interval_ms: self.settings.report_interval_ms,
                backend: self.backend(),
                state_retry: self.state_retry,
            }));
        }
        if let Some(p) = &self.notifier {
            sinks.push(Box::new(NotifySink {
                publisher: p.clone(),
                backend: self.backend(),
                state_retry: self.state_retry,
            }));
        }
        sinks.push(Box::new(MetricsSink {
            namespace: self.settings.metrics_namespace.clone(),
            state_bytes: Some(state_bytes),
        }));
        sinks
    }

    fn ip_sets(&self) -> IpSetSink<W, S3State<S>> {
        IpSetSink {
            waf: self.waf.clone(),
            backend: self.backend(),
            targets: self.settings.targets(),
            options: SyncOptions {
                retry: self.waf_retry,
                state_retry: self.state_retry,
                min_write_interval: self.waf_write_interval,
                ..SyncOptions::default()
            },
        }
    }

    /// Make the IP sets equal `state`'s blocklist (only floodgate's own entries change), with
    /// the sync's metrics.
    pub(crate) async fn reconcile(&self, state: &State, start: Instant) {
        let decision = Decision::default();
        let outcome = Outcome {
            config: &self.config,
            state,
            decision: &decision,
            now_ms: (self.clock)(),
            run: "reconcile",
            dry_run: self.dry_run(),
            state_conflicts: 0,
            started: start,
        };
        let d = self.ip_sets().deliver(&outcome, &[]).await;
        log_delivery(&d);
        let mut metrics = Metrics::default();
        if let Some(sync) = &d.sync {
            metrics.add_sync(sync);
        }
        metrics.duration_ms = start.elapsed().as_millis() as u64;
        metrics.emit(&self.settings.metrics_namespace, (self.clock)());
    }

    /// Hand a committed run to every sink; log each delivery and a summary line.
    pub(crate) async fn deliver(
        &self,
        done: &Updated<Decision>,
        now: i64,
        request_id: &str,
        start: Instant,
    ) -> Vec<Delivery> {
        self.deliver_with(done, now, request_id, start, true).await
    }

    /// [`Self::deliver`], the report sink left out when `reports` is false: the reducer's
    /// cycles leave the reports (a 25 MB report.json and a state write at botnet scale, once
    /// per `FLOODGATE_REPORT_INTERVAL`) to the schedule, so no cycle is the slow one a ban
    /// waits behind.
    pub(crate) async fn deliver_with(
        &self,
        done: &Updated<Decision>,
        now: i64,
        request_id: &str,
        start: Instant,
        reports: bool,
    ) -> Vec<Delivery> {
        let run = format!("{}-{}", format_rfc3339_ms(now), request_id);
        let outcome = Outcome {
            config: &self.config,
            state: &done.state,
            decision: &done.value,
            now_ms: now,
            run: &run,
            dry_run: self.dry_run(),
            state_conflicts: done.conflicts,
            started: start,
        };
        let deliveries = deliver_all(&self.sinks(done.state_bytes, reports), &outcome).await;
        for d in &deliveries {
            log_delivery(d);
        }
        let last = &done.state.last_run;
        let d = &done.value;
        info!(
            files = last.files.len(),
            skipped = last.skipped.len(),
            records = last.records,
            blocklist = d.blocklist.ipv4.len() + d.blocklist.ipv6.len(),
            added = d.changes.added.len(),
            removed = d.changes.removed.len(),
            ranges = d.ranges.iter().filter(|r| r.blocked).count(),
            held_back = d.dropped.len(),
            dry_run = self.dry_run(),
            elapsed_ms = start.elapsed().as_millis() as u64,
            message = "run committed"
        );
        for t in &d.tripped {
            error!(
                guardrail = %serde_json::to_string(t).unwrap_or_default(),
                message = %format!(
                    "GUARDRAIL TRIPPED: rule {} would ban {} of {} clients seen; its {} new bans are held back",
                    t.rule, t.bans, t.clients, t.held_back
                )
            );
        }
        deliveries
    }
}

/// One JSON line per sink; the IP sets' report one line per set.
fn log_delivery(d: &Delivery) {
    if let Some(sync) = &d.sync {
        for s in &sync.sets {
            let line = serde_json::to_string(s).unwrap_or_default();
            match &s.error {
                Some(_) => error!(ip_set = %line, message = "IP set sync failed"),
                None => info!(ip_set = %line, message = "IP set synced"),
            }
        }
        return;
    }
    let (skipped, err, location) = (
        d.skipped.as_deref().unwrap_or(""),
        d.error.as_deref().unwrap_or(""),
        d.location.as_deref().unwrap_or(""),
    );
    if d.failed() {
        error!(sink = d.sink, error = err, message = "sink failed");
    } else {
        info!(sink = d.sink, skipped, location, message = "sink delivered");
    }
}
