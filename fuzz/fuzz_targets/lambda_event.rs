//! The Lambda's event recognition (`floodgate_lambda::events::parse`) on arbitrary JSON, and
//! S3 key decoding on arbitrary text: an event or an error, never a panic, and the same
//! answer twice. Built only with `--features lambda` (FUZZ_LAMBDA=1 in tests/fuzz_smoke.sh).
#![no_main]

use floodgate_lambda::events::{self, Event};
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
});
