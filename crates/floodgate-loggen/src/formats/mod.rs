//! One module per log format: how a record, a header and a damaged line are written.
//!
//! Each writer appends exactly one line (with its `\n`) to a reused buffer.

pub mod alb;
pub mod cloudfront;
pub mod cloudfront_v2;
pub mod waf;

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// Public host name of the demo site.
pub const HOST: &str = "www.floodgate-demo.example";

/// Reasons a generated bad line must be rejected; the manifest's `bad_lines` keys.
pub const BAD_JSON: &str = "bad_json";
/// An address such as `1.2.3`.
pub const BAD_IP: &str = "bad_ip";
/// An impossible timestamp.
pub const BAD_TIME: &str = "bad_time";
/// Bytes that are not UTF-8.
pub const INVALID_UTF8: &str = "invalid_utf8";

/// Appends `n` random hex digits.
pub fn push_rand_hex(buf: &mut Vec<u8>, rng: &mut ChaCha8Rng, n: usize) {
    let mut left = n;
    while left > 0 {
        let k = left.min(16);
        crate::text::push_hex(buf, rng.next_u64(), k);
        left -= k;
    }
}

/// Replaces the first occurrence of `from` in `line` with `to`; false if absent.
pub fn replace_first(line: &mut Vec<u8>, from: &[u8], to: &[u8]) -> bool {
    if from.is_empty() {
        return false;
    }
    match line.windows(from.len()).position(|w| w == from) {
        Some(i) => {
            line.splice(i..i + from.len(), to.iter().copied());
            true
        }
        None => false,
    }
}

/// Invalid UTF-8 bytes spliced into a user agent.
pub const NOT_UTF8: &[u8] = b"\xff\xfe\xc3(";

/// Returns the client's keep-alive connection (port, id), opening a new one when used up.
pub fn connection(c: &mut crate::model::Client, rng: &mut ChaCha8Rng) -> (u16, u128) {
    if c.conn.2 == 0 {
        let port = 1024 + (rng.next_u32() % 64_000) as u16;
        let id = (rng.next_u64() as u128) << 64 | rng.next_u64() as u128;
        c.conn = (port, id, 1 + (rng.next_u32() % 60) as u16);
    }
    c.conn.2 -= 1;
    (c.conn.0, c.conn.1)
}
