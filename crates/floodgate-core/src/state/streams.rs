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
//!   numbers ([`kinesis_id`]); a record is dropped as counted only when it lies inside one of
//!   the shard's committed ranges ([`kinesis_ranges`]). There is no single "highest counted"
//!   checkpoint: a batch that failed and went to the failure destination while later batches
//!   committed is still counted when it is replayed (a checkpoint would have skipped it for
//!   good), and a commit covers only a prefix of what was delivered, never a record it did not
//!   read.
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

/// The ranges `(first, last)` of sequence numbers of `shard` that committed batches covered
/// (a record inside one was counted; see the module docs).
pub fn kinesis_ranges<'a>(state: &'a State, stream: &str, shard: &str) -> Vec<(&'a str, &'a str)> {
    let prefix = kinesis_prefix(stream, shard);
    state
        .processed
        .range(prefix.clone()..)
        .take_while(|(id, _)| id.starts_with(&prefix))
        .filter_map(|(id, _)| id.get(prefix.len()..)?.split_once('-'))
        .collect()
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
    fn the_committed_ranges_are_those_of_the_shard_only() {
        let mut s = State::default();
        s.processed.insert(kinesis_id("st", "shard-1", "5", "9"), 0);
        s.processed
            .insert(kinesis_id("st", "shard-1", "10", "100"), 0);
        s.processed
            .insert(kinesis_id("st", "shard-10", "1", "999"), 0);
        s.processed.insert("s3://b/k#e".into(), 0);
        let mut one = kinesis_ranges(&s, "st", "shard-1");
        one.sort_by(|a, b| seq_cmp(a.0, b.0));
        assert_eq!(one, vec![("5", "9"), ("10", "100")]);
        assert_eq!(kinesis_ranges(&s, "st", "shard-10"), vec![("1", "999")]);
        assert!(kinesis_ranges(&s, "st", "shard-2").is_empty());
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
