//! Why a line was not turned into a [`Request`](crate::Request), counted and sampled.
//!
//! Bad input never stops a run: each rejected line is counted under one [`RejectReason`] and the
//! first few of each reason are kept as [`RejectSample`]s (file, line, reason, excerpt) so a
//! person can look at them. Samples are merged deterministically (ordered by file and line) so
//! the report does not depend on how many threads read the files.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// How many samples are kept per reason. Enough to see the pattern, small enough to print.
pub const SAMPLES_PER_REASON: usize = 5;
/// Longest excerpt of an offending line kept in a sample, in bytes (cut on a char boundary).
pub const SAMPLE_EXCERPT_BYTES: usize = 160;

/// The reason a line was rejected. The `snake_case` names are part of the report schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The line is longer than `max_line_bytes`; it was skipped without being buffered.
    LineTooLong,
    /// A WAF line that is not a JSON object (or nests too deep, or has wrong types).
    BadJson,
    /// A field the engine needs (time, client IP) is absent or null.
    MissingField,
    /// The client IP does not parse (`1.2.3`, `fe80::1%eth0`, …).
    BadIp,
    /// The timestamp does not parse or lies outside 2000-01-01 .. 2100-01-01.
    BadTime,
    /// A field has a value of the wrong shape (status `abc`, a broken quoted field, …).
    BadValue,
    /// A CloudFront or ALB line with fewer columns than the fields floodgate reads.
    WrongColumns,
    /// The line matches none of the known formats (and the file's format is not yet known).
    UnknownFormat,
    /// `client_ip = "x-forwarded-for"` but the request has no usable X-Forwarded-For entry.
    NoForwardedIp,
    /// The last, partial line before a damaged or truncated gzip stream.
    Truncated,
    /// A log of a kind floodgate does not read (NLB, ALB connection, Classic ELB, CloudFront
    /// RTMP, S3 server access, VPC flow logs, CloudTrail): the detail says which.
    UnsupportedFormat,
    /// A WAF record of a web ACL other than `[source] web_acls` lists: logs from a shared
    /// bucket or log group that this deployment must not act on.
    OtherWebAcl,
    /// A record dated later than the wall clock (plus a few minutes): logs describe requests
    /// that happened, so it is forged or broken, and it never moves the watermark.
    FutureTime,
}

impl RejectReason {
    /// Every reason, in report order.
    pub const ALL: [RejectReason; 14] = [
        RejectReason::InvalidUtf8,
        RejectReason::LineTooLong,
        RejectReason::BadJson,
        RejectReason::MissingField,
        RejectReason::BadIp,
        RejectReason::BadTime,
        RejectReason::BadValue,
        RejectReason::WrongColumns,
        RejectReason::UnknownFormat,
        RejectReason::NoForwardedIp,
        RejectReason::Truncated,
        RejectReason::UnsupportedFormat,
        RejectReason::OtherWebAcl,
        RejectReason::FutureTime,
    ];

    /// The stable name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::InvalidUtf8 => "invalid_utf8",
            RejectReason::LineTooLong => "line_too_long",
            RejectReason::BadJson => "bad_json",
            RejectReason::MissingField => "missing_field",
            RejectReason::BadIp => "bad_ip",
            RejectReason::BadTime => "bad_time",
            RejectReason::BadValue => "bad_value",
            RejectReason::WrongColumns => "wrong_columns",
            RejectReason::UnknownFormat => "unknown_format",
            RejectReason::NoForwardedIp => "no_forwarded_ip",
            RejectReason::Truncated => "truncated",
            RejectReason::UnsupportedFormat => "unsupported_format",
            RejectReason::OtherWebAcl => "other_web_acl",
            RejectReason::FutureTime => "future_time",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parser's verdict on one line: the reason plus a short human detail (`"httpRequest.clientIp"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The counted reason.
    pub reason: RejectReason,
    /// What exactly was wrong, for the sample. Borrowed when fixed text: most rejected lines
    /// are only counted (a sample is kept for the first few per reason), so a hostile file of
    /// a million bad lines should not cost a million allocated messages.
    pub detail: Cow<'static, str>,
}

impl Reject {
    /// A rejection with a detail message.
    pub fn new(reason: RejectReason, detail: impl Into<Cow<'static, str>>) -> Self {
        Reject {
            reason,
            detail: detail.into(),
        }
    }
}

/// One kept example of a rejected line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RejectSample {
    /// File the line came from.
    pub file: String,
    /// 1-based line number within the decompressed file.
    pub line: u64,
    /// Why it was rejected.
    pub reason: RejectReason,
    /// Detail from the parser.
    pub detail: String,
    /// The start of the line (lossy UTF-8, at most [`SAMPLE_EXCERPT_BYTES`]).
    pub excerpt: String,
}

/// Counts by reason plus the first few samples of each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectStats {
    /// Rejected lines per reason (reasons with zero are absent).
    pub counts: BTreeMap<RejectReason, u64>,
    /// Up to [`SAMPLES_PER_REASON`] samples per reason, ordered by (file, line).
    pub samples: Vec<RejectSample>,
}

impl RejectStats {
    /// Total rejected lines.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Count one rejected line, keeping it as a sample if fewer than the limit are kept.
    pub fn record(&mut self, file: &str, line: u64, reject: Reject, raw: &[u8]) {
        self.record_with(file, line, reject.reason, || reject.detail, raw);
    }

    /// [`record`](Self::record) with the detail built only if the line is kept as a sample.
    pub fn record_with<D: Into<String>>(
        &mut self,
        file: &str,
        line: u64,
        reason: RejectReason,
        detail: impl FnOnce() -> D,
        raw: &[u8],
    ) {
        let n = self.counts.entry(reason).or_insert(0);
        *n += 1;
        if *n as usize <= SAMPLES_PER_REASON {
            self.samples.push(RejectSample {
                file: file.to_string(),
                line,
                reason,
                detail: detail().into(),
                excerpt: excerpt(raw),
            });
        }
    }

    /// Add the rejections of the lines that follow in the same file (a later chunk of a
    /// parallel read): the result is what recording them all in order would have kept, the
    /// first samples per reason of the whole file, not a re-sorted mix.
    pub fn append(&mut self, later: &RejectStats) {
        let mut seen: BTreeMap<RejectReason, u64> = BTreeMap::new();
        for s in &later.samples {
            let n = seen
                .entry(s.reason)
                .or_insert_with(|| self.counts.get(&s.reason).copied().unwrap_or(0));
            *n += 1;
            if *n as usize <= SAMPLES_PER_REASON {
                self.samples.push(s.clone());
            }
        }
        for (reason, n) in &later.counts {
            *self.counts.entry(*reason).or_insert(0) += n;
        }
    }

    /// Add another file's (or run's) rejections. Commutative: samples are re-sorted by
    /// (file, line) and cut to the limit per reason.
    pub fn merge(&mut self, other: &RejectStats) {
        for (reason, n) in &other.counts {
            *self.counts.entry(*reason).or_insert(0) += n;
        }
        self.samples.extend(other.samples.iter().cloned());
        self.samples.sort();
        self.samples.dedup();
        let mut kept: BTreeMap<RejectReason, usize> = BTreeMap::new();
        self.samples.retain(|s| {
            let k = kept.entry(s.reason).or_insert(0);
            *k += 1;
            *k <= SAMPLES_PER_REASON
        });
    }
}

/// The start of a line as lossy UTF-8, cut on a character boundary.
fn excerpt(raw: &[u8]) -> String {
    let cut = &raw[..raw.len().min(SAMPLE_EXCERPT_BYTES)];
    // Printable ASCII (most log lines) is kept as it is, without decoding it char by char.
    if cut.iter().all(|&b| (0x20..0x7f).contains(&b) || b == b'\t') {
        return String::from_utf8_lossy(cut).into_owned();
    }
    let text = String::from_utf8_lossy(cut);
    text.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_few_samples_per_reason_and_merges_in_order() {
        let mut a = RejectStats::default();
        for line in 1..=8 {
            a.record(
                "b.log",
                line,
                Reject::new(RejectReason::BadIp, "x"),
                b"1.2.3",
            );
        }
        let mut b = RejectStats::default();
        b.record("a.log", 9, Reject::new(RejectReason::BadIp, "x"), b"1.2.3");
        b.record("a.log", 3, Reject::new(RejectReason::BadJson, "x"), b"{");
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.total(), 10);
        assert_eq!(ab.counts[&RejectReason::BadIp], 9);
        let bad_ip: Vec<_> = ab
            .samples
            .iter()
            .filter(|s| s.reason == RejectReason::BadIp)
            .collect();
        assert_eq!(bad_ip.len(), SAMPLES_PER_REASON);
        assert_eq!(bad_ip[0].file, "a.log");
    }

    #[test]
    fn excerpt_is_bounded_and_lossy() {
        let long = vec![b'a'; 10_000];
        assert_eq!(excerpt(&long).len(), SAMPLE_EXCERPT_BYTES);
        assert_eq!(excerpt(b"ok\xff\x00end"), "ok\u{fffd}end");
    }
}
