//! How far concurrent invocations scale on one state object: the real handler (`App`, the
//! same code `bootstrap` runs) over in-memory S3 and WAF with S3's latencies injected, `K`
//! invocations at once draining a queue of SQS batches of log objects.
//!
//! `cargo run --release -p floodgate-lambda --example scale_out -- DIR NOW_MS K...`
//!
//! reads every `*.gz` under `DIR` (e.g. a loggen botnet hour), cut into objects of ~4 MB
//! uncompressed, into the store and, for each
//! `K`, processes all of them from an empty state with `K` concurrent invocations of 10
//! objects each, printing one JSON line per `K` (among the handler's EMF lines on stdout):
//! wall seconds, objects, compressed and decompressed MB/s, state writes and state write
//! conflicts, and whether the IP sets ended equal to the final state's blocklist.
//!
//! With `ARRIVALS_PER_S=R` the batches arrive at `R` objects a second instead of all at once
//! (log volume as an attack delivers it), and the line adds the time from a batch's arrival
//! to the end of the invocation that read it, IP sets written (p50, p95, max): the time to
//! block that floodgate adds under that load, S3 delivery and WAF propagation not included.
//! `SOURCE=cloudwatch-logs` feeds the same records as CloudWatch Logs subscription events of
//! ~1 MB of WAF records each (one invocation per event, as the subscription invokes), instead
//! of S3 objects through SQS; `ARRIVALS_PER_S` then counts events.
//! `SOURCE=cloudwatch-logs-kinesis` puts the same payloads into a Kinesis stream instead (a
//! subscription filter whose destination is a stream), one payload per record and up to ~5 MB
//! of records per invocation (Lambda's 6 MB payload limit), `K` shards each read by one
//! invocation at a time (parallelization factor 1, as floodgate requires); `ARRIVALS_PER_S`
//! counts payloads.
//! `PARTIALS=1` sets `FLOODGATE_PARTIALS_PREFIX`: the `K` invocations only read and write
//! partials, and two reducer invocations (an SQS event source's least concurrency), fed by the
//! partials' S3 notifications as they are written, commit them; a batch's time to block then
//! runs from its arrival to the end of the reducer invocation that merged its partial.
//! `MODEL_READS=1` (with `PARTIALS=1`, `SOURCE=s3-sqs` or `cloudwatch-logs`) gives each
//! reading invocation its own vCPU, as Lambda does: every invocation is first run alone and
//! timed, and in the measured run it waits that long and then writes the partial it wrote
//! alone; the reducers run for real. On a machine with fewer cores than `K` this is how `K`
//! invocations' throughput can be measured at all.
//! `PRELOAD_STATE=FILE` starts every run from that state (e.g. the state `floodgate analyze`
//! left after the whole botnet hour) instead of an empty one, so each commit pays for a state
//! of the attack's size from the first batch; `lost` then subtracts what it had counted.
//! `SETTLE=1` runs one scheduled invocation after the last batch before the sets are compared
//! (what the 5-minute schedule does), printing its sync report to stderr.
//!
//! What it models and what it does not: S3 GETs wait `20 ms + size / 90 MB/s`, state reads
//! the same, state PUTs `40 ms + size / 60 MB/s` (typical same-Region figures, not measured
//! here); IP set writes are not delayed or paced (an invocation writes each changed set once;
//! WAF's ~1 write/s caps how often bans change, not how many logs are counted). Invocations
//! share this machine's cores, whereas each Lambda invocation has its own vCPU, so `K` above
//! the core count measures the commit path (state decode, apply, encode, conditional write,
//! conflicts), not parsing capacity; the single-invocation line is the per-vCPU parse rate.

use floodgate_aws::memory::{MemoryIpSets, MemoryStore};
use floodgate_aws::objects::{
    ObjectBody, ObjectRef, ObjectStore, PutCondition, SmallObject, StoreError,
};
use floodgate_aws::RetryPolicy;
use floodgate_core::config::Config;
use floodgate_lambda::{App, Settings};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONFIG: &str =
    "[[rules]]\nname = \"flood\"\nwindow = \"5m\"\nlimit = 50\n[ban]\nmax_entries = 50000\n";
const BATCH: usize = 10;
/// `FLOODGATE_PARTIALS_PREFIX` with `PARTIALS=1`.
const PARTIALS: &str = "partials/";
/// Invocation inputs waiting, each with the time its first record arrived.
type Queue = Arc<Mutex<VecDeque<(Instant, Value)>>>;
/// Plain bytes per object (~4 MB, a busy Firehose delivery).
const PART: usize = 4 << 20;
/// Plain bytes of WAF records per CloudWatch Logs subscription event (~1 MB: its compressed,
/// base64'd payload stays under the 256 KB of an asynchronous invocation).
const CWL_PART: usize = 1 << 20;
/// Base64'd record bytes per Kinesis invocation: under Lambda's 6 MB synchronous payload.
const KINESIS_EVENT_BYTES: usize = 5 << 20;

/// S3 with latency: first byte after `base`, then the object's bytes at `rate` bytes/s.
#[derive(Clone)]
struct Slow {
    inner: MemoryStore,
    puts: Arc<AtomicU64>,
    conflicts: Arc<AtomicU64>,
    /// Partials written and not merged yet, with the arrival of the batch they hold.
    partials: Arc<Mutex<Vec<(String, Instant)>>>,
    /// Reducer notifications waiting (the partials' S3 events through their queue).
    reduce: Queue,
}

tokio::task_local! {
    /// The arrival of the batch the current invocation reads.
    static ARRIVAL: Instant;
}

fn delay(base_ms: u64, bytes: usize, mb_per_s: f64) -> Duration {
    Duration::from_millis(base_ms) + Duration::from_secs_f64(bytes as f64 / (mb_per_s * 1e6))
}

impl ObjectStore for Slow {
    async fn open(&self, object: &ObjectRef) -> Result<ObjectBody, StoreError> {
        let size = self
            .inner
            .bytes(&object.bucket, &object.key)
            .map_or(0, |b| b.len());
        tokio::time::sleep(delay(20, size, 90.0)).await;
        self.inner.open(object).await
    }
    async fn get(&self, bucket: &str, key: &str) -> Result<SmallObject, StoreError> {
        let size = self.inner.bytes(bucket, key).map_or(0, |b| b.len());
        tokio::time::sleep(delay(20, size, 90.0)).await;
        self.inner.get(bucket, key).await
    }
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<Option<String>, StoreError> {
        tokio::time::sleep(delay(40, bytes.len(), 60.0)).await;
        let state = key.ends_with(".state");
        let r = self
            .inner
            .put(bucket, key, bytes, content_type, condition)
            .await;
        if r.is_ok() && key.starts_with(PARTIALS) {
            let arrived = ARRIVAL.try_with(|a| *a).unwrap_or_else(|_| Instant::now());
            self.partials
                .lock()
                .unwrap()
                .push((key.to_string(), arrived));
            let event = s3_created(bucket, key, "e", 1);
            self.reduce.lock().unwrap().push_back((arrived, event));
        }
        if state {
            self.puts.fetch_add(1, Ordering::Relaxed);
            if matches!(r, Err(StoreError::Conflict(_))) {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
            }
        }
        r
    }
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectRef>, StoreError> {
        tokio::time::sleep(delay(20, 0, 90.0)).await;
        self.inner.list(bucket, prefix).await
    }
    async fn delete(&self, bucket: &str, keys: &[String]) -> Result<(), StoreError> {
        tokio::time::sleep(delay(20, 0, 90.0)).await;
        self.inner.delete(bucket, keys).await
    }
}

fn settings() -> Settings {
    let partials = std::env::var_os("PARTIALS").is_some();
    let env = [
        (
            "FLOODGATE_PARTIALS_PREFIX",
            if partials { PARTIALS } else { "" },
        ),
        ("FLOODGATE_STATE_BUCKET", "state"),
        ("FLOODGATE_STATE_KEY", "floodgate.state"),
        ("FLOODGATE_IPV4_SET", "v4a:a4,v4b:b4,v4c:c4,v4d:d4,v4e:e4"),
        ("FLOODGATE_IPV6_SET", "v6a:a6,v6b:b6,v6c:c6,v6d:d6,v6e:e6"),
        ("FLOODGATE_SCOPE", "REGIONAL"),
        ("FLOODGATE_CONFIG_TOML", CONFIG),
        ("FLOODGATE_REPORT_INTERVAL", "60s"),
        // Refusals fail closed: the sources this run feeds, named as the stack names them.
        ("FLOODGATE_LOG_BUCKETS", "logs"),
        ("FLOODGATE_LOG_PREFIXES", "*"),
        ("FLOODGATE_LOG_GROUPS", "aws-waf-logs-floodgate"),
        (
            "FLOODGATE_STREAM_ARNS",
            "arn:aws:kinesis:us-east-1:123456789012:stream/waf-logs",
        ),
    ];
    Settings::from_lookup(|k| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .expect("valid settings")
}

/// The S3 notification of one created object.
fn s3_created(bucket: &str, key: &str, etag: &str, size: usize) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-02T09:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:X"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "I"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "P"},
                          "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": size, "eTag": etag, "sequencer": "0A"}}}]})
}

fn sqs(objects: &[(String, String, usize)]) -> Value {
    let records: Vec<Value> = objects
        .iter()
        .enumerate()
        .map(|(i, (key, etag, size))| {
            let s3 = s3_created("logs", key, etag, *size);
            json!({"messageId": format!("m{i}"), "receiptHandle": "r", "body": s3.to_string(),
                   "eventSource": "aws:sqs", "awsRegion": "us-east-1", "attributes": {}})
        })
        .collect();
    json!({ "Records": records })
}

/// A Kinesis event of one shard's records (sequence numbers from `first`), each record the
/// gzip'd subscription payload a subscription filter puts into a stream.
fn kinesis(shard: usize, first: usize, records: &[&Vec<u8>]) -> Value {
    use base64::Engine;
    let recs: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let seq = format!("4959{:052}", first + i);
            json!({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p",
                    "sequenceNumber": seq,
                    "data": base64::engine::general_purpose::STANDARD.encode(data),
                    "approximateArrivalTimestamp": 1.7936136e9},
                   "eventSource": "aws:kinesis", "eventVersion": "1.0",
                   "eventID": format!("shardId-{shard:012}:{seq}"),
                   "eventName": "aws:kinesis:record", "awsRegion": "us-east-1",
                   "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/waf-logs"})
        })
        .collect();
    json!({ "Records": recs })
}

/// A CloudWatch Logs subscription event (a WAF log group) carrying `lines` as log events,
/// with ids unique across the run.
fn awslogs(lines: &[u8], n: usize) -> Value {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(logs_payload(lines, n));
    json!({"awslogs": {"data": data}})
}

/// The gzip'd subscription payload of [`awslogs`].
fn logs_payload(lines: &[u8], n: usize) -> Vec<u8> {
    let events: Vec<Value> = lines
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, m)| {
            json!({"id": format!("{n:028}{i:028}"), "timestamp": 1_793_610_000_000i64,
                   "message": String::from_utf8_lossy(m)})
        })
        .collect();
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012",
        "logGroup": "aws-waf-logs-floodgate", "logStream": format!("us-east-1_acl_{n}"),
        "subscriptionFilters": ["floodgate"], "logEvents": events});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(payload.to_string().as_bytes())
        .expect("in memory");
    gz.finish().expect("in memory")
}

/// The handler as each simulated invocation runs it: the run's clock, patient state retries,
/// IP set writes not paced.
fn app_of(store: &Slow, waf: &MemoryIpSets, config: &Config, now: i64) -> App<Slow, MemoryIpSets> {
    let mut app = App::new(settings(), config.clone(), store.clone(), waf.clone());
    app.clock = Arc::new(move || now);
    app.state_retry = RetryPolicy {
        attempts: 50,
        base: Duration::from_millis(5),
        max: Duration::from_millis(200),
    };
    app.waf_write_interval = Duration::ZERO;
    app
}

/// What one reading invocation did alone: how long it took, the partials it wrote.
type Modelled = (Duration, Vec<(String, Vec<u8>)>);

/// Run each invocation of `pending` alone, one after another, against `store`'s log objects:
/// its duration and the partials it wrote (removed again), keyed by the event.
async fn time_alone(
    store: &Slow,
    config: &Config,
    now: i64,
    pending: &[Value],
) -> std::collections::HashMap<String, Modelled> {
    let scratch = Slow {
        inner: store.inner.clone(),
        puts: Arc::default(),
        conflicts: Arc::default(),
        partials: Arc::default(),
        reduce: Arc::default(),
    };
    let mut app = App::new(
        settings(),
        config.clone(),
        scratch.clone(),
        MemoryIpSets::new(),
    );
    app.clock = Arc::new(move || now);
    let mut out = std::collections::HashMap::new();
    for (i, event) in pending.iter().enumerate() {
        let t = Instant::now();
        app.handle(event.clone(), &format!("alone-{i}"))
            .await
            .expect("the invocation succeeds");
        let took = t.elapsed();
        let keys: Vec<String> = scratch
            .partials
            .lock()
            .unwrap()
            .drain(..)
            .map(|p| p.0)
            .collect();
        let parts = keys
            .iter()
            .map(|k| (k.clone(), scratch.inner.bytes("state", k).expect("written")))
            .collect();
        scratch
            .inner
            .delete("state", &keys)
            .await
            .expect("in memory");
        out.insert(event.to_string(), (took, parts));
    }
    eprintln!(
        "timed {} invocations alone: {:.1} s in all",
        out.len(),
        out.values().map(|m| m.0.as_secs_f64()).sum::<f64>()
    );
    out
}

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable corpus folder") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "gz") {
            out.push(p);
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, now, ks @ ..] = args.as_slice() else {
        eprintln!("usage: scale_out DIR NOW_MS K...");
        std::process::exit(2);
    };
    if std::env::var_os("RUST_LOG").is_some() {
        floodgate_lambda::init_logging();
    }
    let now: i64 = now.parse().expect("NOW_MS is milliseconds since the epoch");
    let mut paths = Vec::new();
    files(std::path::Path::new(dir), &mut paths);
    paths.sort();
    // Each file is cut at line ends into objects of ~PART plain bytes, gzip'd again, the way
    // Firehose delivers many small objects rather than one per five minutes.
    let source = std::env::var("SOURCE").unwrap_or_else(|_| "s3-sqs".into());
    let kinesis_mode = source == "cloudwatch-logs-kinesis";
    let cwl = kinesis_mode || source == "cloudwatch-logs";
    assert!(
        cwl || source == "s3-sqs",
        "SOURCE {source:?}: s3-sqs, cloudwatch-logs or cloudwatch-logs-kinesis"
    );
    let part = if cwl { CWL_PART } else { PART };
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut blobs: Vec<(String, Vec<u8>, u64)> = Vec::new();
    let mut payloads: Vec<Value> = Vec::new();
    for p in &paths {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(p).expect("readable object"))
            .read_to_end(&mut text)
            .expect("gzip");
        let name = p.strip_prefix(dir).unwrap().display().to_string();
        let mut rest = &text[..];
        while !rest.is_empty() {
            let cut = if rest.len() <= part {
                rest.len()
            } else {
                rest[part..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(rest.len(), |i| part + i + 1)
            };
            if kinesis_mode {
                let record = logs_payload(&rest[..cut], records.len());
                blobs.push((String::new(), record.clone(), cut as u64));
                records.push(record);
                rest = &rest[cut..];
                continue;
            }
            if cwl {
                let event = awslogs(&rest[..cut], payloads.len());
                blobs.push((String::new(), event.to_string().into_bytes(), cut as u64));
                payloads.push(event);
                rest = &rest[cut..];
                continue;
            }
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&rest[..cut]).expect("in memory");
            let key = format!("AWSLogs/{name}.part{:04}.gz", blobs.len());
            blobs.push((key, gz.finish().expect("in memory"), cut as u64));
            rest = &rest[cut..];
        }
    }
    let gz: usize = blobs.iter().map(|b| b.1.len()).sum();
    let mut lines_in: u64 = 0;
    for p in &paths {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(p).expect("readable object"))
            .read_to_end(&mut text)
            .expect("gzip");
        lines_in += text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
            .count() as u64;
    }
    let plain: u64 = blobs.iter().map(|b| b.2).sum();
    let config = Config::from_toml(CONFIG).expect("valid config");
    let rate: Option<f64> = std::env::var("ARRIVALS_PER_S")
        .ok()
        .map(|r| r.parse().expect("ARRIVALS_PER_S is objects per second"));
    let model_reads = std::env::var_os("MODEL_READS").is_some();
    assert!(
        !model_reads || (std::env::var_os("PARTIALS").is_some() && !kinesis_mode),
        "MODEL_READS needs PARTIALS=1 and SOURCE=s3-sqs or cloudwatch-logs"
    );
    // Per invocation input: how long it took alone and the partials it wrote.
    let mut model: Arc<std::collections::HashMap<String, Modelled>> = Arc::default();
    for k in ks {
        let k: usize = k.parse().expect("K is a number");
        let store = Slow {
            inner: MemoryStore::new(),
            puts: Arc::default(),
            conflicts: Arc::default(),
            partials: Arc::default(),
            reduce: Arc::default(),
        };
        let partials_mode = std::env::var_os("PARTIALS").is_some();
        let preloaded: u64 = match std::env::var_os("PRELOAD_STATE") {
            Some(path) => {
                let bytes = std::fs::read(path).expect("PRELOAD_STATE is a state file");
                let st = floodgate_core::state::State::load(&bytes).expect("a state");
                store.inner.insert("state", "floodgate.state", bytes);
                st.per_minute.values().sum()
            }
            None => 0,
        };
        let waf = MemoryIpSets::new();
        for id in ["a4", "b4", "c4", "d4", "e4", "a6", "b6", "c6", "d6", "e6"] {
            waf.create(id, &[]);
        }
        // One unit per invocation: an SQS batch of 10 objects, or one subscription event.
        let mut pending: Vec<Value> = Vec::new();
        let mut batch = Vec::new();
        for (key, bytes, _) in blobs.iter().filter(|_| !cwl) {
            let etag = store.inner.insert("logs", key, bytes.clone());
            batch.push((key.clone(), etag, bytes.len()));
            if batch.len() == BATCH {
                pending.push(sqs(&std::mem::take(&mut batch)));
            }
        }
        if !batch.is_empty() {
            pending.push(sqs(&batch));
        }
        // Which queue each unit goes to: one shared queue, or one per Kinesis shard (a shard is
        // read by one invocation at a time, in order).
        let mut shard_of: Vec<usize> = Vec::new();
        let mut units: Vec<usize> = Vec::new();
        // Per Kinesis event, the global arrival index of its first and last record (records
        // arrive one after another at R a second, dealt round-robin to the shards).
        let mut span: Vec<(usize, usize)> = Vec::new();
        if kinesis_mode {
            // Payloads go round-robin to K shards; each shard's records are cut into events.
            for shard in 0..k {
                let mine: Vec<&Vec<u8>> = records.iter().skip(shard).step_by(k).collect();
                let mut from = 0;
                while from < mine.len() {
                    let mut to = from;
                    let mut size = 0;
                    // Lambda's batching window (1 s) closes a batch of a paced stream first: a
                    // shard receives R / K records a second.
                    let window =
                        rate.map_or(usize::MAX, |r| ((r / k as f64).ceil() as usize).max(1));
                    while to < mine.len()
                        && to - from < window
                        && (to == from || size + mine[to].len() * 4 / 3 <= KINESIS_EVENT_BYTES)
                    {
                        size += mine[to].len() * 4 / 3;
                        to += 1;
                    }
                    pending.push(kinesis(shard, from, &mine[from..to]));
                    shard_of.push(shard);
                    units.push(to - from);
                    span.push((from * k + shard, (to - 1) * k + shard));
                    from = to;
                }
            }
            // Events in the order they are complete (their last record in).
            let mut order: Vec<usize> = (0..pending.len()).collect();
            order.sort_by_key(|&i| span[i].1);
            let mut taken: Vec<Option<Value>> = pending.into_iter().map(Some).collect();
            pending = order
                .iter()
                .map(|&i| taken[i].take().expect("once"))
                .collect();
            shard_of = order.iter().map(|&i| shard_of[i]).collect();
            units = order.iter().map(|&i| units[i]).collect();
            span = order.iter().map(|&i| span[i]).collect();
        } else if cwl {
            pending = payloads.clone();
        }
        let per_unit = if cwl { 1 } else { BATCH };
        if model_reads && model.is_empty() {
            model = Arc::new(time_alone(&store, &config, now, &pending).await);
        }
        let start = Instant::now();
        let batches = pending.len();
        let queues: Vec<Queue> = (0..if kinesis_mode { k } else { 1 })
            .map(|_| Arc::default())
            .collect();
        let fed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
        let feeder = {
            let (queues, fed) = (queues.clone(), fed.clone());
            tokio::spawn(async move {
                let mut arrived = 0;
                for (i, batch) in pending.into_iter().enumerate() {
                    let mut first = Instant::now();
                    if let Some(r) = rate {
                        // A Kinesis batch is invoked once its last record is in (its latency
                        // counts from its first record); an SQS batch or a delivery arrives whole.
                        let (a, b) = span.get(i).copied().unwrap_or((arrived, arrived));
                        first = start + Duration::from_secs_f64(a as f64 / r);
                        let due = start + Duration::from_secs_f64(b as f64 / r);
                        tokio::time::sleep_until(due.into()).await;
                    }
                    arrived += units.get(i).copied().unwrap_or(per_unit);
                    let q = shard_of.get(i).copied().unwrap_or(0);
                    queues[q].lock().unwrap().push_back((first, batch));
                }
                fed.store(true, Ordering::Release);
            })
        };
        let mut tasks = Vec::new();
        for worker in 0..k {
            let app = app_of(&store, &waf, &config, now);
            let queue = queues[worker % queues.len()].clone();
            let (fed, latencies) = (fed.clone(), latencies.clone());
            let (model, store) = (model.clone(), store.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                loop {
                    let next = queue.lock().unwrap().pop_front();
                    let Some((arrived, event)) = next else {
                        if fed.load(Ordering::Acquire) && queue.lock().unwrap().is_empty() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    if let Some((took, parts)) = model.get(&event.to_string()) {
                        tokio::time::sleep(*took).await;
                        for (key, bytes) in parts {
                            let put =
                                store.put("state", key, bytes.clone(), "", PutCondition::None);
                            ARRIVAL.scope(arrived, put).await.expect("partial written");
                        }
                        n += 1;
                        continue;
                    }
                    let out = ARRIVAL
                        .scope(arrived, app.handle(event, &format!("w{worker}-{n}")))
                        .await
                        .expect("the invocation succeeds");
                    let failed = out["batchItemFailures"].as_array().map_or(0, Vec::len);
                    assert_eq!(failed, 0, "{out}");
                    if !partials_mode {
                        latencies
                            .lock()
                            .unwrap()
                            .push(arrived.elapsed().as_secs_f64());
                    }
                    n += 1;
                }
            }));
        }
        // The reducers: two invocations at most, each taking the notifications queued.
        let ingest_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut reducers = Vec::new();
        for r in 0..if partials_mode { 2 } else { 0 } {
            let app = app_of(&store, &waf, &config, now);
            let (store, done, latencies) = (store.clone(), ingest_done.clone(), latencies.clone());
            reducers.push(tokio::spawn(async move {
                let mut n = 0;
                loop {
                    let batch: Vec<(Instant, Value)> =
                        store.reduce.lock().unwrap().drain(..).collect();
                    let Some((_, event)) = batch.into_iter().next() else {
                        if done.load(Ordering::Acquire) && store.partials.lock().unwrap().is_empty()
                        {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    app.handle(event, &format!("reduce{r}-{n}"))
                        .await
                        .expect("the reducer succeeds");
                    n += 1;
                    // Partials gone from the store were merged (by this or the other reducer).
                    let left: std::collections::HashSet<String> =
                        store.inner.keys("state", PARTIALS).into_iter().collect();
                    let mut pending = store.partials.lock().unwrap();
                    let mut lat = latencies.lock().unwrap();
                    pending.retain(|(key, arrived)| {
                        let merged = !left.contains(key);
                        if merged {
                            lat.push(arrived.elapsed().as_secs_f64());
                        }
                        !merged
                    });
                }
            }));
        }
        feeder.await.expect("feeder");
        for t in tasks {
            t.await.expect("worker");
        }
        ingest_done.store(true, Ordering::Release);
        for t in reducers {
            t.await.expect("reducer");
        }
        let mut lat = latencies.lock().unwrap().clone();
        lat.sort_by(f64::total_cmp);
        if partials_mode {
            assert!(lat.len() <= batches, "one partial per invocation at most");
        } else {
            assert_eq!(lat.len(), batches, "every batch read once");
        }
        let pick = |q: f64| {
            let i = ((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len().max(1)) - 1;
            lat.get(i).map_or(0.0, |x| (x * 100.0).round() / 100.0)
        };
        let secs = start.elapsed().as_secs_f64();
        if std::env::var_os("SETTLE").is_some() {
            let mut app = App::new(settings(), config.clone(), store.clone(), waf.clone());
            app.clock = Arc::new(move || now);
            app.waf_write_interval = Duration::ZERO;
            let ev = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event",
                            "source": "aws.events", "time": "2026-11-02T10:00:00Z", "detail": {}});
            let out = app.handle(ev, "settle").await.expect("scheduled");
            eprintln!(
                "settle: {}",
                out["sync"]
                    .to_string()
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        let blocked_v4: usize = ["a4", "b4", "c4", "d4", "e4"]
            .iter()
            .map(|id| waf.addresses(id).len())
            .sum();
        // Whether the sets ended equal to the final state's blocklist: an invocation that
        // committed earlier but synced later would leave an older decision in them.
        let state_bytes = store
            .inner
            .bytes("state", "floodgate.state")
            .unwrap_or_default();
        let state = floodgate_core::state::State::load(&state_bytes).expect("state loads");
        let mut want: Vec<String> = state.blocklist.ipv4.clone();
        want.sort();
        let mut have: Vec<String> = ["a4", "b4", "c4", "d4", "e4"]
            .iter()
            .flat_map(|id| waf.addresses(id))
            .collect();
        have.sort();
        let extra = have
            .iter()
            .filter(|a| want.binary_search(a).is_err())
            .count();
        let missing = want
            .iter()
            .filter(|a| have.binary_search(a).is_err())
            .count();
        let counted: u64 = state.per_minute.values().sum::<u64>() - preloaded;
        let line = json!({
            "records_in": lines_in,
            "records_counted": counted,
            "lost": lines_in.saturating_sub(counted),
            "sets_equal_final_state": want == have,
            "set_entries_not_in_state": extra,
            "state_entries_not_in_sets": missing,
            "invocations_at_once": k,
            "partials": partials_mode,
            "source": source,
            "invocations": batches,
            "objects": blobs.len(),
            "wall_s": (secs * 100.0).round() / 100.0,
            "gz_mb_per_s": (gz as f64 / secs / 1e5).round() / 10.0,
            "plain_mb_per_s": (plain as f64 / secs / 1e5).round() / 10.0,
            "objects_per_s": (blobs.len() as f64 / secs * 10.0).round() / 10.0,
            "state_writes": store.puts.load(Ordering::Relaxed),
            "state_conflicts": store.conflicts.load(Ordering::Relaxed),
            "state_bytes": state_bytes.len(),
            "blocked_v4": blocked_v4,
            "arrivals_objects_per_s": rate,
            "arrival_to_sets_written_s": {"p50": pick(0.5), "p95": pick(0.95), "max": pick(1.0)},
        });
        println!("{line}");
    }
}
