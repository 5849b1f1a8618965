//! Incoming events, recognised by shape. Parsing never panics: an event of no known shape is
//! an error; a malformed SQS message or Kinesis record is a failure of that item only.
//!
//! | Event | Module | Unit of retry |
//! |---|---|---|
//! | S3 notification (direct, or an SQS message body, or SNS-wrapped in one) | [`s3`] | the SQS message |
//! | EventBridge "Object Created" from `aws.s3` (direct, or an SQS message body) | [`s3`] | the SQS message |
//! | CloudWatch Logs subscription (`{"awslogs":{"data":…}}`) | [`streams`] | the whole payload |
//! | Kinesis Data Streams batch (CloudFront real-time records) | [`streams`] | from the first failed sequence number |
//! | EventBridge schedule (`Scheduled Event`) | here | the invocation |

pub mod s3;
pub mod streams;

pub use s3::{decode_key, s3_objects, SqsItem};
pub use streams::{KinesisRecord, LogsBatch};

use floodgate_aws::ObjectRef;
use serde_json::Value;

/// What the function was invoked with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// S3 created objects (an S3 notification or an EventBridge S3 event sent directly).
    S3(Vec<ObjectRef>),
    /// An SQS batch.
    Sqs(Vec<SqsItem>),
    /// A CloudWatch Logs subscription delivery (`None`: a control message, nothing to read).
    Logs(Option<LogsBatch>),
    /// A Kinesis batch, in sequence order.
    Kinesis(Vec<KinesisRecord>),
    /// The schedule: expire bans, reconcile the IP sets.
    Scheduled,
}

/// An event of no known shape.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unrecognised event: {0}")]
pub struct EventError(pub String);

/// At most 200 bytes of `v`, cut on a character boundary, for an error message.
pub(crate) fn shape(v: &Value) -> String {
    let mut text = v.to_string();
    // `truncate` panics inside a multi-byte character (found by the fuzz target `lambda_event`).
    let mut cut = text.len().min(200);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

/// Recognise and parse an event.
pub fn parse(v: Value) -> Result<Event, EventError> {
    if v.get("awslogs").is_some() {
        return streams::logs_batch(&v).map(Event::Logs).map_err(EventError);
    }
    match (
        v.get("source").and_then(Value::as_str),
        v.get("detail-type").and_then(Value::as_str),
    ) {
        (_, Some("Scheduled Event")) => return Ok(Event::Scheduled),
        (Some("aws.s3"), Some(_)) => {
            return s3::eventbridge_objects(&v)
                .map(Event::S3)
                .map_err(EventError)
        }
        _ => {}
    }
    if s3::is_test_event(&v) {
        return Ok(Event::S3(Vec::new()));
    }
    let records = v.get("Records").and_then(Value::as_array);
    let source = records
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource").or_else(|| r.get("EventSource")))
        .and_then(Value::as_str);
    match source {
        Some("aws:sqs") => s3::sqs_items(v).map(Event::Sqs).map_err(EventError),
        Some("aws:s3") => s3_objects(v).map(Event::S3).map_err(EventError),
        Some("aws:kinesis") => Ok(Event::Kinesis(streams::kinesis_records(
            records.map_or(&[][..], Vec::as_slice),
        ))),
        _ if records.is_some_and(Vec::is_empty) => Ok(Event::S3(Vec::new())),
        _ => Err(EventError(shape(&v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_unrecognised_event_with_multibyte_text_is_an_error_not_a_panic() {
        // 199 ASCII bytes of JSON before a 3-byte character: byte 200 falls inside it.
        let v = json!({ "x": format!("{}\u{0c00}", "a".repeat(193)) });
        let e = parse(v).unwrap_err();
        assert!(e.0.len() <= 200 && e.0.starts_with("{\"x\":\"aaa"));
    }

    #[test]
    fn schedule_and_garbage() {
        let ev = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event",
                        "source": "aws.events", "time": "2026-11-02T10:00:00Z", "detail": {}});
        assert_eq!(parse(ev).unwrap(), Event::Scheduled);
        assert!(parse(json!({"hello": 1})).is_err());
        assert!(parse(json!([1, 2])).is_err());
        assert!(parse(json!({"Records": [{"eventSource": "aws:s3"}]})).is_err());
        assert!(parse(json!({"awslogs": {"data": "not base64!"}})).is_err());
        assert_eq!(parse(json!({"Records": []})).unwrap(), Event::S3(vec![]));
    }
}
