//! Kinesis batches against in-memory S3 and WAF: CloudFront real-time records and CloudWatch
//! Logs subscription payloads delivered into a stream, retries and replays counting every
//! record exactly once.

mod common;

use common::*;
use floodgate_aws::memory::MemoryStore;
use serde_json::json;
use std::io::Write;

#[tokio::test]
async fn a_realtime_flood_through_kinesis_is_banned_and_retries_count_nothing_twice() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let records = realtime_flood(4);
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
    let lines = waf_flood(5);
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

/// A CloudFront standard-logging-v2 JSON record of `ip` at `ms`, as the delivery to a log
/// group writes it.
fn cloudfront_json_line(ip: &str, ms: i64) -> String {
    json!({"timestamp(ms)": ms.to_string(), "c-ip": ip, "cs-method": "GET",
           "cs(Host)": "d111.cloudfront.net", "cs-uri-stem": "/search", "sc-status": "200",
           "cs(User-Agent)": "flood/1.0", "x-edge-location": "AMS1-P1"})
    .to_string()
}

/// Every address of `ips` banned, and none of the ordinary clients (198.51.100.0/24).
fn all_banned(waf: &floodgate_aws::memory::MemoryIpSets, ips: &[String]) {
    let got = banned(waf);
    for ip in ips {
        assert!(got.contains(ip), "{ip} not banned: {got:?}");
    }
    assert!(
        !got.iter().any(|ip| ip.starts_with("198.51.100.")),
        "{got:?}"
    );
}

const CLOUDFRONT_GROUP: &str = "/aws/vendedlogs/floodgate/site-cloudfront";

/// WAF and CloudFront v2 JSON subscription payloads in one stream (both log groups subscribed
/// to it): each payload is read in its own format, so both floods are banned and nothing is
/// rejected, whichever format the batch starts with.
#[tokio::test]
async fn waf_and_cloudfront_payloads_sharing_a_stream_are_each_read_in_their_format() {
    let waf_lines = waf_flood(20);
    let cf_attackers: Vec<String> = (1..=20).map(|i| format!("198.18.7.{i}")).collect();
    let cf_lines: Vec<String> = cf_attackers
        .iter()
        .flat_map(|ip| (0..35).map(move |i| cloudfront_json_line(ip, NOW - 5_000 + i * 80)))
        .collect();
    // Alternate the two groups' payloads, CloudFront first.
    let (cf, wf): (Vec<_>, Vec<_>) = (
        cf_lines.chunks(50).collect(),
        waf_lines.chunks(50).collect(),
    );
    let mut records: Vec<(u64, Vec<u8>)> = Vec::new();
    for i in 0..cf.len().max(wf.len()) {
        if let Some(c) = cf.get(i) {
            records.push((records.len() as u64 + 1, logs_record(CLOUDFRONT_GROUP, c)));
        }
        if let Some(w) = wf.get(i) {
            records.push((
                records.len() as u64 + 1,
                logs_record("aws-waf-logs-site", w),
            ));
        }
    }
    let (store, waf) = (MemoryStore::new(), sets());
    let groups = format!("aws-waf-logs-site,{CLOUDFRONT_GROUP}");
    let a = app_with(&store, &waf, settings(&[("FLOODGATE_LOG_GROUPS", &groups)])).await;
    let resp = a.handle(kinesis_raw(&records), "r1").await.unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]));
    let st = state(&store);
    assert_eq!(
        st.last_run.rejected.total(),
        0,
        "{:?}",
        st.last_run.rejected
    );
    assert_eq!(
        st.last_run.records,
        (waf_lines.len() + cf_lines.len()) as u64
    );
    let waf_attackers: Vec<String> = (1..=20).map(|i| format!("203.0.113.{i}")).collect();
    all_banned(&waf, &waf_attackers);
    all_banned(&waf, &cf_attackers);
}

/// A batch whose invocation failed, and which Lambda then gave up on (to the failure
/// destination) while later batches of the shard were committed, still counts when it is
/// replayed: a committed later batch does not make the shard skip records it never counted.
#[tokio::test]
async fn a_failed_batch_replayed_after_later_batches_committed_is_counted() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let line = |ip: &str, i: i64| realtime_line(ip, NOW - 5_000 + i * 100);
    let first: Vec<(u64, String)> = (0..30)
        .map(|i| (i as u64 + 1, line("203.0.113.1", i)))
        .collect();
    let later: Vec<(u64, String)> = (0..30)
        .map(|i| (i as u64 + 101, line("203.0.113.2", i)))
        .collect();

    // The first batch's commit keeps losing to another writer: the invocation fails.
    store.before_put(|s, bucket, key| {
        if key == "state/floodgate.state" {
            s.insert(bucket, key, floodgate_core::state::State::default().save());
        }
    });
    assert!(a.handle(kinesis(&first), "r1").await.is_err());
    store.clear_hooks();
    // Lambda gives up on it; the shard goes on.
    let resp = a.handle(kinesis(&later), "r2").await.unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]));
    assert_eq!(counted(&store), 30);
    // The failed batch replayed (from the failure destination's sequence numbers): counted.
    a.handle(kinesis(&first), "r3").await.unwrap();
    assert_eq!(counted(&store), 60, "the replayed batch counts");
    all_banned(&waf, &["203.0.113.1".into(), "203.0.113.2".into()]);
    // Once, however often it is replayed, alone or with the later batch.
    a.handle(kinesis(&first), "r4").await.unwrap();
    let mut both = first.clone();
    both.extend(later.iter().cloned());
    a.handle(kinesis(&both), "r5").await.unwrap();
    assert_eq!(counted(&store), 60);
}

/// Past the invocation's deadline, records are not read: they are reported from the first
/// one, so Lambda retries them, and nothing is committed in their name.
#[tokio::test]
async fn kinesis_records_not_read_before_the_deadline_are_reported_for_a_retry() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    let records = realtime_flood(3);
    let event = kinesis(&records);
    let first = event["Records"][0]["kinesis"]["sequenceNumber"].clone();
    // Two seconds left: less than the reserve kept for the commit, so nothing is read.
    let resp = a
        .handle_until(event.clone(), "r1", Some(NOW + 2_000))
        .await
        .unwrap();
    assert_eq!(
        resp["batchItemFailures"],
        json!([{ "itemIdentifier": first }])
    );
    assert!(store.bytes("state", "state/floodgate.state").is_none());
    // Lambda's retry from that record, in time: read and banned.
    let resp = a.handle(event, "r2").await.unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]));
    assert_eq!(counted(&store), records.len() as u64);
    assert_eq!(banned(&waf).len(), 3);
}
