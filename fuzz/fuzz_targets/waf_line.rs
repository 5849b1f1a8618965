//! One WAF JSON line (possibly several objects back to back) through the WAF parser.
#![no_main]

use floodgate_core::formats::waf;
use floodgate_core::reject::RejectReason;
use floodgate_fuzz::{check_request, options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let [b0, rest @ ..] = input else { return };
    let Ok(line) = std::str::from_utf8(rest) else {
        return;
    };
    let client = options(0, *b0).client_ip;
    let mut n = 0u32;
    let result = waf::parse_line(line, &client, &mut |r: floodgate_core::Request<'_>| {
        check_request(&r);
        n += 1;
    });
    if !line.contains('{') {
        assert_eq!(n, 0, "a record without a JSON object");
    }
    if let Err(e) = &result {
        assert_ne!(e.reason, RejectReason::LineTooLong);
    }
    // Deterministic: a second parse gives the same verdict and count.
    let mut m = 0u32;
    let again = waf::parse_line(line, &client, &mut |_r: floodgate_core::Request<'_>| m += 1);
    assert_eq!(
        (n, result.map_err(|e| e.reason)),
        (m, again.map_err(|e| e.reason))
    );
});
