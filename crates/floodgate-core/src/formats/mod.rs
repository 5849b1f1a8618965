//! Log formats: one file each; a line in, zero or more [`Request`]s out.
//!
//! The format of a file is detected from its content ([`detect`]), never from its name: the
//! first line that looks like WAF JSON, a CloudFront header or an ALB entry decides. Lines
//! before that are rejected as `unknown_format`, so one garbage first line does not lose the
//! file. Adding a format is one new module here plus one arm in [`LineParser`].

pub mod alb;
pub mod cloudfront;
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

/// The format a line announces, if any.
pub fn detect(line: &str) -> Option<Format> {
    if waf::looks_like(line) {
        Some(Format::Waf)
    } else if cloudfront::looks_like(line) {
        Some(Format::Cloudfront)
    } else if alb::looks_like(line) {
        Some(Format::Alb)
    } else {
        None
    }
}

/// Parses the lines of one file, remembering its format and (for CloudFront) its columns.
#[derive(Clone, Debug)]
pub struct LineParser {
    format: Option<Format>,
    columns: cloudfront::Columns,
    client: ClientIpSource,
}

impl LineParser {
    /// A parser for a new file.
    pub fn new(client: ClientIpSource) -> Self {
        LineParser {
            format: None,
            columns: Default::default(),
            client,
        }
    }

    /// The file's format once a line has revealed it.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Parse one line. Records are handed to `emit`; a WAF line holding several objects may
    /// emit some and then fail on a later one (the emitted ones count).
    pub fn parse<'a, F: Emit<'a>>(&mut self, line: &'a str, emit: &mut F) -> Result<(), Reject> {
        let format = match self.format {
            Some(f) => f,
            None => {
                if line.trim().is_empty() {
                    return Ok(());
                }
                let f = detect(line).ok_or_else(|| {
                    Reject::new(
                        RejectReason::UnknownFormat,
                        "not WAF JSON, CloudFront or ALB",
                    )
                })?;
                self.format = Some(f);
                f
            }
        };
        match format {
            Format::Waf => {
                if line.trim().is_empty() {
                    return Ok(());
                }
                waf::parse_line(line, self.client, emit)
            }
            Format::Cloudfront => {
                cloudfront::parse_line(line, &mut self.columns, self.client, emit)
            }
            Format::Alb => alb::parse_line(line, emit),
        }
    }
}

/// Percent-decode a CloudFront path or user agent for a report, twice when CloudFront
/// double-encoded it (`%2520` → `%20` → ` `). Invalid UTF-8 becomes U+FFFD. Never used for
/// matching: rules see the log's own form.
pub fn decode_for_display(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let once = percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned();
    if once.contains('%') && once != s {
        let twice = percent_encoding::percent_decode_str(&once)
            .decode_utf8_lossy()
            .into_owned();
        return Cow::Owned(twice);
    }
    Cow::Owned(once)
}
