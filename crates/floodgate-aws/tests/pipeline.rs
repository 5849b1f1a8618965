//! The S3 read path and the state commit against the in-memory store: streaming reads,
//! redelivery, conflicts re-applied without losing counts.

use floodgate_aws::memory::MemoryStore;
use floodgate_aws::read::{read_objects, ReadOptions};
use floodgate_aws::state_store::{commit_run, update, S3State, StateBackend};
use floodgate_aws::{ObjectRef, RetryPolicy};
use floodgate_core::config::Config;
use floodgate_core::engine;
use floodgate_core::state::State;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const FAST: RetryPolicy = RetryPolicy {
    attempts: 5,
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};

fn sample_files() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "gz") {
                let key = p.strip_prefix(&root).unwrap().to_string_lossy().to_string();
                out.push((key, p));
            }
        }
    }
    out.sort();
    out
}

fn store_with_logs() -> (MemoryStore, Vec<ObjectRef>) {
    let store = MemoryStore::new();
    let mut refs = Vec::new();
    for (key, path) in sample_files() {
        let etag = store.insert("logs", &key, std::fs::read(path).unwrap());
        refs.push(ObjectRef {
            etag: Some(etag),
            ..ObjectRef::new("logs", key)
        });
    }
    (store, refs)
}

fn backend(store: &MemoryStore) -> S3State<MemoryStore> {
    S3State {
        store: store.clone(),
        bucket: "state".into(),
        key: "state/floodgate.state".into(),
    }
}

/// One run over every object, straight through the core (the CLI's way).
async fn single_run(config: &Arc<Config>, store: &MemoryStore, refs: &[ObjectRef]) -> State {
    let mut state = State::default();
    let pending = read_objects(store, config, &state, refs, &ReadOptions::default(), None).await;
    let input = pending.to_input(config, &state);
    engine::run(config, &mut state, input, None, false).unwrap();
    state
}

#[tokio::test]
async fn streamed_reads_match_local_reads_and_commit_creates_the_state() {
    let config = Arc::new(Config::default());
    let (store, refs) = store_with_logs();
    let pending = read_objects(
        &store,
        &config,
        &State::default(),
        &refs,
        &ReadOptions::default(),
        None,
    )
    .await;
    assert!(pending.failed.is_empty());
    assert_eq!(pending.read.len(), refs.len());
    for (o, (_, path)) in pending.read.iter().zip(sample_files()) {
        let local = floodgate_core::pipeline::read_object(
            &config,
            &Default::default(),
            &o.summary.path,
            std::fs::File::open(path).unwrap(),
        )
        .unwrap();
        assert_eq!(o.summary.records, local.0.records);
        assert_eq!(o.summary.rejected, local.0.rejected);
    }
    let b = backend(&store);
    let done = commit_run(&b, FAST, &config, &pending, None, false)
        .await
        .unwrap();
    assert!(done.written && done.conflicts == 0);
    let written = store
        .bytes("state", "state/floodgate.state")
        .unwrap_or_default();
    assert_eq!(
        done.state_bytes,
        written.len() as u64,
        "StateBytes is the object written"
    );
    let (saved, version) = b.load().await.unwrap();
    assert!(version.is_some());
    assert_eq!(saved, done.state);
    assert!(
        !saved.blocklist.ipv4.is_empty(),
        "the sample logs ban someone"
    );
    assert_eq!(saved, single_run(&config, &store, &refs).await);
}

#[tokio::test]
async fn redelivered_objects_are_not_read_again_and_change_nothing() {
    let config = Arc::new(Config::default());
    let (store, refs) = store_with_logs();
    let b = backend(&store);
    let pending = read_objects(
        &store,
        &config,
        &State::default(),
        &refs[..5],
        &ReadOptions::default(),
        None,
    )
    .await;
    commit_run(&b, FAST, &config, &pending, None, false)
        .await
        .unwrap();
    let opens = store.opens();
    let puts = store.puts().len();
    let (state, _) = b.load().await.unwrap();
    let again = read_objects(
        &store,
        &config,
        &state,
        &refs[..5],
        &ReadOptions::default(),
        None,
    )
    .await;
    assert_eq!(
        store.opens(),
        opens,
        "processed objects are skipped before reading"
    );
    assert!(again.is_empty());
    assert_eq!(again.skipped.len(), 5);
    // Even if committed, a batch of nothing new writes nothing.
    let done = commit_run(&b, FAST, &config, &again, None, false)
        .await
        .unwrap();
    assert!(!done.written);
    assert_eq!(store.puts().len(), puts);
    assert_eq!(
        done.state_bytes, 0,
        "nothing written, and the state not encoded just to measure it"
    );
}

#[tokio::test]
async fn conflicting_writers_lose_no_counts() {
    let config = Arc::new(Config::default());
    let (store, refs) = store_with_logs();
    let b = backend(&store);
    // Split by time, so the other writer's (earlier) data is not late for ours and a single
    // run is the reference: 09:15 is 2026-11-02T09:15Z.
    let cut = floodgate_core::timefmt::parse_iso_utc("2026-11-02T09:15:00Z").unwrap();
    let all = read_objects(
        &store,
        &config,
        &State::default(),
        &refs,
        &ReadOptions::default(),
        None,
    )
    .await;
    let (early, late): (Vec<_>, Vec<_>) = all
        .read
        .into_iter()
        .partition(|o| o.summary.last_time_ms.unwrap_or(0) < cut);
    assert!(!early.is_empty() && !late.is_empty());
    let a = floodgate_aws::Pending {
        read: late,
        ..Default::default()
    };
    let other = floodgate_aws::Pending {
        read: early,
        ..Default::default()
    };
    // Another invocation commits the early objects right before our first write.
    let fired = Arc::new(AtomicBool::new(false));
    let (cfg, other_b, f) = (config.clone(), b.clone(), fired.clone());
    store.before_put(move |s, _, _| {
        if !f.swap(true, Ordering::SeqCst) {
            let (mut st, version) = futures_lite_block(other_b.load()).unwrap();
            let input = other.to_input(&cfg, &st);
            engine::run(&cfg, &mut st, input, None, false).unwrap();
            let _ = s; // the hook writes through the same store
            futures_lite_block(other_b.store(st.save(), &version)).unwrap();
        }
    });
    let done = commit_run(&b, FAST, &config, &a, None, false)
        .await
        .unwrap();
    store.clear_hooks();
    assert_eq!(done.conflicts, 1);
    let (state, _) = b.load().await.unwrap();
    let single = single_run(&config, &store, &refs).await;
    assert_eq!(state.processed.len(), refs.len());
    assert_eq!(
        state.per_minute, single.per_minute,
        "every request counted once"
    );
    assert_eq!(state.blocklist, single.blocklist);
    assert_eq!(state.active, single.active);
    assert_eq!(state.offences, single.offences);
}

#[tokio::test]
async fn an_object_processed_by_the_other_writer_is_skipped_after_the_conflict() {
    let config = Arc::new(Config::default());
    let (store, refs) = store_with_logs();
    let b = backend(&store);
    let mine = read_objects(
        &store,
        &config,
        &State::default(),
        &refs[..3],
        &ReadOptions::default(),
        None,
    )
    .await;
    let theirs = mine.clone();
    let (cfg, other_b) = (config.clone(), b.clone());
    let fired = Arc::new(AtomicBool::new(false));
    store.before_put(move |_, _, _| {
        if !fired.swap(true, Ordering::SeqCst) {
            let (mut st, version) = futures_lite_block(other_b.load()).unwrap();
            let input = theirs.to_input(&cfg, &st);
            engine::run(&cfg, &mut st, input, None, false).unwrap();
            futures_lite_block(other_b.store(st.save(), &version)).unwrap();
        }
    });
    let done = commit_run(&b, FAST, &config, &mine, None, false)
        .await
        .unwrap();
    store.clear_hooks();
    assert_eq!(done.conflicts, 1);
    assert!(
        !done.written,
        "everything was already there: nothing to write"
    );
    let (state, _) = b.load().await.unwrap();
    let single = single_run(&config, &store, &refs[..3]).await;
    assert_eq!(
        state.per_minute, single.per_minute,
        "counted once, not twice"
    );
}

#[tokio::test]
async fn too_large_missing_and_unreadable_objects_are_reported_not_fatal() {
    let config = Arc::new(Config::default());
    let (store, refs) = store_with_logs();
    store.make_unreadable("logs", &refs[1].key, "AccessDenied");
    let big = ObjectRef::new("logs", "AWSLogs/big.gz");
    store.insert("logs", &big.key, vec![b'x'; 50_000]);
    let gone = ObjectRef::new("logs", "AWSLogs/gone.gz");
    let objects = vec![refs[0].clone(), refs[1].clone(), big, gone];
    let opts = ReadOptions {
        concurrency: 2,
        max_object_bytes: 40_000,
    };
    let p = read_objects(&store, &config, &State::default(), &objects, &opts, None).await;
    assert_eq!(p.failed.len(), 1);
    assert!(p.failed[0].error.contains("AccessDenied"));
    assert_eq!(p.read.len(), 3);
    let big = p
        .read
        .iter()
        .filter(|o| {
            o.summary
                .damage
                .as_deref()
                .is_some_and(|d| d.contains("over the limit"))
        })
        .count();
    let missing = p
        .read
        .iter()
        .filter(|o| {
            o.summary
                .damage
                .as_deref()
                .is_some_and(|d| d.contains("no longer exists"))
        })
        .count();
    assert_eq!(missing, 1);
    assert_eq!(big, 1);
    assert!(p
        .read
        .iter()
        .all(|o| !o.summary.complete || o.summary.records > 0));
}

#[tokio::test]
async fn update_gives_up_after_bounded_conflicts() {
    let store = MemoryStore::new();
    let b = backend(&store);
    let other = b.clone();
    store.before_put(move |s, bucket, key| {
        // Someone else writes every time, forever.
        let _ = (bucket, key);
        s.insert("state", "state/floodgate.state", State::default().save());
        let _ = &other;
    });
    let r = update(&b, FAST, |s| {
        s.late_total += 1;
        Ok(floodgate_aws::state_store::Changed::yes(()))
    })
    .await;
    store.clear_hooks();
    let e = r.unwrap_err().to_string();
    assert!(e.contains("5 attempts"), "{e}");
}

/// Run a future to completion on a fresh runtime (the hook runs inside the store's put,
/// outside of async context).
fn futures_lite_block<F: std::future::Future + Send>(f: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(f)
        })
        .join()
        .unwrap()
    })
}
