//! The Lambda's event recognition (`floodgate_lambda::events::parse`) on arbitrary JSON, and
//! S3 key decoding on arbitrary text: an event or an error, never a panic, and the same
//! answer twice. A Kinesis event's records (real-time lines or CloudWatch Logs payloads, which
//! are gzip inside base64) become batches whose ids name their shard; once those ids are in the
//! state, a redelivery of records in sequence order reads nothing. Built only with
//! `--features lambda` (FUZZ_LAMBDA=1 in tests/fuzz_smoke.sh).
#![no_main]

use floodgate_core::state::streams::{kinesis_prefix, seq_cmp};
use floodgate_core::state::State;
use floodgate_lambda::events::{self, Event};
use floodgate_lambda::streams::kinesis_batches;
use std::cmp::Ordering;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = events::decode_key(text) {
            assert!(key.len() <= text.len(), "decoding never grows a key");
        }
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let first = events::parse(v.clone());
    assert_eq!(first, events::parse(v), "deterministic");
    // (An SQS message id is passed through as given, even when empty; Lambda then retries the
    // whole batch, which is safe, so it is not asserted here.)
    if let Ok(Event::S3(objects)) = &first {
        assert!(objects.len() <= data.len(), "no object without input");
    }
    if let Ok(Event::Kinesis(records)) = &first {
        let out = kinesis_batches(records, &State::default(), |_| None);
        assert_eq!(out.dropped, 0, "an empty state has no committed range");
        assert!(out.unread.is_empty(), "no deadline: every record is read");
        assert!(out.batches.len() <= records.len(), "a batch holds a record at least");
        let mut state = State::default();
        for b in &out.batches {
            assert!(b.id.starts_with("stream:kinesis:"), "{}", b.id);
            assert!(b.lines.is_empty() || b.lines.ends_with(b"\n"));
            state.processed.insert(b.id.clone(), 0);
        }
        // Kinesis delivers a shard's records in increasing sequence numbers: then a
        // redelivery of the same records reads nothing, and drops every record of a shard
        // that made a batch (a shard of control messages only made none and commits nothing:
        // it is read again, and counts nothing again). (A shard is named by its stream's name,
        // as in the state's ids.)
        let in_order = records.iter().enumerate().all(|(i, r)| {
            records[..i]
                .iter()
                .filter(|p| p.stream_name() == r.stream_name() && p.shard == r.shard)
                .all(|p| seq_cmp(&p.sequence, &r.sequence) == Ordering::Less)
        });
        if in_order && records.len() <= 64 {
            let again = kinesis_batches(records, &state, |_| None);
            assert!(again.batches.is_empty(), "a redelivery was counted again");
            let batched = records
                .iter()
                .filter(|r| {
                    let prefix = kinesis_prefix(r.stream_name(), &r.shard);
                    out.batches.iter().any(|b| b.id.starts_with(&prefix))
                })
                .count();
            assert!(again.dropped >= batched, "{} of {batched}", again.dropped);
        }
    }
});
