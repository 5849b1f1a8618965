//! One ALB access log line through the ALB parser.
#![no_main]

use floodgate_core::formats::alb;
use floodgate_fuzz::check_request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(line) = std::str::from_utf8(input) else {
        return;
    };
    let _ = floodgate_core::formats::LogFormat::detect(&alb::Alb, line);
    let mut n = 0u32;
    let result = alb::parse_line(line, &mut |r: floodgate_core::Request<'_>| {
        check_request(&r);
        n += 1;
    });
    match result {
        Err(_) => assert_eq!(n, 0, "a rejected line emitted a record"),
        Ok(()) if line.trim().is_empty() => assert_eq!(n, 0),
        Ok(()) => assert_eq!(n, 1, "a line is exactly one record or one rejection"),
    }
});
