//! The handler: event → pipeline → adapters. Thin on purpose; the work is in floodgate-aws.
//!
//! Per batch of created objects (S3 or SQS): keep the keys under the log prefixes/suffixes,
//! skip objects the state already processed (before reading them), stream the rest, commit the
//! run to the state object (conditional write, re-applied on conflict), then hand the committed
//! decision to the sinks in order: WAF IP sets, reports (at most once per
//! `FLOODGATE_REPORT_INTERVAL`), the notification (`FLOODGATE_NOTIFY_TOPIC_ARN`), EMF metrics.
//! The schedule expires bans and delivers the same way.

use crate::events::{self, Event};
use crate::settings::Settings;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use floodgate_aws::ipsets::{IpSetApi, SyncOptions};
use floodgate_aws::metrics::Metrics;
use floodgate_aws::read::{read_objects, Pending, ReadOptions};
use floodgate_aws::sinks::{
    deliver_all, DecisionSink, Delivery, IpSetSink, MetricsSink, NotifySink, Outcome, ReportSink,
};
use floodgate_aws::sns::Publisher;
use floodgate_aws::state_store::{commit_expiry, commit_run, StateStoreError, Updated};
use floodgate_aws::{ObjectRef, ObjectStore, RetryPolicy, S3State, StateBackend};
use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::state::State;
use floodgate_core::timefmt::format_rfc3339_ms;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The wall clock, in ms since the epoch (replaceable in tests).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    })
}

/// Why an invocation failed as a whole (the event is retried by Lambda/SQS).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event had no known shape.
    #[error(transparent)]
    Event(#[from] events::EventError),
    /// The state could not be read or written.
    #[error(transparent)]
    State(#[from] StateStoreError),
}

/// Everything an invocation needs, built once per cold start.
pub struct App<S, W> {
    /// From the environment.
    pub settings: Settings,
    /// The floodgate configuration.
    pub config: Arc<Config>,
    /// S3.
    pub store: S,
    /// WAF.
    pub waf: W,
    /// Decision time source.
    pub clock: Clock,
    /// How log objects are read.
    pub read: ReadOptions,
    /// State write retries.
    pub state_retry: RetryPolicy,
    /// WAF retries.
    pub waf_retry: RetryPolicy,
    /// Least time between two UpdateIPSet calls (WAF allows about one write per second).
    pub waf_write_interval: Duration,
    /// Where notifications go, when `FLOODGATE_NOTIFY_TOPIC_ARN` is set.
    pub notifier: Option<Arc<dyn Publisher>>,
}

impl<S: ObjectStore, W: IpSetApi + Clone + 'static> App<S, W> {
    /// An app with default retry and read settings and the system clock.
    pub fn new(settings: Settings, config: Config, store: S, waf: W) -> App<S, W> {
        App {
            settings,
            config: Arc::new(config),
            store,
            waf,
            clock: system_clock(),
            read: ReadOptions::default(),
            state_retry: RetryPolicy::STATE,
            waf_retry: RetryPolicy::WAF,
            waf_write_interval: Duration::from_secs(1),
            notifier: None,
        }
    }

    /// Notify through `publisher` (the notification sink).
    pub fn with_notifier(mut self, publisher: Arc<dyn Publisher>) -> App<S, W> {
        self.notifier = Some(publisher);
        self
    }

    /// The sinks a committed decision goes to, in order.
    fn sinks(&self) -> Vec<Box<dyn DecisionSink>> {
        let mut sinks: Vec<Box<dyn DecisionSink>> = vec![
            Box::new(self.ip_sets()),
            Box::new(ReportSink {
                store: self.store.clone(),
                bucket: self.settings.state_bucket.clone(),
                prefix: self.settings.reports_prefix.clone(),
                interval_ms: self.settings.report_interval_ms,
                backend: self.backend(),
                state_retry: self.state_retry,
            }),
        ];
        if let Some(p) = &self.notifier {
            sinks.push(Box::new(NotifySink {
                publisher: p.clone(),
                backend: self.backend(),
                state_retry: self.state_retry,
            }));
        }
        sinks.push(Box::new(MetricsSink {
            namespace: self.settings.metrics_namespace.clone(),
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

    /// `FLOODGATE_DRY_RUN`, else the config's `ban.dry_run`.
    pub fn dry_run(&self) -> bool {
        self.settings.dry_run.unwrap_or(self.config.ban.dry_run)
    }

    fn backend(&self) -> S3State<S> {
        S3State {
            store: self.store.clone(),
            bucket: self.settings.state_bucket.clone(),
            key: self.settings.state_key.clone(),
        }
    }

    /// Handle one invocation. Returns the response payload (`batchItemFailures` for SQS).
    pub async fn handle(&self, payload: Value, request_id: &str) -> Result<Value, HandlerError> {
        match events::parse(payload)? {
            Event::Scheduled => self.scheduled(request_id).await,
            Event::S3(objects) => {
                let failed = self.objects(objects, request_id).await?;
                Ok(json!({ "failed": failed.iter().map(|f| f.id()).collect::<Vec<_>>() }))
            }
            Event::Sqs(items) => {
                let mut objects = Vec::new();
                let mut failures = Vec::new();
                let mut owner: Vec<(ObjectRef, String)> = Vec::new();
                for item in items {
                    match item.objects {
                        Ok(list) => {
                            for o in list {
                                owner.push((o.clone(), item.message_id.clone()));
                                objects.push(o);
                            }
                        }
                        Err(e) => {
                            log(
                                json!({"level": "warn", "message_id": item.message_id, "error": e}),
                            );
                            failures.push(item.message_id);
                        }
                    }
                }
                let failed = self.objects(objects, request_id).await?;
                for f in failed {
                    for (o, m) in &owner {
                        if o.bucket == f.bucket && o.key == f.key && !failures.contains(m) {
                            failures.push(m.clone());
                        }
                    }
                }
                let mut resp = SqsBatchResponse::default();
                for id in failures {
                    let mut f = BatchItemFailure::default();
                    f.item_identifier = id;
                    resp.batch_item_failures.push(f);
                }
                Ok(serde_json::to_value(resp).unwrap_or_else(|_| json!({})))
            }
        }
    }

    /// Process created objects; returns those that could not be read (to be retried).
    async fn objects(
        &self,
        objects: Vec<ObjectRef>,
        request_id: &str,
    ) -> Result<Vec<ObjectRef>, HandlerError> {
        let start = Instant::now();
        let (wanted, ignored): (Vec<ObjectRef>, Vec<ObjectRef>) = objects
            .into_iter()
            .partition(|o| self.settings.wants_key(&o.key));
        if !ignored.is_empty() {
            log(
                json!({"level": "info", "ignored_keys": ignored.iter().map(|o| o.url()).collect::<Vec<_>>()}),
            );
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend();
        let (state, _) = backend.load().await?;
        let pending: Pending =
            read_objects(&self.store, &self.config, &state, &wanted, &self.read).await;
        let failed: Vec<ObjectRef> = pending.failed.iter().map(|f| f.object.clone()).collect();
        for f in &pending.failed {
            log(json!({"level": "error", "object": f.object.url(), "error": f.error}));
        }
        if pending.is_empty() {
            log(
                json!({"level": "info", "skipped": pending.skipped.len(), "failed": pending.failed.len(), "message": "nothing new"}),
            );
            if !pending.skipped.is_empty() {
                // A redelivery: the first delivery may have committed and then lost its
                // response (or its sync). Reconcile now instead of waiting for the schedule;
                // an up-to-date set costs one GetIPSet and no write.
                self.reconcile(&state, start).await;
            }
            return Ok(failed);
        }
        let now = (self.clock)();
        let done = commit_run(
            &backend,
            self.state_retry,
            &self.config,
            &pending,
            Some(now),
            self.dry_run(),
        )
        .await?;
        if done.written {
            self.deliver(&done, now, request_id, start).await;
        } else {
            // Another writer had committed every object already: make sure the sets follow.
            self.reconcile(&done.state, start).await;
        }
        Ok(failed)
    }

    /// The scheduled event: expire bans, deliver to the sinks.
    async fn scheduled(&self, request_id: &str) -> Result<Value, HandlerError> {
        let start = Instant::now();
        let now = (self.clock)();
        let done = commit_expiry(
            &self.backend(),
            self.state_retry,
            &self.config,
            now,
            self.dry_run(),
        )
        .await?;
        let deliveries = self.deliver(&done, now, request_id, start).await;
        let sync = deliveries.iter().find_map(|d| d.sync.clone());
        Ok(json!({ "expired": done.value.changes.removed, "sync": sync }))
    }

    /// Make the IP sets equal `state`'s blocklist (only floodgate's own entries change), with
    /// the sync's metrics.
    async fn reconcile(&self, state: &State, start: Instant) {
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
    async fn deliver(
        &self,
        done: &Updated<Decision>,
        now: i64,
        request_id: &str,
        start: Instant,
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
        let deliveries = deliver_all(&self.sinks(), &outcome).await;
        for d in &deliveries {
            log_delivery(d);
        }
        let last = &done.state.last_run;
        let d = &done.value;
        log(json!({
            "level": "info", "files": last.files.len(), "skipped": last.skipped.len(),
            "records": last.records, "blocklist": d.blocklist.ipv4.len() + d.blocklist.ipv6.len(),
            "added": d.changes.added.len(), "removed": d.changes.removed.len(),
            "ranges": d.ranges.iter().filter(|r| r.blocked).count(),
            "held_back": d.dropped.len(), "dry_run": self.dry_run(),
        }));
        for t in &d.tripped {
            log(json!({"level": "error", "guardrail": t, "message": format!(
                "GUARDRAIL TRIPPED: rule {} would ban {} of {} clients seen; its {} new bans are held back",
                t.rule, t.bans, t.clients, t.held_back)}));
        }
        deliveries
    }
}

fn log(fields: Value) {
    eprintln!("{fields}");
}

/// One JSON line per sink; the IP sets' report one line per set (as before).
fn log_delivery(d: &Delivery) {
    if let Some(sync) = &d.sync {
        for s in &sync.sets {
            let level = if s.error.is_some() { "error" } else { "info" };
            log(json!({"level": level, "ip_set": s}));
        }
        return;
    }
    let level = if d.failed() { "error" } else { "info" };
    log(
        json!({"level": level, "sink": d.sink, "skipped": d.skipped, "error": d.error, "location": d.location}),
    );
}
