//! CloudFront standard access logs (W3C extended, tab-separated, hourly files).

use super::{replace_first, BAD_IP, BAD_TIME, HOST, INVALID_UTF8, NOT_UTF8};
use crate::catalog::{query_text, Catalog, UaKind, ASSETS, RES, UAS};
use crate::model::{Client, Event, FLAG_BLOCKED};
use crate::text::{push_fixed, push_u64};
use crate::time::{push_date, push_hms, Civil};
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

/// The current 33 columns.
pub const FIELDS: &str = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";

/// Number of columns in the older layout (up to `cs-protocol-version`).
pub const OLD_COLUMNS: usize = 24;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Appends the two header lines for a file with `columns` columns (33 or [`OLD_COLUMNS`]).
pub fn write_header(buf: &mut Vec<u8>, columns: usize) {
    buf.extend_from_slice(b"#Version: 1.0\n#Fields: ");
    let fields: Vec<&str> = FIELDS.split(' ').take(columns).collect();
    buf.extend_from_slice(fields.join(" ").as_bytes());
    buf.push(b'\n');
}

/// Options of one CloudFront line that are not part of the event.
pub struct LineStyle {
    /// 33 or [`OLD_COLUMNS`].
    pub columns: usize,
    /// Add a stray tab at the end of the line (seen in real logs).
    pub trailing_tab: bool,
    /// Percent-encode the user agent twice (`%2520`).
    pub double_encoded: bool,
}

/// What CloudFront did with a request, in the terms of its log fields; shared by the legacy
/// and the v2 outputs so the same event reads the same in each.
pub struct Outcome {
    /// `x-edge-result-type` (and `x-edge-response-result-type`).
    pub result: &'static str,
    /// `x-edge-detailed-result-type`.
    pub detailed: &'static str,
    /// Response body bytes (`sc-content-len`).
    pub body: u64,
    /// Bytes sent to the viewer, headers included (`sc-bytes`).
    pub sc_bytes: u64,
    /// `time-taken` in ms.
    pub taken_ms: u64,
}

impl Outcome {
    /// The outcome of `ev`: a cache hit for most assets, errors for 4xx/5xx and `000`.
    pub fn of(ev: &Event, rng: &mut ChaCha8Rng) -> Outcome {
        let res = &RES[ev.res as usize];
        let asset = ASSETS.contains(&ev.res);
        let blocked = ev.flags & FLAG_BLOCKED != 0;
        let (result, detailed) = match ev.status {
            0 => ("Error", "ClientCommError"),
            403 if blocked => ("Error", "Error"),
            400..=599 => ("Error", "Error"),
            304 => ("RefreshHit", "RefreshHit"),
            _ if asset && rng.gen_bool(0.85) => ("Hit", "Hit"),
            _ => ("Miss", "Miss"),
        };
        let body: u64 = match ev.status {
            0 => 0,
            304 => 0,
            400..=599 => 548,
            _ => res.size as u64 + (rng.next_u32() % 512) as u64,
        };
        let sc_bytes = if ev.status == 0 {
            rng.gen_range(0..200)
        } else {
            body + 380 + (rng.next_u32() % 120) as u64
        };
        let taken_ms: u64 = if result == "Hit" {
            1 + rng.next_u32() as u64 % 20
        } else {
            20 + rng.next_u32() as u64 % 400
        };
        Outcome {
            result,
            detailed,
            body,
            sc_bytes,
            taken_ms,
        }
    }
}

/// Appends a random 56-character `x-edge-request-id`.
pub fn push_request_id(buf: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    for _ in 0..54 {
        buf.push(B64[(rng.next_u32() & 63) as usize]);
    }
    buf.extend_from_slice(b"==");
}

/// Distribution domain (`cs(Host)`).
pub const DIST: &str = "d3f1oodg8te0ab.cloudfront.net";

/// Appends one CloudFront log line for `ev`.
pub fn write_record(
    buf: &mut Vec<u8>,
    ev: &Event,
    c: &mut Client,
    cat: &Catalog,
    rng: &mut ChaCha8Rng,
    style: &LineStyle,
) {
    let res = &RES[ev.res as usize];
    let civil = Civil::from_ms(ev.t);
    let Outcome {
        result,
        detailed,
        body,
        sc_bytes,
        taken_ms,
    } = Outcome::of(ev, rng);
    push_date(buf, &civil);
    buf.push(b'\t');
    push_hms(buf, &civil);
    buf.push(b'\t');
    buf.extend_from_slice(c.edge.as_bytes());
    buf.push(b'\t');
    push_u64(buf, sc_bytes);
    buf.push(b'\t');
    buf.extend_from_slice(c.ip_str.as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(ev.method.as_str().as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(DIST.as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(res.path.as_bytes());
    buf.push(b'\t');
    if ev.status == 0 {
        buf.extend_from_slice(b"000");
    } else {
        push_u64(buf, ev.status as u64);
    }
    buf.push(b'\t');
    if ev.referer > 0 {
        buf.extend_from_slice(b"https://");
        buf.extend_from_slice(HOST.as_bytes());
        buf.extend_from_slice(RES[ev.referer as usize - 1].path.as_bytes());
    } else {
        buf.push(b'-');
    }
    buf.push(b'\t');
    let ua = if style.double_encoded {
        &cat.ua_cf_double
    } else {
        &cat.ua_cf
    };
    buf.extend_from_slice(ua[ev.ua as usize].as_bytes());
    buf.push(b'\t');
    let q = query_text(ev.query, ev.qseed);
    let q = q.as_ref();
    buf.extend_from_slice(if q.is_empty() { "-" } else { q }.as_bytes());
    buf.push(b'\t');
    buf.push(b'-'); // cookie
    buf.push(b'\t');
    buf.extend_from_slice(result.as_bytes());
    buf.push(b'\t');
    push_request_id(buf, rng);
    buf.push(b'\t');
    buf.extend_from_slice(HOST.as_bytes());
    buf.extend_from_slice(b"\thttps\t");
    push_u64(
        buf,
        120 + (rng.next_u32() % 400) as u64 + if ev.method.as_str() == "POST" { 300 } else { 0 },
    );
    buf.push(b'\t');
    push_fixed(buf, taken_ms, 3);
    buf.push(b'\t');
    match &c.xff {
        Some(x) => buf.extend_from_slice(x.as_bytes()),
        None => buf.push(b'-'),
    }
    let browser = UAS[ev.ua as usize].1 == UaKind::Browser;
    buf.extend_from_slice(b"\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t");
    buf.extend_from_slice(result.as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(if browser { b"HTTP/2.0" } else { b"HTTP/1.1" });
    if style.columns > OLD_COLUMNS {
        buf.extend_from_slice(b"\t-\t-\t");
        push_u64(buf, super::connection(c, rng).0 as u64);
        buf.push(b'\t');
        push_fixed(buf, taken_ms.saturating_sub(1).max(1), 3);
        buf.push(b'\t');
        buf.extend_from_slice(detailed.as_bytes());
        buf.push(b'\t');
        buf.extend_from_slice(res.ctype.as_bytes());
        buf.push(b'\t');
        if ev.status == 0 {
            buf.push(b'-');
        } else {
            push_u64(buf, body);
        }
        buf.extend_from_slice(b"\t-\t-");
    }
    if style.trailing_tab {
        buf.push(b'\t');
    }
    buf.push(b'\n');
}

/// Turns the valid line in `line` (for `c`) into one that a parser must reject for `reason`.
pub fn corrupt(line: &mut Vec<u8>, reason: &str, c: &Client) {
    match reason {
        BAD_IP => {
            let from = format!("\t{}\t", c.ip_str);
            replace_first(line, from.as_bytes(), b"\t1.2.3\t");
        }
        BAD_TIME => {
            if let Some(i) = line.iter().position(|&b| b == b'\t') {
                line.splice(i + 1..i + 9, b"25:61:07".iter().copied());
            }
        }
        INVALID_UTF8 => {
            if let Some(i) = line
                .windows(8)
                .position(|w| w == b"Mozilla/" || w == b"python-r" || w == b"Go-http-")
            {
                line.splice(i..i, NOT_UTF8.iter().copied());
            } else {
                line.splice(0..0, NOT_UTF8.iter().copied());
            }
        }
        _ => {}
    }
}
