//! Helpers shared by the stream tests (`streams.rs`, `kinesis.rs`): an app over in-memory S3
//! and WAF, a small flood, and events as CloudWatch Logs and Kinesis deliver them.
#![allow(dead_code)] // each test binary uses its own part

use base64::Engine;
use floodgate_aws::memory::{MemoryIpSets, MemoryStore};
use floodgate_aws::RetryPolicy;
use floodgate_core::state::State;
use floodgate_lambda::{App, Settings};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

pub const FAST: RetryPolicy = RetryPolicy {
    attempts: 5,
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};
/// 2026-11-02T10:00:00Z.
pub const NOW: i64 = 1_793_613_600_000;
pub const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/floodgate-rt";
pub const ACL: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/site/1111";

/// More than 20 requests in 10 s is a flood here, so a test flood stays small.
pub const CONFIG: &str = r#"
[[rules]]
name = "flood"
window = "10s"
limit = 20

[ban.guardrail]
max_share = 1.0
"#;

pub fn settings(extra: &[(&str, &str)]) -> Settings {
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

pub async fn app_with(
    store: &MemoryStore,
    waf: &MemoryIpSets,
    s: Settings,
) -> App<MemoryStore, MemoryIpSets> {
    let (config, recorded) = s.load_config_recorded(store).await.unwrap();
    let mut a = App::new(s, config, store.clone(), waf.clone()).with_recorded(recorded);
    a.clock = Arc::new(|| NOW);
    a.state_retry = FAST;
    a.waf_retry = FAST;
    a.waf_write_interval = Duration::ZERO;
    a
}

pub async fn app(store: &MemoryStore, waf: &MemoryIpSets) -> App<MemoryStore, MemoryIpSets> {
    app_with(store, waf, settings(&[])).await
}

pub fn sets() -> MemoryIpSets {
    let waf = MemoryIpSets::new();
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    waf
}

pub fn state(store: &MemoryStore) -> State {
    State::load(&store.bytes("state", "state/floodgate.state").unwrap()).unwrap()
}

/// How many requests the state's windows hold.
pub fn counted(store: &MemoryStore) -> u64 {
    state(store).rules["flood"]
        .values()
        .flat_map(|w| w.buckets.iter())
        .map(|b| u64::from(b.1))
        .sum()
}

/// A WAF record of `ip` at `ms`.
pub fn waf_line(ip: &str, ms: i64, acl: &str) -> String {
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
pub fn flood(attackers: u8) -> Vec<(String, i64)> {
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

/// [`flood`] as WAF records of [`ACL`].
pub fn waf_flood(attackers: u8) -> Vec<String> {
    flood(attackers)
        .iter()
        .map(|(ip, ms)| waf_line(ip, *ms, ACL))
        .collect()
}

/// [`flood`] as CloudFront real-time records, with sequence numbers from 1.
pub fn realtime_flood(attackers: u8) -> Vec<(u64, String)> {
    flood(attackers)
        .iter()
        .enumerate()
        .map(|(i, (ip, ms))| (i as u64 + 1, realtime_line(ip, *ms)))
        .collect()
}

pub fn awslogs(group: &str, stream: &str, messages: &[String]) -> Value {
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
pub fn realtime_line(ip: &str, ms: i64) -> String {
    format!(
        "{}.{:03}\t{ip}\t200\tGET\td111.cloudfront.net\t/search?q=x\td111.cloudfront.net\tflood/1.0\tq=x\t-\tNL",
        ms / 1000,
        ms % 1000
    )
}

pub fn kinesis(records: &[(u64, String)]) -> Value {
    let raw: Vec<(u64, Vec<u8>)> = records
        .iter()
        .map(|(seq, line)| (*seq, format!("{line}\n").into_bytes()))
        .collect();
    kinesis_raw(&raw)
}

/// A subscription payload as a subscription filter puts it into a Kinesis stream: the gzip'd
/// JSON itself (what `awslogs.data` carries base64'd).
pub fn logs_record(group: &str, messages: &[String]) -> Vec<u8> {
    let event = awslogs(group, "us-east-1_site_0", messages);
    let data = event["awslogs"]["data"].as_str().unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap()
}

pub fn kinesis_raw(records: &[(u64, Vec<u8>)]) -> Value {
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
pub fn banned(waf: &MemoryIpSets) -> Vec<String> {
    waf.addresses("id4")
        .iter()
        .flat_map(|c| c.parse::<ipnet::IpNet>().unwrap().hosts())
        .map(|ip| ip.to_string())
        .collect()
}
