//! Streamed records: a CloudWatch Logs delivery or a Kinesis batch becomes one
//! [`StreamBatch`] per log stream or shard, read like a log object and committed the same way,
//! so a ban lands in the invocation that carried the offending requests.
//!
//! Redeliveries count nothing twice (`floodgate_core::state::streams`): a CloudWatch Logs
//! payload already processed is skipped whole; Kinesis records at or below their shard's
//! checkpoint are dropped one by one (a retry from a failed sequence number, or its halves).

use crate::events::streams::{is_logs_payload, logs_payload};
use crate::events::{KinesisRecord, LogsBatch};
use crate::handler::{App, HandlerError};
use floodgate_aws::ipsets::IpSetApi;
use floodgate_aws::read::{read_batch, Pending, StreamBatch};
use floodgate_aws::{ObjectStore, StateBackend};
use floodgate_core::formats::cloudfront_realtime;
use floodgate_core::state::streams::{kinesis_checkpoint, kinesis_id, payload_id, seq_cmp};
use floodgate_core::state::State;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::time::Instant;
use tracing::info;

/// The batch of one CloudWatch Logs delivery; its id is the payload's (see the module docs).
pub fn logs_batch(b: &LogsBatch) -> StreamBatch {
    let first = b.log_events.first().map_or("", |e| e.id.as_str());
    let last = b.log_events.last().map_or("", |e| e.id.as_str());
    let count = b.log_events.len().to_string();
    let parts = [
        b.owner.as_str(),
        b.log_group.as_str(),
        b.log_stream.as_str(),
        first,
        last,
        count.as_str(),
    ];
    let mut batch = StreamBatch {
        id: payload_id("cwl", &parts),
        path: format!("cloudwatch-logs://{}/{}", b.log_group, b.log_stream),
        format: None,
        ..StreamBatch::default()
    };
    push_events(&mut batch, b);
    batch.bytes_in = batch.lines.len() as u64;
    batch
}

/// Append a delivery's messages to `batch`, one line each.
fn push_events(batch: &mut StreamBatch, b: &LogsBatch) {
    for e in &b.log_events {
        let line = e.message.trim_end_matches(['\r', '\n']).as_bytes();
        batch.lines.extend_from_slice(line);
        batch.lines.push(b'\n');
    }
}

/// The batches of a Kinesis event, in the order their shards are first seen, without the
/// records at or below the shard's checkpoint in `state`; how many records that dropped; and
/// why any CloudWatch Logs payload was refused (`refuses_group` names a log group not to read).
///
/// A shard's CloudFront real-time records make one batch (format fixed by the configured
/// fields) and its CloudWatch Logs subscription payloads another (format sniffed: WAF or
/// CloudFront v2 JSON), both committed together, so the shard's checkpoint covers both.
pub fn kinesis_batches(
    records: &[KinesisRecord],
    state: &State,
    refuses_group: impl Fn(&str) -> Option<String>,
) -> KinesisBatches {
    let mut shards: Vec<(&str, &str)> = Vec::new();
    for r in records {
        if !shards.contains(&(r.stream_name(), r.shard.as_str())) {
            shards.push((r.stream_name(), r.shard.as_str()));
        }
    }
    let mut out = KinesisBatches::default();
    for (stream, shard) in shards {
        let checkpoint = kinesis_checkpoint(state, stream, shard);
        let mut new: Vec<&KinesisRecord> = records
            .iter()
            .filter(|r| r.stream_name() == stream && r.shard == shard)
            .collect();
        let before = new.len();
        if let Some(cp) = checkpoint {
            new.retain(|r| seq_cmp(&r.sequence, cp) == Ordering::Greater);
        }
        out.dropped += before - new.len();
        let (logs, realtime): (Vec<&KinesisRecord>, Vec<&KinesisRecord>) = new
            .into_iter()
            .partition(|r| r.data.as_deref().is_ok_and(is_logs_payload));
        let batch = |records: &[&KinesisRecord], format| {
            let (first, last) = (records.first()?, records.last()?);
            Some(StreamBatch {
                id: kinesis_id(stream, shard, &first.sequence, &last.sequence),
                path: format!("kinesis://{stream}/{shard}"),
                format,
                ..StreamBatch::default()
            })
        };
        if let Some(mut b) = batch(&realtime, Some(cloudfront_realtime::FORMAT)) {
            for r in realtime {
                match &r.data {
                    Ok(data) => {
                        b.bytes_in += data.len() as u64;
                        let mut text = &data[..];
                        while let [rest @ .., b'\n' | b'\r'] = text {
                            text = rest;
                        }
                        b.lines.extend_from_slice(text);
                        b.lines.push(b'\n');
                    }
                    Err(e) => b
                        .undecodable
                        .push(format!("sequence number {}: {e}", r.sequence)),
                }
            }
            out.batches.push(b);
        }
        if let Some(mut b) = batch(&logs, None) {
            for r in logs {
                b.bytes_in += r.data.as_ref().map_or(0, |d| d.len() as u64);
                match r
                    .data
                    .as_deref()
                    .map_err(Clone::clone)
                    .and_then(logs_payload)
                {
                    Ok(Some(delivery)) => match refuses_group(&delivery.log_group) {
                        None => push_events(&mut b, &delivery),
                        Some(why) => out.refused.push(why),
                    },
                    Ok(None) => {} // a control message: no log
                    Err(e) => b
                        .undecodable
                        .push(format!("sequence number {}: {e}", r.sequence)),
                }
            }
            out.batches.push(b);
        }
    }
    out
}

/// What [`kinesis_batches`] makes of a Kinesis event.
#[derive(Debug, Default)]
pub struct KinesisBatches {
    /// One or two per shard (see [`kinesis_batches`]).
    pub batches: Vec<StreamBatch>,
    /// Records at or below their shard's checkpoint: counted before.
    pub dropped: usize,
    /// Why CloudWatch Logs payloads were not read (their log group is not configured).
    pub refused: Vec<String>,
}

impl<S: ObjectStore, W: IpSetApi + Clone + 'static> App<S, W> {
    /// Read stream batches against `state` and commit them.
    async fn commit_batches(
        &self,
        state: &State,
        batches: Vec<StreamBatch>,
        request_id: &str,
        start: Instant,
    ) -> Result<(), HandlerError> {
        let mut pending = Pending::default();
        for b in batches {
            if state.is_processed(&b.id) {
                pending.skipped.push(b.id);
                continue;
            }
            let read =
                read_batch(&self.config, state.settled_bucket, &b).map_err(HandlerError::Config)?;
            pending.read.push(read);
        }
        pending.read.sort_by(|a, b| a.id.cmp(&b.id));
        self.commit(state, &pending, request_id, start).await
    }

    /// A CloudWatch Logs delivery (invoked asynchronously: the response is not read; an error
    /// makes Lambda retry the same payload).
    pub(crate) async fn logs(
        &self,
        batch: LogsBatch,
        request_id: &str,
    ) -> Result<Value, HandlerError> {
        let start = Instant::now();
        if let Some(why) = self.settings.refuses_log_group(&batch.log_group) {
            self.refused(&[why]);
            return Ok(json!({ "refused": 1 }));
        }
        let b = logs_batch(&batch);
        let id = b.id.clone();
        let (state, _) = self.backend().load().await?;
        self.commit_batches(&state, vec![b], request_id, start)
            .await?;
        Ok(json!({ "batch": id, "events": batch.log_events.len() }))
    }

    /// A Kinesis batch. Records are counted when the commit succeeds; a failed commit fails
    /// the invocation, and Lambda retries from the batch's first record (the checkpoint drops
    /// what a half-finished earlier attempt counted).
    pub(crate) async fn kinesis(
        &self,
        records: Vec<KinesisRecord>,
        request_id: &str,
    ) -> Result<Value, HandlerError> {
        let start = Instant::now();
        let (accepted, refused): (Vec<KinesisRecord>, Vec<KinesisRecord>) = records
            .into_iter()
            .partition(|r| self.settings.refuses_stream(&r.stream_arn).is_none());
        let why: Vec<String> = refused
            .iter()
            .filter_map(|r| self.settings.refuses_stream(&r.stream_arn))
            .collect();
        self.refused(&why);
        if accepted.is_empty() {
            return Ok(json!({ "batchItemFailures": [] }));
        }
        let (state, _) = self.backend().load().await?;
        let KinesisBatches {
            batches,
            dropped,
            refused,
        } = kinesis_batches(&accepted, &state, |g| self.settings.refuses_log_group(g));
        self.refused(&refused);
        if dropped > 0 {
            info!(
                records = dropped,
                message = "Kinesis records at or below their shard's checkpoint: counted before"
            );
        }
        if batches.is_empty() {
            self.reconcile(&state, start).await;
        } else {
            self.commit_batches(&state, batches, request_id, start)
                .await?;
        }
        Ok(json!({ "batchItemFailures": [] }))
    }
}
