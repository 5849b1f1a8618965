//! The handler's other inputs against in-memory S3 and WAF: CloudWatch Logs subscriptions (a
//! flood banned within the invocation that carried it, redeliveries counting nothing twice),
//! EventBridge S3 events, refusals of foreign sources, the deadline, allowlist files from S3
//! and the errorType Lambda records. Kinesis batches: `kinesis.rs`.

mod common;

use common::*;
use floodgate_aws::memory::MemoryStore;
use floodgate_lambda::HandlerError;
use serde_json::{json, Value};

#[tokio::test]
async fn a_waf_flood_through_cloudwatch_logs_is_banned_in_the_same_invocation_and_once() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let lines = waf_flood(5);
    let event = awslogs("aws-waf-logs-site", "us-east-1_site_0", &lines);
    a.handle(event.clone(), "r1").await.unwrap();
    let got = banned(&waf);
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(got.iter().all(|ip| ip.starts_with("203.0.113.")));
    let records = state(&store).last_run.records;
    assert_eq!(records, lines.len() as u64);
    let writes = waf.writes().len();

    // The same payload again (Lambda's asynchronous retry): nothing counted, nothing written.
    a.handle(event, "r2").await.unwrap();
    let st = state(&store);
    assert_eq!(
        st.last_run.records, records,
        "the redelivery did not run again"
    );
    assert_eq!(waf.writes().len(), writes);
    assert_eq!(
        st.processed
            .keys()
            .filter(|k| k.starts_with("stream:cwl:"))
            .count(),
        1
    );
}

#[tokio::test]
async fn foreign_sources_are_refused_not_read() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let lines = waf_flood(3);
    let r = a
        .handle(awslogs("aws-waf-logs-someone-else", "s", &lines), "r1")
        .await
        .unwrap();
    assert_eq!(r["refused"], 1);
    let mut foreign = kinesis(&[(1, realtime_line("203.0.113.9", NOW))]);
    foreign["Records"][0]["eventSourceARN"] = json!("arn:aws:kinesis:us-east-1:1:stream/other");
    a.handle(foreign, "r2").await.unwrap();
    // an object in another bucket and one outside the log prefix
    let body = |bucket: &str, key: &str| {
        json!({"version": "0", "id": "e", "detail-type": "Object Created", "source": "aws.s3",
               "account": "1", "time": "2026-11-02T10:00:00Z", "region": "us-east-1", "resources": [],
               "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 5, "etag": "e"}}})
    };
    store.insert("attacker", "AWSLogs/x.log", lines.join("\n"));
    store.insert("logs", "uploads/x.log", lines.join("\n"));
    a.handle(body("attacker", "AWSLogs/x.log"), "r3")
        .await
        .unwrap();
    a.handle(body("logs", "uploads/x.log"), "r4").await.unwrap();
    assert_eq!(store.opens(), 0, "nothing foreign was opened");
    assert!(
        store.bytes("state", "state/floodgate.state").is_none(),
        "nothing was counted"
    );
}

/// Refusals fail closed: with its allowlist variable unset, every source of that kind is
/// refused (a deployment that forgot the variable reads nothing it was not told to trust).
#[tokio::test]
async fn with_its_variable_unset_a_source_kind_is_refused() {
    let lines = waf_flood(3);
    let object = json!({"version": "0", "id": "e", "detail-type": "Object Created",
        "source": "aws.s3", "account": "1", "time": "2026-11-02T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"bucket": {"name": "logs"},
                                    "object": {"key": "AWSLogs/x.log", "size": 5}}});
    let records = realtime_flood(3);
    let in_kinesis = vec![(1, logs_record("aws-waf-logs-site", &lines))];
    let cases: [(&str, Value); 5] = [
        ("FLOODGATE_LOG_BUCKETS", object.clone()),
        ("FLOODGATE_LOG_PREFIXES", object),
        (
            "FLOODGATE_LOG_GROUPS",
            awslogs("aws-waf-logs-site", "s", &lines),
        ),
        ("FLOODGATE_LOG_GROUPS", kinesis_raw(&in_kinesis)),
        ("FLOODGATE_STREAM_ARNS", kinesis(&records)),
    ];
    for (unset, event) in cases {
        let (store, waf) = (MemoryStore::new(), sets());
        store.insert("logs", "AWSLogs/x.log", lines.join("\n"));
        let a = app_with(&store, &waf, settings(&[(unset, "")])).await;
        assert!(a.settings.unset_sources().contains(&unset));
        a.handle(event, "r1").await.unwrap();
        assert_eq!(store.opens(), 0, "{unset} unset: nothing opened");
        assert!(
            store.bytes("state", "state/floodgate.state").is_none(),
            "{unset} unset: nothing counted"
        );
        assert!(banned(&waf).is_empty(), "{unset} unset: nobody banned");
    }
    // `*` is the explicit way to accept any: the same delivery is read.
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app_with(&store, &waf, settings(&[("FLOODGATE_LOG_GROUPS", "*")])).await;
    a.handle(awslogs("aws-waf-logs-anything", "s", &lines), "r1")
        .await
        .unwrap();
    assert_eq!(banned(&waf).len(), 3);
}

#[tokio::test]
async fn eventbridge_s3_events_are_read_direct_and_through_sqs() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let lines = waf_flood(2);
    let etag = store.insert("logs", "AWSLogs/1/WAFLogs/a b.log", lines.join("\n"));
    let event = json!({"version": "0", "id": "e", "detail-type": "Object Created",
        "source": "aws.s3", "account": "1", "time": "2026-11-02T10:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:s3:::logs"],
        "detail": {"version": "0", "bucket": {"name": "logs"},
                   "object": {"key": "AWSLogs/1/WAFLogs/a+b.log", "size": 5, "etag": etag},
                   "reason": "PutObject"}});
    let sqs = json!({"Records": [{"messageId": "m1", "body": event.to_string(), "eventSource": "aws:sqs",
                                  "eventSourceARN": "arn:aws:sqs:us-east-1:1:q"}]});
    let resp = a.handle(sqs, "r1").await.unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]));
    assert_eq!(banned(&waf).len(), 2);
    // the same event sent directly: already processed
    a.handle(event, "r2").await.unwrap();
    assert_eq!(state(&store).processed.len(), 1);
}

#[tokio::test]
async fn objects_not_read_before_the_deadline_are_left_for_a_retry() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let lines = waf_flood(1);
    let etag = store.insert("logs", "AWSLogs/late.log", lines.join("\n"));
    let record = json!({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "logs"}, "object": {"key": "AWSLogs/late.log", "eTag": etag}}});
    let sqs = json!({"Records": [{"messageId": "m1", "body": json!({"Records": [record]}).to_string(),
                                  "eventSource": "aws:sqs"}]});
    // Two seconds left: less than the reserve kept for the commit, so nothing is read.
    let resp = a.handle_until(sqs, "r1", Some(NOW + 2_000)).await.unwrap();
    assert_eq!(resp["batchItemFailures"][0]["itemIdentifier"], "m1");
    assert!(store.bytes("state", "state/floodgate.state").is_none());
}

#[tokio::test]
async fn other_web_acls_and_allowlist_files_from_s3_apply() {
    let (store, waf) = (MemoryStore::new(), sets());
    store.insert(
        "cfg",
        "allow/edges.txt",
        "# CloudFront origin-facing\n203.0.113.1/32\n",
    );
    let s = settings(&[
        ("FLOODGATE_WEB_ACL_ARNS", ACL),
        ("FLOODGATE_ALLOW_FILES", "s3://cfg/allow/edges.txt"),
    ]);
    let a = app_with(&store, &waf, s).await;
    assert_eq!(a.config.source.web_acls, vec![ACL.to_string()]);
    let other = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/other/2222";
    let mut lines = waf_flood(3);
    let foreign: Vec<String> = (0..40)
        .map(|i| waf_line("192.0.2.200", NOW - 4_000 + i * 10, other))
        .collect();
    lines.extend(foreign);
    a.handle(awslogs("aws-waf-logs-site", "s0", &lines), "r1")
        .await
        .unwrap();
    let got = banned(&waf);
    assert_eq!(
        got,
        vec!["203.0.113.2", "203.0.113.3"],
        "allowlisted .1, foreign ACL not counted"
    );
    let st = state(&store);
    assert_eq!(st.last_run.rejected.counts.values().sum::<u64>(), 40);
}

#[tokio::test]
async fn errors_carry_a_stable_error_type() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let e: HandlerError = a.handle(json!({"hello": 1}), "r").await.unwrap_err();
    let d = lambda_runtime::Diagnostic::from(e);
    assert_eq!(d.error_type, "Floodgate.UnrecognisedEvent");
    assert!(d.error_message.contains("hello"));
}

/// A CloudWatch Logs delivery the invocation has no time left to read fails it (Lambda retries
/// the same payload asynchronously) without counting any of it; the retry counts it.
#[tokio::test]
async fn a_cloudwatch_logs_delivery_past_the_deadline_fails_for_a_retry() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let lines = waf_flood(2);
    let event = awslogs("aws-waf-logs-site", "s0", &lines);
    let e = a
        .handle_until(event.clone(), "r1", Some(NOW + 2_000))
        .await
        .unwrap_err();
    assert_eq!(
        lambda_runtime::Diagnostic::from(e).error_type,
        "Floodgate.OutOfTime"
    );
    assert!(store.bytes("state", "state/floodgate.state").is_none());
    a.handle(event, "r2").await.unwrap();
    assert_eq!(banned(&waf).len(), 2);
}
