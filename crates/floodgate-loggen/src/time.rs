//! UTC calendar arithmetic and parsing of the CLI's time, duration and size arguments.
//!
//! The generator must not depend on the wall clock or the local time zone, so all dates are
//! computed from milliseconds since the Unix epoch with the civil-calendar algorithm.

use crate::text::{push_padded, push_u64};

/// One minute in milliseconds.
pub const MINUTE: i64 = 60_000;
/// One hour in milliseconds.
pub const HOUR: i64 = 60 * MINUTE;
/// One day in milliseconds.
pub const DAY: i64 = 24 * HOUR;

/// Broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year (e.g. 2026).
    pub year: i64,
    /// Month 1..=12.
    pub month: u32,
    /// Day of the month 1..=31.
    pub day: u32,
    /// Hour 0..=23.
    pub hour: u32,
    /// Minute 0..=59.
    pub minute: u32,
    /// Second 0..=59.
    pub second: u32,
    /// Millisecond 0..=999.
    pub millis: u32,
}

/// Converts days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Converts (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Civil {
    /// Breaks `ms` since the epoch into UTC fields.
    pub fn from_ms(ms: i64) -> Civil {
        let days = ms.div_euclid(DAY);
        let rem = ms.rem_euclid(DAY);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rem / HOUR) as u32,
            minute: ((rem / MINUTE) % 60) as u32,
            second: ((rem / 1000) % 60) as u32,
            millis: (rem % 1000) as u32,
        }
    }
}

/// Appends `YYYY-MM-DD`.
pub fn push_date(buf: &mut Vec<u8>, c: &Civil) {
    push_padded(buf, c.year as u64, 4);
    buf.push(b'-');
    push_padded(buf, c.month as u64, 2);
    buf.push(b'-');
    push_padded(buf, c.day as u64, 2);
}

/// Appends `HH:MM:SS`.
pub fn push_hms(buf: &mut Vec<u8>, c: &Civil) {
    push_padded(buf, c.hour as u64, 2);
    buf.push(b':');
    push_padded(buf, c.minute as u64, 2);
    buf.push(b':');
    push_padded(buf, c.second as u64, 2);
}

/// Appends `YYYY-MM-DDTHH:MM:SS.ffffffZ` (ALB's microsecond timestamp) for `ms` plus `micros`.
pub fn push_iso_micros(buf: &mut Vec<u8>, ms: i64, extra_micros: u32) {
    let c = Civil::from_ms(ms);
    push_date(buf, &c);
    buf.push(b'T');
    push_hms(buf, &c);
    buf.push(b'.');
    push_padded(buf, c.millis as u64 * 1000 + extra_micros as u64 % 1000, 6);
    buf.push(b'Z');
}

/// RFC 3339 text (`2026-11-02T08:00:00Z`, with `.mmm` when not a whole second).
pub fn rfc3339(ms: i64) -> String {
    let c = Civil::from_ms(ms);
    let mut b = Vec::with_capacity(24);
    push_date(&mut b, &c);
    b.push(b'T');
    push_hms(&mut b, &c);
    if c.millis != 0 {
        b.push(b'.');
        push_padded(&mut b, c.millis as u64, 3);
    }
    b.push(b'Z');
    String::from_utf8(b).expect("ascii")
}

/// Compact UTC key time used in AWS object names: `YYYYMMDDTHHmmZ`.
pub fn key_stamp(ms: i64) -> String {
    let c = Civil::from_ms(ms);
    let mut b = Vec::with_capacity(14);
    push_padded(&mut b, c.year as u64, 4);
    push_padded(&mut b, c.month as u64, 2);
    push_padded(&mut b, c.day as u64, 2);
    b.push(b'T');
    push_padded(&mut b, c.hour as u64, 2);
    push_padded(&mut b, c.minute as u64, 2);
    b.push(b'Z');
    String::from_utf8(b).expect("ascii")
}

/// Parses an RFC 3339 timestamp (`Z` or `±HH:MM` offset, optional fraction) into ms.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    let err = || format!("invalid RFC 3339 time {s:?} (expected e.g. 2026-11-02T08:00:00Z)");
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return Err(err());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        s[r].parse::<u32>().map(i64::from).map_err(|_| err())
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(err());
    }
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo as u32) as i64
        || h > 23
        || mi > 59
        || se > 60
    {
        return Err(err());
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b[i] == b'.' {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return Err(err());
        }
        let frac = &s[st..i.min(st + 3)];
        millis = frac.parse::<i64>().map_err(|_| err())? * 10i64.pow(3 - frac.len() as u32);
    }
    let offset_min = match &s[i..] {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let oh: i64 = tz[1..3].parse().map_err(|_| err())?;
            let om: i64 = tz[4..6].parse().map_err(|_| err())?;
            if oh > 23 || om > 59 {
                return Err(err());
            }
            let v = oh * 60 + om;
            if tz.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return Err(err()),
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    Ok(days * DAY + h * HOUR + mi * MINUTE + se.min(59) * 1000 + millis - offset_min * MINUTE)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a duration such as `2h`, `90m`, `45s`, `1d` or `1h30m` into ms.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let err = || format!("invalid duration {s:?} (expected e.g. 2h, 90m, 1h30m, 3600s, 1d)");
    let mut total: i64 = 0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(err());
        }
        let v: i64 = rest[..n].parse().map_err(|_| err())?;
        rest = &rest[n..];
        let u = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..u] {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => MINUTE,
            "h" => HOUR,
            "d" => DAY,
            _ => return Err(err()),
        };
        rest = &rest[u..];
        total = v
            .checked_mul(unit)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(err)?;
    }
    if total <= 0 {
        return Err(format!("duration {s:?} must be positive"));
    }
    Ok(total)
}

/// Parses a byte size such as `300MB`, `2GB`, `512KiB` or `1000` into bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let err = || format!("invalid size {s:?} (expected e.g. 300MB, 2GB, 512MiB)");
    let t = s.trim();
    let n = t
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    if n == 0 {
        return Err(err());
    }
    let v: f64 = t[..n].parse().map_err(|_| err())?;
    let mult: f64 = match t[n..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(err()),
    };
    let bytes = v * mult;
    if !bytes.is_finite() || !(1.0..=1e15).contains(&bytes) {
        return Err(err());
    }
    Ok(bytes as u64)
}

/// Appends `push_u64` of the Unix time in ms; exists so format code reads uniformly.
#[inline]
pub fn push_epoch_ms(buf: &mut Vec<u8>, ms: i64) {
    push_u64(buf, ms.max(0) as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = parse_rfc3339("2026-11-02T08:00:00Z").unwrap();
        assert_eq!(t, 1_793_606_400_000);
        assert_eq!(rfc3339(t), "2026-11-02T08:00:00Z");
        assert_eq!(key_stamp(t + 5 * MINUTE), "20261102T0805Z");
        assert_eq!(parse_rfc3339("2026-11-02T09:00:00+01:00").unwrap(), t);
        assert_eq!(
            rfc3339(parse_rfc3339("2024-02-29T23:59:59.5Z").unwrap()),
            "2024-02-29T23:59:59.500Z"
        );
        assert!(parse_rfc3339("2026-13-02T08:00:00Z").is_err());
        assert!(parse_rfc3339("yesterday").is_err());
        assert!(parse_rfc3339("2026-11-02T08:00:00é").is_err());
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("2h").unwrap(), 2 * HOUR);
        assert_eq!(parse_duration("1h30m").unwrap(), 90 * MINUTE);
        assert!(parse_duration("2x").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_size("300MB").unwrap(), 300_000_000);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert!(parse_size("lots").is_err());
    }
}
