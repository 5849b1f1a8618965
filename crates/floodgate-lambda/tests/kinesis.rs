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
