//! Allocation-free helpers that append numbers, hex and timestamps to a byte buffer.
//!
//! The generator writes hundreds of MB per second, so every record is formatted into one
//! reused `Vec<u8>` with these helpers instead of `format!`.

/// Appends the decimal digits of `v`.
#[inline]
pub fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `v` zero-padded to `width` digits (`width` ≤ 20).
#[inline]
pub fn push_padded(buf: &mut Vec<u8>, v: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut x = v;
    let mut i = tmp.len();
    while x > 0 || i == tmp.len() {
        i -= 1;
        tmp[i] = b'0' + (x % 10) as u8;
        x /= 10;
    }
    let digits = tmp.len() - i;
    let start = if digits >= width {
        i
    } else {
        tmp.len() - width
    };
    buf.extend_from_slice(&tmp[start..]);
}

/// Appends a fixed-point decimal `v / 10^decimals`, e.g. `push_fixed(b, 1234, 3)` → `1.234`.
#[inline]
pub fn push_fixed(buf: &mut Vec<u8>, v: u64, decimals: u32) {
    let p = 10u64.pow(decimals);
    push_u64(buf, v / p);
    buf.push(b'.');
    push_padded(buf, v % p, decimals as usize);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the low `n` nibbles of `v` as lowercase hex (most significant first).
#[inline]
pub fn push_hex(buf: &mut Vec<u8>, v: u64, n: usize) {
    for k in (0..n).rev() {
        buf.push(HEX[((v >> (4 * k)) & 0xf) as usize]);
    }
}

/// Percent-encodes characters that CloudFront escapes in its log fields (space, `%`, quotes,
/// backslash, control characters and non-ASCII bytes).
pub fn cloudfront_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for &b in s.as_bytes() {
        if b <= 0x20 || b >= 0x7f || matches!(b, b'"' | b'\\' | b'%' | b'<' | b'>' | b'`') {
            out.push('%');
            out.push(HEX[(b >> 4) as usize].to_ascii_uppercase() as char);
            out.push(HEX[(b & 0xf) as usize].to_ascii_uppercase() as char);
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Returns `s` as a JSON string literal including the quotes.
pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut b = Vec::new();
        push_u64(&mut b, 0);
        b.push(b' ');
        push_u64(&mut b, 18446744073709551615);
        b.push(b' ');
        push_padded(&mut b, 7, 3);
        b.push(b' ');
        push_fixed(&mut b, 1234, 3);
        b.push(b' ');
        push_fixed(&mut b, 5, 6);
        b.push(b' ');
        push_hex(&mut b, 0xabc, 4);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "0 18446744073709551615 007 1.234 0.000005 0abc"
        );
    }

    #[test]
    fn cf_encoding() {
        assert_eq!(cloudfront_encode("a b%c"), "a%20b%25c");
    }
}
