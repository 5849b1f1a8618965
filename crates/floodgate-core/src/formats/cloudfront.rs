//! CloudFront standard logs (W3C extended): tab-separated, columns named by `#Fields`.
//!
//! Columns are looked up by name from the most recent `#Fields` line, so older files with fewer
//! columns and future files with more both work. Lines may end with a stray tab. `-` means empty.
//! `sc-status` `000` (viewer gone before a response) is "no status". Paths and user agents
//! stay URL-encoded here (zero-copy); [`decode_for_display`](crate::decode_for_display)
//! decodes them (twice if double-encoded) for reports.

use super::{Confidence, Emit, FileParser, LogFormat, ParseOptions};
use crate::client_ip::{from_forwarded_for, parse_ip, ClientIpSource};
use crate::reject::{Reject, RejectReason};
use crate::request::{Format, Request};
use crate::timefmt;
use std::borrow::Cow;

/// The format's name.
pub const FORMAT: Format = Format::new("cloudfront");

/// CloudFront standard logs: see the module docs.
pub struct Cloudfront;

impl LogFormat for Cloudfront {
    fn format(&self) -> Format {
        FORMAT
    }

    fn describe(&self) -> &'static str {
        "CloudFront standard access logs (W3C): tab-separated, columns named by a #Fields header"
    }

    /// A `#Version` or `#Fields` header is certainly CloudFront.
    fn detect(&self, line: &str) -> Option<Confidence> {
        (line.starts_with("#Version") || line.starts_with("#Fields")).then_some(Confidence::Certain)
    }

    fn open(&self, opts: &ParseOptions) -> Result<Box<dyn FileParser>, String> {
        Ok(Box::new(CloudfrontParser {
            columns: Columns::default(),
            client: opts.client_ip,
        }))
    }
}

struct CloudfrontParser {
    columns: Columns,
    client: ClientIpSource,
}

impl FileParser for CloudfrontParser {
    fn parse<'a>(
        &mut self,
        line: &'a str,
        emit: &mut dyn FnMut(Request<'a>),
    ) -> Result<(), Reject> {
        parse_line(line, &mut self.columns, self.client, &mut |r| emit(r))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Col {
    Date,
    Time,
    ClientIp,
    Method,
    Host,
    Path,
    Status,
    UserAgent,
    Query,
    ForwardedFor,
    HostHeader,
}
const N_COLS: usize = 11;
const REQUIRED: [(Col, &str); 3] = [
    (Col::Date, "date"),
    (Col::Time, "time"),
    (Col::ClientIp, "c-ip"),
];

/// The column layout of the current file, from its `#Fields` line.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    /// For each column index, which field it holds (`u8::MAX`: not read).
    slot_of: Vec<u8>,
    /// Highest column index that holds a required field, +1.
    min_len: usize,
    present: [bool; N_COLS],
    known: bool,
}

impl Columns {
    /// Read a `#Fields:` line. Errors when a required column (date, time, c-ip) is absent.
    fn from_fields(line: &str) -> Result<Columns, Reject> {
        let names = line.trim_start_matches("#Fields:").split_whitespace();
        let mut c = Columns {
            known: true,
            ..Columns::default()
        };
        for name in names {
            let col = match name {
                "date" => Some(Col::Date),
                "time" => Some(Col::Time),
                "c-ip" => Some(Col::ClientIp),
                "cs-method" => Some(Col::Method),
                "cs(Host)" => Some(Col::Host),
                "cs-uri-stem" => Some(Col::Path),
                "sc-status" => Some(Col::Status),
                "cs(User-Agent)" => Some(Col::UserAgent),
                "cs-uri-query" => Some(Col::Query),
                "x-forwarded-for" => Some(Col::ForwardedFor),
                "x-host-header" => Some(Col::HostHeader),
                _ => None,
            };
            c.slot_of.push(col.map_or(u8::MAX, |c| c as u8));
            if let Some(col) = col {
                c.present[col as usize] = true;
            }
        }
        for (col, name) in REQUIRED {
            if !c.present[col as usize] {
                return Err(Reject::new(
                    RejectReason::MissingHeader,
                    format!("#Fields has no {name} column"),
                ));
            }
        }
        c.min_len = c
            .slot_of
            .iter()
            .enumerate()
            .filter(|(_, s)| REQUIRED.iter().any(|(col, _)| **s == *col as u8))
            .map(|(i, _)| i + 1)
            .max()
            .unwrap_or(0);
        Ok(c)
    }
}

/// `line.split('\t')` with the SIMD `memchr` crate (std's char search was the hot spot).
fn tab_fields(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let s = rest?;
        match memchr::memchr(b'\t', s.as_bytes()) {
            Some(i) => {
                rest = Some(&s[i + 1..]);
                Some(&s[..i])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

fn dash(s: &str) -> &str {
    if s == "-" {
        ""
    } else {
        s
    }
}

/// Parse one line: a `#` header updates `columns`, a data line emits one [`Request`].
pub fn parse_line<'a, F: Emit<'a>>(
    line: &'a str,
    columns: &mut Columns,
    client: ClientIpSource,
    emit: &mut F,
) -> Result<(), Reject> {
    if let Some(rest) = line.strip_prefix('#') {
        if rest.starts_with("Fields:") {
            *columns = Columns::from_fields(line)?;
        }
        return Ok(());
    }
    if line.trim().is_empty() {
        return Ok(());
    }
    if !columns.known {
        return Err(Reject::new(
            RejectReason::MissingHeader,
            "data before any #Fields line",
        ));
    }
    let mut v: [&'a str; N_COLS] = [""; N_COLS];
    let mut n = 0;
    for (i, field) in tab_fields(line).enumerate() {
        n = i + 1;
        if let Some(&slot) = columns.slot_of.get(i) {
            if slot != u8::MAX {
                v[slot as usize] = field;
            }
        }
    }
    if n < columns.min_len {
        return Err(Reject::new(
            RejectReason::WrongColumns,
            format!("{n} columns, #Fields needs at least {}", columns.min_len),
        ));
    }
    let time_ms = timefmt::parse_date_clock(v[Col::Date as usize], v[Col::Time as usize])
        .filter(|t| timefmt::in_range(*t))
        .ok_or_else(|| {
            Reject::new(
                RejectReason::BadTime,
                format!("{} {}", v[Col::Date as usize], v[Col::Time as usize]),
            )
        })?;
    let client = match client {
        ClientIpSource::Source => {
            let raw = v[Col::ClientIp as usize];
            parse_ip(raw)
                .ok_or_else(|| Reject::new(RejectReason::BadIp, format!("c-ip {raw:?}")))?
        }
        ClientIpSource::ForwardedFor { trusted_proxies } => {
            let raw = dash(v[Col::ForwardedFor as usize]);
            // CloudFront writes the list URL-encoded (`%2C%20`) in some files.
            let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
            from_forwarded_for(&decoded, trusted_proxies).ok_or_else(|| {
                Reject::new(
                    RejectReason::NoForwardedIp,
                    format!("x-forwarded-for {raw:?}"),
                )
            })?
        }
    };
    let status = match dash(v[Col::Status as usize]) {
        "" | "000" => None,
        s => Some(
            s.parse::<u16>()
                .map_err(|_| Reject::new(RejectReason::BadValue, format!("sc-status {s:?}")))?,
        ),
    };
    let host = match dash(v[Col::HostHeader as usize]) {
        "" => dash(v[Col::Host as usize]),
        h => h,
    };
    emit.emit(Request {
        time_ms,
        client,
        method: Cow::Borrowed(dash(v[Col::Method as usize])),
        host: Cow::Borrowed(host),
        path: Cow::Borrowed(dash(v[Col::Path as usize])),
        query: Cow::Borrowed(dash(v[Col::Query as usize])),
        status,
        origin_status: None,
        waf_action: None,
        terminating_rule: None,
        country: None,
        user_agent: Cow::Borrowed(dash(v[Col::UserAgent as usize])),
        labels: Vec::new(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tab_fields;

    #[test]
    fn tab_fields_is_split_on_tab() {
        for line in [
            "",
            "\t",
            "a",
            "a\tb",
            "a\t\tb\t",
            "\té\tx\t\t",
            "no tabs at all",
        ] {
            let ours: Vec<&str> = tab_fields(line).collect();
            let std: Vec<&str> = line.split('\t').collect();
            assert_eq!(ours, std, "{line:?}");
        }
    }
}
