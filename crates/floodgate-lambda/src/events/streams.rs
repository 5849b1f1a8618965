//! Streamed log records: CloudWatch Logs subscription deliveries and Kinesis batches.
//!
//! A CloudWatch Logs delivery is `{"awslogs":{"data": base64(gzip(JSON))}}` whose
//! `logEvents[].message` are WAF records (log groups `aws-waf-logs-*`) or CloudFront
//! standard-logging-v2 JSON records; a `CONTROL_MESSAGE` (CloudWatch checking the destination)
//! carries no log. A Kinesis event carries CloudFront real-time log records, one per record,
//! base64 in `kinesis.data`, all from one shard; or, when a subscription filter delivers to a
//! Kinesis stream (the way to batch an attack's volume), one subscription payload per record.

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use std::io::Read;

/// Largest decompressed CloudWatch Logs payload read. A delivery is at most 1 MB compressed
/// and its events at most 1 MB each; anything past this is a bomb, not a log.
pub const MAX_LOGS_PAYLOAD_BYTES: u64 = 64 << 20;

/// One CloudWatch Logs event.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct LogEvent {
    /// The event id (a decimal string, unique per log group).
    #[serde(default)]
    pub id: String,
    /// Ingestion time, ms since the epoch.
    #[serde(default)]
    pub timestamp: i64,
    /// One log record.
    #[serde(default)]
    pub message: String,
}

/// A decoded CloudWatch Logs subscription delivery.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsBatch {
    /// Account that owns the log group.
    #[serde(default)]
    pub owner: String,
    /// Log group name (checked against `FLOODGATE_LOG_GROUPS`).
    #[serde(default)]
    pub log_group: String,
    /// Log stream name.
    #[serde(default)]
    pub log_stream: String,
    /// `DATA_MESSAGE` or `CONTROL_MESSAGE`.
    #[serde(default)]
    pub message_type: String,
    /// The records, in order.
    #[serde(default)]
    pub log_events: Vec<LogEvent>,
}

/// Decode a subscription delivery; `Ok(None)` for a control message.
pub fn logs_batch(v: &Value) -> Result<Option<LogsBatch>, String> {
    let data = v
        .get("awslogs")
        .and_then(|a| a.get("data"))
        .and_then(Value::as_str)
        .ok_or("CloudWatch Logs event without awslogs.data")?;
    let gz = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("awslogs.data is not base64: {e}"))?;
    logs_payload(&gz)
}

/// Whether a Kinesis record's data is a CloudWatch Logs subscription payload (gzip) rather
/// than a CloudFront real-time log record (text, which never starts with these bytes).
pub fn is_logs_payload(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

/// Decode a subscription payload, gzip'd JSON, as it arrives in `awslogs.data` or, through a
/// subscription filter whose destination is a Kinesis stream, as one record's data;
/// `Ok(None)` for a control message.
pub fn logs_payload(gz: &[u8]) -> Result<Option<LogsBatch>, String> {
    let (_, decoded) = floodgate_core::decode::open(gz)
        .map_err(|e| format!("awslogs.data does not decompress: {e}"))?;
    let mut json = Vec::new();
    decoded
        .take(MAX_LOGS_PAYLOAD_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("awslogs.data does not decompress: {e}"))?;
    if json.len() as u64 > MAX_LOGS_PAYLOAD_BYTES {
        return Err(format!(
            "awslogs.data decompresses past {MAX_LOGS_PAYLOAD_BYTES} bytes"
        ));
    }
    let batch: LogsBatch = serde_json::from_slice(&json)
        .map_err(|e| format!("awslogs.data is not a subscription payload: {e}"))?;
    match batch.message_type.as_str() {
        "CONTROL_MESSAGE" => Ok(None),
        "DATA_MESSAGE" => Ok(Some(batch)),
        other => Err(format!("awslogs messageType {other:?}")),
    }
}

/// One Kinesis record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KinesisRecord {
    /// `eventSourceARN`: the stream (checked against `FLOODGATE_STREAM_ARNS`).
    pub stream_arn: String,
    /// The shard, from `eventID` (`shardId-…:sequence`).
    pub shard: String,
    /// `kinesis.sequenceNumber` (the `itemIdentifier` of a batch item failure).
    pub sequence: String,
    /// The decoded record, or why it could not be decoded.
    pub data: Result<Vec<u8>, String>,
}

impl KinesisRecord {
    /// The stream's name: the part of the ARN after `stream/` (shorter ids in the state).
    pub fn stream_name(&self) -> &str {
        self.stream_arn
            .rsplit_once("stream/")
            .map_or(self.stream_arn.as_str(), |(_, n)| n)
    }
}

/// The records of a Kinesis event, each decoded on its own.
pub fn kinesis_records(records: &[Value]) -> Vec<KinesisRecord> {
    records
        .iter()
        .map(|r| {
            let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
            let kinesis = r.get("kinesis");
            let sequence = text(kinesis.and_then(|k| k.get("sequenceNumber")));
            let event_id = text(r.get("eventID"));
            let shard = event_id
                .rsplit_once(':')
                .map_or(event_id.as_str(), |(s, _)| s)
                .to_string();
            let data = match kinesis.and_then(|k| k.get("data")).and_then(Value::as_str) {
                None => Err("Kinesis record without kinesis.data".to_string()),
                Some(d) => base64::engine::general_purpose::STANDARD
                    .decode(d)
                    .map_err(|e| format!("kinesis.data is not base64: {e}")),
            };
            KinesisRecord {
                stream_arn: text(r.get("eventSourceARN")),
                shard,
                sequence,
                data,
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{parse, Event};
    use super::*;
    use serde_json::json;
    use std::io::Write;

    /// A subscription delivery as CloudWatch Logs sends it.
    pub(crate) fn awslogs(payload: &Value) -> Value {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(payload.to_string().as_bytes()).unwrap();
        let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        json!({"awslogs": {"data": data}})
    }

    #[test]
    fn a_delivery_decodes_and_a_control_message_is_nothing() {
        let payload = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012",
            "logGroup": "aws-waf-logs-x", "logStream": "us-east-1_acl_0",
            "subscriptionFilters": ["f"],
            "logEvents": [{"id": "3462", "timestamp": 1552518348220i64, "message": "{}"}]});
        let Event::Logs(Some(b)) = parse(awslogs(&payload)).unwrap() else {
            panic!()
        };
        assert_eq!(b.log_group, "aws-waf-logs-x");
        assert_eq!(b.log_events[0].id, "3462");
        let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs",
            "logGroup": "", "logStream": "", "subscriptionFilters": [],
            "logEvents": [{"id": "", "timestamp": 1600110003794i64,
                           "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]});
        assert_eq!(parse(awslogs(&control)).unwrap(), Event::Logs(None));
        let not_gzip = json!({"awslogs": {"data": "aGVsbG8="}});
        assert!(parse(not_gzip)
            .unwrap_err()
            .0
            .contains("subscription payload"));
    }

    #[test]
    fn kinesis_records_decode_one_by_one() {
        let rec = |seq: &str, data: &str| {
            json!({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "1",
                   "sequenceNumber": seq, "data": data, "approximateArrivalTimestamp": 1545084650.987},
                   "eventSource": "aws:kinesis", "eventVersion": "1.0",
                   "eventID": format!("shardId-000000000006:{seq}"),
                   "eventName": "aws:kinesis:record",
                   "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/rt"})
        };
        let ev = json!({"Records": [rec("1", "aGVsbG8="), rec("2", "%%%")]});
        let Event::Kinesis(r) = parse(ev).unwrap() else {
            panic!()
        };
        assert_eq!(r[0].data.as_deref(), Ok(&b"hello"[..]));
        assert_eq!(r[0].shard, "shardId-000000000006");
        assert_eq!(r[0].stream_name(), "rt");
        assert!(r[1].data.is_err());
    }
}
