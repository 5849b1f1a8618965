//! S3 "object created" events in the three envelopes accounts route them through: the S3
//! notification (`Records[].s3`), EventBridge (`source: aws.s3`, `detail-type: Object
//! Created`), and either of them as the body of an SQS message, also wrapped in an SNS
//! notification (S3 → SNS → SQS). Other event names (deletions, restores) name no new log.

use super::shape;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::SqsEvent;
use floodgate_aws::ObjectRef;
use serde_json::Value;

/// One SQS message and the objects its body names (or why it could not be read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqsItem {
    /// Message id (the `itemIdentifier` of a batch item failure).
    pub message_id: String,
    /// Created objects named by the body (none for `s3:TestEvent`).
    pub objects: Result<Vec<ObjectRef>, String>,
}

/// Decode an S3 key as it appears in notifications: form-encoded (`+` is a space, `%xx`).
/// EventBridge's S3 events encode keys the same way (AWS's own Powertools decodes them so).
pub fn decode_key(raw: &str) -> Result<String, String> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("key {raw:?} is not UTF-8 once decoded"))
}

/// The test event S3 sends when a notification is configured.
pub fn is_test_event(v: &Value) -> bool {
    v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

/// The created objects of an S3 notification (other event names are ignored).
pub fn s3_objects(v: Value) -> Result<Vec<ObjectRef>, String> {
    if is_test_event(&v) {
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

/// The object of an EventBridge S3 event: `Object Created` names one; other S3 event types
/// (`Object Deleted`, …) name none.
pub fn eventbridge_objects(v: &Value) -> Result<Vec<ObjectRef>, String> {
    if v.get("detail-type").and_then(Value::as_str) != Some("Object Created") {
        return Ok(Vec::new());
    }
    let detail = v
        .get("detail")
        .ok_or("EventBridge S3 event without detail")?;
    let text = |path: &[&str]| -> Option<&str> {
        path.iter()
            .try_fold(detail, |at, k| at.get(k))
            .and_then(Value::as_str)
    };
    let bucket =
        text(&["bucket", "name"]).ok_or("EventBridge S3 event without detail.bucket.name")?;
    let raw = text(&["object", "key"]).ok_or("EventBridge S3 event without detail.object.key")?;
    Ok(vec![ObjectRef {
        bucket: bucket.to_string(),
        key: decode_key(raw)?,
        version_id: text(&["object", "version-id"])
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        etag: text(&["object", "etag"])
            .map(floodgate_aws::objects::clean_etag)
            .filter(|e| !e.is_empty()),
        size: detail
            .get("object")
            .and_then(|o| o.get("size"))
            .and_then(Value::as_u64),
    }])
}

/// The objects an SQS message body names: an S3 notification or test event, an EventBridge S3
/// event, or either inside an SNS notification's `Message`.
pub fn body_objects(body: &str) -> Result<Vec<ObjectRef>, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("body is not JSON: {e}"))?;
    if v.get("Type").and_then(Value::as_str) == Some("Notification") {
        let inner = v
            .get("Message")
            .and_then(Value::as_str)
            .ok_or("SNS notification without a Message")?;
        return body_objects(inner);
    }
    if v.get("source").and_then(Value::as_str) == Some("aws.s3") {
        return eventbridge_objects(&v);
    }
    if v.get("Records").is_some() || is_test_event(&v) {
        return s3_objects(v);
    }
    Err(format!("not an S3 event: {}", shape(&v)))
}

/// The messages of an SQS batch, each with its objects or its own error.
pub fn sqs_items(v: Value) -> Result<Vec<SqsItem>, String> {
    let event: SqsEvent = serde_json::from_value(v).map_err(|e| format!("SQS event: {e}"))?;
    Ok(event
        .records
        .into_iter()
        .enumerate()
        .map(|(i, m)| SqsItem {
            message_id: m.message_id.unwrap_or_else(|| format!("#{i}")),
            objects: match m.body.as_deref() {
                None => Err("message without a body".to_string()),
                Some(body) => body_objects(body),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Event};
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

    fn eventbridge(bucket: &str, key: &str) -> Value {
        json!({"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
               "detail-type": "Object Created", "source": "aws.s3", "account": "111122223333",
               "time": "2021-11-12T00:00:00Z", "region": "ca-central-1",
               "resources": [format!("arn:aws:s3:::{bucket}")],
               "detail": {"version": "0", "bucket": {"name": bucket},
                          "object": {"key": key, "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184",
                                     "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "sequencer": "617f08299329d189"},
                          "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                          "source-ip-address": "1.2.3.4", "reason": "PutObject"}})
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
    fn eventbridge_object_created_direct_and_through_sqs() {
        let Event::S3(objs) = parse(eventbridge("logs", "AWSLogs/a+b.gz")).unwrap() else {
            panic!()
        };
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].key, "AWSLogs/a b.gz");
        assert_eq!(
            objs[0].version_id.as_deref(),
            Some("IYV3p45BT0ac8hjHg1houSdS1a.Mro8e")
        );
        assert_eq!(objs[0].size, Some(5));
        let mut deleted = eventbridge("logs", "k");
        deleted["detail-type"] = json!("Object Deleted");
        assert_eq!(parse(deleted).unwrap(), Event::S3(vec![]));
        let ev = json!({"Records": [
            {"messageId": "m1", "body": eventbridge("logs", "k.gz").to_string(), "eventSource": "aws:sqs"},
        ]});
        let Event::Sqs(items) = parse(ev).unwrap() else {
            panic!()
        };
        assert_eq!(items[0].objects.as_ref().unwrap()[0].key, "k.gz");
    }

    #[test]
    fn sqs_messages_fail_one_by_one() {
        let body = json!({"Records": [s3_record("b", "k.gz", "e")]}).to_string();
        let test =
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}).to_string();
        let sns = json!({"Type": "Notification", "MessageId": "x", "Message": body}).to_string();
        let ev = json!({"Records": [
            {"messageId": "m1", "body": body, "eventSource": "aws:sqs"},
            {"messageId": "m2", "body": test, "eventSource": "aws:sqs"},
            {"messageId": "m3", "body": "{not json", "eventSource": "aws:sqs"},
            {"messageId": "m4", "body": "{\"Records\": [{\"s3\": 1}]}", "eventSource": "aws:sqs"},
            {"messageId": "m5", "body": sns, "eventSource": "aws:sqs"},
            {"messageId": "m6", "body": "{\"hello\": 1}", "eventSource": "aws:sqs"},
        ]});
        let Event::Sqs(items) = parse(ev).unwrap() else {
            panic!()
        };
        assert_eq!(items[0].objects.as_ref().unwrap().len(), 1);
        assert_eq!(items[1].objects, Ok(vec![]));
        assert!(items[2].objects.is_err());
        assert!(items[3].objects.is_err());
        assert_eq!(items[4].objects.as_ref().unwrap()[0].key, "k.gz");
        assert!(items[5]
            .objects
            .as_ref()
            .unwrap_err()
            .contains("not an S3 event"));
    }
}
