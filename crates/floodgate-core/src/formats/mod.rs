//! Log formats: one file each, one [`LogFormat`] each, all listed in [`REGISTRY`].
//!
//! The format of a file is detected from its content, never from its name: the first non-blank
//! line is offered to every registered format, each answers how sure it is
//! ([`LogFormat::detect`]), and the most confident one reads the whole file (ties go to the
//! format listed first). Formats detect by what only they have — WAF by its `httpRequest`
//! object, a CloudFront file by its `#Fields` header, ALB by its connection type and time —
//! so no format can swallow another's files merely because both are, say, JSON. Lines before
//! the first recognisable one are rejected as `unknown_format`, so one garbage first line does
//! not lose the file.
//!
//! **Adding a format** is one new file here (a unit struct implementing [`LogFormat`] and a
//! [`FileParser`] for its per-file state) and one line in [`REGISTRY`]. The registry test checks
//! that every format recognises its own sample line more confidently than any other format.

pub mod alb;
pub mod cloudfront;
pub mod cloudfront_json;
pub mod cloudfront_realtime;
pub mod json_document;
pub mod unsupported;
pub mod waf;

use crate::client_ip::ClientIpSource;
use crate::reject::{Reject, RejectReason};
use crate::request::{Format, Request};
use std::borrow::Cow;

/// Where parsers deliver records. Implemented for any `FnMut(Request<'a>)`.
pub trait Emit<'a> {
    /// Take one parsed record.
    fn emit(&mut self, request: Request<'a>);
}

impl<'a, F: FnMut(Request<'a>)> Emit<'a> for F {
    fn emit(&mut self, request: Request<'a>) {
        self(request)
    }
}

/// How sure a format is that a file is written in it, judged from one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// The line has the format's general shape (a headerless CloudFront data line).
    Plausible,
    /// The line has a structure only this format has (WAF's `httpRequest` object).
    Likely,
    /// The format's own signature: a header or a field set nothing else writes.
    Certain,
}

/// What every format may need to know from the configuration to read a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Where the client address comes from.
    pub client_ip: ClientIpSource,
    /// The fields of CloudFront real-time log records (`[source] realtime_fields`).
    pub realtime_fields: Vec<String>,
    /// WAF records of other web ACLs are rejected (`[source] web_acls`; empty: none are).
    pub web_acls: Vec<String>,
}

/// A log format. Stateless: per-file state lives in the [`FileParser`] it opens.
pub trait LogFormat: Send + Sync + 'static {
    /// The name used in reports, the state and `IngestOptions::format`.
    fn format(&self) -> Format;
    /// One line for docs and rejection details: what the format is and how it is recognised.
    fn describe(&self) -> &'static str;
    /// How sure this format is that a file whose first non-blank line is `line` is in it.
    fn detect(&self, line: &str) -> Option<Confidence>;
    /// A parser for one file. `Err` when the configuration cannot work for this format at all
    /// (ALB logs have no X-Forwarded-For field): the file is then not read.
    fn open(&self, opts: &ParseOptions) -> Result<Box<dyn FileParser>, String>;
    /// How AWS delivers this format's logs, which says how late its records may arrive
    /// (see [`crate::lateness`]). Most logs arrive within minutes.
    fn delivery(&self) -> Delivery {
        Delivery::Minutes
    }
}

/// How promptly AWS delivers a format's logs (see [`crate::lateness`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Within minutes: WAF and ALB write a file every 5 minutes, streams within seconds.
    /// Records may be `engine.lateness` behind their source's newest and still count.
    Minutes,
    /// CloudFront standard logs: "usually within an hour", "sometimes delayed by up to 24
    /// hours" (AWS). Windows are held for `engine.cloudfront_lateness`; records up to
    /// [`crate::lateness::CLOUDFRONT_MAX_DELAY_MS`] behind still count.
    CloudFrontStandard,
}

/// The delivery of the registered format `format` ([`Delivery::Minutes`] if unknown).
pub fn delivery(format: Format) -> Delivery {
    by_name(format.as_str()).map_or(Delivery::Minutes, |f| f.delivery())
}

/// Parses the lines of one file in order, remembering what the file declared (CloudFront's
/// `#Fields`).
pub trait FileParser: Send {
    /// Parse one line (blank lines are never passed). Records go to `emit`; a line may emit
    /// several (WAF objects back to back) and then fail on a later one (the emitted ones count).
    fn parse<'a>(&mut self, line: &'a str, emit: &mut dyn FnMut(Request<'a>))
        -> Result<(), Reject>;
    /// A copy of this parser in its current state: a parallel read hands each later chunk of
    /// the file a parser that has seen what the file declared before that chunk.
    fn fork(&self) -> Box<dyn FileParser>;
    /// Lines starting with this may change how the file's later lines are read (CloudFront's
    /// `#Fields`). A parallel read replays such lines in order before it forks the parser for
    /// the next chunk, and needs to look at no other line. `None` (the default): every line is
    /// read on its own.
    fn header_prefix(&self) -> Option<&'static str> {
        None
    }
}

/// Every format floodgate reads, in tie-break order.
pub static REGISTRY: &[&dyn LogFormat] = &[
    &waf::Waf,
    &cloudfront_json::CloudfrontJson,
    &cloudfront::Cloudfront,
    &alb::Alb,
    &unsupported::Unsupported,
    &cloudfront_realtime::CloudfrontRealtime,
];

/// The most confident format for `line`, if any (ties: the one listed first in [`REGISTRY`]).
pub fn detect(line: &str) -> Option<&'static dyn LogFormat> {
    let mut best: Option<(Confidence, &'static dyn LogFormat)> = None;
    for f in REGISTRY {
        if let Some(c) = f.detect(line) {
            if best.is_none_or(|(b, _)| c > b) {
                best = Some((c, *f));
            }
        }
    }
    best.map(|(_, f)| f)
}

/// The registered format called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn LogFormat> {
    REGISTRY
        .iter()
        .copied()
        .find(|f| f.format().as_str() == name)
}

/// Parses the lines of one file: detects its format on the first recognisable line (or uses
/// the one it was given), then hands every line to that format's [`FileParser`].
pub struct LineParser {
    format: Option<Format>,
    parser: Option<Box<dyn FileParser>>,
    unusable: Option<String>,
    opts: ParseOptions,
    /// A pretty-printed JSON document met before any format was recognised.
    document: Option<json_document::Document>,
}

impl LineParser {
    /// A parser for a new file whose format is detected from its content.
    pub fn new(client: ClientIpSource) -> Self {
        LineParser::with_options(ParseOptions {
            client_ip: client,
            ..ParseOptions::default()
        })
    }

    /// A parser for a new file whose format is detected from its content.
    pub fn with_options(opts: ParseOptions) -> Self {
        LineParser {
            format: None,
            parser: None,
            unusable: None,
            opts,
            document: None,
        }
    }

    /// A parser for a file known to be in `format` (a stream whose source fixes the format).
    pub fn for_format(format: &'static dyn LogFormat, opts: ParseOptions) -> Self {
        let mut p = LineParser::with_options(opts);
        p.start(format);
        p
    }

    fn start(&mut self, format: &'static dyn LogFormat) {
        self.format = Some(format.format());
        match format.open(&self.opts) {
            Ok(parser) => self.parser = Some(parser),
            Err(why) => self.unusable = Some(why),
        }
    }

    /// A parser for a later part of the same file, in this parser's state: the format it
    /// detected (if any) and what the file declared so far. Lets a parallel read give every
    /// chunk after the first the parser the one-thread read would have there.
    pub fn fork(&self) -> LineParser {
        LineParser {
            format: self.format,
            parser: self.parser.as_ref().map(|p| p.fork()),
            unusable: self.unusable.clone(),
            opts: self.opts.clone(),
            document: self.document,
        }
    }

    /// Whether a line has revealed a format this parser reads. Until then every line may still
    /// start one (also inside a pretty-printed JSON document, which [`LineParser::format`]
    /// already reports as `unsupported`, and whose kind a later line may name): a parallel read
    /// shows this parser every line until it is true, so each chunk starts where the one-thread
    /// read would be.
    pub fn detected(&self) -> bool {
        self.format.is_some()
    }

    /// What lines may change how later lines are read, once the format is known (see
    /// [`FileParser::header_prefix`]); `None` before, and for formats without such lines.
    pub fn header_prefix(&self) -> Option<&'static str> {
        self.parser.as_ref().and_then(|p| p.header_prefix())
    }

    /// The file's format once a line has revealed it (`unsupported` for a file that held only
    /// a pretty-printed JSON document).
    pub fn format(&self) -> Option<Format> {
        self.format.or(self.document.map(|_| unsupported::FORMAT))
    }

    /// What a pretty-printed JSON document in the file turned out to be, once a later line
    /// named it: the detail for rejections kept with [`json_document::GENERIC`] before.
    pub fn document_detail(&self) -> Option<&'static str> {
        self.document.and_then(|d| d.final_detail())
    }

    /// Why the file cannot be read with this configuration, once its format is known.
    pub fn unusable(&self) -> Option<&str> {
        self.unusable.as_deref()
    }

    /// Parse one line. Records are handed to `emit`; a WAF line holding several objects may
    /// emit some and then fail on a later one (the emitted ones count). Blank lines are skipped.
    ///
    /// Before the format is known, a bare comment line (`#` and nothing else, as some tools
    /// write first) is skipped like a blank line. When a parser rejects a line that is a known
    /// unsupported kind of log (an NLB line in an ALB folder), the rejection says so
    /// (`unsupported_format`) instead of naming a field.
    pub fn parse<'a, F: Emit<'a>>(&mut self, line: &'a str, emit: &mut F) -> Result<(), Reject> {
        if line.trim().is_empty() {
            return Ok(());
        }
        if self.format.is_none() {
            // (Inside a pretty-printed document, whose file is then `unsupported`, it is a
            // line of the document like any other.)
            if line.trim() == "#" && self.document.is_none() {
                return Ok(());
            }
            let Some(found) = detect(line) else {
                // A document spread over several lines (as AWS documentation prints WAF records
                // and CloudTrail files) is said to be one, naming its kind once a key shows it.
                if self.document.is_none() && json_document::opens(line) {
                    self.document = Some(json_document::Document::default());
                }
                return Err(match &mut self.document {
                    Some(doc) => {
                        doc.observe(line);
                        Reject::new(RejectReason::UnsupportedFormat, doc.detail())
                    }
                    None => Reject::new(RejectReason::UnknownFormat, unknown_detail(line)),
                });
            };
            self.start(found);
        }
        match &mut self.parser {
            Some(p) => {
                p.parse(line, &mut |r| emit.emit(r)).map_err(|e| {
                    match unsupported::identify(line) {
                        Some(k) if e.reason != RejectReason::UnsupportedFormat => {
                            Reject::new(RejectReason::UnsupportedFormat, k.what)
                        }
                        _ => e,
                    }
                })
            }
            None => Ok(()),
        }
    }
}

/// What an unrecognised first line is not.
fn unknown_detail(line: &str) -> &'static str {
    // The same two texts for every line: built once (a file of garbage is rejected line by
    // line, each with this detail).
    static DETAILS: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    let [plain, json] = DETAILS.get_or_init(|| {
        let names: Vec<&str> = REGISTRY
            .iter()
            .map(|f| f.format().as_str())
            .filter(|n| *n != unsupported::FORMAT.as_str())
            .collect();
        let plain = format!("none of the known formats ({})", names.join(", "));
        [plain.clone(), format!("a JSON object, but {plain}")]
    });
    if line.trim_start().starts_with('{') {
        json
    } else {
        plain
    }
}

/// A user agent for a report: what percent-encoding is left decoded once more. The formats
/// already undo their own encoding (the value as sent); some CloudFront files of 2019 encode
/// user agents twice (`%2520`), which this shows as spaces. Display only: rules never match
/// user agents, and paths are shown as sent.
pub fn decode_for_display(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One real first line per registered format.
    fn sample(f: Format) -> &'static str {
        match f.as_str() {
            "waf" => {
                r#"{"timestamp":1700000000000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:1:regional/webacl/a/b","terminatingRuleId":"Default_Action","action":"ALLOW","httpRequest":{"clientIp":"1.2.3.4","country":"US","headers":[],"uri":"/","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"x"}}"#
            }
            "cloudfront" => "#Version: 1.0",
            "cloudfront-json" => {
                r#"{"timestamp(ms)":"1731620046814","c-ip":"192.0.2.1","cs-method":"GET","cs-uri-stem":"/"}"#
            }
            "alb" => {
                r#"http 2026-11-02T08:00:00.000000Z app/x/1 1.2.3.4:5 10.0.0.1:80 0.001 0.002 0.000 200 200 10 20 "GET http://h:80/ HTTP/1.1" "ua" - -"#
            }
            "unsupported" => {
                "tls 2.0 2018-12-20T02:59:40 net/my-nlb/c6e7 g3d4 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 -"
            }
            "cloudfront-realtime" => "",
            other => panic!("no sample line for format {other}: add one"),
        }
    }

    #[test]
    fn every_format_wins_on_its_own_sample_and_names_are_unique() {
        let mut names = std::collections::BTreeSet::new();
        for f in REGISTRY {
            assert!(names.insert(f.format().as_str()), "duplicate name");
            let line = sample(f.format());
            if line.is_empty() {
                // Never detected from content (named by its source).
                assert!(f.detect("1684226820.937\t192.0.2.1").is_none());
                continue;
            }
            let own = f.detect(line).expect("a format recognises its own sample");
            for other in REGISTRY {
                if other.format() != f.format() {
                    assert!(
                        other.detect(line).is_none_or(|c| c < own),
                        "{} would take a {} line",
                        other.format().as_str(),
                        f.format().as_str()
                    );
                }
            }
            assert_eq!(detect(line).map(|d| d.format()), Some(f.format()));
            assert_eq!(
                by_name(f.format().as_str()).map(|d| d.format()),
                Some(f.format())
            );
        }
    }

    /// Found by the read_log fuzz target: once a pretty-printed document made the file
    /// `unsupported`, a bare `#` was still skipped silently as before any format (a line that
    /// is neither a record nor a rejection): it is a line of the document.
    #[test]
    fn a_pretty_printed_document_rejects_every_line_it_holds() {
        let mut p = LineParser::new(ClientIpSource::Source);
        for line in ["{", "#", "  \"a\": 1", "}"] {
            let e = p.parse(line, &mut |_r: Request<'_>| {}).unwrap_err();
            assert_eq!(e.reason, RejectReason::UnsupportedFormat, "{line}");
        }
        assert_eq!(p.format(), Some(unsupported::FORMAT));
    }

    #[test]
    fn json_that_is_no_known_format_is_unknown_not_waf() {
        let mut p = LineParser::new(ClientIpSource::Source);
        let e = p
            .parse(r#"{"hello":"world"}"#, &mut |_r: Request<'_>| {})
            .unwrap_err();
        assert_eq!(e.reason, RejectReason::UnknownFormat);
        assert!(
            e.detail.contains("JSON object") && e.detail.contains("waf"),
            "{}",
            e.detail
        );
        assert_eq!(p.format(), None);
    }
}
