//! Exactly-once counting for streamed batches (CloudWatch Logs subscriptions, Kinesis).
//!
//! A log object is counted once because its id (bucket, key, version or ETag) goes into
//! [`State::processed`]. A streamed batch has no object, so it gets an id of the same kind,
//! starting with [`STREAM_PREFIX`], and two rules make redeliveries count nothing twice:
//!
//! * **CloudWatch Logs** delivers a batch again as the same payload (Lambda's asynchronous
//!   retries, the subscription's own retries). Its id is a 64-bit FNV-1a hash of the log
//!   group, the log stream, the first and last event ids and the number of events
//!   ([`payload_id`]): the same payload is skipped whole, before it is parsed.
//! * **Kinesis** hands a shard's records to one invocation at a time, in sequence order
//!   (parallelization factor 1, which the stack sets). A retry starts again from the lowest
//!   failed sequence number, possibly split in halves (`BisectBatchOnFunctionError`), possibly
//!   with more records after it. The batch id names its shard and its first and last sequence
//!   numbers ([`kinesis_id`]), and the shard's *checkpoint* is the highest last sequence number
//!   among them ([`kinesis_checkpoint`]): records at or below it were counted and are dropped
//!   one by one, the rest are new.
//!
//! **How long ids are kept, and why that is enough.** A stream id is kept while the watermark
//! at which its batch was counted is at or after the settled line (see the module docs of
//! [`crate::state`]): once the settled line passes it, every request of the batch is older than
//! the settled line, so a redelivery would be counted as *late* (in the report, never in a
//! window) even without the id. Memory is therefore bounded by the batches of one horizon
//! (longest window + lateness, 20 minutes with the defaults): at one batch per second per
//! shard or log stream, about 1,200 ids each. Object ids are kept for `ban.memory`, as
//! before, because a log object can arrive hours late and still be in time.

use super::State;
use std::cmp::Ordering;

/// Every stream batch id starts with this (object ids start with `s3://` or a path).
pub const STREAM_PREFIX: &str = "stream:";

/// Whether `id` names a streamed batch (kept only to the settled line, see the module docs).
pub fn is_stream_id(id: &str) -> bool {
    id.starts_with(STREAM_PREFIX)
}

/// The id of a payload that is redelivered identically: `stream:KIND:` and 16 hex digits of
/// the FNV-1a hash of `parts` (each followed by a 0 byte, so parts cannot run together).
pub fn payload_id(kind: &str, parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{STREAM_PREFIX}{kind}:{h:016x}")
}

/// The prefix of every batch id of one Kinesis shard.
pub fn kinesis_prefix(stream: &str, shard: &str) -> String {
    format!("{STREAM_PREFIX}kinesis:{stream}/{shard}#")
}

/// The id of a Kinesis batch: its shard and its first and last sequence numbers.
pub fn kinesis_id(stream: &str, shard: &str, first: &str, last: &str) -> String {
    format!("{}{first}-{last}", kinesis_prefix(stream, shard))
}

/// The highest sequence number counted from `shard` (records at or below it are redeliveries).
pub fn kinesis_checkpoint<'a>(state: &'a State, stream: &str, shard: &str) -> Option<&'a str> {
    let prefix = kinesis_prefix(stream, shard);
    state
        .processed
        .range(prefix.clone()..)
        .take_while(|(id, _)| id.starts_with(&prefix))
        .filter_map(|(id, _)| id[prefix.len()..].split_once('-').map(|(_, last)| last))
        .max_by(|a, b| seq_cmp(a, b))
}

/// Compare two decimal sequence numbers (Kinesis writes up to 128 digits, more than any
/// integer type holds) as numbers: by length once leading zeros are gone, then by digits.
pub fn seq_cmp(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert_eq!(seq_cmp("9", "10"), Ordering::Less);
        assert_eq!(seq_cmp("0010", "10"), Ordering::Equal);
        let big = "49590338271490256608559692538361571095921575989136588898";
        let bigger = "49590338271490256608559692538361571095921575989136588899";
        assert_eq!(seq_cmp(big, bigger), Ordering::Less);
        assert_eq!(seq_cmp(bigger, big), Ordering::Greater);
    }

    #[test]
    fn the_checkpoint_is_the_highest_last_number_of_the_shard() {
        let mut s = State::default();
        s.processed.insert(kinesis_id("st", "shard-1", "5", "9"), 0);
        s.processed
            .insert(kinesis_id("st", "shard-1", "10", "100"), 0);
        s.processed
            .insert(kinesis_id("st", "shard-10", "1", "999"), 0);
        s.processed.insert("s3://b/k#e".into(), 0);
        assert_eq!(kinesis_checkpoint(&s, "st", "shard-1"), Some("100"));
        assert_eq!(kinesis_checkpoint(&s, "st", "shard-10"), Some("999"));
        assert_eq!(kinesis_checkpoint(&s, "st", "shard-2"), None);
        assert!(is_stream_id(&kinesis_id("st", "shard-1", "5", "9")));
    }

    #[test]
    fn payload_ids_separate_their_parts() {
        let a = payload_id("cwl", &["g", "s1", "1", "2"]);
        assert_eq!(a, payload_id("cwl", &["g", "s1", "1", "2"]));
        assert_ne!(a, payload_id("cwl", &["g", "s", "11", "2"]));
        assert!(a.starts_with("stream:cwl:") && a.len() == "stream:cwl:".len() + 16);
    }
}
