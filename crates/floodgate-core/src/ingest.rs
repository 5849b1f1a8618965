//! One log object → records, with everything that went wrong counted, nothing fatal.
//!
//! [`read_log`] is the single entry point the CLI, the Lambda and the tests use: it sniffs the
//! compression, splits lines under the length cap, checks UTF-8, detects the format, parses,
//! and hands each [`Request`] to the caller. Every line ends up either as a record or as a
//! counted rejection. A damaged or truncated gzip stream, a read error or the decompressed-size
//! cap keeps what was read before and marks the file `complete: false` with the reason.

use crate::client_ip::ClientIpSource;
use crate::decode::{self, CappedReader, CountingReader, Encoding, CAP_EXCEEDED};
use crate::formats::{LineParser, ParseOptions};
use crate::lines::{Line, LineReader};
use crate::reject::{Reject, RejectReason, RejectStats};
use crate::request::{Format, Request};
use serde::{Deserialize, Serialize};
use std::io::Read;

/// Default longest accepted line: 1 MiB (real WAF lines are a few KB).
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
/// Default cap on decompressed bytes per object: 32 GiB (a 75 MB WAF object inflates to ~1 GB).
pub const DEFAULT_MAX_DECODED_BYTES: u64 = 32 << 30;

/// How to read objects. Comes from the `[source]` section of the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestOptions {
    /// Where the client address comes from.
    pub client_ip: ClientIpSource,
    /// Longest line accepted; longer ones are skipped and counted as `line_too_long`.
    pub max_line_bytes: usize,
    /// Stop reading an object after this many decompressed bytes (gzip bomb guard).
    pub max_decoded_bytes: u64,
    /// The fields of CloudFront real-time log records, when a source carries them.
    pub realtime_fields: Vec<String>,
    /// WAF records of web ACLs not listed here are rejected as `other_web_acl` (empty: every
    /// web ACL's records are read).
    pub web_acls: Vec<String>,
    /// The format of every object, when the source fixes it (a Kinesis stream of real-time
    /// records); otherwise detected from each object's content.
    pub format: Option<Format>,
    /// The wall clock when the objects are read, ms (set by the front end: the core reads no
    /// clock). A record later than this plus [`FUTURE_TOLERANCE_MS`] is rejected as
    /// `future_time`: AWS writes logs of requests that happened, so such a record is forged or
    /// broken, and counting it would move the watermark and make every later request late.
    /// `None` (tests, fuzzing): no check.
    pub wall_clock_ms: Option<i64>,
}

/// How far past the wall clock a record may be dated before it is `future_time`: clocks of
/// AWS's log writers and of the reader differ by seconds, not minutes.
pub const FUTURE_TOLERANCE_MS: i64 = 5 * 60_000;

impl IngestOptions {
    /// The line parser these options call for: the source's fixed format (a Kinesis stream of
    /// real-time records) or detection from the content, with the client-address, real-time
    /// field and web ACL settings. One place, so every reader of lines agrees.
    pub fn line_parser(&self) -> LineParser {
        let parse_opts = ParseOptions {
            client_ip: self.client_ip.clone(),
            realtime_fields: self.realtime_fields.clone(),
            web_acls: self.web_acls.clone(),
        };
        match self
            .format
            .and_then(|f| crate::formats::by_name(f.as_str()))
        {
            Some(forced) => LineParser::for_format(forced, parse_opts),
            None => LineParser::with_options(parse_opts),
        }
    }
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            client_ip: ClientIpSource::Source,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_decoded_bytes: DEFAULT_MAX_DECODED_BYTES,
            realtime_fields: crate::formats::cloudfront_realtime::DEFAULT_FIELDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            web_acls: Vec::new(),
            format: None,
            wall_clock_ms: None,
        }
    }
}

/// What reading one object produced: counts for the report's `files[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    /// The object's path or `s3://` URL as given.
    pub path: String,
    /// Detected format (`None`: no line matched any format).
    pub format: Option<Format>,
    /// Whether it was gzip.
    pub gzip: bool,
    /// Records parsed.
    pub records: u64,
    /// Lines read (records, rejections, headers, blank lines).
    pub lines: u64,
    /// Bytes read from the source (compressed size for gzip).
    pub bytes_in: u64,
    /// Decompressed bytes.
    pub bytes_decoded: u64,
    /// Rejected lines by reason, with samples.
    pub rejected: RejectStats,
    /// False when the object could not be read to its end (damage, truncation, size cap).
    pub complete: bool,
    /// Why it is incomplete.
    pub damage: Option<String>,
    /// Earliest and latest record time (ms since the epoch).
    pub first_time_ms: Option<i64>,
    /// See `first_time_ms`.
    pub last_time_ms: Option<i64>,
}

impl FileSummary {
    /// A file that could not be read at all (cannot be opened, too large, gone): reported with
    /// the reason and `complete: false`, never silently left out.
    pub fn unread(path: impl Into<String>, why: impl Into<String>) -> FileSummary {
        FileSummary {
            path: path.into(),
            complete: false,
            damage: Some(why.into()),
            ..FileSummary::default()
        }
    }
}

/// Errors that make a whole object unusable *because of the configuration*, not the data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IngestError {
    /// The detected format cannot be read with this configuration (e.g.
    /// `client_ip = "x-forwarded-for"` on ALB logs, which have no such field).
    #[error("{path}: {message}")]
    Unusable {
        /// The object.
        path: String,
        /// What is wrong and what to change.
        message: String,
    },
}

/// The first bytes of a Parquet file.
pub const PARQUET_MAGIC: &[u8] = b"PAR1";

/// Why a Parquet object's lines are rejected.
pub const PARQUET: &str = "a Parquet object (CloudFront standard logging v2's Parquet output): not supported; choose JSON or W3C (plain) output in the distribution's standard logging";

/// An object opened for reading: its summary so far and its decompressed, capped stream.
pub(crate) type Opened<'a, R> = (
    FileSummary,
    CappedReader<decode::Decoded<&'a mut CountingReader<R>>>,
);

/// The summary of an object about to be read and its decompressed stream, capped at
/// `opts.max_decoded_bytes`; `Err` with the summary of an object that could not even be opened
/// (reported with the reason, never lost). The one- and the many-thread read both start here.
pub(crate) fn open_object<'a, R: Read>(
    path: &str,
    counted: &'a mut CountingReader<R>,
    opts: &IngestOptions,
) -> Result<Opened<'a, R>, Box<FileSummary>> {
    let mut summary = FileSummary {
        path: path.to_string(),
        complete: true,
        ..FileSummary::default()
    };
    match decode::open(counted) {
        Ok((encoding, decoded)) => {
            summary.gzip = encoding == Encoding::Gzip;
            Ok((summary, CappedReader::new(decoded, opts.max_decoded_bytes)))
        }
        Err(e) => {
            summary.complete = false;
            summary.damage = Some(format!("read error: {e}"));
            Err(Box::new(summary))
        }
    }
}

/// Read one log object from `input`, calling `sink` for every record.
pub fn read_log<R: Read, F: FnMut(&Request<'_>)>(
    path: &str,
    input: R,
    opts: &IngestOptions,
    mut sink: F,
) -> Result<FileSummary, IngestError> {
    let mut counted = CountingReader::new(input, None);
    let (mut summary, decoded) = match open_object(path, &mut counted, opts) {
        Ok(x) => x,
        Err(unopened) => return Ok(*unopened),
    };
    let mut lines = LineReader::new(decoded, opts.max_line_bytes);
    let mut parser = opts.line_parser();
    let mut part = Part::new(path, opts);
    loop {
        // next_line counts exactly one line per line it returns.
        let line_no = lines.line_no() + 1;
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                let partial = lines.partial_len();
                part.damaged(&mut summary, &e, lines.bytes(), line_no, partial);
                break;
            }
        };
        // A Parquet object (CloudFront standard logging v2 can write Parquet to S3) has no
        // lines: said once per line for what it is, instead of as invalid UTF-8.
        if line_no == 1 && line.head().starts_with(PARQUET_MAGIC) {
            part.parquet = true;
        }
        part.take(&mut parser, line_no, line, &mut |r| sink(&r))?;
    }
    summary.lines = lines.line_no();
    summary.bytes_decoded = lines.bytes();
    drop(lines);
    summary.bytes_in = counted.count();
    part.finish(&mut summary, &parser);
    Ok(summary)
}

/// What reading some lines of an object produced: the whole object, or one chunk of it in a
/// parallel read ([`crate::ingest_par`]), whose parts are added up in chunk order.
pub(crate) struct Part<'o> {
    path: &'o str,
    opts: &'o IngestOptions,
    not_after: i64,
    /// The object is Parquet: every line is rejected as such.
    pub(crate) parquet: bool,
    pub(crate) records: u64,
    pub(crate) rejected: RejectStats,
    pub(crate) first: i64,
    pub(crate) last: i64,
}

impl<'o> Part<'o> {
    pub(crate) fn new(path: &'o str, opts: &'o IngestOptions) -> Self {
        Part {
            path,
            opts,
            not_after: opts
                .wall_clock_ms
                .map_or(i64::MAX, |w| w.saturating_add(FUTURE_TOLERANCE_MS)),
            parquet: false,
            records: 0,
            rejected: RejectStats::default(),
            first: i64::MAX,
            last: i64::MIN,
        }
    }

    /// Read one line: records to `emit`, everything else counted as a rejection. `Err` when
    /// the line revealed a format the configuration cannot read.
    pub(crate) fn take<'t>(
        &mut self,
        parser: &mut LineParser,
        line_no: u64,
        line: Line<'t>,
        emit: &mut impl FnMut(Request<'t>),
    ) -> Result<(), IngestError> {
        let path = self.path;
        if self.parquet {
            let reason = RejectReason::UnsupportedFormat;
            self.rejected
                .record_with(path, line_no, reason, || PARQUET, b"PAR1");
            return Ok(());
        }
        let raw = match line {
            Line::Text(raw) => raw,
            Line::TooLong { head, len } => {
                let max = self.opts.max_line_bytes;
                let detail = || format!("{len} bytes, limit {max}");
                let reason = RejectReason::LineTooLong;
                self.rejected
                    .record_with(path, line_no, reason, detail, head);
                return Ok(());
            }
        };
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                let reason = RejectReason::InvalidUtf8;
                self.rejected
                    .record_with(path, line_no, reason, || e.to_string(), raw);
                return Ok(());
            }
        };
        let not_after = self.not_after;
        let (rejected, records) = (&mut self.rejected, &mut self.records);
        let (first, last) = (&mut self.first, &mut self.last);
        let mut keep = |r: Request<'t>| {
            if r.time_ms > not_after {
                let detail = || {
                    format!(
                        "{} is later than the wall clock {} (+{} min tolerance)",
                        crate::timefmt::format_rfc3339_ms(r.time_ms),
                        crate::timefmt::format_rfc3339_ms(not_after - FUTURE_TOLERANCE_MS),
                        FUTURE_TOLERANCE_MS / 60_000
                    )
                };
                let reason = RejectReason::FutureTime;
                rejected.record_with(path, line_no, reason, detail, raw);
                return;
            }
            *first = (*first).min(r.time_ms);
            *last = (*last).max(r.time_ms);
            *records += 1;
            emit(r);
        };
        let result = parser.parse(text, &mut keep);
        if let Some(why) = parser.unusable() {
            return Err(IngestError::Unusable {
                path: path.to_string(),
                message: why.to_string(),
            });
        }
        if let Err(reject) = result {
            self.rejected.record(path, line_no, reject, raw);
        }
        Ok(())
    }

    /// The read stopped at `e` after `bytes` decompressed bytes, `partial` of them the start
    /// of line `line_no`: the file is incomplete, and that unfinished line is truncated.
    pub(crate) fn damaged(
        &mut self,
        summary: &mut FileSummary,
        e: &std::io::Error,
        bytes: u64,
        line_no: u64,
        partial: u64,
    ) {
        summary.complete = false;
        summary.damage = Some(if e.kind() == CAP_EXCEEDED {
            format!(
                "stopped at the decompressed size cap of {} bytes",
                self.opts.max_decoded_bytes
            )
        } else {
            format!("damaged input after {bytes} decompressed bytes: {e}")
        });
        if partial > 0 {
            let detail = format!("{partial} bytes before the damage");
            let reject = Reject::new(RejectReason::Truncated, detail);
            self.rejected.record(self.path, line_no, reject, b"");
        }
    }

    /// Add a later chunk's part (parallel reads add them in chunk order).
    pub(crate) fn append(&mut self, later: Part<'_>) {
        self.records += later.records;
        self.rejected.append(&later.rejected);
        self.first = self.first.min(later.first);
        self.last = self.last.max(later.last);
    }

    /// Move the counts into `summary`, with the format `parser` detected.
    pub(crate) fn finish(mut self, summary: &mut FileSummary, parser: &LineParser) {
        // Lines of a pretty-printed document kept as samples before a later line named its kind.
        if let Some(detail) = parser.document_detail() {
            for s in &mut self.rejected.samples {
                if s.detail == crate::formats::json_document::GENERIC {
                    s.detail = detail.to_string();
                }
            }
        }
        summary.format = if self.parquet {
            Some(crate::formats::unsupported::FORMAT)
        } else {
            parser.format()
        };
        summary.records = self.records;
        summary.rejected = self.rejected;
        if self.records > 0 {
            summary.first_time_ms = Some(self.first);
            summary.last_time_ms = Some(self.last);
        }
    }
}
