//! CloudFront standard logging v2: the same requests as [`super::cloudfront`], written the two
//! ways v2 delivers them with a user-chosen selection of fields.
//!
//! * JSON (`cloudfront-json`): one object per line, W3C field names as keys, every value a
//!   string, as v2 writes to CloudWatch Logs, Firehose and S3.
//! * W3C (`cloudfront-w3c`): `#Version` and `#Fields` headers, then tab-separated values in the
//!   order `#Fields` lists, as v2 writes to S3.
//!
//! Each file gets its own [`Layout`]: the fields floodgate needs (`c-ip`, `cs-method`,
//! `cs-uri-stem`, `sc-status`, a time) plus a random half of the others, in a random order,
//! with the time as `timestamp(ms)`, `timestamp` or `date` + `time` in turn, so readers are
//! tested on layouts they were not written for. Values are encoded as in the legacy logs
//! (percent-encoded user agent, `-` for empty), which is what v2 writes.

use super::cloudfront::{push_request_id, Outcome, DIST};
use super::{replace_first, BAD_IP, BAD_JSON, BAD_TIME, HOST, INVALID_UTF8, NOT_UTF8};
use crate::catalog::{query_text, Catalog, RES};
use crate::model::{Client, Event};
use crate::text::{push_fixed, push_u64};
use crate::time::{push_date, push_hms, Civil};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Fields every layout has besides its time fields: without them a record is rejected or
/// cannot match the default rules.
const REQUIRED: [&str; 4] = ["c-ip", "cs-method", "cs-uri-stem", "sc-status"];

/// Fields a layout may add; each is written by [`push_value`].
const OPTIONAL: [&str; 14] = [
    "x-edge-location",
    "sc-bytes",
    "cs(Host)",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "time-taken",
    "c-port",
    "c-country",
    "asn",
];

/// The fields of one file, in their order.
pub struct Layout(pub Vec<&'static str>);

impl Layout {
    /// File `no`'s layout: time as `timestamp(ms)`, `timestamp`, then `date` + `time`, in turn.
    pub fn random(no: u32, rng: &mut ChaCha8Rng) -> Layout {
        let mut fields: Vec<&'static str> = match no % 3 {
            0 => vec!["timestamp(ms)"],
            1 => vec!["timestamp"],
            _ => vec!["date", "time"],
        };
        fields.extend(REQUIRED);
        fields.extend(OPTIONAL.iter().filter(|_| rng.gen_bool(0.5)));
        fields.shuffle(rng);
        Layout(fields)
    }
}

/// Appends the `#Version` and `#Fields` lines of a W3C file.
pub fn write_w3c_header(buf: &mut Vec<u8>, layout: &Layout) {
    buf.extend_from_slice(b"#Version: 1.0\n#Fields: ");
    buf.extend_from_slice(layout.0.join(" ").as_bytes());
    buf.push(b'\n');
}

/// The two outputs of standard logging v2.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Tab-separated values in `#Fields` order.
    W3c,
    /// One JSON object, field names as keys, string values.
    Json,
}

/// Appends one line for `ev` with `layout`'s fields, in `output`'s form.
pub fn write_record(
    buf: &mut Vec<u8>,
    output: Output,
    layout: &Layout,
    ev: &Event,
    c: &mut Client,
    cat: &Catalog,
    rng: &mut ChaCha8Rng,
) {
    let json = output == Output::Json;
    let out = Outcome::of(ev, rng);
    if json {
        buf.push(b'{');
    }
    for (i, field) in layout.0.iter().enumerate() {
        if i > 0 {
            buf.push(if json { b',' } else { b'\t' });
        }
        if json {
            buf.push(b'"');
            buf.extend_from_slice(field.as_bytes());
            buf.extend_from_slice(b"\":\"");
        }
        let start = buf.len();
        push_value(buf, field, ev, c, cat, &out, rng);
        if json {
            escape_json_from(buf, start);
            buf.push(b'"');
        }
    }
    if json {
        buf.push(b'}');
    }
    buf.push(b'\n');
}

/// Escapes `"` and `\` in `buf[start..]` (the values written are otherwise JSON-safe: CloudFront
/// percent-encodes controls and spaces).
fn escape_json_from(buf: &mut Vec<u8>, start: usize) {
    if !buf[start..].iter().any(|&b| b == b'"' || b == b'\\') {
        return;
    }
    let raw = buf.split_off(start);
    for b in raw {
        if b == b'"' || b == b'\\' {
            buf.push(b'\\');
        }
        buf.push(b);
    }
}

/// Appends the value of W3C field `field` for `ev`.
fn push_value(
    buf: &mut Vec<u8>,
    field: &str,
    ev: &Event,
    c: &mut Client,
    cat: &Catalog,
    out: &Outcome,
    rng: &mut ChaCha8Rng,
) {
    let res = &RES[ev.res as usize];
    match field {
        "timestamp(ms)" => push_u64(buf, ev.t.max(0) as u64),
        "timestamp" => push_fixed(buf, ev.t.max(0) as u64, 3),
        "date" => push_date(buf, &Civil::from_ms(ev.t)),
        "time" => push_hms(buf, &Civil::from_ms(ev.t)),
        "c-ip" => buf.extend_from_slice(c.ip_str.as_bytes()),
        "cs-method" => buf.extend_from_slice(ev.method.as_str().as_bytes()),
        "cs-uri-stem" => buf.extend_from_slice(res.path.as_bytes()),
        "sc-status" if ev.status == 0 => buf.extend_from_slice(b"000"),
        "sc-status" => push_u64(buf, ev.status as u64),
        "x-edge-location" => buf.extend_from_slice(c.edge.as_bytes()),
        "sc-bytes" => push_u64(buf, out.sc_bytes),
        "cs(Host)" => buf.extend_from_slice(DIST.as_bytes()),
        "cs(Referer)" if ev.referer > 0 => {
            buf.extend_from_slice(b"https://");
            buf.extend_from_slice(HOST.as_bytes());
            buf.extend_from_slice(RES[ev.referer as usize - 1].path.as_bytes());
        }
        "cs(User-Agent)" => buf.extend_from_slice(cat.ua_cf[ev.ua as usize].as_bytes()),
        "cs-uri-query" => match query_text(ev.query, ev.qseed) {
            q if q.is_empty() => buf.push(b'-'),
            q => buf.extend_from_slice(q.as_bytes()),
        },
        "x-edge-result-type" => buf.extend_from_slice(out.result.as_bytes()),
        "x-edge-request-id" => push_request_id(buf, rng),
        "x-host-header" => buf.extend_from_slice(HOST.as_bytes()),
        "cs-protocol" => buf.extend_from_slice(b"https"),
        "time-taken" => push_fixed(buf, out.taken_ms, 3),
        "c-port" => push_u64(buf, super::connection(c, rng).0 as u64),
        "c-country" => buf.extend_from_slice(c.country.as_bytes()),
        "asn" if c.asn != 0 => push_u64(buf, c.asn as u64),
        _ => buf.push(b'-'),
    }
}

/// Turns the valid W3C line in `line` into one a parser must reject for `reason`.
pub fn corrupt_w3c(line: &mut Vec<u8>, reason: &str, layout: &Layout) {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let mut cols: Vec<Vec<u8>> = body.split(|&b| b == b'\t').map(<[u8]>::to_vec).collect();
    let col = |name: &str| layout.0.iter().position(|f| *f == name);
    match reason {
        BAD_IP => {
            if let Some(i) = col("c-ip") {
                cols[i] = b"1.2.3".to_vec();
            }
        }
        BAD_TIME => {
            if let Some(i) = col("timestamp(ms)").or(col("timestamp")) {
                cols[i] = b"17x3".to_vec();
            } else if let Some(i) = col("time") {
                cols[i] = b"25:61:07".to_vec();
            }
        }
        INVALID_UTF8 => {
            let i = col("cs(User-Agent)").unwrap_or(0);
            cols[i].splice(0..0, NOT_UTF8.iter().copied());
        }
        _ => return,
    }
    *line = cols.join(&b'\t');
    line.push(b'\n');
}

/// Turns the valid JSON line in `line` (for `c`) into one a parser must reject for `reason`.
pub fn corrupt_json(line: &mut Vec<u8>, reason: &str, c: &Client) {
    match reason {
        BAD_JSON => {
            // Cut mid-object, as a truncated delivery would be.
            line.truncate(line.len() / 2);
            line.push(b'\n');
        }
        BAD_IP => {
            let from = format!("\"c-ip\":\"{}\"", c.ip_str);
            replace_first(line, from.as_bytes(), b"\"c-ip\":\"1.2.3\"");
        }
        BAD_TIME => {
            for key in [
                &b"\"timestamp(ms)\":\""[..],
                b"\"timestamp\":\"",
                b"\"time\":\"",
            ] {
                if let Some(i) = line.windows(key.len()).position(|w| w == key) {
                    let v = i + key.len();
                    let end = v + line[v..].iter().position(|&b| b == b'"').unwrap_or(0);
                    let bad: &[u8] = if key == b"\"time\":\"" {
                        b"25:61:07"
                    } else {
                        b"17x3"
                    };
                    line.splice(v..end, bad.iter().copied());
                    return;
                }
            }
        }
        INVALID_UTF8 => {
            let at = line
                .windows(18)
                .position(|w| w == b"\"cs(User-Agent)\":\"")
                .map_or(1, |i| i + 18);
            line.splice(at..at, NOT_UTF8.iter().copied());
        }
        _ => {}
    }
}
