//! The handler: event → pipeline → adapters. Thin on purpose; the work is in floodgate-aws.
//!
//! Per batch of created objects (S3 or SQS): keep the keys under the log prefixes/suffixes,
//! skip objects the state already processed (before reading them), stream the rest, commit the
//! run to the state object (conditional write, re-applied on conflict), sync the IP sets, write
//! the reports, print the EMF metrics. The schedule only expires bans and reconciles.

use crate::events::{self, Event};
use crate::settings::Settings;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use floodgate_aws::ipsets::{IpSetApi, SyncOptions, SyncReport};
use floodgate_aws::metrics::Metrics;
use floodgate_aws::read::{read_objects, Pending, ReadOptions};
use floodgate_aws::reports::{report_files, write_reports};
use floodgate_aws::state_store::{commit_expiry, commit_run, StateStoreError, Updated};
use floodgate_aws::{sync_ip_sets, ObjectRef, ObjectStore, RetryPolicy, S3State, StateBackend};
use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::timefmt::format_rfc3339_ms;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

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
}

fn log(fields: Value) {
    eprintln!("{fields}");
}

impl<S: ObjectStore, W: IpSetApi> App<S, W> {
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
        let mut metrics = Metrics::default();
        if pending.is_empty() {
            log(
                json!({"level": "info", "skipped": pending.skipped.len(), "failed": pending.failed.len(), "message": "nothing new"}),
            );
            if !pending.skipped.is_empty() {
                // A redelivery: the first delivery may have committed and then lost its
                // response (or its sync). Reconcile now instead of waiting for the schedule;
                // an up-to-date set costs one GetIPSet and no write.
                self.reconcile(&state, &mut metrics).await;
            }
            self.finish(metrics, start);
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
        metrics.sync_conflicts += done.conflicts as u64;
        if done.written {
            self.after_commit(&done, &mut metrics, now, request_id, true)
                .await;
        } else {
            // Another writer had committed every object already: make sure the sets follow.
            self.reconcile(&done.state, &mut metrics).await;
        }
        self.finish(metrics, start);
        Ok(failed)
    }

    /// The scheduled event: expire bans, reconcile the IP sets.
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
        let mut metrics = Metrics {
            sync_conflicts: done.conflicts as u64,
            ..Metrics::default()
        };
        let changed =
            !done.value.changes.added.is_empty() || !done.value.changes.removed.is_empty();
        let sync = self
            .after_commit(&done, &mut metrics, now, request_id, changed)
            .await;
        self.finish(metrics, start);
        Ok(json!({ "expired": done.value.changes.removed, "sync": sync }))
    }

    /// Make the IP sets equal `state`'s blocklist (only floodgate's own entries change).
    async fn reconcile(
        &self,
        state: &floodgate_core::state::State,
        metrics: &mut Metrics,
    ) -> SyncReport {
        let opts = SyncOptions {
            dry_run: self.dry_run(),
            retry: self.waf_retry,
            state_retry: self.state_retry,
            ..SyncOptions::default()
        };
        let sync = sync_ip_sets(
            &self.waf,
            &self.backend(),
            state,
            &self.settings.targets(),
            &opts,
        )
        .await;
        metrics.add_sync(&sync);
        for s in &sync.sets {
            let level = if s.error.is_some() { "error" } else { "info" };
            log(json!({"level": level, "ip_set": s}));
        }
        sync
    }

    /// Sync, reports, metrics of a committed run.
    async fn after_commit(
        &self,
        done: &Updated<Decision>,
        metrics: &mut Metrics,
        now: i64,
        request_id: &str,
        write_reports_now: bool,
    ) -> SyncReport {
        let run = &done.state.last_run;
        metrics.add_run(run);
        metrics.add_decision(&done.value, run.late);
        let sync = self.reconcile(&done.state, metrics).await;
        if write_reports_now {
            let files = report_files(&self.config, &done.state, &done.value);
            let run_name = format!("{}-{}", format_rfc3339_ms(now), request_id);
            match write_reports(
                &self.store,
                &self.settings.state_bucket,
                &self.settings.reports_prefix,
                &run_name,
                &files,
            )
            .await
            {
                Ok(folder) => log(json!({"level": "info", "reports": folder})),
                // The state is committed; a missing report is logged, not retried.
                Err(e) => log(json!({"level": "error", "reports": e.to_string()})),
            }
        }
        let files: BTreeSet<&str> = run.files.iter().map(|f| f.path.as_str()).collect();
        log(
            json!({"level": "info", "files": files.len(), "skipped": run.skipped.len(),
                   "records": run.records, "blocklist": done.value.blocklist.ipv4.len() + done.value.blocklist.ipv6.len(),
                   "added": done.value.changes.added, "removed": done.value.changes.removed,
                   "dry_run": self.dry_run()}),
        );
        sync
    }

    fn finish(&self, mut metrics: Metrics, start: Instant) {
        metrics.duration_ms = start.elapsed().as_millis() as u64;
        metrics.emit(&self.settings.metrics_namespace, (self.clock)());
    }
}
