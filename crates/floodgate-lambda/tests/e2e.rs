//! End-to-end against a real local AWS endpoint (moto): run with `bash tests/aws/run.sh`.
//!
//! Buckets and two IP sets (each with an entry someone else added) are created, the sample logs
//! uploaded, and the handler invoked directly with S3 and SQS events shaped like real ones, in
//! time order: a direct S3 event, an SQS batch with a test event, an ignored key and a
//! duplicate delivery, two concurrent invocations racing on the state write, a last batch,
//! a redelivery (a no-op), then the schedule 30 days later. The state and the IP sets must
//! equal one CLI-style run over the same objects, foreign entries kept, reports written.

use floodgate_aws::ipsets::IpSetApi;
use floodgate_aws::objects::{ObjectStore, PutCondition, StoreError};
use floodgate_aws::read::{list_objects, read_objects, ReadOptions};
use floodgate_aws::{IpSetRef, RetryPolicy, S3Store, Scope, WafIpSets};
use floodgate_core::engine;
use floodgate_core::state::State;
use floodgate_lambda::Settings;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 2026-11-02T10:00:00Z, the end of the sample logs.
const NOW: i64 = 1_793_613_600_000;
const MIN: i64 = 60_000;
const START: i64 = NOW - 120 * MIN;

fn record(bucket: &str, key: &str, etag: &str, size: usize) -> Value {
    // Keys in notifications are form-encoded.
    let encoded: String = key
        .split('/')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("/");
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-02T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "REQ", "x-amz-id-2": "ID2"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "floodgate",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "OWNER"}, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": encoded, "size": size, "eTag": etag, "sequencer": "0055AED6DCD90281E5"}}
    })
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sqs(messages: &[(String, Value)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "body": body.to_string(),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1793613600000",
                           "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1793613600001"},
            "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:floodgate", "awsRegion": "us-east-1"}))
        .collect();
    json!({ "Records": records })
}

struct Uploaded {
    key: String,
    etag: String,
    size: usize,
    first_ms: i64,
    last_ms: i64,
}

fn failures(resp: &Value) -> Vec<String> {
    resp["batchItemFailures"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["itemIdentifier"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a local AWS endpoint: bash tests/aws/run.sh"]
async fn lambda_against_local_aws() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL must point at a local AWS endpoint (bash tests/aws/run.sh)");
    eprintln!("endpoint {endpoint}");
    let run_id = std::process::id();
    let (logs, state_bucket) = (format!("fg-logs-{run_id}"), format!("fg-state-{run_id}"));
    let sdk = floodgate_aws::sdk_config().await;
    let store = S3Store::new(&sdk);
    let waf = WafIpSets::new(&sdk, Scope::Regional);
    for b in [&logs, &state_bucket] {
        store
            .client
            .create_bucket()
            .bucket(b)
            .send()
            .await
            .expect("create bucket");
    }
    let mut sets = Vec::new();
    for (name, version, foreign) in [
        (
            "fg-v4",
            aws_sdk_wafv2::types::IpAddressVersion::Ipv4,
            "192.0.2.250/32",
        ),
        (
            "fg-v6",
            aws_sdk_wafv2::types::IpAddressVersion::Ipv6,
            "2001:db8:ffff::/48",
        ),
    ] {
        let out = waf
            .client
            .create_ip_set()
            .name(format!("{name}-{run_id}"))
            .scope(aws_sdk_wafv2::types::Scope::Regional)
            .ip_address_version(version)
            .addresses(foreign)
            .send()
            .await
            .expect("create IP set");
        let s = out.summary().expect("summary");
        sets.push(IpSetRef {
            name: s.name().unwrap().to_string(),
            id: s.id().unwrap().to_string(),
        });
    }

    // Upload the sample logs and one key outside the log prefixes.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let mut uploaded = Vec::new();
    for f in manifest["files"].as_array().unwrap() {
        let key = f["path"].as_str().unwrap().to_string();
        let bytes = std::fs::read(root.join(&key)).unwrap();
        let size = bytes.len();
        let etag = store
            .put(&logs, &key, bytes, "application/gzip", PutCondition::None)
            .await
            .unwrap()
            .expect("etag");
        uploaded.push(Uploaded {
            key,
            etag,
            size,
            first_ms: f["first_time_ms"].as_i64().unwrap(),
            last_ms: f["last_time_ms"].as_i64().unwrap(),
        });
    }
    store
        .put(
            &logs,
            "other/ignored file.gz",
            b"x".to_vec(),
            "application/gzip",
            PutCondition::None,
        )
        .await
        .unwrap();
    uploaded.sort_by_key(|u| (u.last_ms, u.first_ms));

    let env = [
        ("FLOODGATE_STATE_BUCKET", state_bucket.clone()),
        ("FLOODGATE_STATE_KEY", "state/floodgate.state".into()),
        ("FLOODGATE_REPORTS_PREFIX", "reports/".into()),
        (
            "FLOODGATE_IPV4_SET",
            format!("{}:{}", sets[0].name, sets[0].id),
        ),
        (
            "FLOODGATE_IPV6_SET",
            format!("{}:{}", sets[1].name, sets[1].id),
        ),
        ("FLOODGATE_SCOPE", "REGIONAL".into()),
        (
            // The built-in config: its capacity follows the one set per IP version.
            "FLOODGATE_CONFIG_TOML",
            floodgate_core::config::DEFAULT_CONFIG_TOML.to_string(),
        ),
        ("FLOODGATE_DRY_RUN", "false".into()),
        ("FLOODGATE_LOG_BUCKETS", logs.clone()),
        ("FLOODGATE_LOG_PREFIXES", "AWSLogs/,cloudfront/".into()),
        ("FLOODGATE_LOG_SUFFIXES", ".gz".into()),
        ("FLOODGATE_METRICS_NAMESPACE", "floodgate-e2e".into()),
        // Reports on every run (the default paces them at one per minute).
        ("FLOODGATE_REPORT_INTERVAL", "0".into()),
    ];
    let settings =
        Settings::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    let t = Instant::now();
    let mut app = floodgate_lambda::init_with(settings.clone())
        .await
        .expect("cold start");
    eprintln!(
        "cold start (SDK config, clients, config): {:?}",
        t.elapsed()
    );
    app.clock = Arc::new(|| NOW);
    app.waf_retry = RetryPolicy {
        attempts: 6,
        base: Duration::from_millis(50),
        max: Duration::from_millis(500),
    };
    app.state_retry = RetryPolicy {
        attempts: 8,
        base: Duration::from_millis(20),
        max: Duration::from_millis(300),
    };

    // Batches in arrival (time) order; see docs/operations.md on late logs.
    let cut = |m: i64| START + m * MIN;
    let batch = |lo: i64, hi: i64| -> Vec<&Uploaded> {
        uploaded
            .iter()
            .filter(|u| u.last_ms > lo && u.last_ms <= hi)
            .collect()
    };
    let (b1, b2, b3, b4) = (
        batch(0, cut(30)),
        batch(cut(30), cut(60)),
        batch(cut(60), cut(80)),
        batch(cut(80), i64::MAX),
    );
    assert_eq!(b1.len() + b2.len() + b3.len() + b4.len(), uploaded.len());
    let s3_event = |us: &[&Uploaded]| json!({"Records": us.iter().map(|u| record(&logs, &u.key, &u.etag, u.size)).collect::<Vec<_>>()});
    let messages = |tag: &str, us: &[&Uploaded]| -> Vec<(String, Value)> {
        us.iter()
            .enumerate()
            .map(|(i, u)| {
                (
                    format!("{tag}-{i}"),
                    json!({"Records": [record(&logs, &u.key, &u.etag, u.size)]}),
                )
            })
            .collect()
    };

    // 1. A direct S3 notification.
    let resp = app.handle(s3_event(&b1), "req-b1").await.expect("b1");
    assert_eq!(resp["failed"], json!([]));

    // 2. SQS: a test event, an ignored key, a duplicate of batch 1 and batch 2.
    let mut m2 = messages("b2", &b2);
    m2.push(("test".into(), json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-02T10:00:00.000Z", "Bucket": logs, "RequestId": "R", "HostId": "H"})));
    m2.push((
        "ignored".into(),
        json!({"Records": [record(&logs, "other/ignored file.gz", "e", 1)]}),
    ));
    m2.push((
        "dup".into(),
        json!({"Records": [record(&logs, &b1[0].key, &b1[0].etag, b1[0].size)]}),
    ));
    let resp = app.handle(sqs(&m2), "req-b2").await.expect("b2");
    assert_eq!(failures(&resp), Vec::<String>::new());

    // 3. Two invocations racing on the state write.
    let b3a: Vec<&Uploaded> = b3.iter().step_by(2).copied().collect();
    let b3b: Vec<&Uploaded> = b3.iter().skip(1).step_by(2).copied().collect();
    let (ea, eb) = (sqs(&messages("b3a", &b3a)), sqs(&messages("b3b", &b3b)));
    let (ra, rb) = tokio::join!(app.handle(ea, "req-b3a"), app.handle(eb, "req-b3b"));
    assert_eq!(failures(&ra.expect("b3a")), Vec::<String>::new());
    assert_eq!(failures(&rb.expect("b3b")), Vec::<String>::new());

    // 4. The last batch.
    let resp = app
        .handle(sqs(&messages("b4", &b4)), "req-b4")
        .await
        .expect("b4");
    assert_eq!(failures(&resp), Vec::<String>::new());

    // 5. Redelivery of batch 1: no state write.
    let etag_before = store
        .get(&state_bucket, "state/floodgate.state")
        .await
        .unwrap()
        .etag;
    app.handle(s3_event(&b1), "req-again").await.expect("again");
    let saved = store
        .get(&state_bucket, "state/floodgate.state")
        .await
        .unwrap();
    assert_eq!(saved.etag, etag_before, "a redelivered event is a no-op");
    let lambda_state = State::load(&saved.bytes).unwrap();

    // The endpoint really enforces conditional writes.
    let stale = store
        .put(
            &state_bucket,
            "state/floodgate.state",
            vec![1],
            "x",
            PutCondition::IfMatch("stale".into()),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let exists = store
        .put(
            &state_bucket,
            "state/floodgate.state",
            vec![1],
            "x",
            PutCondition::IfAbsent,
        )
        .await;
    assert!(matches!(exists, Err(StoreError::Conflict(_))), "{exists:?}");

    // One CLI-style run over the same objects (listing, as `floodgate analyze s3://…`).
    let listed: Vec<_> = list_objects(&store, &logs, "")
        .await
        .unwrap()
        .into_iter()
        .filter(|o| settings.wants_key(&o.key))
        .collect();
    assert_eq!(listed.len(), uploaded.len());
    let config = app.config.clone();
    let mut single = State::default();
    let pending = read_objects(
        &store,
        &config,
        &single,
        &listed,
        &ReadOptions::default(),
        None,
    )
    .await;
    assert!(pending.failed.is_empty());
    let input = pending.to_input(&config, &single);
    engine::run(&config, &mut single, input, Some(NOW), false).unwrap();

    assert!(!single.blocklist.ipv4.is_empty() && !single.blocklist.ipv6.is_empty());
    assert_eq!(lambda_state.blocklist, single.blocklist);
    assert_eq!(lambda_state.active, single.active);
    assert_eq!(lambda_state.offences, single.offences);
    assert_eq!(
        lambda_state.per_minute, single.per_minute,
        "every record counted exactly once"
    );
    assert_eq!(
        lambda_state.processed.keys().collect::<Vec<_>>(),
        single.processed.keys().collect::<Vec<_>>()
    );
    assert_eq!(lambda_state.watermark_ms, single.watermark_ms);

    // IP sets: the decision plus the foreign entries; ownership recorded.
    for (set, want, foreign) in [
        (&sets[0], &single.blocklist.ipv4, "192.0.2.250/32"),
        (&sets[1], &single.blocklist.ipv6, "2001:db8:ffff::/48"),
    ] {
        let got: BTreeSet<String> = waf.get(set).await.unwrap().addresses.into_iter().collect();
        let mut expected: BTreeSet<String> = want.iter().cloned().collect();
        expected.insert(foreign.to_string());
        assert_eq!(got, expected);
        let owned = lambda_state
            .ip_sets
            .get(&set.id)
            .cloned()
            .unwrap_or_default();
        assert_eq!(owned, want.iter().cloned().collect::<BTreeSet<_>>());
    }

    // Reports: one folder per run that changed the state, plus latest/.
    let keys: Vec<String> = store
        .list(&state_bucket, "reports/")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    let runs: BTreeSet<&str> = keys
        .iter()
        .filter_map(|k| k.strip_prefix("reports/runs/"))
        .filter_map(|k| k.split('/').next())
        .collect();
    assert_eq!(runs.len(), 5, "{runs:?}");
    assert!(runs.iter().all(|r| r.starts_with("2026-11-02T10:00:00")));
    for f in [
        "report.json",
        "report.md",
        "report.html",
        "blocklist-ipv4.txt",
        "blocklist-ipv6.txt",
    ] {
        assert!(
            keys.contains(&format!("reports/latest/{f}")),
            "{f} missing: {keys:?}"
        );
    }
    let latest = store
        .get(&state_bucket, "reports/latest/blocklist-ipv4.txt")
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(latest.bytes).unwrap(),
        floodgate_core::report::Report::blocklist_text(&single.blocklist.ipv4)
    );

    // 6. The schedule, 30 days later: every ban expired, only the foreign entries remain.
    app.clock = Arc::new(|| NOW + 30 * 86_400_000);
    let sched = json!({"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.events",
                       "account": "123456789012", "time": "2026-12-02T10:00:00Z", "region": "us-east-1",
                       "resources": ["arn:aws:events:us-east-1:123456789012:rule/floodgate"], "detail": {}});
    app.handle(sched, "req-sched").await.expect("schedule");
    for (set, foreign) in [
        (&sets[0], "192.0.2.250/32"),
        (&sets[1], "2001:db8:ffff::/48"),
    ] {
        assert_eq!(
            waf.get(set).await.unwrap().addresses,
            vec![foreign.to_string()]
        );
    }
    let after = State::load(
        &store
            .get(&state_bucket, "state/floodgate.state")
            .await
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert!(after.blocklist.ipv4.is_empty() && after.ip_sets.is_empty());
}
