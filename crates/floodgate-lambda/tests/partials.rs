//! `FLOODGATE_PARTIALS_PREFIX`: invocations that read logs write partials, the reducer (started
//! by the partials' own S3 notifications, and by the schedule) commits them. The decision is
//! the one direct commits reach, nothing is counted twice, nothing damaged is dropped silently.

mod common;

use common::*;
use floodgate_aws::memory::MemoryStore;
use floodgate_aws::ObjectStore;
use serde_json::{json, Value};
use std::io::Write;

const PREFIX: &str = "partials/";

fn with_partials() -> floodgate_lambda::Settings {
    settings(&[("FLOODGATE_PARTIALS_PREFIX", PREFIX)])
}

/// The S3 notification of an object of the state bucket (what the stack sends to the reducer).
fn created(bucket: &str, key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-02T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:X"}, "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "I"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "P"},
                          "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 1, "eTag": "e", "sequencer": "0A"}}}]})
}

fn gz(lines: &[String]) -> Vec<u8> {
    let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    g.write_all(lines.join("\n").as_bytes()).unwrap();
    g.finish().unwrap()
}

/// What the first pending partial's notification does: start the reducer.
async fn reduce_pending(
    a: &floodgate_lambda::App<MemoryStore, floodgate_aws::memory::MemoryIpSets>,
    store: &MemoryStore,
) {
    if let Some(key) = pending(store).first() {
        a.handle(created("state", key), "reduce").await.unwrap();
    }
}

fn pending(store: &MemoryStore) -> Vec<String> {
    store.keys("state", PREFIX)
}

#[tokio::test]
async fn reading_writes_partials_and_the_reducer_commits_what_direct_commits_would() {
    let lines = waf_flood(6);
    // The flood in three log objects and two CloudWatch Logs deliveries.
    let (objects, payloads) = lines.split_at(lines.len() / 2);
    let chunks: Vec<Vec<String>> = objects.chunks(70).map(<[String]>::to_vec).collect();
    let feed = |store: &MemoryStore| {
        chunks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let key = format!("AWSLogs/waf/{i}.log.gz");
                let etag = store.insert("logs", &key, gz(c));
                (key, etag)
            })
            .collect::<Vec<_>>()
    };
    let s3 = |objs: &[(String, String)]| {
        let recs: Vec<Value> = objs
            .iter()
            .map(|(k, e)| {
                let mut r = created("logs", k)["Records"][0].clone();
                r["s3"]["object"]["eTag"] = json!(e);
                r
            })
            .collect();
        json!({ "Records": recs })
    };
    let deliveries: Vec<Value> = payloads
        .chunks(payloads.len() / 2 + 1)
        .enumerate()
        .map(|(i, c)| awslogs("aws-waf-logs-site", &format!("s{i}"), c))
        .collect();

    // Direct commits, for reference.
    let (direct_store, direct_waf) = (MemoryStore::new(), sets());
    let d = app(&direct_store, &direct_waf).await;
    d.handle(s3(&feed(&direct_store)), "d1").await.unwrap();
    for (i, ev) in deliveries.iter().enumerate() {
        d.handle(ev.clone(), &format!("d{}", i + 2)).await.unwrap();
    }

    // Partials: reading writes no state and no IP set.
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app_with(&store, &waf, with_partials()).await;
    let objs = feed(&store);
    a.handle(s3(&objs), "r1").await.unwrap();
    for (i, ev) in deliveries.iter().enumerate() {
        a.handle(ev.clone(), &format!("r{}", i + 2)).await.unwrap();
    }
    let parts = pending(&store);
    assert_eq!(parts.len(), 3, "one partial per invocation: {parts:?}");
    assert!(store.bytes("state", "state/floodgate.state").is_none());
    assert!(banned(&waf).is_empty());

    // The first partial's notification starts the reducer: it merges all three.
    a.handle(created("state", &parts[0]), "reduce-1")
        .await
        .unwrap();
    assert!(pending(&store).is_empty(), "merged partials are deleted");
    assert_eq!(banned(&waf), banned(&direct_waf));
    assert_eq!(banned(&waf).len(), 6);
    assert_eq!(state(&store).processed, state(&direct_store).processed);
    assert_eq!(counted(&store), counted(&direct_store));
    assert_eq!(counted(&store), lines.len() as u64);
    // The later notifications find nothing left: no state write.
    let state_puts = |s: &MemoryStore| {
        s.puts()
            .iter()
            .filter(|(_, k)| k == "state/floodgate.state")
            .count()
    };
    let puts = state_puts(&store);
    a.handle(created("state", &parts[1]), "reduce-2")
        .await
        .unwrap();
    assert_eq!(state_puts(&store), puts);

    // Everything delivered again (SQS and CloudWatch Logs redeliver): new partials, nothing
    // counted twice.
    let before = store.bytes("state", "state/floodgate.state");
    a.handle(s3(&objs), "again-1").await.unwrap();
    a.handle(deliveries[0].clone(), "again-2").await.unwrap();
    assert_eq!(pending(&store).len(), 2);
    a.handle(created("state", &pending(&store)[0]), "reduce-3")
        .await
        .unwrap();
    assert!(pending(&store).is_empty());
    assert_eq!(counted(&store), lines.len() as u64);
    assert_eq!(
        store.bytes("state", "state/floodgate.state"),
        before,
        "every id was processed: the state is not written again"
    );
}

#[tokio::test]
async fn a_damaged_partial_is_left_in_place_and_the_schedule_merges_what_was_missed() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app_with(&store, &waf, with_partials()).await;
    store.insert(
        "state",
        "partials/0000000000001-bad.part",
        b"FLOODGATE-PART\n\0nope".to_vec(),
    );
    // A delivery whose partial's notification was lost: the schedule reduces it.
    a.handle(awslogs("aws-waf-logs-site", "s", &waf_flood(3)), "r1")
        .await
        .unwrap();
    assert_eq!(pending(&store).len(), 2);
    let sched = json!({"version": "0", "id": "e", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "1", "time": "2026-11-02T10:00:00Z",
        "region": "us-east-1", "resources": [], "detail": {}});
    a.handle(sched, "tick").await.unwrap();
    assert_eq!(banned(&waf).len(), 3);
    assert_eq!(
        pending(&store),
        vec!["partials/0000000000001-bad.part".to_string()],
        "the damaged partial stays for a person to look at"
    );
}

#[tokio::test]
async fn a_partial_of_a_foreign_bucket_or_prefix_is_refused_not_reduced() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app_with(&store, &waf, with_partials()).await;
    a.handle(awslogs("aws-waf-logs-site", "s", &waf_flood(2)), "r1")
        .await
        .unwrap();
    let key = pending(&store)[0].clone();
    // The same key in a log bucket: a log object that is not a log, never a reduction.
    a.handle(created("logs", &key), "r2").await.unwrap();
    a.handle(created("state", "elsewhere/x.part"), "r3")
        .await
        .unwrap();
    assert_eq!(pending(&store), vec![key]);
    assert!(banned(&waf).is_empty());
}

#[tokio::test]
async fn one_reducer_at_a_time_and_a_lease_left_by_a_dead_reducer_expires() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app_with(&store, &waf, with_partials()).await;
    a.handle(awslogs("aws-waf-logs-site", "s", &waf_flood(3)), "r1")
        .await
        .unwrap();
    let key = pending(&store)[0].clone();
    // Another reducer holds the lease (it died holding it): this one leaves the partial to it.
    let other = floodgate_aws::partials::Partials {
        store: store.clone(),
        bucket: "state".into(),
        prefix: PREFIX.into(),
        lease_key: "state/floodgate.state.reducer-lease".into(),
        head_key: "state/floodgate.state.streams".into(),
    };
    let lease = other.acquire("dead", NOW).await.unwrap();
    assert!(lease.is_some());
    assert!(
        other.acquire("second", NOW).await.unwrap().is_none(),
        "held"
    );
    a.handle(created("state", &key), "reduce-1").await.unwrap();
    assert_eq!(pending(&store), vec![key.clone()]);
    assert!(banned(&waf).is_empty());
    // After LEASE_MS the lease is free again.
    let mut later = app_with(&store, &waf, with_partials()).await;
    let t = NOW + floodgate_aws::partials::LEASE_MS + 1;
    later.clock = std::sync::Arc::new(move || t);
    later
        .handle(created("state", &key), "reduce-2")
        .await
        .unwrap();
    assert!(pending(&store).is_empty());
    assert_eq!(banned(&waf).len(), 3);
    // Released: the next reducer takes it at once.
    assert!(other.acquire("next", t).await.unwrap().is_some());
}

/// Kinesis with partials: a reading invocation learns its shard's committed ranges from the
/// streams head the reducer writes (not from the state), so retries from the middle and
/// bisected halves count nothing twice once the reducer merged the first delivery.
#[tokio::test]
async fn kinesis_retries_count_once_through_the_streams_head() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app_with(&store, &waf, with_partials()).await;
    let records = realtime_flood(4);
    a.handle(kinesis(&records), "r1").await.unwrap();
    reduce_pending(&a, &store).await;
    assert_eq!(banned(&waf).len(), 4);
    let total = counted(&store);
    assert_eq!(total, records.len() as u64);
    let head = store
        .bytes("state", "state/floodgate.state.streams")
        .unwrap();
    let head = String::from_utf8(head).unwrap();
    assert!(
        head.contains("stream:kinesis:") && !head.contains("s3://"),
        "the reducer wrote the shard's committed range, and only stream ids: {head}"
    );
    // Reading against the head alone (the state gone) still drops what it covers.
    let saved = store.bytes("state", "state/floodgate.state").unwrap();
    store
        .delete("state", &["state/floodgate.state".to_string()])
        .await
        .unwrap();
    a.handle(kinesis(&records), "again").await.unwrap();
    assert!(
        pending(&store).is_empty(),
        "every record was covered: no partial"
    );
    store.insert("state", "state/floodgate.state", saved);
    // A retry from the middle with 7 new records, then the first half again.
    let extra: Vec<(u64, String)> = (0..7)
        .map(|i| {
            (
                1000 + i,
                realtime_line("192.0.2.77", NOW - 1_000 + i as i64),
            )
        })
        .collect();
    let mut retry = records[records.len() / 2..].to_vec();
    retry.extend(extra.iter().cloned());
    a.handle(kinesis(&retry), "r2").await.unwrap();
    reduce_pending(&a, &store).await;
    a.handle(kinesis(&records[..records.len() / 2]), "r3")
        .await
        .unwrap();
    reduce_pending(&a, &store).await;
    assert_eq!(counted(&store), total + 7);
    assert!(pending(&store).is_empty());
}
