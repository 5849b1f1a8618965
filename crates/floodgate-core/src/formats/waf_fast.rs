//! Fast path for WAF JSON lines: a zero-copy scanner that reads only the fields floodgate
//! needs and validates everything else without building anything.
//!
//! It accepts a strict subset of JSON: exactly one object per line (spaces around it allowed),
//! no backslash escapes and no control characters anywhere in the line, nesting at most
//! [`MAX_DEPTH`], and for the numeric fields (`timestamp`, `responseCodeSent`) only `null` or a
//! plain non-negative integer of at most 15 digits. Anything else — escapes, odd types,
//! duplicate keys, several objects on a line, invalid JSON — makes [`scan`] return `None`, and
//! the caller parses the line with serde_json exactly as before. So records and rejections are
//! the same as serde's by construction: the fast path only ever says "this line is simple, and
//! here is what serde would have read from it". The differential test
//! (`formats/waf_fast_tests.rs`) checks that on generated logs and on hostile variants.
//!
//! Why it is faster: serde_json walks every skipped value through a visitor and scans strings
//! byte by byte; here one vectorised pass rules out escapes, after which a string ends at the
//! next `"` (found with `memchr`), and keys are compared as byte slices.

use super::{Headers, HttpRequest, LabelNames, Record, Text, Timestamp, Token};
use crate::features::{TokenFailure, TokenResponse};
use memchr::memchr;
use std::borrow::Cow;

/// Deepest nesting the fast path accepts (serde_json's own limit is 128).
pub const MAX_DEPTH: u32 = 32;

/// Read one WAF line if it is in the simple subset; `None` means "use serde_json".
pub(super) fn scan(line: &str) -> Option<Record<'_>> {
    if !plain(line.as_bytes()) {
        return None;
    }
    let mut s = Scanner {
        src: line,
        s: line.as_bytes(),
        i: 0,
    };
    s.ws();
    let record = s.record()?;
    s.ws();
    (s.i == s.s.len()).then_some(record)
}

/// No backslash and no byte below 0x20 (control characters are invalid inside JSON strings, and
/// tabs or CRs between tokens are rare enough to leave to serde). Written so it vectorises.
fn plain(bytes: &[u8]) -> bool {
    bytes.chunks(64).all(|chunk| {
        !chunk
            .iter()
            .fold(false, |bad, &b| bad | (b < 0x20) | (b == b'\\'))
    })
}

struct Scanner<'a> {
    src: &'a str,
    s: &'a [u8],
    i: usize,
}

/// Set the bit for a field, failing on a duplicate key (serde rejects those).
fn first(seen: &mut u16, bit: u16) -> Option<()> {
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

impl<'a> Scanner<'a> {
    #[inline]
    fn ws(&mut self) {
        while self.s.get(self.i) == Some(&b' ') {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes (guaranteed by [`plain`]): it ends at the next quote.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let end = start + memchr(b'"', &self.s[start..])?;
        self.i = end + 1;
        // Both ends sit next to an ASCII quote, so they are character boundaries.
        self.src.get(start..end)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.s.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// A JSON number, validated by the grammar only (as serde_json does for ignored values).
    fn number(&mut self) -> Option<()> {
        if self.peek()? == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    /// An object; `field` is called at each value with its key and must consume the value.
    #[inline]
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            field(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array; `element` is called at each element and must consume it.
    #[inline]
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            element(self)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Skip any value at nesting `depth`, validating it.
    fn skip(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' if depth < MAX_DEPTH => self.object(|s, _| s.skip(depth + 1)),
            b'[' if depth < MAX_DEPTH => self.array(|s| s.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// `Option<Cow<str>>`: a string or null.
    fn opt_str(&mut self) -> Option<Option<Cow<'a, str>>> {
        match self.peek()? {
            b'"' => Some(Some(Cow::Borrowed(self.string()?))),
            b'n' => self.literal(b"null").map(|_| None),
            _ => None,
        }
    }

    /// The subset of `int_or_string` the fast path reads: null or a plain integer < 10^15.
    fn opt_int(&mut self) -> Option<Option<i64>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|_| None),
            b'0' => {
                self.i += 1;
                (!matches!(self.peek(), Some(b'.' | b'e' | b'E'))).then_some(Some(0))
            }
            b'1'..=b'9' => {
                let start = self.i;
                if self.digits() > 15 || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
                    return None;
                }
                let v = self.s[start..self.i]
                    .iter()
                    .fold(0i64, |v, &d| v * 10 + (d - b'0') as i64);
                Some(Some(v))
            }
            _ => None,
        }
    }

    fn record(&mut self) -> Option<Record<'a>> {
        let mut r = Record::default();
        let mut seen = 0u16;
        self.object(|s, key| match key.as_bytes() {
            b"timestamp" => {
                first(&mut seen, 1)?;
                r.timestamp = s.opt_int()?.map(Timestamp::Ms);
                Some(())
            }
            b"action" => {
                first(&mut seen, 2)?;
                r.action = s.opt_str()?;
                Some(())
            }
            b"terminatingRuleId" => {
                first(&mut seen, 4)?;
                r.terminating_rule_id = s.opt_str()?;
                Some(())
            }
            b"httpRequest" => {
                first(&mut seen, 8)?;
                r.http_request = match s.peek()? {
                    b'n' => s.literal(b"null").map(|_| None)?,
                    _ => Some(s.http_request()?),
                };
                Some(())
            }
            b"labels" => {
                first(&mut seen, 16)?;
                r.labels = match s.peek()? {
                    b'n' => s.literal(b"null").map(|_| None)?,
                    _ => Some(s.labels()?),
                };
                Some(())
            }
            b"responseCodeSent" => {
                first(&mut seen, 32)?;
                r.response_code_sent = s.opt_int()?;
                Some(())
            }
            b"webaclId" => {
                first(&mut seen, 64)?;
                r.webacl_id = s.opt_str()?;
                Some(())
            }
            b"ja3Fingerprint" => {
                first(&mut seen, 128)?;
                r.ja3 = Text(s.opt_str()?);
                Some(())
            }
            b"ja4Fingerprint" => {
                first(&mut seen, 256)?;
                r.ja4 = Text(s.opt_str()?);
                Some(())
            }
            b"challengeResponse" => {
                first(&mut seen, 512)?;
                r.challenge = s.token()?;
                Some(())
            }
            b"captchaResponse" => {
                first(&mut seen, 1024)?;
                r.captcha = s.token()?;
                Some(())
            }
            _ => s.skip(1),
        })?;
        Some(r)
    }

    fn http_request(&mut self) -> Option<HttpRequest<'a>> {
        let mut h = HttpRequest::default();
        let mut seen = 0u16;
        self.object(|s, key| {
            let (bit, slot) = match key.as_bytes() {
                b"clientIp" => (1, &mut h.client_ip),
                b"country" => (2, &mut h.country),
                b"uri" => (4, &mut h.uri),
                b"args" => (8, &mut h.args),
                b"httpMethod" => (16, &mut h.http_method),
                b"host" => (32, &mut h.host),
                b"headers" => {
                    first(&mut seen, 64)?;
                    h.headers = match s.peek()? {
                        b'n' => s.literal(b"null").map(|_| None)?,
                        _ => Some(s.headers()?),
                    };
                    return Some(());
                }
                _ => return s.skip(2),
            };
            first(&mut seen, bit)?;
            *slot = s.opt_str()?;
            Some(())
        })?;
        Some(h)
    }

    /// The headers array: `[{"name": …, "value": …}, …]`, keeping the first Host,
    /// User-Agent and X-Forwarded-For (case-insensitive), as the serde visitor does.
    fn headers(&mut self) -> Option<Headers<'a>> {
        let mut h = Headers::default();
        self.array(|s| {
            let (mut name, mut value) = (None, None);
            let mut seen = 0u16;
            s.object(|s, key| match key.as_bytes() {
                b"name" => {
                    first(&mut seen, 1)?;
                    name = s.opt_str()?;
                    Some(())
                }
                b"value" => {
                    first(&mut seen, 2)?;
                    value = s.opt_str()?;
                    Some(())
                }
                _ => s.skip(4),
            })?;
            if let Some(name) = name {
                h.keep(&name, value);
            }
            Some(())
        })?;
        Some(h)
    }

    /// `challengeResponse` / `captchaResponse`: null, or an object whose `responseCode` and
    /// `solveTimestamp` are null or plain integers and whose `failureReason` is null or a
    /// string (what `Token`'s serde reading makes of it); any other shape goes to serde.
    fn token(&mut self) -> Option<Token> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|_| Token(None));
        }
        let mut t = TokenResponse::default();
        let mut seen = 0u16;
        self.object(|s, key| match key.as_bytes() {
            b"responseCode" => {
                first(&mut seen, 1)?;
                t.response_code = s.opt_int()?.map_or(0, |c| u16::try_from(c).unwrap_or(0));
                Some(())
            }
            b"solveTimestamp" => {
                first(&mut seen, 2)?;
                t.solve_timestamp = s.opt_int()?.unwrap_or(0);
                Some(())
            }
            b"failureReason" => {
                first(&mut seen, 4)?;
                t.failure = s
                    .opt_str()?
                    .filter(|r| !r.is_empty())
                    .map(|r| TokenFailure::parse(&r));
                Some(())
            }
            _ => s.skip(2),
        })?;
        Some(Token(Some(t)))
    }

    /// The labels array: `[{"name": …}, …]` → the names.
    fn labels(&mut self) -> Option<LabelNames<'a>> {
        let mut names = Vec::new();
        self.array(|s| {
            let mut name = None;
            let mut seen = 0u16;
            s.object(|s, key| match key.as_bytes() {
                b"name" => {
                    first(&mut seen, 1)?;
                    name = s.opt_str()?;
                    Some(())
                }
                _ => s.skip(3),
            })?;
            names.extend(name);
            Some(())
        })?;
        Some(LabelNames(names))
    }
}
