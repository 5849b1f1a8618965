//! Invariants shared by the fuzz targets. Each target asserts properties, not just "no panic":
//! every emitted record is sane, and every line read is accounted for exactly once.

use floodgate_core::client_ip::Proxies;
use floodgate_core::formats::{cloudfront, cloudfront_realtime};
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
/// a line cap between 64 B and 32 KiB, the client source (`source`, x-forwarded-for
/// with 0..=2 trusted proxies, or with a `proxies` list), and by b1's top bits the real-time format forced (as a
/// Kinesis source does) and a `[source] web_acls` list (WAF records of other ACLs rejected).
/// b1 bits 3–4 are left to the targets.
pub fn options(b0: u8, b1: u8) -> IngestOptions {
    IngestOptions {
        client_ip: if b1 & 1 == 0 {
            ClientIpSource::Source
        } else if (b1 >> 1) & 3 == 3 {
            // `[source] proxies`: half of each address space is "a proxy", so both branches
            // (peer believed, header walked) are reached.
            ClientIpSource::ForwardedFor {
                trusted_proxies: 0,
                proxies: Proxies::new(vec![
                    "0.0.0.0/1".parse().expect("CIDR"),
                    "::/1".parse().expect("CIDR"),
                ]),
            }
        } else {
            ClientIpSource::ForwardedFor {
                trusted_proxies: u32::from((b1 >> 1) & 3),
                proxies: Proxies::default(),
            }
        },
        max_line_bytes: 64 << (b0 % 10),
        format: (b1 & 0x20 != 0).then_some(cloudfront_realtime::FORMAT),
        web_acls: if b1 & 0x40 != 0 {
            vec![WEB_ACL.to_string()]
        } else {
            Vec::new()
        },
        ..IngestOptions::default()
    }
}

/// The web ACL of `options`' `web_acls` (the WAF seeds' own).
pub const WEB_ACL: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/floodgate-demo-acl/3f9b2c1e-5d4a-4e8f-9b7c-0a1d2e3f4a5b";

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
    /// Blank lines, a bare `#` before the format is known, and CloudFront `#` headers: neither a
    /// record nor a rejection.
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
    let mut parser = opts.line_parser();
    let mut pieces: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop(); // a final newline ends the last line; it does not start another
    }
    // A Parquet object: every line rejected for being one.
    if data.starts_with(floodgate_core::ingest::PARQUET_MAGIC) {
        m.lines = pieces.len() as u64;
        m.rejected = m.lines;
        m.format = Some(floodgate_core::formats::unsupported::FORMAT);
        return m;
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
                        || (parser.format().is_none() && text.trim() == "#")
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

/// gzip `data` as one member of *stored* deflate blocks of `block` bytes (no compression): a
/// valid member that costs a copy and a CRC instead of a deflate state per input (building
/// one was a quarter of `read_log`'s time), so the target tests floodgate's handling of
/// members, blocks, truncation and caps at full speed. Inflate's compressed path is still
/// explored: inputs that start with the gzip magic (the `.gz` seeds and their mutants) are
/// read as they are.
pub fn gzip_stored(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(block.clamp(1, 65_535)).peekable();
    if chunks.peek().is_none() {
        out.extend([1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = chunk.len() as u16;
        out.push(u8::from(last));
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend(crc.sum().to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// The input the codec targets decode: when the first byte is even, the rest behind a valid
/// `magic` and little-endian `version` (so the body's decoder is reached), else the rest as it
/// is (so the header checks are too).
pub fn behind_header(input: &[u8], magic: &[u8], version: u32) -> Option<Vec<u8>> {
    let [b0, rest @ ..] = input else { return None };
    if b0 & 1 == 0 {
        let mut v = magic.to_vec();
        v.extend_from_slice(&version.to_le_bytes());
        v.extend_from_slice(rest);
        Some(v)
    } else {
        Some(rest.to_vec())
    }
}
