//! A CloudFront data line after a fixed, real `#Fields` header (33 columns).
#![no_main]

use floodgate_core::formats::cloudfront;
use floodgate_core::formats::LineParser;
use floodgate_fuzz::{check_request, options};
use libfuzzer_sys::fuzz_target;

const HEADER: [&str; 2] = [
    "#Version: 1.0",
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end",
];

fuzz_target!(|input: &[u8]| {
    let [b0, rest @ ..] = input else { return };
    let Ok(line) = std::str::from_utf8(rest) else {
        return;
    };
    let mut p = LineParser::new(options(0, *b0).client_ip);
    for h in HEADER {
        p.parse(h, &mut |_r: floodgate_core::Request<'_>| {
            panic!("a header is no record")
        })
        .expect("the fixed header is valid");
    }
    assert_eq!(p.format(), Some(cloudfront::FORMAT));
    let mut n = 0u32;
    let result = p.parse(line, &mut |r: floodgate_core::Request<'_>| {
        check_request(&r);
        n += 1;
    });
    match result {
        Err(_) => assert_eq!(n, 0, "a rejected line emitted a record"),
        Ok(()) if line.trim().is_empty() || line.starts_with('#') => assert_eq!(n, 0),
        Ok(()) => assert_eq!(n, 1, "a data line is exactly one record or one rejection"),
    }
});
