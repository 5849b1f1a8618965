//! Application Load Balancer access logs: space-separated fields, some in double quotes.
//!
//! Field order (AWS docs): `type time elb client:port target:port request_processing_time
//! target_processing_time response_processing_time elb_status_code target_status_code
//! received_bytes sent_bytes "request" "user_agent" …`. Only the first fourteen are read; any
//! number of later fields is accepted (AWS appends fields over time). The client is split on
//! the last colon (IPv6 is written without brackets). Both status codes are kept: a 403 from
//! the load balancer with target status `-` was produced by WAF or the LB, not the application.
//! ALB logs have no X-Forwarded-For, so `client_ip = "x-forwarded-for"` is a configuration error
//! for them (reported by [`crate::ingest`]).

use super::{Confidence, Emit, FileParser, LogFormat, ParseOptions};
use crate::client_ip::{parse_ip_port, ClientIpSource};
use crate::features::HeaderNames;
use crate::reject::{Reject, RejectReason};
use crate::request::{Format, Request};
use crate::timefmt;
use memchr::{memchr, memchr2};
use std::borrow::Cow;

const TYPES: [&str; 6] = ["http", "https", "h2", "grpcs", "ws", "wss"];

/// The format's name.
pub const FORMAT: Format = Format::new("alb");

/// ALB access logs: see the module docs.
pub struct Alb;

impl LogFormat for Alb {
    fn format(&self) -> Format {
        FORMAT
    }

    fn describe(&self) -> &'static str {
        "Application Load Balancer access logs: space-separated, a connection type (http, https, h2, grpcs, ws, wss) then an RFC 3339 time"
    }

    /// A connection type followed by an RFC 3339 time is certainly ALB.
    fn detect(&self, line: &str) -> Option<Confidence> {
        let mut it = Fields { rest: line };
        matches!((it.next(), it.next()), (Some(Ok(t)), Some(Ok(time))) if TYPES.contains(&t) && timefmt::parse_iso_utc(time).is_some())
            .then_some(Confidence::Certain)
    }

    fn open(&self, opts: &ParseOptions) -> Result<Box<dyn FileParser>, String> {
        match opts.client_ip {
            ClientIpSource::Source => Ok(Box::new(AlbParser)),
            ClientIpSource::ForwardedFor { .. } => Err(
                "ALB logs have no X-Forwarded-For field; set [source] client_ip = \"source\" for ALB logs"
                    .to_string(),
            ),
        }
    }
}

#[derive(Clone)]
struct AlbParser;

impl FileParser for AlbParser {
    fn fork(&self) -> Box<dyn FileParser> {
        Box::new(self.clone())
    }
    fn parse<'a>(
        &mut self,
        line: &'a str,
        emit: &mut dyn FnMut(Request<'a>),
    ) -> Result<(), Reject> {
        parse_line(line, &mut |r| emit(r))
    }
}

/// Iterator over space-separated fields; a field starting with `"` runs to the closing quote
/// (backslash escapes skipped) and is returned without its quotes.
struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<&'a str, ()>;
    // Byte-level with the SIMD `memchr` crate: this loop runs over every field of every ALB
    // line (later fields are validated too), so it was the parser's hot spot.
    fn next(&mut self) -> Option<Self::Item> {
        let start = self
            .rest
            .bytes()
            .position(|b| b != b' ')
            .unwrap_or(self.rest.len());
        let s = &self.rest[start..];
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        if let Some(body) = s.strip_prefix('"') {
            let bytes = body.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                let Some(k) = memchr2(b'\\', b'"', &bytes[i..]) else {
                    break;
                };
                let j = i + k;
                if bytes[j] == b'\\' {
                    i = j + 2;
                    continue;
                }
                self.rest = &body[j + 1..];
                if !(self.rest.is_empty() || self.rest.starts_with(' ')) {
                    return Some(Err(()));
                }
                return Some(Ok(&body[..j]));
            }
            self.rest = "";
            return Some(Err(())); // unterminated quote
        }
        let end = memchr(b' ', s.as_bytes()).unwrap_or(s.len());
        self.rest = &s[end..];
        Some(Ok(&s[..end]))
    }
}

fn status(s: &str, name: &str) -> Result<Option<u16>, Reject> {
    match s {
        "-" | "" => Ok(None),
        s => s
            .parse()
            .map(Some)
            .map_err(|_| Reject::new(RejectReason::BadValue, format!("{name} {s:?}"))),
    }
}

/// Split `GET https://host:443/path?query HTTP/1.1` into (method, host, path, query). ALB
/// logs the request line as received, so a path may hold a space (`/hello world`): the URL is
/// everything between the method and a trailing `HTTP/…` protocol.
fn split_request(req: &str) -> (&str, &str, &str, &str) {
    let (method, rest) = req.split_once(' ').unwrap_or((req, ""));
    let url = match rest.rsplit_once(' ') {
        Some((url, protocol)) if protocol.starts_with("HTTP/") => url,
        _ => rest.split(' ').next().unwrap_or(""),
    };
    let (host, path_query) = match url.split_once("://") {
        Some((_, after)) => match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, "/"),
        },
        None => ("", url),
    };
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    (
        if method == "-" { "" } else { method },
        host,
        if path == "-" { "" } else { path },
        query,
    )
}

/// Parse one line and emit one [`Request`].
pub fn parse_line<'a, F: Emit<'a>>(line: &'a str, emit: &mut F) -> Result<(), Reject> {
    if line.trim().is_empty() {
        return Ok(());
    }
    let mut v: [&'a str; 14] = [""; 14];
    let mut n = 0;
    for (i, field) in (Fields { rest: line }).enumerate() {
        let field = match field {
            Ok(field) => field,
            // Fields split left to right, so a broken quote after the 14 fields read cannot
            // have moved any of them: AWS's own documentation once printed `"-"1` (no space
            // before matched_rule_priority), and such a line still says who asked for what.
            Err(()) if i >= v.len() => break,
            Err(()) => {
                return Err(Reject::new(
                    RejectReason::BadValue,
                    format!(
                        "quoted field {} is unterminated or not followed by a space",
                        i + 1
                    ),
                ))
            }
        };
        if i < v.len() {
            v[i] = field;
        }
        n = i + 1;
    }
    if n < v.len() {
        return Err(Reject::new(
            RejectReason::WrongColumns,
            format!("{n} fields, ALB lines have at least 14"),
        ));
    }
    let time_ms = timefmt::parse_iso_utc(v[1])
        .filter(|t| timefmt::in_range(*t))
        .ok_or_else(|| Reject::new(RejectReason::BadTime, format!("time {:?}", v[1])))?;
    let client = parse_ip_port(v[3])
        .ok_or_else(|| Reject::new(RejectReason::BadIp, format!("client {:?}", v[3])))?;
    let (method, host, path, query) = split_request(v[12]);
    emit.emit(Request {
        time_ms,
        client,
        method: Cow::Borrowed(method),
        host: Cow::Borrowed(host),
        path: Cow::Borrowed(path),
        query: Cow::Borrowed(query),
        status: status(v[8], "elb_status_code")?,
        origin_status: status(v[9], "target_status_code")?,
        waf_action: None,
        terminating_rule: None,
        country: None,
        user_agent: Cow::Borrowed(if v[13] == "-" { "" } else { v[13] }),
        labels: Vec::new(),
        ja3: None,
        ja4: None,
        asn: None,
        header_names: HeaderNames::default(),
        challenge: None,
        captcha: None,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{split_request, Fields};

    /// The original char-by-char field splitter, kept as the reference for the memchr one.
    fn reference(line: &str) -> Vec<Result<&str, ()>> {
        let mut out = Vec::new();
        let mut rest = line;
        loop {
            let s = rest.trim_start_matches(' ');
            if s.is_empty() {
                return out;
            }
            if let Some(body) = s.strip_prefix('"') {
                let bytes = body.as_bytes();
                let mut i = 0;
                let mut done = false;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            rest = &body[i + 1..];
                            if !(rest.is_empty() || rest.starts_with(' ')) {
                                out.push(Err(()));
                            } else {
                                out.push(Ok(&body[..i]));
                            }
                            done = true;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                if !done {
                    out.push(Err(()));
                    return out;
                }
                continue;
            }
            let end = s.find(' ').unwrap_or(s.len());
            rest = &s[end..];
            out.push(Ok(&s[..end]));
        }
    }

    #[test]
    fn fields_match_the_reference_splitter() {
        const PIECES: [&str; 8] = [" ", "\"", "\\", "a", "é", "  ", "\\\"", "x y"];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut line = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = (seed % 12) as usize;
            for k in 0..n {
                line.push_str(PIECES[((seed >> (4 * k)) % 8) as usize]);
            }
            let ours: Vec<Result<&str, ()>> = Fields { rest: &line }.collect();
            assert_eq!(ours, reference(&line), "{line:?}");
        }
    }

    #[test]
    fn a_space_in_the_path_stays_in_the_path() {
        assert_eq!(
            split_request("GET http://example.com:80/hello world HTTP/1.1"),
            ("GET", "example.com", "/hello world", "")
        );
        assert_eq!(
            split_request("POST https://h:443/a b?q=1 2 HTTP/2.0"),
            ("POST", "h", "/a b", "q=1 2")
        );
        assert_eq!(
            split_request("GET https://h:443/x HTTP/1.1"),
            ("GET", "h", "/x", "")
        );
        assert_eq!(split_request("- - - "), ("", "", "", ""));
        assert_eq!(split_request("GET /x"), ("GET", "", "/x", ""));
    }
}
