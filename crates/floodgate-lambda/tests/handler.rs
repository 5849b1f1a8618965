//! The handler against in-memory S3 and WAF: event shapes, partial batch failures,
//! redelivery, dry run, the schedule.

use floodgate_aws::memory::{MemoryIpSets, MemoryStore, MemoryTopic};
use floodgate_aws::RetryPolicy;
use floodgate_core::config::Config;
use floodgate_core::state::State;
use floodgate_lambda::{App, Settings};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const FAST: RetryPolicy = RetryPolicy {
    attempts: 5,
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};
/// 2026-11-02T10:00:00Z, the end of the sample logs.
const NOW: i64 = 1_793_613_600_000;

fn settings(dry_run: &str) -> Settings {
    let env = [
        ("FLOODGATE_STATE_BUCKET", "state"),
        ("FLOODGATE_STATE_KEY", "state/floodgate.state"),
        ("FLOODGATE_REPORTS_PREFIX", "reports/"),
        ("FLOODGATE_IPV4_SET", "v4:id4"),
        ("FLOODGATE_IPV6_SET", "v6:id6"),
        ("FLOODGATE_SCOPE", "REGIONAL"),
        (
            "FLOODGATE_CONFIG_TOML",
            floodgate_core::config::DEFAULT_CONFIG_TOML,
        ),
        ("FLOODGATE_DRY_RUN", dry_run),
        ("FLOODGATE_LOG_BUCKETS", "logs"),
        ("FLOODGATE_LOG_PREFIXES", "AWSLogs/,cloudfront/"),
        ("FLOODGATE_LOG_SUFFIXES", ".gz"),
    ];
    Settings::from_lookup(|k| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

fn app(
    store: &MemoryStore,
    waf: &MemoryIpSets,
    dry_run: &str,
    now: i64,
) -> App<MemoryStore, MemoryIpSets> {
    let mut a = App::new(
        settings(dry_run),
        Config::default(),
        store.clone(),
        waf.clone(),
    );
    a.clock = Arc::new(move || now);
    a.state_retry = FAST;
    a.waf_retry = FAST;
    a.waf_write_interval = Duration::ZERO;
    a
}

fn record(key: &str, etag: &str) -> Value {
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-02T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:X"}, "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "I"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": "logs", "ownerIdentity": {"principalId": "P"}, "arn": "arn:aws:s3:::logs"},
               "object": {"key": key, "size": 100, "eTag": etag, "sequencer": "0A"}}
    })
}

fn sqs(messages: &[(&str, Value)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "receiptHandle": "r", "body": body.to_string(),
            "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

/// Every sample log uploaded; returns (key, etag) pairs.
fn upload(store: &MemoryStore) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for f in manifest["files"].as_array().unwrap() {
        let key = f["path"].as_str().unwrap();
        let etag = store.insert("logs", key, std::fs::read(root.join(key)).unwrap());
        out.push((key.to_string(), etag));
    }
    out
}

fn state(store: &MemoryStore) -> State {
    State::load(&store.bytes("state", "state/floodgate.state").unwrap()).unwrap()
}

#[tokio::test]
async fn sqs_batch_with_test_event_foreign_keys_and_an_unreadable_object() {
    let (store, waf) = (MemoryStore::new(), MemoryIpSets::new());
    waf.create("id4", &["192.0.2.250/32"]);
    waf.create("id6", &[]);
    let objs = upload(&store);
    store.insert("logs", "other/x.gz", b"x".to_vec());
    store.make_unreadable("logs", &objs[1].0, "AccessDenied");
    let a = app(&store, &waf, "false", NOW);
    let mut msgs: Vec<(String, Value)> = objs
        .iter()
        .enumerate()
        .map(|(i, (k, e))| (format!("m{i}"), json!({"Records": [record(k, e)]})))
        .collect();
    msgs.push((
        "test".into(),
        json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
    ));
    msgs.push((
        "other".into(),
        json!({"Records": [record("other/x.gz", "e")]}),
    ));
    msgs.push(("bad".into(), json!("not an s3 event")));
    let m: Vec<(&str, Value)> = msgs.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let resp = a.handle(sqs(&m), "req-1").await.unwrap();
    let mut failed: Vec<&str> = resp["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    failed.sort();
    assert_eq!(failed, vec!["bad", "m1"]);
    let st = state(&store);
    assert_eq!(st.processed.len(), objs.len() - 1);
    assert!(!st.blocklist.ipv4.is_empty());
    let mut want: Vec<String> = st.blocklist.ipv4.clone();
    want.push("192.0.2.250/32".into());
    want.sort();
    assert_eq!(waf.addresses("id4"), want, "foreign entry kept");
    assert_eq!(waf.addresses("id6"), st.blocklist.ipv6);
    let keys = store.keys("state", "reports/");
    for f in [
        "report.json",
        "report.md",
        "report.html",
        "blocklist-ipv4.txt",
        "blocklist-ipv6.txt",
    ] {
        assert!(keys.contains(&format!("reports/latest/{f}")), "{keys:?}");
        assert!(
            keys.iter()
                .any(|k| k.starts_with("reports/runs/2026-11-02T10:00:00")
                    && k.ends_with(&format!("-req-1/{f}"))),
            "{keys:?}"
        );
    }

    // Redelivery of everything: the failed one is read now, the rest is skipped unread.
    let opens = store.opens();
    let resp = a.handle(sqs(&m[..3]), "req-2").await.unwrap();
    assert_eq!(
        resp["batchItemFailures"].as_array().unwrap().len(),
        1,
        "m1 still unreadable"
    );
    assert_eq!(
        store.opens(),
        opens + 1,
        "only the unprocessed object was opened"
    );
}

#[tokio::test]
async fn redelivered_s3_event_is_a_no_op_and_dry_run_never_writes_ip_sets() {
    let (store, waf) = (MemoryStore::new(), MemoryIpSets::new());
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    let objs = upload(&store);
    let a = app(&store, &waf, "true", NOW);
    let ev = json!({"Records": objs.iter().map(|(k, e)| record(k, e)).collect::<Vec<_>>()});
    a.handle(ev.clone(), "r1").await.unwrap();
    assert_eq!(waf.calls().1, 0, "dry run: no UpdateIPSet");
    assert!(!state(&store).blocklist.ipv4.is_empty());
    assert!(state(&store).ip_sets.is_empty());
    let puts = store.puts().len();
    a.handle(ev, "r2").await.unwrap();
    assert_eq!(store.puts().len(), puts, "no state write, no reports");
}

#[tokio::test]
async fn schedule_expires_bans_and_empties_our_entries() {
    let (store, waf) = (MemoryStore::new(), MemoryIpSets::new());
    waf.create("id4", &["192.0.2.250/32"]);
    waf.create("id6", &[]);
    let objs = upload(&store);
    let ev = json!({"Records": objs.iter().map(|(k, e)| record(k, e)).collect::<Vec<_>>()});
    app(&store, &waf, "false", NOW)
        .handle(ev, "r1")
        .await
        .unwrap();
    assert!(waf.addresses("id4").len() > 1);
    let later = app(&store, &waf, "false", NOW + 30 * 86_400_000);
    let sched = json!({"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.events",
                       "account": "1", "time": "2026-12-02T10:00:00Z", "region": "us-east-1", "resources": [], "detail": {}});
    let resp = later.handle(sched, "r3").await.unwrap();
    assert!(!resp["expired"].as_array().unwrap().is_empty());
    assert_eq!(waf.addresses("id4"), vec!["192.0.2.250/32".to_string()]);
    assert!(state(&store).blocklist.ipv4.is_empty());
    assert!(state(&store).ip_sets.is_empty());
}

#[tokio::test]
async fn unknown_events_are_errors() {
    let (store, waf) = (MemoryStore::new(), MemoryIpSets::new());
    let a = app(&store, &waf, "false", NOW);
    assert!(a.handle(json!({"what": 1}), "r").await.is_err());
    assert!(a.handle(json!({"Records": []}), "r").await.is_ok());
}

/// The sample logs in three S3 events at a time (a few batches, like S3 would deliver them).
async fn deliver_samples(a: &App<MemoryStore, MemoryIpSets>, objs: &[(String, String)]) {
    for chunk in objs.chunks(20) {
        let records: Vec<Value> = chunk.iter().map(|(k, e)| record(k, e)).collect();
        a.handle(json!({ "Records": records }), "req")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn one_notification_per_run_with_the_worst_bans_and_no_log_text() {
    let (store, waf, topic) = (MemoryStore::new(), MemoryIpSets::new(), MemoryTopic::new());
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    let objs = upload(&store);
    let a = app(&store, &waf, "false", NOW).with_notifier(Arc::new(topic.clone()));
    let records: Vec<Value> = objs.iter().map(|(k, e)| record(k, e)).collect();
    a.handle(json!({ "Records": records }), "req-1")
        .await
        .unwrap();
    let msgs = topic.messages();
    assert_eq!(msgs.len(), 1, "batched: one message for the run");
    let (subject, body) = &msgs[0];
    assert_eq!(subject, "floodgate: 6 new ban(s)");
    for cidr in [
        "203.0.113.12/32",
        "198.51.100.7/32",
        "192.0.2.50/32",
        "2001:db8:bad:1::/64",
    ] {
        assert!(body.contains(cidr), "{cidr} in {body}");
    }
    assert!(body.contains("Reports: s3://state/reports/runs/"), "{body}");
    // no path or user agent from the logs: an attacker's text never reaches a phone
    assert!(
        !body.contains("python-requests") && !body.contains("/login"),
        "{body}"
    );
    // an unchanged decision tells nothing
    a.handle(
        json!({ "Records": [record(&objs[0].0, &objs[0].1)] }),
        "req-2",
    )
    .await
    .unwrap();
    assert_eq!(topic.messages().len(), 1);
}

#[tokio::test]
async fn an_unsent_notification_is_kept_and_sent_with_the_next() {
    let (store, waf, topic) = (MemoryStore::new(), MemoryIpSets::new(), MemoryTopic::new());
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    let objs = upload(&store);
    let a = app(&store, &waf, "false", NOW).with_notifier(Arc::new(topic.clone()));
    topic.fail_next(1);
    let (first, rest) = objs.split_at(objs.len() / 2);
    let records: Vec<Value> = first.iter().map(|(k, e)| record(k, e)).collect();
    a.handle(json!({ "Records": records }), "req-1")
        .await
        .unwrap();
    assert!(topic.messages().is_empty());
    assert_eq!(
        state(&store).undelivered["notify"].len(),
        1,
        "kept for later"
    );
    // The other sinks were not blocked by the failure.
    assert!(!waf.addresses("id4").is_empty(), "the IP sets were synced");
    let records: Vec<Value> = rest.iter().map(|(k, e)| record(k, e)).collect();
    a.handle(json!({ "Records": records }), "req-2")
        .await
        .unwrap();
    let msgs = topic.messages();
    assert_eq!(msgs.len(), 1);
    assert!(
        msgs[0]
            .1
            .contains("1 earlier notification(s) that could not be sent"),
        "{}",
        msgs[0].1
    );
    assert!(
        !state(&store).undelivered.contains_key("notify"),
        "cleared once sent"
    );
}

#[tokio::test]
async fn a_failed_sync_is_notified_and_reports_wait_for_their_interval() {
    let (store, waf, topic) = (MemoryStore::new(), MemoryIpSets::new(), MemoryTopic::new());
    waf.create("id4", &[]); // id6 is missing: its GetIPSet fails
    let objs = upload(&store);
    let a = app(&store, &waf, "false", NOW).with_notifier(Arc::new(topic.clone()));
    deliver_samples(&a, &objs).await;
    let all: Vec<String> = topic.messages().into_iter().map(|m| m.1).collect();
    assert!(
        all.iter()
            .any(|b| b.contains("FAILED: ip-sets") && b.contains("v6")),
        "{all:?}"
    );
    // Reports: the first run writes them; runs within FLOODGATE_REPORT_INTERVAL (60 s) do not.
    let runs: std::collections::BTreeSet<String> = store
        .keys("state", "reports/runs/")
        .into_iter()
        .map(|k| k.split('/').nth(2).unwrap_or("").to_string())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(state(&store).reports_ms, Some(NOW));
    // A minute later the schedule writes them again.
    let later = app(&store, &waf, "false", NOW + 61_000);
    later
        .handle(
            json!({"detail-type": "Scheduled Event", "source": "aws.events"}),
            "sched",
        )
        .await
        .unwrap();
    assert_eq!(state(&store).reports_ms, Some(NOW + 61_000));
}

/// A notification (a forged SQS message, say) naming a real object under an identity it does
/// not have, a made-up ETag or a made-up version, is refused: the object is not counted again
/// under a new id, the message is acknowledged (a retry would meet the same object), and the
/// real object's own id is not used up by it.
#[tokio::test]
async fn a_notification_naming_another_etag_or_version_counts_nothing() {
    let (store, waf) = (MemoryStore::new(), MemoryIpSets::new());
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    let objs = upload(&store);
    let a = app(&store, &waf, "false", NOW);
    let message = |id: &str, r: Value| sqs(&[(id, json!({ "Records": [r] }))]);
    let with_version = |key: &str, etag: &str, version: &str| {
        let mut r = record(key, etag);
        r["s3"]["object"]["versionId"] = json!(version);
        r
    };
    let (key, etag) = &objs[0];
    let resp = a
        .handle(message("m1", record(key, etag)), "r1")
        .await
        .unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]));
    let counted = state(&store);
    assert_eq!(counted.processed.len(), 1);

    let forged_etag = message("m2", record(key, "0123456789abcdef0123456789abcdef"));
    let forged_version = message(
        "m3",
        with_version(key, etag, "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"),
    );
    for (i, forged) in [forged_etag, forged_version].into_iter().enumerate() {
        let resp = a.handle(forged, &format!("f{i}")).await.unwrap();
        assert_eq!(resp["batchItemFailures"], json!([]), "refused, not retried");
        let st = state(&store);
        assert_eq!(
            st.processed, counted.processed,
            "no object counted under a new id"
        );
        assert_eq!(st.last_run.records, counted.last_run.records);
    }

    // A forged version naming the real ETag of an object not counted yet does not use up that
    // object's id: its genuine notification (exact version) is still counted.
    let (key, etag) = &objs[1];
    let forged = message("m4", with_version(key, etag, "no-such-version"));
    a.handle(forged, "f2").await.unwrap();
    assert_eq!(state(&store).processed, counted.processed);
    let version = store.version("logs", key).unwrap();
    let genuine = message("m5", with_version(key, etag, &version));
    let resp = a.handle(genuine, "r2").await.unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]));
    assert_eq!(
        state(&store).processed.len(),
        2,
        "the genuine version is counted"
    );
}

/// Issue 23, item 4 in the Lambda: an object holding one record dated 2074, committed first,
/// cannot make the flood of the next object late: the function passes its clock, the record
/// is `future_time`, and the watermark stays where the real logs put it.
#[tokio::test]
async fn a_record_from_the_future_cannot_make_the_flood_late() {
    let (store, waf) = (MemoryStore::new(), MemoryIpSets::new());
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    let a = app(&store, &waf, "true", NOW);
    let future = r#"{"timestamp":3300000000000,"action":"ALLOW","httpRequest":{"clientIp":"198.51.100.99","uri":"/","httpMethod":"GET"}}"#;
    let e1 = store.insert(
        "logs",
        "AWSLogs/future.gz",
        format!("{future}\n").into_bytes(),
    );
    a.handle(json!({"Records": [record("AWSLogs/future.gz", &e1)]}), "r1")
        .await
        .unwrap();
    let s = state(&store);
    assert!(
        s.watermark_ms.is_none_or(|w| w <= NOW),
        "{:?}",
        s.watermark_ms
    );
    let future_time = floodgate_core::RejectReason::FutureTime;
    assert_eq!(s.last_run.rejected.counts.get(&future_time), Some(&1));
    let flood: String = (0..700)
        .map(|i| {
            format!(
                r#"{{"timestamp":{},"action":"ALLOW","httpRequest":{{"clientIp":"203.0.113.9","uri":"/","httpMethod":"GET"}}}}"#,
                NOW - 600_000 + i * 100
            ) + "\n"
        })
        .collect();
    let e2 = store.insert("logs", "AWSLogs/flood.gz", flood.into_bytes());
    a.handle(json!({"Records": [record("AWSLogs/flood.gz", &e2)]}), "r2")
        .await
        .unwrap();
    let s = state(&store);
    assert_eq!(s.last_run.late, 0);
    assert!(
        s.blocklist.ipv4.contains(&"203.0.113.9/32".to_string()),
        "{:?}",
        s.blocklist
    );
}
