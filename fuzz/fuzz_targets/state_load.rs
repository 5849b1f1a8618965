//! `State::load` on arbitrary bytes (half the time behind a valid magic and version, so the
//! postcard body is reached): an error or a state that saves and loads back to the same bytes.
//! libFuzzer's malloc limit (= -rss_limit_mb) turns any huge allocation into a crash.
#![no_main]

use floodgate_core::state::{State, MAGIC, VERSION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some(bytes) = floodgate_fuzz::behind_header(input, MAGIC, VERSION) else {
        return;
    };
    if let Ok(state) = State::load(&bytes) {
        let saved = state.save();
        let back = State::load(&saved).expect("a saved state loads");
        assert_eq!(back.save(), saved, "save ∘ load is stable");
    }
});
