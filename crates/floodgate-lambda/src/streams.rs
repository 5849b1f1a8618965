//! Streamed records: a CloudWatch Logs delivery or a Kinesis batch becomes [`StreamBatch`]es,
//! read like log objects and committed the same way, so a ban lands in the invocation that
//! carried the offending requests.
//!
//! **Formats.** A subscription payload holds the records of one log group, so its format is
//! detected per payload ([`payload_format`]), never once per batch: WAF and CloudFront v2 JSON
//! payloads sharing a stream are each read in their own format. A Kinesis shard's records make
//! one batch per format (real-time records, WAF payloads, CloudFront JSON payloads, payloads of
//! no known format), all committed together.
//!
//! **Exactly once.** A CloudWatch Logs payload already processed is skipped whole. A Kinesis
//! batch's id names the range of sequence numbers of its shard that its commit dealt with
//! (`floodgate_core::state::streams::kinesis_id`); a record inside a committed range was
//! counted and is dropped ([`covered`]); any other record is read, however many later records
//! were committed. So a retry from a failed sequence number, its bisected halves, or a replay of
//! a batch Lambda gave up on (sent to the failure destination) each count every record once.
//! The range committed is always a prefix of what was delivered: records are read in order,
//! and those not read (the deadline) are reported as failures from the first one.

use crate::events::streams::{is_logs_payload, logs_payload};
use crate::events::{KinesisRecord, LogsBatch};
use crate::handler::{App, HandlerError};
use floodgate_aws::ipsets::IpSetApi;
use floodgate_aws::read::{read_batch, Pending, StreamBatch};
use floodgate_aws::state_store::Version;
use floodgate_aws::ObjectStore;
use floodgate_core::formats::{self, cloudfront_realtime};
use floodgate_core::state::streams::{kinesis_id, kinesis_ranges, payload_id, seq_cmp};
use floodgate_core::state::State;
use floodgate_core::Format;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::time::Instant;
use tracing::{info, warn};

/// The format of a subscription payload: that of its first record any format recognises
/// (`None`: none does, and its records are rejected as `unknown_format`).
pub fn payload_format(b: &LogsBatch) -> Option<Format> {
    b.log_events
        .iter()
        .find_map(|e| formats::detect(e.message.trim()))
        .map(|f| f.format())
}

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
        format: payload_format(b),
        ..StreamBatch::default()
    };
    push_events(&mut batch, b);
    batch.bytes_in = batch.lines.len() as u64;
    batch
}

/// Append a delivery's messages to `batch`, one line each.
fn push_events(batch: &mut StreamBatch, b: &LogsBatch) {
    for e in &b.log_events {
        push_line(batch, e.message.as_bytes());
    }
}

/// Append one record to `batch` as one line.
fn push_line(batch: &mut StreamBatch, mut text: &[u8]) {
    while let [rest @ .., b'\n' | b'\r'] = text {
        text = rest;
    }
    batch.lines.extend_from_slice(text);
    batch.lines.push(b'\n');
}

/// Whether `seq` lies in one of `ranges` (so its record was dealt with by a commit).
pub fn covered(ranges: &[(&str, &str)], seq: &str) -> bool {
    ranges.iter().any(|(first, last)| {
        seq_cmp(first, seq) != Ordering::Greater && seq_cmp(seq, last) != Ordering::Greater
    })
}

/// The records of one shard read so far, by format.
struct ShardRead {
    /// `(format, first and last sequence number, batch)`, in order of first appearance.
    segments: Vec<(Option<Format>, String, String, StreamBatch)>,
    /// The first and last sequence numbers read at all (control messages and refused payloads
    /// included, so a redelivery does not refuse them twice).
    span: Option<(String, String)>,
}

impl ShardRead {
    /// The batch of `format`, begun at `seq` if new; `seq` becomes its last record.
    fn segment(&mut self, format: Option<Format>, seq: &str) -> &mut StreamBatch {
        let at = match self.segments.iter().position(|s| s.0 == format) {
            Some(at) => at,
            None => {
                let b = StreamBatch {
                    format,
                    ..StreamBatch::default()
                };
                self.segments
                    .push((format, seq.to_string(), String::new(), b));
                self.segments.len() - 1
            }
        };
        let segment = &mut self.segments[at];
        segment.2 = seq.to_string();
        &mut segment.3
    }

    /// The batches, ids and paths set. The batch holding the shard's first record read names
    /// the whole span read (the others their own records), so every record read is covered and
    /// no two ids are equal.
    fn into_batches(self, stream: &str, shard: &str) -> Vec<StreamBatch> {
        let Some((first, last)) = self.span else {
            return Vec::new();
        };
        let main = self.segments.iter().position(|s| s.1 == first).unwrap_or(0);
        let mut out = Vec::new();
        for (i, (_, from, to, mut b)) in self.segments.into_iter().enumerate() {
            let (from, to) = if i == main {
                (&first, &last)
            } else {
                (&from, &to)
            };
            b.id = kinesis_id(stream, shard, from, to);
            b.path = format!("kinesis://{stream}/{shard}");
            out.push(b);
        }
        out
    }
}

/// The batches of a Kinesis event (see [`kinesis_batches_until`]), with all the time needed.
pub fn kinesis_batches(
    records: &[KinesisRecord],
    state: &State,
    refuses_group: impl Fn(&str) -> Option<String>,
) -> KinesisBatches {
    kinesis_batches_until(records, state, refuses_group, || false)
}

/// The batches of a Kinesis event, shards in the order first seen, each shard's records in the
/// order delivered: records a committed batch covered are dropped, the rest read into one batch
/// per format (module docs). `refuses_group` names a log group not to read; `out_of_time` is
/// asked before each record is read: once it answers yes, that record and every later one are
/// left unread, and the first unread of each shard is named in [`KinesisBatches::unread`].
pub fn kinesis_batches_until(
    records: &[KinesisRecord],
    state: &State,
    refuses_group: impl Fn(&str) -> Option<String>,
    mut out_of_time: impl FnMut() -> bool,
) -> KinesisBatches {
    let mut shards: Vec<(&str, &str)> = Vec::new();
    for r in records {
        if !shards.contains(&(r.stream_name(), r.shard.as_str())) {
            shards.push((r.stream_name(), r.shard.as_str()));
        }
    }
    let mut out = KinesisBatches::default();
    let mut stopped = false;
    for (stream, shard) in shards {
        let ranges = kinesis_ranges(state, stream, shard);
        let mut read = ShardRead {
            segments: Vec::new(),
            span: None,
        };
        let mut unread: Option<&str> = None;
        for r in records
            .iter()
            .filter(|r| r.stream_name() == stream && r.shard == shard)
        {
            if covered(&ranges, &r.sequence) {
                out.dropped += 1;
                continue;
            }
            stopped = stopped || out_of_time();
            if stopped {
                if unread.is_none_or(|u| seq_cmp(&r.sequence, u) == Ordering::Less) {
                    unread = Some(&r.sequence);
                }
                continue;
            }
            let seq = r.sequence.as_str();
            match &mut read.span {
                Some((_, last)) => *last = seq.to_string(),
                None => read.span = Some((seq.to_string(), seq.to_string())),
            }
            read_record(&mut read, r, &refuses_group, &mut out.refused);
        }
        out.unread.extend(unread.map(str::to_string));
        out.batches.extend(read.into_batches(stream, shard));
    }
    out
}

/// Read one Kinesis record into its shard's batch of the right format.
fn read_record(
    read: &mut ShardRead,
    r: &KinesisRecord,
    refuses_group: &impl Fn(&str) -> Option<String>,
    refused: &mut Vec<String>,
) {
    let seq = r.sequence.as_str();
    let undecodable = |e: &str| format!("sequence number {seq}: {e}");
    let realtime = Some(cloudfront_realtime::FORMAT);
    let data = match &r.data {
        Ok(data) => data,
        Err(e) => return read.segment(realtime, seq).undecodable.push(undecodable(e)),
    };
    if !is_logs_payload(data) {
        let b = read.segment(realtime, seq);
        b.bytes_in += data.len() as u64;
        return push_line(b, data);
    }
    match logs_payload(data) {
        Ok(Some(delivery)) => match refuses_group(&delivery.log_group) {
            None => {
                let b = read.segment(payload_format(&delivery), seq);
                b.bytes_in += data.len() as u64;
                push_events(b, &delivery);
            }
            Some(why) => refused.push(why),
        },
        Ok(None) => {} // a control message: no log
        Err(e) => {
            let b = read.segment(None, seq);
            b.bytes_in += data.len() as u64;
            b.undecodable.push(undecodable(&e));
        }
    }
}

/// What [`kinesis_batches`] makes of a Kinesis event.
#[derive(Debug, Default)]
pub struct KinesisBatches {
    /// One per shard and format (see [`kinesis_batches_until`]).
    pub batches: Vec<StreamBatch>,
    /// Records a committed batch covered: counted before.
    pub dropped: usize,
    /// Why CloudWatch Logs payloads were not read (their log group is not configured).
    pub refused: Vec<String>,
    /// The first sequence number of each shard not read for lack of time: Lambda retries from
    /// there (the batch item failures).
    pub unread: Vec<String>,
}

/// Whether the invocation's reading time is over.
fn past(until: Option<tokio::time::Instant>) -> bool {
    until.is_some_and(|u| tokio::time::Instant::now() >= u)
}

impl<S: ObjectStore, W: IpSetApi + Clone + 'static> App<S, W> {
    /// Read stream batches against `state` and commit them.
    async fn commit_batches(
        &self,
        loaded: (State, Version),
        batches: Vec<StreamBatch>,
        request_id: &str,
        start: Instant,
    ) -> Result<(), HandlerError> {
        let mut pending = Pending::default();
        let config = self.reading_config();
        let state = &loaded.0;
        let late = floodgate_core::lateness::LateLines::of(&config, state);
        for b in batches {
            if state.is_processed(&b.id) {
                pending.skipped.push(b.id);
                continue;
            }
            let read = read_batch(&config, &late, &b).map_err(HandlerError::Config)?;
            pending.read.push(read);
        }
        pending.read.sort_by(|a, b| a.id.cmp(&b.id));
        self.commit(loaded, &pending, request_id, start).await
    }

    /// A CloudWatch Logs delivery (invoked asynchronously: the response is not read; an error
    /// makes Lambda retry the same payload). A payload is read whole or not at all: past the
    /// deadline `until` the invocation fails, counting nothing, so the retry reads it.
    pub(crate) async fn logs(
        &self,
        batch: LogsBatch,
        request_id: &str,
        until: Option<tokio::time::Instant>,
    ) -> Result<Value, HandlerError> {
        let start = Instant::now();
        if let Some(why) = self.settings.refuses_log_group(&batch.log_group) {
            self.refused(&[why]);
            return Ok(json!({ "refused": 1 }));
        }
        let b = logs_batch(&batch);
        let id = b.id.clone();
        let loaded = self.load_for_reading(false).await?;
        if past(until) {
            return Err(HandlerError::OutOfTime(format!(
                "CloudWatch Logs payload {id} not read before the invocation's deadline; \
                 left for Lambda's retry"
            )));
        }
        self.commit_batches(loaded, vec![b], request_id, start)
            .await?;
        Ok(json!({ "batch": id, "events": batch.log_events.len() }))
    }

    /// A Kinesis batch. Records are counted when the commit succeeds; a failed commit fails
    /// the invocation and Lambda retries the batch (records a commit covered are dropped).
    /// Records not read before the deadline `until` are reported as batch item failures from
    /// the first one, after what was read is committed.
    pub(crate) async fn kinesis(
        &self,
        records: Vec<KinesisRecord>,
        request_id: &str,
        until: Option<tokio::time::Instant>,
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
        // With partials too: the shard's committed ranges drop records counted before.
        let (state, version) = self.load_for_reading(true).await?;
        let KinesisBatches {
            batches,
            dropped,
            refused,
            unread,
        } = kinesis_batches_until(
            &accepted,
            &state,
            |g| self.settings.refuses_log_group(g),
            || past(until),
        );
        self.refused(&refused);
        if dropped > 0 {
            info!(
                records = dropped,
                message = "Kinesis records inside a range committed before: counted before"
            );
        }
        if !unread.is_empty() {
            warn!(
                from = ?unread,
                message = "Kinesis records not read before the invocation's deadline: \
                           reported as batch item failures, Lambda retries from there"
            );
        }
        if !batches.is_empty() {
            self.commit_batches((state, version), batches, request_id, start)
                .await?;
        } else if unread.is_empty() && self.partials().is_none() {
            // (With partials `state` is the streams head, not the state: the reducer syncs.)
            self.reconcile(&state, start).await;
        }
        let failures: Vec<Value> = unread
            .iter()
            .map(|seq| json!({ "itemIdentifier": seq }))
            .collect();
        Ok(json!({ "batchItemFailures": failures }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn record(seq: u64, data: Vec<u8>) -> KinesisRecord {
        KinesisRecord {
            stream_arn: "arn:aws:kinesis:us-east-1:1:stream/st".into(),
            shard: "shardId-000000000000".into(),
            sequence: format!("4959{seq:052}"),
            data: Ok(data),
        }
    }

    /// A subscription payload of `group` as it sits in a Kinesis record (gzip'd JSON).
    fn payload(kind: &str, group: &str, messages: &[&str]) -> Vec<u8> {
        let events: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"id": i.to_string(), "timestamp": 1, "message": m}))
            .collect();
        let p = json!({"messageType": kind, "owner": "1", "logGroup": group,
                       "logStream": "s", "subscriptionFilters": [], "logEvents": events});
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(p.to_string().as_bytes()).unwrap();
        gz.finish().unwrap()
    }

    fn lines(b: &StreamBatch) -> usize {
        b.lines.iter().filter(|c| **c == b'\n').count()
    }

    fn commit(state: &mut State, out: &KinesisBatches) {
        for b in &out.batches {
            state.processed.insert(b.id.clone(), 0);
        }
    }

    #[test]
    fn a_batch_cut_by_the_deadline_commits_a_prefix_and_the_retry_reads_exactly_the_rest() {
        let records: Vec<KinesisRecord> = (1..=10)
            .map(|i| record(i, format!("line {i}\n").into_bytes()))
            .collect();
        let mut asked = 0;
        let out = kinesis_batches_until(
            &records,
            &State::default(),
            |_| None,
            || {
                asked += 1;
                asked > 4
            },
        );
        assert_eq!(out.unread, vec![records[4].sequence.clone()]);
        assert_eq!(out.batches.len(), 1);
        assert_eq!(lines(&out.batches[0]), 4, "records 1-4, nothing after");
        let mut state = State::default();
        commit(&mut state, &out);

        // Lambda retries from the first record reported: exactly the rest is read.
        let retry = kinesis_batches(&records[4..], &state, |_| None);
        assert_eq!((retry.dropped, retry.unread.len()), (0, 0));
        assert_eq!(lines(&retry.batches[0]), 6);
        commit(&mut state, &retry);
        // Any redelivery of any part afterwards reads nothing.
        let again = kinesis_batches(&records, &state, |_| None);
        assert!(again.batches.is_empty());
        assert_eq!(again.dropped, 10);
    }

    #[test]
    fn each_payload_is_read_in_its_own_format_and_every_record_read_is_covered() {
        let waf = r#"{"timestamp":1,"httpRequest":{"clientIp":"192.0.2.1"}}"#;
        let cloudfront = r#"{"timestamp(ms)":"1","c-ip":"192.0.2.2","cs-uri-stem":"/"}"#;
        let records = vec![
            record(1, payload("CONTROL_MESSAGE", "", &["CWL CONTROL MESSAGE"])),
            record(2, payload("DATA_MESSAGE", "cf", &[cloudfront, cloudfront])),
            record(3, b"realtime line\n".to_vec()),
            record(4, payload("DATA_MESSAGE", "waf", &["", waf])),
            record(5, payload("DATA_MESSAGE", "cf", &[cloudfront])),
            record(6, payload("DATA_MESSAGE", "junk", &["hello"])),
            record(7, payload("DATA_MESSAGE", "foreign", &[waf])),
        ];
        let refuse = |g: &str| (g == "foreign").then(|| format!("{g} refused"));
        let out = kinesis_batches(&records, &State::default(), refuse);
        let formats: Vec<(Option<&str>, usize)> = out
            .batches
            .iter()
            .map(|b| (b.format.map(Format::as_str), lines(b)))
            .collect();
        assert_eq!(
            formats,
            [
                (Some("cloudfront-json"), 3),
                (Some("cloudfront-realtime"), 1),
                (Some("waf"), 2),
                (None, 1)
            ]
        );
        assert_eq!(out.refused, ["foreign refused"]);
        let mut ids: Vec<&str> = out.batches.iter().map(|b| b.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "distinct ids");
        // The first batch names the whole span read, control message and refusal included.
        let (first, last) = (&records[0].sequence, &records[6].sequence);
        assert!(out.batches[0].id.ends_with(&format!("#{first}-{last}")));
        let mut state = State::default();
        commit(&mut state, &out);
        let again = kinesis_batches(&records, &state, refuse);
        assert!(again.batches.is_empty() && again.refused.is_empty());
        assert_eq!(again.dropped, records.len());
    }
}
