//! Streamed records: a CloudWatch Logs delivery or a Kinesis batch becomes one
//! [`StreamBatch`] per log stream or shard, read like a log object and committed the same way,
//! so a ban lands in the invocation that carried the offending requests.
//!
//! Redeliveries count nothing twice (`floodgate_core::state::streams`): a CloudWatch Logs
//! payload already processed is skipped whole; Kinesis records at or below their shard's
//! checkpoint are dropped one by one (a retry from a failed sequence number, or its halves).

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
    let mut lines = Vec::new();
    for e in &b.log_events {
        lines.extend_from_slice(e.message.trim_end_matches(['\r', '\n']).as_bytes());
        lines.push(b'\n');
    }
    StreamBatch {
        id: payload_id("cwl", &parts),
        path: format!("cloudwatch-logs://{}/{}", b.log_group, b.log_stream),
        format: None,
        bytes_in: lines.len() as u64,
        lines,
        undecodable: Vec::new(),
    }
}

/// The batches of a Kinesis event, one per shard in the order first seen, without the records
/// at or below the shard's checkpoint in `state`; and how many records that dropped.
pub fn kinesis_batches(records: &[KinesisRecord], state: &State) -> (Vec<StreamBatch>, usize) {
    let mut shards: Vec<(&str, &str)> = Vec::new();
    for r in records {
        if !shards.contains(&(r.stream_name(), r.shard.as_str())) {
            shards.push((r.stream_name(), r.shard.as_str()));
        }
    }
    let mut out = Vec::new();
    let mut dropped = 0;
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
        dropped += before - new.len();
        let (Some(first), Some(last)) = (new.first(), new.last()) else {
            continue;
        };
        let mut batch = StreamBatch {
            id: kinesis_id(stream, shard, &first.sequence, &last.sequence),
            path: format!("kinesis://{stream}/{shard}"),
            format: Some(cloudfront_realtime::FORMAT),
            ..StreamBatch::default()
        };
        for r in new {
            match &r.data {
                Ok(data) => {
                    batch.bytes_in += data.len() as u64;
                    let mut text = &data[..];
                    while let [rest @ .., b'\n' | b'\r'] = text {
                        text = rest;
                    }
                    batch.lines.extend_from_slice(text);
                    batch.lines.push(b'\n');
                }
                Err(e) => batch
                    .undecodable
                    .push(format!("sequence number {}: {e}", r.sequence)),
            }
        }
        out.push(batch);
    }
    (out, dropped)
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
        let (batches, dropped) = kinesis_batches(&accepted, &state);
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
