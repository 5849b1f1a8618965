//! Request features beyond the address: what a flood that no single address makes can be
//! recognised by (DESIGN.md, "Floods no single address makes").
//!
//! A flood from tens of thousands of residential addresses looks, per address, like ordinary
//! traffic; what gives it away is what its requests share: a TLS fingerprint (JA3, JA4), an
//! autonomous system, a user agent family and version ([`crate::ua`]), the set of header names
//! its client sends, and whether AWS WAF already stopped it. The parsers read these into the
//! [`Request`](crate::Request) as they read everything else: strings borrow from the line,
//! and what is not a string is a small `Copy` value, so a record whose features are never
//! looked at costs no allocation and no copy.
//!
//! * [`HeaderNames`]: which of the request headers a browser commonly sends were present (a
//!   bit each, [`KNOWN_HEADERS`]), and how many others. Headless clients and scripts leave out
//!   `Accept-Language` or the `Sec-Fetch-*` family; real browsers send them. Read from WAF's
//!   `httpRequest.headers[].name`, case-insensitively; a name without a value counts too.
//! * [`TokenResponse`]: WAF's `challengeResponse` / `captchaResponse` (the top-level ones:
//!   AWS fills them when the CAPTCHA or Challenge action applied). A `failureReason` means the
//!   action terminated the request (no valid token: the client got the puzzle, not the page).
//! * [`Verdict`]: what WAF did with the request, from its `action`: only `Allowed` and
//!   `Counted` requests (and requests of logs that are not WAF's) reached the origin.

use serde::Serialize;

/// Header names with a bit in [`HeaderNames`], lower case; at most 32.
///
/// Chosen for telling browsers from scripts: the headers every mainstream browser sends on a
/// navigation (`accept-language`, `sec-fetch-*`, `sec-ch-ua*`, `upgrade-insecure-requests`),
/// those proxies and load balancers add, and the common request headers of API clients.
pub const KNOWN_HEADERS: [&str; 32] = [
    "host",
    "user-agent",
    "accept",
    "accept-language",
    "accept-encoding",
    "connection",
    "referer",
    "cookie",
    "origin",
    "content-type",
    "content-length",
    "authorization",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-amzn-trace-id",
    "upgrade-insecure-requests",
    "cache-control",
    "pragma",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-user",
    "sec-fetch-dest",
    "dnt",
    "te",
    "priority",
    "if-none-match",
    "if-modified-since",
    "x-requested-with",
];

/// Index of `host` in [`KNOWN_HEADERS`].
pub const HOST: u8 = 0;
/// Index of `user-agent` in [`KNOWN_HEADERS`].
pub const USER_AGENT: u8 = 1;
/// Index of `x-forwarded-for` in [`KNOWN_HEADERS`].
pub const X_FORWARDED_FOR: u8 = 12;

/// Longest name in [`KNOWN_HEADERS`] (`upgrade-insecure-requests`).
const LONGEST: usize = 25;

/// The index in [`KNOWN_HEADERS`] of `name`, compared case-insensitively; `None` for any
/// other name. No allocation: the name is lower-cased into a stack buffer.
#[inline]
pub fn header_index(name: &str) -> Option<u8> {
    let b = name.as_bytes();
    if b.len() < 2 || b.len() > LONGEST {
        return None;
    }
    let mut buf = [0u8; LONGEST];
    for (d, s) in buf.iter_mut().zip(b) {
        *d = s.to_ascii_lowercase();
    }
    let i = match &buf[..b.len()] {
        b"host" => 0,
        b"user-agent" => 1,
        b"accept" => 2,
        b"accept-language" => 3,
        b"accept-encoding" => 4,
        b"connection" => 5,
        b"referer" => 6,
        b"cookie" => 7,
        b"origin" => 8,
        b"content-type" => 9,
        b"content-length" => 10,
        b"authorization" => 11,
        b"x-forwarded-for" => 12,
        b"x-forwarded-proto" => 13,
        b"x-forwarded-port" => 14,
        b"x-amzn-trace-id" => 15,
        b"upgrade-insecure-requests" => 16,
        b"cache-control" => 17,
        b"pragma" => 18,
        b"sec-ch-ua" => 19,
        b"sec-ch-ua-mobile" => 20,
        b"sec-ch-ua-platform" => 21,
        b"sec-fetch-site" => 22,
        b"sec-fetch-mode" => 23,
        b"sec-fetch-user" => 24,
        b"sec-fetch-dest" => 25,
        b"dnt" => 26,
        b"te" => 27,
        b"priority" => 28,
        b"if-none-match" => 29,
        b"if-modified-since" => 30,
        b"x-requested-with" => 31,
        _ => return None,
    };
    Some(i)
}

/// The header names a request carried: a bit per [`KNOWN_HEADERS`] entry, a count of the
/// others. Empty when the log has no headers (every log but WAF's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HeaderNames {
    /// Bit `i` set: `KNOWN_HEADERS[i]` was present.
    pub known: u32,
    /// Names not in [`KNOWN_HEADERS`] (saturating at 255).
    pub others: u8,
}

impl HeaderNames {
    /// Count one header name (the index from [`header_index`], `None` for another name).
    #[inline]
    pub fn add(&mut self, index: Option<u8>) {
        match index {
            Some(i) => self.known |= 1 << i,
            None => self.others = self.others.saturating_add(1),
        }
    }

    /// Whether the known header `name` (lower case, from [`KNOWN_HEADERS`]) was present.
    pub fn has(&self, name: &str) -> bool {
        header_index(name).is_some_and(|i| self.known & (1 << i) != 0)
    }

    /// No header name at all (the log has none, or the request had none).
    pub fn is_empty(&self) -> bool {
        self.known == 0 && self.others == 0
    }

    /// The known names present, in [`KNOWN_HEADERS`] order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        KNOWN_HEADERS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.known & (1 << i) != 0)
            .map(|(_, n)| *n)
    }
}

/// An `asn` field (CloudFront standard logging v2, real-time logs): the number (an `AS`
/// prefix allowed), or `None` for `-`, an empty field or anything that is not a plain 32-bit
/// number. An auxiliary field: a bad one never costs the request its place in the counts.
pub fn parse_asn(s: &str) -> Option<u32> {
    let s = s.strip_prefix("AS").unwrap_or(s);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Why WAF's CAPTCHA or Challenge action found no valid token (`failureReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFailure {
    /// `TOKEN_MISSING`: the client never solved one (scripts, first visits).
    Missing,
    /// `TOKEN_EXPIRED`: solved too long ago (the immunity time passed).
    Expired,
    /// `TOKEN_INVALID`: a token that does not verify.
    Invalid,
    /// `TOKEN_DOMAIN_MISMATCH`: a token of another domain.
    DomainMismatch,
    /// Any other reason AWS adds later.
    Other,
}

impl TokenFailure {
    /// The reason as WAF writes it.
    pub fn parse(s: &str) -> TokenFailure {
        match s {
            "TOKEN_MISSING" => TokenFailure::Missing,
            "TOKEN_EXPIRED" => TokenFailure::Expired,
            "TOKEN_INVALID" => TokenFailure::Invalid,
            "TOKEN_DOMAIN_MISMATCH" => TokenFailure::DomainMismatch,
            _ => TokenFailure::Other,
        }
    }
}

/// WAF's `challengeResponse` or `captchaResponse`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TokenResponse {
    /// `responseCode` (405 for a puzzle served; 0 when the token was good). 0 when absent.
    pub response_code: u16,
    /// `solveTimestamp`, epoch seconds (0 when absent or never solved).
    pub solve_timestamp: i64,
    /// `failureReason`: set when the action terminated the request.
    pub failure: Option<TokenFailure>,
}

impl TokenResponse {
    /// The action stopped the request (no valid token): the client got a puzzle.
    pub fn terminated(&self) -> bool {
        self.failure.is_some()
    }
}

/// What AWS WAF did with a request (its terminating `action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The log is not WAF's (or has no action): the request reached the edge or the origin.
    Unknown,
    /// `ALLOW`: reached the origin.
    Allowed,
    /// `COUNT` as the terminating action (WAF Classic, rule testing): reached the origin.
    Counted,
    /// `BLOCK`: WAF answered; the origin never saw it.
    Blocked,
    /// `CHALLENGE`: WAF served the silent challenge instead (no valid token).
    Challenged,
    /// `CAPTCHA`: WAF served a puzzle instead (no valid token).
    Captcha,
}

impl Verdict {
    /// The verdict of WAF's `action` field (case-insensitive); `Unknown` for none or another.
    pub fn of(action: Option<&str>) -> Verdict {
        let Some(a) = action else {
            return Verdict::Unknown;
        };
        if a.eq_ignore_ascii_case("ALLOW") {
            Verdict::Allowed
        } else if a.eq_ignore_ascii_case("BLOCK") {
            Verdict::Blocked
        } else if a.eq_ignore_ascii_case("COUNT") {
            Verdict::Counted
        } else if a.eq_ignore_ascii_case("CHALLENGE") {
            Verdict::Challenged
        } else if a.eq_ignore_ascii_case("CAPTCHA") {
            Verdict::Captcha
        } else {
            Verdict::Unknown
        }
    }

    /// Whether the request got past WAF to the origin (what a surge costs the site), as far
    /// as the log tells: everything but a block, a challenge or a puzzle.
    pub fn reached_origin(self) -> bool {
        !matches!(
            self,
            Verdict::Blocked | Verdict::Challenged | Verdict::Captcha
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_known_header_has_its_own_bit() {
        for (i, name) in KNOWN_HEADERS.iter().enumerate() {
            assert_eq!(header_index(name), Some(i as u8), "{name}");
            assert_eq!(header_index(&name.to_uppercase()), Some(i as u8), "{name}");
            assert!(name.len() <= LONGEST);
        }
        assert_eq!(KNOWN_HEADERS[HOST as usize], "host");
        assert_eq!(KNOWN_HEADERS[USER_AGENT as usize], "user-agent");
        assert_eq!(KNOWN_HEADERS[X_FORWARDED_FOR as usize], "x-forwarded-for");
        for other in ["", "x", "x-custom", "hostx", "sec-fetch", "é-accept"] {
            assert_eq!(header_index(other), None, "{other}");
        }
    }

    #[test]
    fn verdicts_tell_what_reached_the_origin() {
        assert_eq!(Verdict::of(Some("BLOCK")), Verdict::Blocked);
        assert_eq!(Verdict::of(Some("challenge")), Verdict::Challenged);
        assert_eq!(Verdict::of(Some("CAPTCHA")), Verdict::Captcha);
        assert_eq!(Verdict::of(None), Verdict::Unknown);
        assert!(Verdict::of(Some("ALLOW")).reached_origin());
        assert!(Verdict::of(Some("COUNT")).reached_origin());
        assert!(!Verdict::of(Some("CHALLENGE")).reached_origin());
        assert_eq!(TokenFailure::parse("TOKEN_MISSING"), TokenFailure::Missing);
        assert_eq!(TokenFailure::parse("TOKEN_SOMETHING"), TokenFailure::Other);
    }

    proptest! {
        /// Against the obvious model: lower-case the name, look it up in the table.
        #[test]
        fn header_index_matches_a_table_lookup(name in "[A-Za-z-]{0,30}|(?i:host|accept|sec-fetch-dest|te|dnt)") {
            let want = KNOWN_HEADERS
                .iter()
                .position(|k| *k == name.to_ascii_lowercase())
                .map(|i| i as u8);
            prop_assert_eq!(header_index(&name), want);
            let mut h = HeaderNames::default();
            h.add(header_index(&name));
            prop_assert_eq!(h.names().count() + h.others as usize, 1);
        }
    }
}
