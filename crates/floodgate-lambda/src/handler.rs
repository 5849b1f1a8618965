//! The handler: event → pipeline → adapters. Thin on purpose; the work is in floodgate-aws.
//!
//! Per batch of created objects (S3, EventBridge, SQS): refuse objects outside the configured
//! buckets and prefixes, keep the keys with the log suffixes, skip objects the state already
//! processed (before reading them), stream the rest until the invocation's deadline allows,
//! commit the run to the state object (conditional write, re-applied on conflict), then hand
//! the committed decision to the sinks (`delivery.rs`). Streamed records (CloudWatch
//! Logs, Kinesis) take the same path from the commit on, under the same deadline
//! ([`crate::streams`]). The schedule expires bans and delivers the same way.

use crate::events::{self, Event};
use crate::settings::Settings;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use floodgate_aws::ipsets::IpSetApi;
use floodgate_aws::metrics::Metrics;
use floodgate_aws::partials::Partials;
use floodgate_aws::read::{read_objects, Pending, ReadOptions};
use floodgate_aws::sns::Publisher;
use floodgate_aws::state_store::{commit_expiry, commit_run_from, StateStoreError, Version};
use floodgate_aws::{ObjectRef, ObjectStore, RetryPolicy, S3State, StateBackend};
use floodgate_core::config::Config;
use floodgate_core::state::State;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

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

/// Why an invocation failed as a whole (the event is retried by Lambda, SQS or Kinesis).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event had no known shape.
    #[error(transparent)]
    Event(#[from] events::EventError),
    /// The state could not be read or written.
    #[error(transparent)]
    State(#[from] StateStoreError),
    /// Records could not be read with this configuration (e.g. `x-forwarded-for` on a format
    /// without it): a deployment problem, not damage.
    #[error("{0}")]
    Config(String),
    /// The deadline came before a payload that is read whole or not at all (a CloudWatch Logs
    /// delivery) could be read: nothing of it was counted, and Lambda's retry reads it.
    #[error("{0}")]
    OutOfTime(String),
}

/// The `errorType` Lambda records for a failed invocation: a stable `Category.Reason` name an
/// alarm or a log query can match, instead of a Rust type path.
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::Event(_) => "Floodgate.UnrecognisedEvent",
            HandlerError::State(_) => "Floodgate.StateUnavailable",
            HandlerError::Config(_) => "Floodgate.ConfigurationError",
            HandlerError::OutOfTime(_) => "Floodgate.OutOfTime",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_string(),
            error_message: e.to_string(),
        }
    }
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
    /// The configuration as the state records it (see [`crate::recorded`]); `None` leaves the
    /// state's record as it is.
    pub recorded: Option<floodgate_core::config::ConfigSource>,
}

/// Time kept back from the invocation's deadline for the commit and the sinks: a sixth of
/// what is left, between 5 and 45 seconds (a state write and three IP set writes at flood
/// scale take a few seconds; the default timeout is 300 s).
pub fn deadline_reserve(remaining: Duration) -> Duration {
    (remaining / 6).clamp(Duration::from_secs(5), Duration::from_secs(45))
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
            recorded: None,
        }
    }

    /// Record `source` in the state as the configuration it is decided with.
    pub fn with_recorded(mut self, source: floodgate_core::config::ConfigSource) -> App<S, W> {
        self.recorded = Some(source);
        self
    }

    /// Notify through `publisher` (the notification sink).
    pub fn with_notifier(mut self, publisher: Arc<dyn Publisher>) -> App<S, W> {
        self.notifier = Some(publisher);
        self
    }

    /// `FLOODGATE_DRY_RUN`, else the config's `ban.dry_run`.
    pub fn dry_run(&self) -> bool {
        self.settings.dry_run.unwrap_or(self.config.ban.dry_run)
    }

    pub(crate) fn backend(&self) -> S3State<S> {
        S3State {
            store: self.store.clone(),
            bucket: self.settings.state_bucket.clone(),
            key: self.settings.state_key.clone(),
        }
    }

    /// Where this deployment's partials go, when it splits reading from committing
    /// (`FLOODGATE_PARTIALS_PREFIX`).
    pub(crate) fn partials(&self) -> Option<Partials<S>> {
        self.settings
            .partials_prefix
            .as_ref()
            .map(|prefix| Partials {
                store: self.store.clone(),
                bucket: self.settings.state_bucket.clone(),
                prefix: prefix.clone(),
                lease_key: format!("{}.reducer-lease", self.settings.state_key),
                head_key: format!("{}.streams", self.settings.state_key),
            })
    }

    /// The state objects are read against: the stored one, or, when partials are written, an
    /// empty one (the reducer judges processed ids and lateness), so reading never decodes the
    /// state. `ranges` asks for a Kinesis shard's committed ranges: with partials, the streams
    /// head the reducer writes ([`Partials::read_head`]), else the state.
    pub(crate) async fn load_for_reading(
        &self,
        ranges: bool,
    ) -> Result<(State, Version), HandlerError> {
        match self.partials() {
            Some(_) if !ranges => Ok((State::default(), None)),
            Some(p) => match p.read_head().await {
                Ok(Some(head)) => Ok((head, None)),
                // No head yet (or unreadable): the state itself has the ranges.
                Ok(None) | Err(_) => Ok(self.backend().load().await?),
            },
            None => Ok(self.backend().load().await?),
        }
    }

    /// The configuration records are read with: `[source]` with the wall clock of this
    /// invocation, so a record dated in the future is rejected as `future_time` and cannot move
    /// the watermark (the core reads no clock).
    pub(crate) fn reading_config(&self) -> Config {
        let mut c = (*self.config).clone();
        c.source.wall_clock_ms = Some((self.clock)());
        c
    }

    /// Handle one invocation without a deadline (tests, tools).
    pub async fn handle(&self, payload: Value, request_id: &str) -> Result<Value, HandlerError> {
        self.handle_until(payload, request_id, None).await
    }

    /// Handle one invocation that must answer by `deadline_ms` (ms since the epoch, from the
    /// Runtime API). Returns the response payload (`batchItemFailures` for SQS and Kinesis).
    pub async fn handle_until(
        &self,
        payload: Value,
        request_id: &str,
        deadline_ms: Option<i64>,
    ) -> Result<Value, HandlerError> {
        let until = deadline_ms.map(|d| {
            let remaining = Duration::from_millis(u64::try_from(d - (self.clock)()).unwrap_or(0));
            let usable = remaining.saturating_sub(deadline_reserve(remaining));
            tokio::time::Instant::now() + usable
        });
        match events::parse(payload)? {
            Event::Scheduled => self.scheduled(request_id).await,
            Event::S3(objects) => {
                let failed = self.objects(objects, request_id, until).await?;
                Ok(json!({ "failed": failed.iter().map(|f| f.id()).collect::<Vec<_>>() }))
            }
            Event::Sqs(items) => self.sqs(items, request_id, until).await,
            Event::Logs(None) => {
                info!(message = "CloudWatch Logs control message: nothing to read");
                Ok(json!({}))
            }
            Event::Logs(Some(batch)) => self.logs(batch, request_id, until).await,
            Event::Kinesis(records) => self.kinesis(records, request_id, until).await,
        }
    }

    /// An SQS batch: every message's objects read together; a message fails alone.
    async fn sqs(
        &self,
        items: Vec<events::SqsItem>,
        request_id: &str,
        until: Option<tokio::time::Instant>,
    ) -> Result<Value, HandlerError> {
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
                    warn!(message_id = %item.message_id, error = %e, message = "unreadable SQS message");
                    failures.push(item.message_id);
                }
            }
        }
        let failed = self.objects(objects, request_id, until).await?;
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

    /// Count and log what was refused (foreign buckets, prefixes, log groups, streams), with
    /// a `Refused` metric: an operator sees an attempt to feed floodgate foreign logs.
    pub(crate) fn refused(&self, why: &[String]) {
        if why.is_empty() {
            return;
        }
        for w in why {
            warn!(refused = %w, message = "not read: outside the configured log sources");
        }
        let metrics = Metrics {
            refused: why.len() as u64,
            ..Metrics::default()
        };
        metrics.emit(&self.settings.metrics_namespace, (self.clock)());
    }

    /// Process created objects; returns those that could not be read (to be retried).
    async fn objects(
        &self,
        objects: Vec<ObjectRef>,
        request_id: &str,
        until: Option<tokio::time::Instant>,
    ) -> Result<Vec<ObjectRef>, HandlerError> {
        let start = Instant::now();
        let mut refused = Vec::new();
        let mut wanted = Vec::new();
        let mut ignored = Vec::new();
        let partials = self.partials();
        let mut reduce = false;
        for o in objects {
            if partials
                .as_ref()
                .is_some_and(|p| p.holds(&o.bucket, &o.key))
            {
                reduce = true;
            } else if let Some(why) = self.settings.refuses_object(&o.bucket, &o.key) {
                refused.push(format!("{}: {why}", o.url()));
            } else if self.settings.wants_key(&o.key) {
                wanted.push(o);
            } else {
                ignored.push(o.url());
            }
        }
        self.refused(&refused);
        if !ignored.is_empty() {
            info!(ignored_keys = ?ignored, message = "not log keys (FLOODGATE_LOG_SUFFIXES)");
        }
        if reduce {
            self.reduce(request_id, start, until).await?;
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let (state, version) = self.load_for_reading(false).await?;
        let pending: Pending = read_objects(
            &self.store,
            &Arc::new(self.reading_config()),
            &state,
            &wanted,
            &self.read,
            until,
        )
        .await;
        let (refused, failed): (Vec<_>, Vec<_>) = pending.failed.iter().partition(|f| f.refused);
        for f in &failed {
            error!(object = %f.object.url(), error = %f.error, message = "object not read");
        }
        // Not the object its notification named (a forged or stale ETag or version): refused
        // like a foreign bucket, acknowledged, and the current object is not counted again.
        self.refused(&refused.iter().map(|f| f.error.clone()).collect::<Vec<_>>());
        let failed: Vec<ObjectRef> = failed.iter().map(|f| f.object.clone()).collect();
        self.commit((state, version), &pending, request_id, start)
            .await?;
        Ok(failed)
    }

    /// Commit what was read and deliver it; a batch with nothing new reconciles the IP sets
    /// instead (a redelivery whose first delivery may have lost its response or its sync).
    /// The state loaded to read the objects (`loaded`, with its version) is the commit's first
    /// attempt: the invocation decodes the state once.
    pub(crate) async fn commit(
        &self,
        loaded: (State, Version),
        pending: &Pending,
        request_id: &str,
        start: Instant,
    ) -> Result<(), HandlerError> {
        if pending.is_empty() {
            info!(
                skipped = pending.skipped.len(),
                failed = pending.failed.len(),
                message = "nothing new"
            );
            // An up-to-date set costs one GetIPSet and no write. With partials, what this
            // invocation read against is not the state (the reducer syncs the sets).
            if !pending.skipped.is_empty() && self.partials().is_none() {
                self.reconcile(&loaded.0, start).await;
            }
            return Ok(());
        }
        let now = (self.clock)();
        if let Some(partials) = self.partials() {
            let ids: Vec<&str> = pending.read.iter().map(|o| o.id.as_str()).collect();
            let key = partials.key_for(now, &ids);
            let written = partials
                .write(&self.reading_config(), pending, key)
                .await
                .map_err(|error| StateStoreError::Store {
                    location: format!("s3://{}/{}", partials.bucket, partials.prefix),
                    error,
                })?;
            info!(
                partial = ?written,
                objects = pending.read.len(),
                ms = start.elapsed().as_millis() as u64,
                message = "counts written for the reducer"
            );
            return Ok(());
        }
        let done = commit_run_from(
            &self.backend(),
            self.state_retry,
            Some(loaded),
            &self.config,
            self.recorded.as_ref(),
            pending,
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
        Ok(())
    }

    /// The scheduled event: expire bans, deliver to the sinks.
    async fn scheduled(&self, request_id: &str) -> Result<Value, HandlerError> {
        let start = Instant::now();
        // Partials whose reducer never ran (a lost notification, a failed invocation).
        self.reduce(request_id, start, None).await?;
        let now = (self.clock)();
        let done = commit_expiry(
            &self.backend(),
            self.state_retry,
            &self.config,
            self.recorded.as_ref(),
            now,
            self.dry_run(),
        )
        .await?;
        let deliveries = self.deliver(&done, now, request_id, start).await;
        let sync = deliveries.iter().find_map(|d| d.sync.clone());
        Ok(json!({ "expired": done.value.changes.removed, "sync": sync }))
    }

    /// Merge every pending partial into the state and deliver the decision (a no-op without
    /// partials), holding the reducer's lease (see [`floodgate_aws::partials`]); returns at once
    /// when another reducer holds it. Started by the S3 notifications of the partials prefix,
    /// and by the schedule. Past `until` it stops between cycles; what is left waits for the
    /// next notification or the schedule.
    pub(crate) async fn reduce(
        &self,
        request_id: &str,
        start: Instant,
        until: Option<tokio::time::Instant>,
    ) -> Result<(), HandlerError> {
        let Some(partials) = self.partials() else {
            return Ok(());
        };
        let store_error = |error| {
            HandlerError::State(StateStoreError::Store {
                location: format!("s3://{}/{}", partials.bucket, partials.lease_key),
                error,
            })
        };
        let past = || until.is_some_and(|u| tokio::time::Instant::now() >= u);
        // Partials this invocation could not merge: not a reason to take the lease again.
        let mut damaged = Vec::new();
        loop {
            let Some(mut lease) = partials
                .acquire(request_id, (self.clock)())
                .await
                .map_err(store_error)?
            else {
                info!(message = "another reducer holds the lease: it merges what is pending");
                return Ok(());
            };
            loop {
                let now = (self.clock)();
                if !partials
                    .renew(&mut lease, request_id, now)
                    .await
                    .map_err(store_error)?
                {
                    warn!(message = "reducer lease lost (expired): leaving the rest to its holder");
                    return Ok(());
                }
                let r = self
                    .reduce_once(&partials, request_id, start, now, &mut damaged)
                    .await?;
                if (r == 0) || past() {
                    break;
                }
            }
            partials
                .release(lease, request_id)
                .await
                .map_err(store_error)?;
            // A reducer that found the lease taken returned; what it was started for is seen here.
            if past() || !partials.any_pending(&damaged).await.map_err(store_error)? {
                return Ok(());
            }
        }
    }

    /// One reducer cycle: merge what is pending, deliver; the number of partials merged.
    async fn reduce_once(
        &self,
        partials: &Partials<S>,
        request_id: &str,
        start: Instant,
        now: i64,
        damaged: &mut Vec<String>,
    ) -> Result<usize, HandlerError> {
        let cycle = Instant::now();
        let r = partials
            .reduce(
                &self.backend(),
                self.state_retry,
                &self.config,
                self.recorded.as_ref(),
                now,
                self.dry_run(),
            )
            .await?;
        for (key, why) in &r.damaged {
            error!(partial = %key, error = %why, message = "partial not merged (damaged): left in place");
            if !damaged.contains(key) {
                damaged.push(key.clone());
            }
        }
        if let Some(e) = &r.undeleted {
            warn!(error = %e, message = "merged partials not deleted: the next reducer skips them");
        }
        match &r.done {
            Some(done) if done.written => {
                if let Err(e) = partials.write_head(&done.state).await {
                    // Readers then decode the state for their ranges: slower, still exact.
                    warn!(error = %e, message = "streams head not written");
                }
                let commit_ms = cycle.elapsed().as_millis() as u64;
                self.deliver_with(done, now, request_id, start, false).await;
                info!(
                    partials = r.merged,
                    commit_ms,
                    deliver_ms = cycle.elapsed().as_millis() as u64 - commit_ms,
                    message = "partials merged"
                );
            }
            Some(done) => self.reconcile(&done.state, start).await,
            None => {}
        }
        Ok(r.merged)
    }
}
