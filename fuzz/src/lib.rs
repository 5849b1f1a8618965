//! Invariants shared by the fuzz targets. Each target asserts properties, not just "no panic":
//! every emitted record is sane, and every line read is accounted for exactly once.

use floodgate_core::formats::{cloudfront, LineParser};
use floodgate_core::timefmt;
use floodgate_core::{ClientIpSource, Format, IngestOptions, Request};

/// What every emitted [`Request`] must satisfy, whatever the input.
pub fn check_request(r: &Request<'_>) {
    assert!(
        timefmt::in_range(r.time_ms),
        "record time {} outside 2000..2100",
        r.time_ms
    );
    assert_eq!(
        r.client,
        r.client.to_canonical(),
        "IPv4-mapped client {} not normalised",
        r.client
    );
}

/// Ingest options chosen by the first two bytes of a fuzz input (the rest is the log):
/// a line cap between 64 B and 32 KiB, and the client source (`source` or x-forwarded-for
/// with 0..=3 trusted proxies).
pub fn options(b0: u8, b1: u8) -> IngestOptions {
    IngestOptions {
        client_ip: if b1 & 1 == 0 {
            ClientIpSource::Source
        } else {
            ClientIpSource::ForwardedFor {
                trusted_proxies: u32::from((b1 >> 1) & 3),
            }
        },
        max_line_bytes: 64 << (b0 % 10),
        ..IngestOptions::default()
    }
}

/// A straightforward model of `read_log` over plain (not gzip) bytes: split on `\n`, drop one
/// trailing `\r`, apply the length cap and the UTF-8 check, parse each line on its own.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Model {
    /// Lines read.
    pub lines: u64,
    /// Records emitted.
    pub records: u64,
    /// Lines that were rejected.
    pub rejected: u64,
    /// Lines that gave a record and no rejection.
    pub record_lines: u64,
    /// Blank lines and CloudFront `#` headers: neither a record nor a rejection.
    pub silent: u64,
    /// Detected format.
    pub format: Option<Format>,
    /// `read_log` must stop with `IngestError::Unusable` (the format cannot be read with
    /// these options, e.g. x-forwarded-for on ALB).
    pub unusable: bool,
}

/// See [`Model`].
pub fn model(data: &[u8], opts: &IngestOptions) -> Model {
    let mut m = Model::default();
    let mut parser = LineParser::new(opts.client_ip);
    let mut pieces: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop(); // a final newline ends the last line; it does not start another
    }
    for piece in pieces {
        m.lines += 1;
        let raw = piece.strip_suffix(b"\r").unwrap_or(piece);
        if raw.len() > opts.max_line_bytes {
            m.rejected += 1;
            continue;
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            m.rejected += 1;
            continue;
        };
        let mut n = 0u64;
        let result = parser.parse(text, &mut |r: Request<'_>| {
            check_request(&r);
            n += 1;
        });
        if parser.unusable().is_some() {
            m.unusable = true;
            return m;
        }
        m.records += n;
        match result {
            Err(_) => m.rejected += 1,
            Ok(()) if n > 0 => m.record_lines += 1,
            Ok(()) => {
                assert!(
                    text.trim().is_empty()
                        || (parser.format() == Some(cloudfront::FORMAT) && text.starts_with('#')),
                    "a line that is neither blank nor a header gave no record and no rejection: {text:?}"
                );
                m.silent += 1;
            }
        }
    }
    m.format = parser.format();
    m
}

/// gzip `data` as one member.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}
