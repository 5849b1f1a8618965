//! The map step over S3: objects → per-object tallies, read concurrently, streamed.
//!
//! Each object's body arrives as a bounded channel of chunks ([`ObjectBody`]); a blocking
//! thread runs the core's decoder over a [`ChannelReader`] (a `std::io::Read` fed by that
//! channel), so decompression and parsing never hold the object in memory and never block the
//! async runtime. Results are kept per object ([`Pending`]) until the state commit: after a
//! conflicting write the commit re-checks which ids another writer processed meanwhile and
//! re-applies only the rest, without reading anything again.

use crate::objects::{ObjectBody, ObjectRef, ObjectStore, StoreError};
use bytes::{Buf, Bytes};
use floodgate_core::config::Config;
use floodgate_core::engine::RunInput;
use floodgate_core::lateness::LateLines;
use floodgate_core::pipeline::{read_object_par, read_object_with};
use floodgate_core::reject::{Reject, RejectReason};
use floodgate_core::state::State;
use floodgate_core::tally::Tally;
use floodgate_core::FileSummary;
use floodgate_core::Format;
use std::io::{self, Read};
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Default largest log object read (AWS log objects are at most a few hundred MB).
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 2 << 30;

/// How to read a batch.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Objects read at once.
    pub concurrency: usize,
    /// Larger objects are reported (`complete: false`) and not read.
    pub max_object_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
        }
    }
}

/// One object read (or reported unread because of its size or absence).
#[derive(Clone, Debug)]
pub struct ReadObject {
    /// Processed-object id ([`ObjectRef::id`]).
    pub id: String,
    /// What the reader saw.
    pub summary: FileSummary,
    /// Its counts (empty when not read).
    pub tally: Tally,
}

/// An object that could not be read at all; it is not marked processed, so a retry reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadFailure {
    /// The object.
    pub object: ObjectRef,
    /// Why.
    pub error: String,
    /// The object is not the one named (another ETag or version, [`NotRead::Refused`]): a retry
    /// cannot help, so the Lambda refuses the notification instead of failing it.
    pub refused: bool,
}

/// Why [`read_one`] read nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotRead {
    /// A retry may help (permissions, network, the deadline): the object stays unprocessed.
    Failed(String),
    /// The object is not the one its notification named (its ETag or version differs, or the
    /// version does not exist): counting the current object would count it under an id that is
    /// not its own, so nothing is read, and retrying would meet the same object.
    Refused(String),
}

impl std::fmt::Display for NotRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotRead::Failed(why) | NotRead::Refused(why) => f.write_str(why),
        }
    }
}

/// Read results waiting to be committed.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    /// Objects read, sorted by id.
    pub read: Vec<ReadObject>,
    /// Ids skipped because the state already had them.
    pub skipped: Vec<String>,
    /// Objects that could not be read.
    pub failed: Vec<ReadFailure>,
}

impl Pending {
    /// Whether committing would change nothing (every object skipped or failed).
    pub fn is_empty(&self) -> bool {
        self.read.is_empty()
    }

    /// The run input against `state`: objects the state already has are moved to `skipped`
    /// (another writer processed them since they were read), the rest added in id order.
    pub fn to_input(&self, config: &Config, state: &State) -> RunInput {
        let mut input = RunInput::new(config, state);
        for id in &self.skipped {
            input.skip(id.clone());
        }
        for o in &self.read {
            if state.is_processed(&o.id) {
                input.skip(o.id.clone());
            } else {
                input.add(o.id.clone(), o.summary.clone(), o.tally.clone());
            }
        }
        input
    }
}

/// A `Read` over a channel of chunks. A transport error is remembered in `failed`, so the
/// caller can tell it from damage in the data (which the core reports as `complete: false`).
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    read: u64,
    limit: u64,
    /// The transport error that ended the stream, if any.
    pub failed: Option<String>,
}

impl ChannelReader {
    /// Read at most `limit` bytes from `rx`.
    pub fn new(rx: mpsc::Receiver<io::Result<Bytes>>, limit: u64) -> ChannelReader {
        ChannelReader {
            rx,
            current: Bytes::new(),
            read: 0,
            limit,
            failed: None,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => {
                    self.failed = Some(e.to_string());
                    return Err(e);
                }
            }
        }
        let n = buf.len().min(self.current.len());
        self.current.copy_to_slice(&mut buf[..n]);
        self.read += n as u64;
        if self.read > self.limit {
            let e = format!("object grew past the size limit of {} bytes", self.limit);
            self.failed = Some(e.clone());
            return Err(io::Error::other(e));
        }
        Ok(n)
    }
}

fn unread(id: String, path: String, why: String, config: &Config) -> ReadObject {
    ReadObject {
        id,
        summary: FileSummary::unread(path, why),
        tally: Tally::new(config, 0),
    }
}

/// Read one object: stream it through the core's decoder on a blocking thread, with
/// `threads` threads in all parsing it (a Lambda of 1,769 MB or more has two vCPUs, and a
/// batch of one big object would leave one idle).
///
/// `Ok` with `complete: false` for an object over `max_object_bytes` (not read) or gone
/// (deleted before it was read): retrying would not help, so they count as processed.
/// [`NotRead::Failed`] for anything a retry may fix (permissions, network): the object stays
/// unprocessed. [`NotRead::Refused`] when the object is not the version or ETag named: the
/// store reads exactly the identity named, and what it hands back is checked against it too.
pub async fn read_one<S: ObjectStore>(
    store: &S,
    config: Arc<Config>,
    late: LateLines,
    object: &ObjectRef,
    max_object_bytes: u64,
    threads: usize,
) -> Result<ReadObject, NotRead> {
    let mut id = object.id();
    let path = object.url();
    if let Some(size) = object.size.filter(|s| *s > max_object_bytes) {
        let why = format!("not read: {size} bytes is over the limit of {max_object_bytes}");
        return Ok(unread(id, path, why, &config));
    }
    let body: ObjectBody = match store.open(object).await {
        Ok(b) => b,
        Err(StoreError::NotFound(_)) => {
            let why = "not read: the object no longer exists".to_string();
            return Ok(unread(id, path, why, &config));
        }
        Err(e @ StoreError::Mismatch(_)) => return Err(NotRead::Refused(e.to_string())),
        Err(e) => return Err(NotRead::Failed(format!("{path}: {e}"))),
    };
    if let Some(why) = not_as_named(object, &body) {
        return Err(NotRead::Refused(format!(
            "{path}: not the object named: {why}"
        )));
    }
    if object.version_id.is_none() && object.etag.is_none() {
        // Listed or named without a version: the id is the one of the bytes actually read.
        let named = ObjectRef {
            version_id: body.version_id.clone(),
            etag: body.etag.clone(),
            ..object.clone()
        };
        id = named.id();
    }
    if let Some(size) = body.size.filter(|s| *s > max_object_bytes) {
        let why = format!("not read: {size} bytes is over the limit of {max_object_bytes}");
        return Ok(unread(id, path, why, &config));
    }
    let chunks = body.chunks;
    let task_path = path.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut reader = ChannelReader::new(chunks, max_object_bytes);
        let result = read_object_par(&config, &late, &task_path, &mut reader, threads);
        (result, reader.failed)
    })
    .await;
    match joined {
        Err(e) => Err(NotRead::Failed(format!(
            "{path}: reader thread failed: {e}"
        ))),
        Ok((_, Some(transport))) => {
            Err(NotRead::Failed(format!("{path}: read failed: {transport}")))
        }
        Ok((Err(e), None)) => Err(NotRead::Failed(e.to_string())),
        Ok((Ok((summary, tally)), None)) => Ok(ReadObject { id, summary, tally }),
    }
}

/// Why the body opened is not the object named (its ETag or version differs), if it is not:
/// a store that ignored the condition must not make the current object count under the id of
/// the one named.
fn not_as_named(object: &ObjectRef, body: &ObjectBody) -> Option<String> {
    fn named(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|v| !v.is_empty() && *v != "null")
    }
    if let (Some(want), Some(got)) = (named(&object.etag), named(&body.etag)) {
        if want != got {
            return Some(format!("ETag {got}, not {want}"));
        }
    }
    if let (Some(want), Some(got)) = (named(&object.version_id), named(&body.version_id)) {
        if want != got {
            return Some(format!("version {got}, not {want}"));
        }
    }
    None
}

/// Why an object was left for a retry when the invocation ran out of time.
pub const NOT_READ_IN_TIME: &str = "not read before the invocation's deadline; left for a retry";

/// Read `objects` (skipping those `state` already processed, before opening them) with
/// bounded concurrency. Never fails as a whole: unreadable objects land in `failed` (with
/// `refused` set for those that are not the object named).
///
/// With `until`, nothing is still being read at that instant: objects not finished by then are
/// `failed` with [`NOT_READ_IN_TIME`] (so the event source delivers them again) and what was read
/// can still be committed before the invocation's deadline.
pub async fn read_objects<S: ObjectStore>(
    store: &S,
    config: &Arc<Config>,
    state: &State,
    objects: &[ObjectRef],
    opts: &ReadOptions,
    until: Option<Instant>,
) -> Pending {
    let mut pending = Pending::default();
    let permits = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut seen = std::collections::BTreeSet::new();
    // Fewer objects than readers: the idle readers' cores parse beside the ones reading.
    let to_read = {
        let mut ids = std::collections::BTreeSet::new();
        objects
            .iter()
            .filter(|o| {
                let id = o.id();
                !state.is_processed(&id) && ids.insert(id)
            })
            .count()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (opts.concurrency.min(cores) / to_read.max(1)).max(1);
    for object in objects {
        let id = object.id();
        if state.is_processed(&id) || !seen.insert(id.clone()) {
            pending.skipped.push(id);
            continue;
        }
        let (store, config, object, permits) = (
            store.clone(),
            config.clone(),
            object.clone(),
            permits.clone(),
        );
        let (late, max) = (LateLines::of(&config, state), opts.max_object_bytes);
        tasks.spawn(async move {
            let read = async {
                let _permit = permits.acquire_owned().await;
                read_one(&store, config, late, &object, max, threads).await
            };
            let r = match until {
                None => read.await,
                Some(until) => tokio::time::timeout_at(until, read)
                    .await
                    .unwrap_or_else(|_| {
                        Err(NotRead::Failed(format!(
                            "{}: {NOT_READ_IN_TIME}",
                            object.url()
                        )))
                    }),
            };
            (object, r)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, Ok(read))) => pending.read.push(read),
            Ok((object, Err(not_read))) => pending.failed.push(ReadFailure {
                object,
                refused: matches!(not_read, NotRead::Refused(_)),
                error: not_read.to_string(),
            }),
            Err(e) => pending.failed.push(ReadFailure {
                object: ObjectRef::default(),
                error: format!("reader task failed: {e}"),
                refused: false,
            }),
        }
    }
    pending.read.sort_by(|a, b| a.id.cmp(&b.id));
    pending.read.dedup_by(|a, b| a.id == b.id);
    pending.skipped.sort();
    pending.failed.sort_by(|a, b| a.object.cmp(&b.object));
    pending
}

/// Records delivered by a stream (a CloudWatch Logs subscription, a Kinesis batch), read as one
/// object: the same parsers, tally and report entry as a log file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamBatch {
    /// Processed id (see `floodgate_core::state::streams`).
    pub id: String,
    /// Name in reports: `cloudwatch-logs://GROUP/STREAM` or `kinesis://STREAM/SHARD`.
    pub path: String,
    /// The format when the source fixes it; `None`: detected from the records.
    pub format: Option<Format>,
    /// The records, one per line.
    pub lines: Vec<u8>,
    /// Records that could not be decoded, with the reason (appended as rejected lines).
    pub undecodable: Vec<String>,
    /// Bytes as delivered (before base64 and gzip are undone).
    pub bytes_in: u64,
}

/// Read a streamed batch into a tally, as [`read_one`] reads an object.
pub fn read_batch(
    config: &Config,
    late: &LateLines,
    batch: &StreamBatch,
) -> Result<ReadObject, String> {
    let mut opts = config.source.clone();
    if batch.format.is_some() {
        opts.format = batch.format;
    }
    let (mut summary, tally) = read_object_with(config, &opts, late, &batch.path, &batch.lines[..])
        .map_err(|e| e.to_string())?;
    for why in &batch.undecodable {
        summary.lines += 1;
        let line = summary.lines;
        let reject = Reject::new(RejectReason::BadValue, why.clone());
        summary.rejected.record(&batch.path, line, reject, b"");
    }
    summary.bytes_in = batch.bytes_in;
    Ok(ReadObject {
        id: batch.id.clone(),
        summary,
        tally,
    })
}

/// Every object under `s3://bucket/prefix` (the CLI's `analyze s3://…`), in key order.
pub async fn list_objects<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<ObjectRef>, StoreError> {
    store.list(bucket, prefix).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(etag: Option<&str>, version: Option<&str>) -> ObjectBody {
        ObjectBody {
            size: None,
            etag: etag.map(str::to_string),
            version_id: version.map(str::to_string),
            chunks: mpsc::channel(1).1,
        }
    }

    #[test]
    fn a_body_that_is_not_the_object_named_is_caught_even_if_the_store_ignored_the_condition() {
        let mut named = ObjectRef::new("b", "k");
        named.etag = Some("e1".into());
        assert!(not_as_named(&named, &body(Some("e1"), Some("v1"))).is_none());
        assert!(not_as_named(&named, &body(Some("e2"), None))
            .unwrap()
            .contains("ETag e2, not e1"));
        named.version_id = Some("v1".into());
        assert!(not_as_named(&named, &body(Some("e1"), Some("v2")))
            .unwrap()
            .contains("version v2, not v1"));
        // "null" (an unversioned bucket) and unknown identities prove nothing either way.
        named.version_id = Some("null".into());
        assert!(not_as_named(&named, &body(Some("e1"), Some("v9"))).is_none());
        assert!(not_as_named(&ObjectRef::new("b", "k"), &body(Some("e9"), None)).is_none());
    }
}
