//! Incoming events, recognised by shape: an S3 notification, an SQS batch whose bodies are S3
//! notifications, or an EventBridge scheduled event. Parsing never panics: a malformed event
//! is an error, a malformed SQS message is a failure of that message only.

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::SqsEvent;
use floodgate_aws::ObjectRef;
use serde_json::Value;

/// One SQS message and the objects its body names (or why it could not be read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqsItem {
    /// Message id (the `itemIdentifier` of a batch item failure).
    pub message_id: String,
    /// Created objects named by the notification (none for `s3:TestEvent`).
    pub objects: Result<Vec<ObjectRef>, String>,
}

/// What the function was invoked with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A direct S3 notification: the created objects.
    S3(Vec<ObjectRef>),
    /// An SQS batch.
    Sqs(Vec<SqsItem>),
    /// The schedule: expire bans, reconcile the IP sets.
    Scheduled,
}

/// An event of no known shape.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unrecognised event: {0}")]
pub struct EventError(pub String);

/// Decode an S3 key as it appears in notifications: form-encoded (`+` is a space, `%xx`).
pub fn decode_key(raw: &str) -> Result<String, String> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("key {raw:?} is not UTF-8 once decoded"))
}

fn is_s3_test_event(v: &Value) -> bool {
    v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

/// The created objects of an S3 notification (other event names are ignored).
pub fn s3_objects(v: Value) -> Result<Vec<ObjectRef>, String> {
    if is_s3_test_event(&v) {
        return Ok(Vec::new());
    }
    let event: S3Event =
        serde_json::from_value(v).map_err(|e| format!("not an S3 notification: {e}"))?;
    let mut out = Vec::new();
    for r in event.records {
        let name = r.event_name.as_deref().unwrap_or("");
        if !name.starts_with("ObjectCreated") {
            continue;
        }
        let bucket =
            r.s3.bucket
                .name
                .clone()
                .ok_or("S3 record without a bucket name")?;
        let raw =
            r.s3.object
                .key
                .clone()
                .ok_or("S3 record without an object key")?;
        out.push(ObjectRef {
            bucket,
            key: decode_key(&raw)?,
            version_id: r.s3.object.version_id.clone().filter(|v| !v.is_empty()),
            etag: r
                .s3
                .object
                .e_tag
                .as_deref()
                .map(floodgate_aws::objects::clean_etag)
                .filter(|e| !e.is_empty()),
            size: r.s3.object.size.and_then(|n| u64::try_from(n).ok()),
        });
    }
    Ok(out)
}

/// Recognise and parse an event.
pub fn parse(v: Value) -> Result<Event, EventError> {
    if v.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        return Ok(Event::Scheduled);
    }
    if is_s3_test_event(&v) {
        return Ok(Event::S3(Vec::new()));
    }
    let source = v
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource").or_else(|| r.get("EventSource")))
        .and_then(Value::as_str)
        .map(str::to_string);
    match source.as_deref() {
        Some("aws:sqs") => {
            let event: SqsEvent =
                serde_json::from_value(v).map_err(|e| EventError(format!("SQS event: {e}")))?;
            let items = event
                .records
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    let message_id = m.message_id.unwrap_or_else(|| format!("#{i}"));
                    let objects = match m.body.as_deref().map(serde_json::from_str::<Value>) {
                        None => Err("message without a body".to_string()),
                        Some(Err(e)) => Err(format!("body is not JSON: {e}")),
                        Some(Ok(body)) => s3_objects(body),
                    };
                    SqsItem {
                        message_id,
                        objects,
                    }
                })
                .collect();
            Ok(Event::Sqs(items))
        }
        Some("aws:s3") => s3_objects(v).map(Event::S3).map_err(EventError),
        _ if v
            .get("Records")
            .is_some_and(|r| r.as_array().is_some_and(Vec::is_empty)) =>
        {
            Ok(Event::S3(Vec::new()))
        }
        _ => {
            let mut shape = v.to_string();
            // Cut on a character boundary: `truncate` panics inside a multi-byte character
            // (found by the fuzz target `lambda_event`).
            let mut cut = shape.len().min(200);
            while !shape.is_char_boundary(cut) {
                cut -= 1;
            }
            shape.truncate(cut);
            Err(EventError(shape))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn s3_record(bucket: &str, key: &str, etag: &str) -> Value {
        json!({
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-11-02T10:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:X"},
            "requestParameters": {"sourceIPAddress": "10.0.0.1"},
            "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "I"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": bucket, "ownerIdentity": {"principalId": "P"}, "arn": format!("arn:aws:s3:::{bucket}")},
                   "object": {"key": key, "size": 10, "eTag": etag, "sequencer": "0A"}}
        })
    }

    #[test]
    fn s3_keys_are_form_decoded() {
        let ev = json!({"Records": [s3_record("b", "logs/a+b%2Bc%3D.gz", "e1")]});
        let Event::S3(objs) = parse(ev).unwrap() else {
            panic!()
        };
        assert_eq!(objs[0].key, "logs/a b+c=.gz");
        assert_eq!(objs[0].id(), "s3://b/logs/a b+c=.gz#e1");
        assert!(decode_key("%FF").is_err());
    }

    #[test]
    fn sqs_messages_fail_one_by_one() {
        let body = json!({"Records": [s3_record("b", "k.gz", "e")]}).to_string();
        let test =
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}).to_string();
        let ev = json!({"Records": [
            {"messageId": "m1", "body": body, "eventSource": "aws:sqs"},
            {"messageId": "m2", "body": test, "eventSource": "aws:sqs"},
            {"messageId": "m3", "body": "{not json", "eventSource": "aws:sqs"},
            {"messageId": "m4", "body": "{\"Records\": [{\"s3\": 1}]}", "eventSource": "aws:sqs"},
        ]});
        let Event::Sqs(items) = parse(ev).unwrap() else {
            panic!()
        };
        assert_eq!(items[0].objects.as_ref().unwrap().len(), 1);
        assert_eq!(items[1].objects, Ok(vec![]));
        assert!(items[2].objects.is_err());
        assert!(items[3].objects.is_err());
    }

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
        assert_eq!(parse(json!({"Records": []})).unwrap(), Event::S3(vec![]));
    }
}
