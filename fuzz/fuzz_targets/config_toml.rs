//! `Config::from_toml` on arbitrary UTF-8: an error or a configuration within the documented
//! bounds, never a panic.
#![no_main]

use floodgate_core::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    match Config::from_toml(text) {
        Err(e) => assert!(!e.to_string().is_empty()),
        Ok(c) => {
            let w = c.max_window_ms();
            assert!(
                (1_000..=86_400_000).contains(&w) || c.rules.is_empty(),
                "window {w}"
            );
            assert!(c.engine.resolution_ms >= 1_000);
            assert!(c.source.max_line_bytes > 0);
        }
    }
});
