//! Fixed-format UTC timestamps as the AWS logs write them, parsed without allocation.
//!
//! The formats are rigid (`2026-11-02`, `08:15:00`, `2026-11-02T08:15:00.123456Z`) and sit on the
//! hot path, so they are parsed by hand here rather than through a general date library. Valid
//! event times are limited to [`MIN_EVENT_MS`, `MAX_EVENT_MS`): anything else is a bad time.

/// 2000-01-01T00:00:00Z: earlier timestamps are rejected as bad input.
pub const MIN_EVENT_MS: i64 = 946_684_800_000;
/// 2100-01-01T00:00:00Z: later timestamps are rejected as bad input.
pub const MAX_EVENT_MS: i64 = 4_102_444_800_000;

/// Whether an event time lies in the accepted range.
pub fn in_range(ms: i64) -> bool {
    (MIN_EVENT_MS..MAX_EVENT_MS).contains(&ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(s: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    if s.is_empty() {
        return None;
    }
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u32)?;
    }
    Some(v)
}

/// `YYYY-MM-DD` → days since the epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i64, m) {
        return None;
    }
    Some(days_from_civil(y as i64, m, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `HH:MM:SS` → milliseconds since midnight (a leap second `60` is accepted as 59.999).
pub fn parse_clock(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits(&b[0..2])?, digits(&b[3..5])?, digits(&b[6..8])?);
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let ms = (h as i64 * 3600 + m as i64 * 60 + sec.min(59) as i64) * 1000;
    Some(if sec == 60 { ms + 999 } else { ms })
}

/// `YYYY-MM-DD` + `HH:MM:SS` (CloudFront's two columns) → ms since the epoch.
pub fn parse_date_clock(date: &str, clock: &str) -> Option<i64> {
    Some(parse_date(date)? * 86_400_000 + parse_clock(clock)?)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (ALB, RFC 3339 in UTC) → ms since the epoch.
/// Also accepts a `+00:00` offset, which is the same instant.
pub fn parse_iso_utc(s: &str) -> Option<i64> {
    let date = s.get(0..10)?;
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let clock = s.get(11..19)?;
    let base = parse_date_clock(date, clock)?;
    let mut rest = s.get(19..)?;
    let mut frac_ms = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac
            .bytes()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if end == 0 {
            return None;
        }
        let f = &frac.as_bytes()[..end.min(3)];
        frac_ms = digits(f)? as i64 * [100, 10, 1][f.len() - 1];
        rest = &frac[end..];
    }
    match rest {
        "Z" | "z" | "+00:00" => Some(base + frac_ms),
        _ => None,
    }
}

/// RFC 3339 with any offset (`2026-11-02T11:00:00+01:00`, `…Z`) → ms since the epoch, for
/// times a person types (`--now`). Logs use [`parse_iso_utc`].
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = parse_iso_utc(s) {
        return Some(ms);
    }
    if s.len() < 6 {
        return None;
    }
    let (head, offset) = s.split_at(s.len() - 6);
    let o = offset.as_bytes();
    let sign = match o[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if o[3] != b':' {
        return None;
    }
    let hours = digits(&o[1..3])? as i64;
    let minutes = digits(&o[4..6])? as i64;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let utc = parse_iso_utc(&format!("{head}Z"))?;
    Some(utc - sign * (hours * 3_600_000 + minutes * 60_000))
}

/// ms since the epoch → `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form every report uses.
pub fn format_rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z");
    }
    // Digits by hand: reports format four times per ban, 160,000 times at 40,000 bans.
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m as i64);
    put(8, 2, d as i64);
    put(11, 2, h);
    put(14, 2, min);
    put(17, 2, s);
    put(20, 3, milli);
    String::from_utf8_lossy(&b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc3339_offsets_are_the_same_instant() {
        let utc = parse_rfc3339("2026-11-02T10:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-11-02T11:00:00+01:00"), Some(utc));
        assert_eq!(parse_rfc3339("2026-11-02T04:30:00-05:30"), Some(utc));
        assert_eq!(
            parse_rfc3339("2026-11-02T10:00:00.250+00:00"),
            Some(utc + 250)
        );
        for bad in [
            "2026-11-02T10:00:00",
            "2026-11-02T10:00:00+1:00",
            "2026-11-02T10:00:00+24:00",
            "x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_the_aws_forms() {
        assert_eq!(
            parse_date_clock("2019-12-04", "21:02:31"),
            Some(1_575_493_351_000)
        );
        assert_eq!(
            parse_iso_utc("2018-07-02T22:23:00.186641Z"),
            Some(1_530_570_180_186)
        );
        assert_eq!(
            parse_iso_utc("2018-07-02T22:23:00Z"),
            Some(1_530_570_180_000)
        );
        assert_eq!(
            parse_iso_utc("2018-07-02T22:23:00.1Z"),
            Some(1_530_570_180_100)
        );
        assert_eq!(
            format_rfc3339_ms(1_530_570_180_186),
            "2018-07-02T22:23:00.186Z"
        );
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "2019-13-04",
            "2019-02-30",
            "20191204",
            "2019-1-04",
            "abcd-ef-gh",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        for bad in ["24:00:00", "12:60:00", "1:00:00", "12:00", "ab:cd:ef"] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
        for bad in [
            "2018-07-02 22:23:00Z",
            "2018-07-02T22:23:00",
            "2018-07-02T22:23:00.Z",
            "2018-07-02T22:23:00+02:00",
            "2018-07-02T22:23:0é",
        ] {
            assert_eq!(parse_iso_utc(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn civil_round_trips(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn format_then_parse_round_trips(ms in MIN_EVENT_MS..MAX_EVENT_MS) {
            prop_assert_eq!(parse_iso_utc(&format_rfc3339_ms(ms)), Some(ms));
        }
    }
}
