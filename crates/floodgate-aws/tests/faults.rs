//! Fault injection on the AWS side: a scenario of small log objects, processed in batches the
//! way the Lambda does (load → read_objects → commit_run → sync_ip_sets), is run many times
//! with faults injected at random calls (seeded, so every failure replays). Each faulty run must
//! end where the fault-free run ends: same counts, same processed ids, same bans, same IP sets,
//! the foreign entry untouched.
//!
//! Faults (each drawn per call with a per-seed probability):
//! * state GetObject: 500 / timeout (the invocation fails, the batch is redelivered);
//! * state PutObject: 500 before the write; timeout *after* the write landed (the response is
//!   lost, the invocation fails, the batch is redelivered although it was committed); a bare
//!   412/409; a concurrent writer (a duplicate delivery of the same batch runs a whole
//!   invocation in between, then the write meets a real 412);
//! * log object reads: 500 on GetObject, a connection reset mid-stream (the object is reported
//!   failed and redelivered on its own, as SQS does with `batchItemFailures`);
//! * GetIPSet: ThrottlingException, 500; UpdateIPSet: WAFOptimisticLockException (another
//!   writer moved the lock token), ThrottlingException, WAFLimitsExceededException, 500, and a
//!   timeout after the update was applied;
//! * duplicate S3 event delivery: a batch delivered again later, and an object named twice in
//!   one event.
//!
//! The Lambda handler mirrored here syncs the IP sets only after a run that wrote the state, and
//! a failed sync does not fail the invocation; the scheduled event re-syncs. So the IP sets are
//! compared after one fault-free scheduled run (commit_expiry + sync), as in production within
//! one schedule period; how often they lagged before it is printed.

use floodgate_aws::ipsets::{
    sync_ip_sets, IpSetApi, IpSetRef, IpSetSnapshot, IpVersion, SyncOptions, SyncTarget, WafError,
};
use floodgate_aws::memory::{MemoryIpSets, MemoryStore};
use floodgate_aws::objects::{ObjectBody, ObjectStore, PutCondition, SmallObject, StoreError};
use floodgate_aws::read::{read_objects, ReadOptions};
use floodgate_aws::state_store::{commit_expiry, commit_run, S3State, StateBackend};
use floodgate_aws::{ObjectRef, RetryPolicy};
use floodgate_core::config::Config;
use floodgate_core::state::State;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SEEDS: u64 = 50;
const MAX_ATTEMPTS: u32 = 40;
const STATE_BUCKET: &str = "state";
const STATE_KEY: &str = "state/floodgate.state";
const LOG_BUCKET: &str = "logs";
const KEEP_LINES: usize = 60;
const FLOOD_SHARE: usize = 3;
const FOREIGN: &str = "203.0.113.77/32";

const FAST: RetryPolicy = RetryPolicy {
    attempts: 5,
    base: Duration::from_micros(10),
    max: Duration::from_micros(100),
};

/// Every kind of fault, with a counter of how often it was injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    StateGet500,
    StatePut500,
    StatePutLostResponse,
    StatePut412,
    ConcurrentWriter,
    LogOpen500,
    LogStreamReset,
    WafGetThrottled,
    WafGet500,
    WafUpdateLock,
    WafUpdateThrottled,
    WafUpdateLimits,
    WafUpdate500,
    WafUpdateLostResponse,
    DuplicateDelivery,
    DuplicateInEvent,
}

struct Faults {
    rng: Mutex<StdRng>,
    p: f64,
    on: std::sync::atomic::AtomicBool,
    seen: Mutex<BTreeMap<Fault, u64>>,
    /// Faults forced at a given call: `(fault, calls of its site to let pass first)`.
    forced: Mutex<Vec<(Fault, u32)>>,
}

impl Faults {
    fn new(seed: u64, p: f64) -> Arc<Faults> {
        Arc::new(Faults {
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            p,
            on: true.into(),
            seen: Mutex::default(),
            forced: Mutex::default(),
        })
    }

    /// Whether to inject a fault at this call, and which of `kinds`.
    fn draw(&self, kinds: &[Fault]) -> Option<Fault> {
        self.draw_scaled(kinds, 1.0)
    }

    /// As [`Faults::draw`], `scale` times as likely (for calls made only a few times per run).
    fn draw_scaled(&self, kinds: &[Fault], scale: f64) -> Option<Fault> {
        if !self.on.load(Ordering::SeqCst) {
            return None;
        }
        let mut forced = self.forced.lock().unwrap();
        if let Some(i) = forced.iter().position(|(f, _)| kinds.contains(f)) {
            if forced[i].1 == 0 {
                let (f, _) = forced.remove(i);
                *self.seen.lock().unwrap().entry(f).or_default() += 1;
                return Some(f);
            }
            forced[i].1 -= 1;
        }
        drop(forced);
        let mut rng = self.rng.lock().unwrap();
        if !rng.gen_bool((self.p * scale).min(0.6)) {
            return None;
        }
        let f = kinds[rng.gen_range(0..kinds.len())];
        *self.seen.lock().unwrap().entry(f).or_default() += 1;
        Some(f)
    }
}

/// Everything one delivery needs. `store`/`waf` may be the faulty wrappers or the plain fakes.
struct Ctx<S, W> {
    config: Arc<Config>,
    store: S,
    waf: W,
}

fn targets() -> Vec<SyncTarget> {
    vec![
        SyncTarget {
            set: IpSetRef::parse("floodgate-v4:id4").unwrap(),
            version: IpVersion::V4,
        },
        SyncTarget {
            set: IpSetRef::parse("floodgate-v6:id6").unwrap(),
            version: IpVersion::V6,
        },
    ]
}

fn sync_opts() -> SyncOptions {
    SyncOptions {
        retry: FAST,
        state_retry: FAST,
        min_write_interval: Duration::ZERO,
        ..SyncOptions::default()
    }
}

/// One invocation, as the Lambda's `objects()`: returns the objects to redeliver, or `Err`
/// when the invocation failed as a whole (the whole batch is redelivered).
async fn deliver<S: ObjectStore, W: IpSetApi>(
    ctx: &Ctx<S, W>,
    batch: &[ObjectRef],
    now_ms: i64,
) -> Result<Vec<ObjectRef>, String> {
    let backend = S3State {
        store: ctx.store.clone(),
        bucket: STATE_BUCKET.into(),
        key: STATE_KEY.into(),
    };
    let (state, _) = backend.load().await.map_err(|e| e.to_string())?;
    let read = ReadOptions {
        concurrency: 1, // one open at a time keeps the fault draws in a fixed order
        ..ReadOptions::default()
    };
    let pending = read_objects(&ctx.store, &ctx.config, &state, batch, &read, None).await;
    let failed: Vec<ObjectRef> = pending.failed.iter().map(|f| f.object.clone()).collect();
    if pending.is_empty() {
        return Ok(failed);
    }
    let done = commit_run(&backend, FAST, &ctx.config, &pending, Some(now_ms), false)
        .await
        .map_err(|e| e.to_string())?;
    if done.written {
        // Sync errors are logged by the handler, not retried: the schedule reconciles.
        let _ = sync_ip_sets(&ctx.waf, &backend, &done.state, &targets(), &sync_opts()).await;
    }
    Ok(failed)
}

/// The scheduled event: expire at `now_ms`, then sync (always).
/// `Err` when the invocation failed (EventBridge retries it, the next tick runs anyway);
/// `Ok(false)` when a set could not be synced (logged; the next tick tries again).
async fn scheduled<S: ObjectStore, W: IpSetApi>(
    ctx: &Ctx<S, W>,
    now_ms: i64,
) -> Result<bool, String> {
    let backend = S3State {
        store: ctx.store.clone(),
        bucket: STATE_BUCKET.into(),
        key: STATE_KEY.into(),
    };
    let done = commit_expiry(&backend, FAST, &ctx.config, None, now_ms, false)
        .await
        .map_err(|e| e.to_string())?;
    let rep = sync_ip_sets(&ctx.waf, &backend, &done.state, &targets(), &sync_opts()).await;
    Ok(rep.failures() == 0)
}

// ---------------------------------------------------------------------------------------------
// Faulty wrappers around the in-memory fakes.

#[derive(Clone)]
struct FaultyStore {
    inner: MemoryStore,
    waf: MemoryIpSets,
    config: Arc<Config>,
    faults: Arc<Faults>,
    /// The batch being delivered and its decision time (for the concurrent duplicate).
    current: Arc<Mutex<(Vec<ObjectRef>, i64)>>,
    /// Records of every run committed to the state (seen at the store, whoever wrote it).
    committed_records: Arc<AtomicU64>,
}

impl FaultyStore {
    fn plain(&self) -> Ctx<MemoryStore, MemoryIpSets> {
        Ctx {
            config: self.config.clone(),
            store: self.inner.clone(),
            waf: self.waf.clone(),
        }
    }

    /// Count the records of a run when a state write changes `last_run`.
    fn note_write(&self, before: Option<Vec<u8>>) {
        let after = self.inner.bytes(STATE_BUCKET, STATE_KEY).unwrap();
        let after = State::load(&after).unwrap();
        let before = before.map(|b| State::load(&b).unwrap());
        if before.is_none_or(|b| b.last_run != after.last_run) {
            self.committed_records
                .fetch_add(after.last_run.records, Ordering::SeqCst);
        }
    }
}

impl ObjectStore for FaultyStore {
    async fn open(&self, object: &ObjectRef) -> Result<ObjectBody, StoreError> {
        match self
            .faults
            .draw(&[Fault::LogOpen500, Fault::LogStreamReset])
        {
            Some(Fault::LogOpen500) => Err(StoreError::Other("500 InternalError".into())),
            Some(_) => {
                // Deliver a few chunks, then the connection resets.
                let mut body = self.inner.open(object).await?;
                let (tx, rx) = tokio::sync::mpsc::channel(4);
                let mut src = std::mem::replace(&mut body.chunks, rx);
                tokio::spawn(async move {
                    for _ in 0..2 {
                        match src.recv().await {
                            Some(c) => {
                                if tx.send(c).await.is_err() {
                                    return;
                                }
                            }
                            None => break,
                        }
                    }
                    let _ = tx
                        .send(Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "connection reset by peer",
                        )))
                        .await;
                });
                Ok(body)
            }
            None => self.inner.open(object).await,
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<SmallObject, StoreError> {
        if key == STATE_KEY && self.faults.draw(&[Fault::StateGet500]).is_some() {
            return Err(StoreError::Other("500 InternalError / timeout".into()));
        }
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
        if key != STATE_KEY {
            return self
                .inner
                .put(bucket, key, bytes, content_type, condition)
                .await;
        }
        let fault = self.faults.draw(&[
            Fault::StatePut500,
            Fault::StatePutLostResponse,
            Fault::StatePut412,
            Fault::ConcurrentWriter,
        ]);
        match fault {
            Some(Fault::StatePut500) => {
                return Err(StoreError::Other("503 SlowDown".into()));
            }
            Some(Fault::StatePut412) => {
                return Err(StoreError::Conflict(
                    "409 ConditionalRequestConflict".into(),
                ));
            }
            Some(Fault::ConcurrentWriter) => {
                // A duplicate delivery of the same batch runs a whole invocation first
                // (fault-free); if it wrote nothing, another writer re-saves the state as is.
                let (batch, now) = self.current.lock().unwrap().clone();
                let before = self.inner.bytes(STATE_BUCKET, STATE_KEY);
                let plain = self.plain();
                let other = Ctx {
                    config: plain.config,
                    store: FaultyStoreWitness(self.clone()),
                    waf: plain.waf,
                };
                deliver(&other, &batch, now).await.unwrap();
                let now_bytes = self.inner.bytes(STATE_BUCKET, STATE_KEY);
                if now_bytes == before {
                    if let Some(b) = now_bytes {
                        self.inner.insert(STATE_BUCKET, STATE_KEY, b);
                    }
                }
            }
            _ => {}
        }
        let before = self.inner.bytes(STATE_BUCKET, STATE_KEY);
        let r = self
            .inner
            .put(bucket, key, bytes, content_type, condition)
            .await;
        if r.is_ok() {
            self.note_write(before);
            if fault == Some(Fault::StatePutLostResponse) {
                return Err(StoreError::Other(
                    "timeout: response lost after the write".into(),
                ));
            }
        }
        r
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectRef>, StoreError> {
        self.inner.list(bucket, prefix).await
    }
    async fn delete(&self, bucket: &str, keys: &[String]) -> Result<(), StoreError> {
        self.inner.delete(bucket, keys).await
    }
}

/// The concurrent writer's view of the store: no faults, but its state writes are counted too.
#[derive(Clone)]
struct FaultyStoreWitness(FaultyStore);

impl ObjectStore for FaultyStoreWitness {
    async fn open(&self, object: &ObjectRef) -> Result<ObjectBody, StoreError> {
        self.0.inner.open(object).await
    }
    async fn get(&self, bucket: &str, key: &str) -> Result<SmallObject, StoreError> {
        self.0.inner.get(bucket, key).await
    }
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<Option<String>, StoreError> {
        let before = self.0.inner.bytes(STATE_BUCKET, STATE_KEY);
        let r = self
            .0
            .inner
            .put(bucket, key, bytes, content_type, condition)
            .await;
        if r.is_ok() && key == STATE_KEY {
            self.0.note_write(before);
        }
        r
    }
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectRef>, StoreError> {
        self.0.inner.list(bucket, prefix).await
    }
    async fn delete(&self, bucket: &str, keys: &[String]) -> Result<(), StoreError> {
        self.0.inner.delete(bucket, keys).await
    }
}

#[derive(Clone)]
struct FaultyWaf {
    inner: MemoryIpSets,
    faults: Arc<Faults>,
}

impl IpSetApi for FaultyWaf {
    async fn get(&self, set: &IpSetRef) -> Result<IpSetSnapshot, WafError> {
        match self
            .faults
            .draw(&[Fault::WafGetThrottled, Fault::WafGet500])
        {
            Some(Fault::WafGetThrottled) => Err(WafError::Throttled("ThrottlingException".into())),
            Some(_) => Err(WafError::Other("WAFInternalErrorException (500)".into())),
            None => self.inner.get(set).await,
        }
    }

    async fn update(
        &self,
        set: &IpSetRef,
        addresses: Vec<String>,
        description: Option<&str>,
        lock_token: &str,
    ) -> Result<(), WafError> {
        let fault = self.faults.draw_scaled(
            &[
                Fault::WafUpdateLock,
                Fault::WafUpdateThrottled,
                Fault::WafUpdateLimits,
                Fault::WafUpdate500,
                Fault::WafUpdateLostResponse,
            ],
            4.0,
        );
        match fault {
            // Another writer updates the set first (same entries, new lock token).
            Some(Fault::WafUpdateLock) => self.inner.race_next_update(Vec::new()),
            Some(Fault::WafUpdateThrottled) => {
                return Err(WafError::Throttled("ThrottlingException".into()))
            }
            Some(Fault::WafUpdateLimits) => {
                return Err(WafError::Throttled("WAFLimitsExceededException".into()))
            }
            Some(Fault::WafUpdate500) => {
                return Err(WafError::Other("WAFInternalErrorException (500)".into()))
            }
            _ => {}
        }
        let r = self
            .inner
            .update(set, addresses, description, lock_token)
            .await;
        if r.is_ok() && fault == Some(Fault::WafUpdateLostResponse) {
            return Err(WafError::Other(
                "timeout: response lost after the update".into(),
            ));
        }
        r
    }
}

// ---------------------------------------------------------------------------------------------
// The scenario.

/// A few small log objects cut from files listed in sample-logs/manifest.json: the first
/// lines of each (bad lines included), plus a share of the flood from 203.0.113.10–13 that the
/// sample bans, so the run decides bans without reading megabytes per delivery. Stored plain
/// (the decoder sniffs gzip vs plain), two objects per batch.
fn scenario() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let mut picked = Vec::new();
    for (format, n) in [("waf", 5), ("alb", 1)] {
        let files = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["format"] == format)
            .take(n); // in time order: the first ones
        for f in files {
            let path = f["path"].as_str().unwrap();
            let file = std::fs::File::open(root.join(path)).unwrap();
            let (_, mut decoded) = floodgate_core::decode::open(file).unwrap();
            let mut text = Vec::new();
            std::io::Read::read_to_end(&mut decoded, &mut text).unwrap();
            let mut cut = Vec::new();
            let mut flood = 0;
            for (i, line) in text.split_inclusive(|b| *b == b'\n').enumerate() {
                let is_flood = line.windows(11).any(|w| w == b"203.0.113.1");
                if is_flood {
                    flood += 1;
                }
                if i < KEEP_LINES || (is_flood && flood % FLOOD_SHARE == 0) {
                    cut.extend_from_slice(line);
                }
            }
            let key = path.trim_end_matches(".gz").to_string();
            picked.push((key, cut));
        }
    }
    picked
}

struct Outcome {
    state: State,
    expired_v4: Vec<String>,
    expired_owned: BTreeMap<String, BTreeSet<String>>,
    expired_blocklist: usize,
    v4: Vec<String>,
    v6: Vec<String>,
    records: u64,
    lagged: bool,
    deliveries: u32,
    seen: BTreeMap<Fault, u64>,
}

async fn run_scenario(
    config: &Arc<Config>,
    files: &[(String, Vec<u8>)],
    seed: u64,
    p: f64,
) -> Outcome {
    run_with(config, files, seed, Faults::new(seed, p)).await
}

async fn run_with(
    config: &Arc<Config>,
    files: &[(String, Vec<u8>)],
    seed: u64,
    faults: Arc<Faults>,
) -> Outcome {
    let p = faults.p;
    let store = MemoryStore::new();
    let mut refs = Vec::new();
    for (key, bytes) in files {
        let etag = store.insert(LOG_BUCKET, key, bytes.clone());
        refs.push(ObjectRef {
            etag: Some(etag),
            size: Some(bytes.len() as u64),
            ..ObjectRef::new(LOG_BUCKET, key)
        });
    }
    let waf = MemoryIpSets::new();
    waf.create("id4", &[FOREIGN]);
    waf.create("id6", &[]);
    let fstore = FaultyStore {
        inner: store.clone(),
        waf: waf.clone(),
        config: config.clone(),
        faults: faults.clone(),
        current: Arc::default(),
        committed_records: Arc::default(),
    };
    let ctx = Ctx {
        config: config.clone(),
        store: fstore.clone(),
        waf: FaultyWaf {
            inner: waf.clone(),
            faults: faults.clone(),
        },
    };
    // Batches of two objects, decided 5 minutes after the newest object's hour slot.
    let mut batches: Vec<Vec<ObjectRef>> = refs.chunks(2).map(|c| c.to_vec()).collect();
    let last_now = 1_793_606_400_000 + (batches.len() as i64 + 1) * 600_000;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut deliveries = 0;
    let mut i = 0;
    let mut redeliver_later: Vec<(usize, Vec<ObjectRef>)> = Vec::new();
    while i < batches.len() {
        let now = 1_793_606_400_000 + (i as i64 + 1) * 600_000;
        let mut queue = vec![batches[i].clone()];
        if p > 0.0 {
            if !batches[i].is_empty() && rng.gen_bool(0.2) {
                // The same event again, a few batches later.
                *faults
                    .seen
                    .lock()
                    .unwrap()
                    .entry(Fault::DuplicateDelivery)
                    .or_default() += 1;
                redeliver_later.push((i + rng.gen_range(1..3), batches[i].clone()));
            }
            if !batches[i].is_empty() && rng.gen_bool(0.1) {
                // One object named twice in the same event.
                *faults
                    .seen
                    .lock()
                    .unwrap()
                    .entry(Fault::DuplicateInEvent)
                    .or_default() += 1;
                let dup = batches[i][0].clone();
                queue[0].push(dup);
            }
        }
        for (at, b) in std::mem::take(&mut redeliver_later) {
            if at == i {
                queue.push(b);
            } else {
                redeliver_later.push((at, b));
            }
        }
        for batch in queue {
            let mut attempts = 0;
            let mut todo = batch;
            while !todo.is_empty() {
                attempts += 1;
                deliveries += 1;
                assert!(
                    attempts <= MAX_ATTEMPTS,
                    "seed {seed}: batch {i} still failing after {MAX_ATTEMPTS} deliveries"
                );
                *fstore.current.lock().unwrap() = (todo.clone(), now);
                // On `Err` the invocation failed and the whole batch comes back.
                if let Ok(failed) = deliver(&ctx, &todo, now).await {
                    todo = failed;
                }
            }
        }
        i += 1;
        if i == batches.len() && !redeliver_later.is_empty() {
            // Late duplicates past the end arrive as one more (already processed) event.
            batches.push(Vec::new());
        }
    }
    let expected_v4 = |s: &State| {
        let mut v: Vec<String> = s.blocklist.ipv4.clone();
        v.push(FOREIGN.into());
        v.sort();
        v.dedup();
        v
    };
    let before = State::load(&store.bytes(STATE_BUCKET, STATE_KEY).unwrap()).unwrap();
    let lagged = waf.addresses("id4") != expected_v4(&before);
    faults.on.store(false, Ordering::SeqCst);
    let plain = Ctx {
        config: config.clone(),
        store: store.clone(),
        waf: waf.clone(),
    };
    assert_eq!(scheduled(&plain, last_now).await, Ok(true));
    let state = State::load(&store.bytes(STATE_BUCKET, STATE_KEY).unwrap()).unwrap();
    let (v4, v6) = (waf.addresses("id4"), waf.addresses("id6"));
    // A month later every ban has expired: scheduled ticks under the same faults until one
    // succeeds, then one fault-free tick (the next period) must leave only the foreign entry.
    faults.on.store(p > 0.0, Ordering::SeqCst);
    let later = last_now + 30 * 86_400_000;
    let mut ticks = 0;
    loop {
        ticks += 1;
        assert!(
            ticks <= MAX_ATTEMPTS,
            "seed {seed}: scheduled run keeps failing"
        );
        if scheduled(&ctx, later + ticks as i64 * 600_000).await == Ok(true) {
            break;
        }
    }
    faults.on.store(false, Ordering::SeqCst);
    assert_eq!(scheduled(&plain, later + 3_600_000).await, Ok(true));
    let expired = State::load(&store.bytes(STATE_BUCKET, STATE_KEY).unwrap()).unwrap();
    let seen = faults.seen.lock().unwrap().clone();
    Outcome {
        expired_v4: waf.addresses("id4"),
        expired_owned: expired.ip_sets.clone(),
        expired_blocklist: expired.blocklist.ipv4.len() + expired.blocklist.ipv6.len(),
        v4,
        v6,
        records: fstore.committed_records.load(Ordering::SeqCst),
        lagged,
        deliveries,
        seen,
        state,
    }
}

fn owned(state: &State, id: &str) -> BTreeSet<String> {
    state.ip_sets.get(id).cloned().unwrap_or_default()
}

#[tokio::test]
async fn faulty_runs_end_like_the_fault_free_run() {
    let config = Arc::new(Config::default());
    let files = scenario();
    let t = std::time::Instant::now();
    let clean = run_scenario(&config, &files, 0, 0.0).await;
    eprintln!(
        "fault-free run: {:?}, blocklist {:?}",
        t.elapsed(),
        clean.state.blocklist
    );
    assert!(
        !clean.state.blocklist.ipv4.is_empty(),
        "the scenario must ban someone to be worth faulting"
    );
    let mut expected_v4 = clean.state.blocklist.ipv4.clone();
    expected_v4.push(FOREIGN.into());
    expected_v4.sort();
    assert_eq!(clean.v4, expected_v4);
    assert!(!clean.lagged);
    assert_eq!(clean.expired_blocklist, 0);
    assert_eq!(clean.expired_v4, vec![FOREIGN.to_string()]);

    let mut all_seen: BTreeMap<Fault, u64> = BTreeMap::new();
    let (mut lagged, mut deliveries) = (0, 0);
    for seed in 1..=SEEDS {
        let p = 0.03 + 0.12 * ((seed % 5) as f64 / 4.0);
        let got = run_scenario(&config, &files, seed, p).await;
        let ctx = format!("seed {seed} (p = {p:.2}, faults {:?})", got.seen);
        assert_eq!(got.records, clean.records, "records committed, {ctx}");
        assert_eq!(
            got.state.processed.keys().collect::<Vec<_>>(),
            clean.state.processed.keys().collect::<Vec<_>>(),
            "processed ids, {ctx}"
        );
        assert_eq!(
            got.state.per_minute, clean.state.per_minute,
            "per-minute counts, {ctx}"
        );
        assert_eq!(got.state.rules, clean.state.rules, "rule windows, {ctx}");
        assert_eq!(got.state.offences, clean.state.offences, "offences, {ctx}");
        assert_eq!(
            got.state.blocklist, clean.state.blocklist,
            "blocklist, {ctx}"
        );
        assert_eq!(got.state.active, clean.state.active, "active bans, {ctx}");
        assert_eq!(got.v4, clean.v4, "IPv4 set, {ctx}");
        assert_eq!(got.v6, clean.v6, "IPv6 set, {ctx}");
        assert!(
            got.v4.iter().any(|a| a == FOREIGN),
            "foreign entry kept, {ctx}"
        );
        assert!(
            !owned(&got.state, "id4").contains(FOREIGN),
            "foreign never owned, {ctx}"
        );
        assert_eq!(
            owned(&got.state, "id4"),
            owned(&clean.state, "id4"),
            "ownership, {ctx}"
        );
        assert_eq!(got.state.profiles, clean.state.profiles, "profiles, {ctx}");
        assert_eq!(got.state.late_total, clean.state.late_total, "late, {ctx}");
        assert_eq!(
            got.state.settled_bucket, clean.state.settled_bucket,
            "settled, {ctx}"
        );
        assert_eq!(got.state.ip_sets, clean.state.ip_sets, "ownership, {ctx}");
        assert_eq!(got.expired_blocklist, 0, "every ban expired, {ctx}");
        assert_eq!(
            got.expired_v4,
            vec![FOREIGN.to_string()],
            "after expiry, {ctx}"
        );
        assert!(
            got.expired_owned.is_empty(),
            "nothing owned after expiry, {ctx}"
        );
        // Not compared: `processed` values (the watermark when each object was committed:
        // an object redelivered alone after a read error is committed in a later run) and
        // `last_run` (which objects the last run held).
        lagged += got.lagged as u32;
        deliveries += got.deliveries;
        for (f, n) in got.seen {
            *all_seen.entry(f).or_default() += n;
        }
    }
    eprintln!(
        "{SEEDS} seeds, {deliveries} deliveries (fault-free: {}), IP sets lagging until the \
         scheduled run in {lagged} seeds; faults injected: {all_seen:?}",
        clean.deliveries
    );
    // Every kind of fault was exercised at least once.
    assert_eq!(all_seen.len(), 16, "{all_seen:?}");
}

/// The case behind most of the lag printed above, pinned down: the state write of the run that
/// decides the ban lands but its response is lost. The invocation fails, the redelivery finds
/// every object processed and (like the handler) does nothing, so no sync runs; the ban reaches
/// the IP set at the next scheduled run (or the next run that writes), with nothing lost.
#[tokio::test]
async fn a_lost_commit_response_delays_the_ban_until_the_scheduled_run() {
    let config = Arc::new(Config::default());
    let files = scenario();
    let clean = run_scenario(&config, &files, 0, 0.0).await;
    let faults = Faults::new(0, 0.0);
    // State puts: batch 1 commit, batch 2 commit, batch 3 commit (the one that bans).
    faults
        .forced
        .lock()
        .unwrap()
        .push((Fault::StatePutLostResponse, 2));
    let got = run_with(&config, &files, 0, faults).await;
    assert_eq!(got.seen.get(&Fault::StatePutLostResponse), Some(&1));
    assert!(
        got.lagged,
        "the ban was not synced before the scheduled run"
    );
    assert_eq!(got.deliveries, clean.deliveries + 1);
    assert_eq!(got.records, clean.records);
    assert_eq!(got.state.blocklist, clean.state.blocklist);
    assert_eq!(got.v4, clean.v4, "the scheduled run synced it");
}
