//! The handler's other inputs against in-memory S3 and WAF: CloudWatch Logs subscriptions and
//! Kinesis batches (a flood banned within the invocation that carried it, redeliveries
//! counting nothing twice), EventBridge S3 events, refusals of foreign sources, the deadline,
//! allowlist files from S3 and the errorType Lambda records.

use base64::Engine;
use floodgate_aws::memory::{MemoryIpSets, MemoryStore};
use floodgate_aws::RetryPolicy;
use floodgate_core::state::State;
use floodgate_lambda::{App, HandlerError, Settings};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

const FAST: RetryPolicy = RetryPolicy {
    attempts: 5,
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};
/// 2026-11-02T10:00:00Z.
const NOW: i64 = 1_793_613_600_000;
const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/floodgate-rt";
const ACL: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/site/1111";

/// More than 20 requests in 10 s is a flood here, so a test flood stays small.
const CONFIG: &str = r#"
[[rules]]
name = "flood"
window = "10s"
limit = 20

[ban.guardrail]
max_share = 1.0
"#;

fn settings(extra: &[(&str, &str)]) -> Settings {
    let mut env: Vec<(&str, &str)> = vec![
        ("FLOODGATE_STATE_BUCKET", "state"),
        ("FLOODGATE_STATE_KEY", "state/floodgate.state"),
        ("FLOODGATE_IPV4_SET", "v4:id4"),
        ("FLOODGATE_IPV6_SET", "v6:id6"),
        ("FLOODGATE_SCOPE", "REGIONAL"),
        ("FLOODGATE_CONFIG_TOML", CONFIG),
        ("FLOODGATE_DRY_RUN", "false"),
        ("FLOODGATE_REPORT_INTERVAL", "0"),
        ("FLOODGATE_LOG_BUCKETS", "logs"),
        ("FLOODGATE_LOG_PREFIXES", "AWSLogs/"),
        ("FLOODGATE_LOG_GROUPS", "aws-waf-logs-site"),
        ("FLOODGATE_STREAM_ARNS", STREAM),
    ];
    env.extend_from_slice(extra);
    Settings::from_lookup(|k| {
        env.iter()
            .rev()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

async fn app_with(
    store: &MemoryStore,
    waf: &MemoryIpSets,
    s: Settings,
) -> App<MemoryStore, MemoryIpSets> {
    let config = s.load_config(store).await.unwrap();
    let mut a = App::new(s, config, store.clone(), waf.clone());
    a.clock = Arc::new(|| NOW);
    a.state_retry = FAST;
    a.waf_retry = FAST;
    a.waf_write_interval = Duration::ZERO;
    a
}

async fn app(store: &MemoryStore, waf: &MemoryIpSets) -> App<MemoryStore, MemoryIpSets> {
    app_with(store, waf, settings(&[])).await
}

fn sets() -> MemoryIpSets {
    let waf = MemoryIpSets::new();
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    waf
}

fn state(store: &MemoryStore) -> State {
    State::load(&store.bytes("state", "state/floodgate.state").unwrap()).unwrap()
}

/// A WAF record of `ip` at `ms`.
fn waf_line(ip: &str, ms: i64, acl: &str) -> String {
    json!({"timestamp": ms, "formatVersion": 1, "webaclId": acl,
           "terminatingRuleId": "Default_Action", "terminatingRuleType": "REGULAR", "action": "ALLOW",
           "httpSourceName": "ALB", "httpSourceId": "alb",
           "httpRequest": {"clientIp": ip, "country": "NL", "uri": "/login", "args": "",
                           "httpVersion": "HTTP/1.1", "httpMethod": "POST", "requestId": "r",
                           "headers": [{"name": "Host", "value": "example.com"},
                                       {"name": "User-Agent", "value": "flood/1.0"}]}})
    .to_string()
}

/// A flood: `attackers` addresses from 203.0.113.0/24 each sending 30 requests in 3 s, and
/// ten ordinary clients sending 3, all just before NOW.
fn flood(attackers: u8) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for a in 0..attackers {
        for i in 0..30 {
            out.push((format!("203.0.113.{}", a + 1), NOW - 5_000 + i * 100));
        }
    }
    for c in 0..10 {
        for i in 0..3 {
            out.push((format!("198.51.100.{}", c + 1), NOW - 5_000 + i * 1000));
        }
    }
    out
}

fn awslogs(group: &str, stream: &str, messages: &[String]) -> Value {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": format!("{:056}", 1000 + i), "timestamp": NOW, "message": m}))
        .collect();
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012",
        "logGroup": group, "logStream": stream, "subscriptionFilters": ["floodgate"],
        "logEvents": events});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(payload.to_string().as_bytes()).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    json!({"awslogs": {"data": data}})
}

/// A CloudFront real-time record with the default fields, in CloudFront's order.
fn realtime_line(ip: &str, ms: i64) -> String {
    format!(
        "{}.{:03}\t{ip}\t200\tGET\td111.cloudfront.net\t/search?q=x\td111.cloudfront.net\tflood/1.0\tq=x\t-\tNL",
        ms / 1000,
        ms % 1000
    )
}

fn kinesis(records: &[(u64, String)]) -> Value {
    let raw: Vec<(u64, Vec<u8>)> = records
        .iter()
        .map(|(seq, line)| (*seq, format!("{line}\n").into_bytes()))
        .collect();
    kinesis_raw(&raw)
}

/// A subscription payload as a subscription filter puts it into a Kinesis stream: the gzip'd
/// JSON itself (what `awslogs.data` carries base64'd).
fn logs_record(group: &str, messages: &[String]) -> Vec<u8> {
    let event = awslogs(group, "us-east-1_site_0", messages);
    let data = event["awslogs"]["data"].as_str().unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap()
}

fn kinesis_raw(records: &[(u64, Vec<u8>)]) -> Value {
    let recs: Vec<Value> = records
        .iter()
        .map(|(seq, data)| {
            let seq = format!("4959{seq:052}");
            json!({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p",
                    "sequenceNumber": seq,
                    "data": base64::engine::general_purpose::STANDARD.encode(data),
                    "approximateArrivalTimestamp": 1.7936136e9},
                   "eventSource": "aws:kinesis", "eventVersion": "1.0",
                   "eventID": format!("shardId-000000000000:{seq}"),
                   "eventName": "aws:kinesis:record", "awsRegion": "us-east-1",
                   "eventSourceARN": STREAM})
        })
        .collect();
    json!({ "Records": recs })
}

/// Every address the IPv4 set covers (the blocklist merges neighbours into one CIDR).
fn banned(waf: &MemoryIpSets) -> Vec<String> {
    waf.addresses("id4")
        .iter()
        .flat_map(|c| c.parse::<ipnet::IpNet>().unwrap().hosts())
        .map(|ip| ip.to_string())
        .collect()
}

#[tokio::test]
async fn a_waf_flood_through_cloudwatch_logs_is_banned_in_the_same_invocation_and_once() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let lines: Vec<String> = flood(5)
        .iter()
        .map(|(ip, ms)| waf_line(ip, *ms, ACL))
        .collect();
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
async fn a_realtime_flood_through_kinesis_is_banned_and_retries_count_nothing_twice() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let records: Vec<(u64, String)> = flood(4)
        .iter()
        .enumerate()
        .map(|(i, (ip, ms))| (i as u64 + 1, realtime_line(ip, *ms)))
        .collect();
    let resp = a.handle(kinesis(&records), "r1").await.unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]));
    assert_eq!(banned(&waf).len(), 4);
    let counted = |store: &MemoryStore| {
        let st = state(store);
        st.rules["flood"]
            .values()
            .flat_map(|w| w.buckets.iter())
            .map(|b| u64::from(b.1))
            .sum::<u64>()
    };
    let total = counted(&store);
    assert_eq!(total, records.len() as u64);

    // A retry from the middle with more records behind it (Kinesis resends from the lowest
    // failed sequence number): only the new records count.
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
    assert_eq!(counted(&store), total + 7);
    // The first half again (a bisected retry): nothing.
    a.handle(kinesis(&records[..records.len() / 2]), "r3")
        .await
        .unwrap();
    assert_eq!(counted(&store), total + 7);
}

/// The way to batch an attack's volume: a subscription filter delivering to a Kinesis stream,
/// many payloads per invocation. Payloads and real-time records may share a shard; a control
/// message and a foreign log group's payload are not counted; a redelivery counts nothing.
#[tokio::test]
async fn a_waf_flood_through_cloudwatch_logs_into_kinesis_is_banned_and_counted_once() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let lines: Vec<String> = flood(5)
        .iter()
        .map(|(ip, ms)| waf_line(ip, *ms, ACL))
        .collect();
    let mut records: Vec<(u64, Vec<u8>)> = lines
        .chunks(40)
        .enumerate()
        .map(|(i, c)| (i as u64 * 10 + 1, logs_record("aws-waf-logs-site", c)))
        .collect();
    let parts = records.len() as u64;
    let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs",
        "logGroup": "", "logStream": "", "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": NOW, "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(control.to_string().as_bytes()).unwrap();
    records.push((parts * 10 + 1, gz.finish().unwrap()));
    let foreign = vec![waf_line("192.0.2.200", NOW - 1_000, ACL); 40];
    records.push((parts * 10 + 2, logs_record("aws-waf-logs-other", &foreign)));
    let rt = realtime_line("192.0.2.9", NOW - 2_000);
    records.push((parts * 10 + 3, format!("{rt}\n").into_bytes()));

    let resp = a.handle(kinesis_raw(&records), "r1").await.unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]));
    let got = banned(&waf);
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(got.iter().all(|ip| ip.starts_with("203.0.113.")), "{got:?}");
    let st = state(&store);
    assert_eq!(
        st.last_run.records,
        lines.len() as u64 + 1,
        "every WAF record of the site's group and the real-time record, nothing else"
    );
    assert_eq!(st.last_run.rejected.total(), 0);
    let writes = waf.writes().len();

    // The whole batch again, then its second half (Kinesis retries): nothing counted twice.
    a.handle(kinesis_raw(&records), "r2").await.unwrap();
    a.handle(kinesis_raw(&records[records.len() / 2..]), "r3")
        .await
        .unwrap();
    let again = state(&store);
    assert_eq!(again.processed, st.processed, "no new batch was counted");
    assert_eq!(waf.writes().len(), writes);
}

#[tokio::test]
async fn foreign_sources_are_refused_not_read() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let lines: Vec<String> = flood(3)
        .iter()
        .map(|(ip, ms)| waf_line(ip, *ms, ACL))
        .collect();
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
    let lines: Vec<String> = flood(3)
        .iter()
        .map(|(ip, ms)| waf_line(ip, *ms, ACL))
        .collect();
    let object = json!({"version": "0", "id": "e", "detail-type": "Object Created",
        "source": "aws.s3", "account": "1", "time": "2026-11-02T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"bucket": {"name": "logs"},
                                    "object": {"key": "AWSLogs/x.log", "size": 5}}});
    let records: Vec<(u64, String)> = flood(3)
        .iter()
        .enumerate()
        .map(|(i, (ip, ms))| (i as u64 + 1, realtime_line(ip, *ms)))
        .collect();
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
        let records = store
            .bytes("state", "state/floodgate.state")
            .map_or(0, |_| state(&store).last_run.records);
        assert_eq!(records, 0, "{unset} unset: nothing counted");
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
    let lines: Vec<String> = flood(2)
        .iter()
        .map(|(ip, ms)| waf_line(ip, *ms, ACL))
        .collect();
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
    let lines: Vec<String> = flood(1)
        .iter()
        .map(|(ip, ms)| waf_line(ip, *ms, ACL))
        .collect();
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
    let mut lines: Vec<String> = flood(3)
        .iter()
        .map(|(ip, ms)| waf_line(ip, *ms, ACL))
        .collect();
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
