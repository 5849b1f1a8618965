//! CloudFront real-time log records (Kinesis Data Streams): one request per record,
//! tab-separated, no header, only the fields the real-time log configuration selects.
//!
//! Which fields a record holds is configuration (`[source] realtime_fields`, or the Lambda's
//! `FLOODGATE_REALTIME_FIELDS`), validated at start against AWS's field names. CloudFront
//! writes the selected fields in its own fixed order ([`FIELDS`]) whatever order the
//! configuration lists them in, so the columns are mapped by that order. Never detected from
//! content (there is no header): a source that carries these records (the Kinesis stream) asks
//! for the format by name.
//!
//! * Time: `timestamp`, epoch seconds with milliseconds (`1684226820.937`).
//! * `cs-uri-stem` includes the query string here; it is split at the first `?`.
//! * Values are percent-encoded as in standard logs and decoded once (as the client sent them).

use super::cloudfront::{as_sent, client, dash, status, tab_fields, time_of};
use super::{Confidence, Emit, FileParser, LogFormat, ParseOptions};
use crate::client_ip::ClientIpSource;
use crate::features::{parse_asn, HeaderNames};
use crate::reject::{Reject, RejectReason};
use crate::request::{Format, Request};
use std::borrow::Cow;

/// The format's name.
pub const FORMAT: Format = Format::new("cloudfront-realtime");

/// Every real-time log field, in the order CloudFront writes them.
pub const FIELDS: [&str; 69] = [
    "timestamp",
    "c-ip",
    "s-ip",
    "time-to-first-byte",
    "sc-status",
    "sc-bytes",
    "cs-method",
    "cs-protocol",
    "cs-host",
    "cs-uri-stem",
    "cs-bytes",
    "x-edge-location",
    "x-edge-request-id",
    "x-host-header",
    "time-taken",
    "cs-protocol-version",
    "c-ip-version",
    "cs-user-agent",
    "cs-referer",
    "cs-cookie",
    "cs-uri-query",
    "x-edge-response-result-type",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-result-type",
    "fle-encrypted-fields",
    "fle-status",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
    "c-port",
    "x-edge-detailed-result-type",
    "c-country",
    "cs-accept-encoding",
    "cs-accept",
    "cache-behavior-path-pattern",
    "cs-headers",
    "cs-header-names",
    "cs-headers-count",
    "primary-distribution-id",
    "primary-distribution-dns-name",
    "origin-fbl",
    "origin-lbl",
    "asn",
    "cmcd-encoded-bitrate",
    "cmcd-buffer-length",
    "cmcd-buffer-starvation",
    "cmcd-content-id",
    "cmcd-object-duration",
    "cmcd-deadline",
    "cmcd-measured-throughput",
    "cmcd-next-object-request",
    "cmcd-next-range-request",
    "cmcd-object-type",
    "cmcd-playback-rate",
    "cmcd-requested-maximum-throughput",
    "cmcd-streaming-format",
    "cmcd-session-id",
    "cmcd-stream-type",
    "cmcd-startup",
    "cmcd-top-bitrate",
    "cmcd-version",
    "r-host",
    "sr-reason",
    "x-edge-mqcs",
    "distribution-tenant-id",
    "connection-id",
];

/// The fields floodgate reads (the CDK stack configures exactly these by default).
pub const DEFAULT_FIELDS: [&str; 11] = [
    "timestamp",
    "c-ip",
    "cs-method",
    "cs-host",
    "x-host-header",
    "cs-uri-stem",
    "cs-uri-query",
    "sc-status",
    "cs-user-agent",
    "x-forwarded-for",
    "c-country",
];

/// Check a configured field list: every name known, no duplicates, the required ones present
/// (or `x-forwarded-for` instead of `c-ip`). The problem in words, for the configuration error.
pub fn validate(fields: &[String]) -> Result<(), String> {
    for (i, f) in fields.iter().enumerate() {
        if !FIELDS.contains(&f.as_str()) {
            return Err(format!(
                "{f:?} is not a CloudFront real-time log field (see docs/configuration.md)"
            ));
        }
        if fields[..i].contains(f) {
            return Err(format!("{f:?} is listed twice"));
        }
    }
    if !fields.iter().any(|f| f == "timestamp") {
        return Err("the fields must include \"timestamp\"".into());
    }
    if !fields.iter().any(|f| f == "c-ip" || f == "x-forwarded-for") {
        return Err("the fields must include \"c-ip\" (or \"x-forwarded-for\")".into());
    }
    Ok(())
}

/// CloudFront real-time logs: see the module docs.
pub struct CloudfrontRealtime;

impl LogFormat for CloudfrontRealtime {
    fn format(&self) -> Format {
        FORMAT
    }

    fn describe(&self) -> &'static str {
        "CloudFront real-time logs (Kinesis): tab-separated records of the configured fields, in CloudFront's field order; never detected, named by its source"
    }

    fn detect(&self, _line: &str) -> Option<Confidence> {
        None
    }

    fn open(&self, opts: &ParseOptions) -> Result<Box<dyn FileParser>, String> {
        validate(&opts.realtime_fields)?;
        // Column i holds the i-th selected field in CloudFront's order.
        let mut order: Vec<usize> = opts
            .realtime_fields
            .iter()
            .filter_map(|f| FIELDS.iter().position(|x| x == f))
            .collect();
        order.sort_unstable();
        let at = |name: &str| {
            let k = FIELDS.iter().position(|x| *x == name)?;
            order.iter().position(|&o| o == k)
        };
        Ok(Box::new(RealtimeParser {
            cols: [
                at("timestamp"),
                at("c-ip"),
                at("cs-method"),
                at("cs-host"),
                at("x-host-header"),
                at("cs-uri-stem"),
                at("cs-uri-query"),
                at("sc-status"),
                at("cs-user-agent"),
                at("x-forwarded-for"),
                at("c-country"),
                at("asn"),
            ],
            width: order.len(),
            client: opts.client_ip.clone(),
        }))
    }
}

/// Column indices of: timestamp, c-ip, cs-method, cs-host, x-host-header, cs-uri-stem,
/// cs-uri-query, sc-status, cs-user-agent, x-forwarded-for, c-country, asn.
#[derive(Clone)]
struct RealtimeParser {
    cols: [Option<usize>; 12],
    width: usize,
    client: ClientIpSource,
}

impl FileParser for RealtimeParser {
    fn fork(&self) -> Box<dyn FileParser> {
        Box::new(self.clone())
    }
    fn parse<'a>(
        &mut self,
        line: &'a str,
        emit: &mut dyn FnMut(Request<'a>),
    ) -> Result<(), Reject> {
        parse_record(self, line, &mut |r| emit(r))
    }
}

fn parse_record<'a, F: Emit<'a>>(
    p: &RealtimeParser,
    line: &'a str,
    emit: &mut F,
) -> Result<(), Reject> {
    let line = line.trim_end_matches(['\r', '\n']);
    let fields: Vec<&'a str> = tab_fields(line).collect();
    if fields.len() != p.width {
        return Err(Reject::new(
            RejectReason::WrongColumns,
            format!(
                "{} fields, the configured real-time log fields are {}",
                fields.len(),
                p.width
            ),
        ));
    }
    let get = |i: usize| {
        p.cols[i]
            .and_then(|c| fields.get(c).copied())
            .map_or("", dash)
    };
    let time_ms = time_of("", get(0), "", "")?;
    let client = client(&p.client, get(1), get(9))?;
    let (path, inline_query) = get(5).split_once('?').unwrap_or((get(5), ""));
    let query = if inline_query.is_empty() {
        get(6)
    } else {
        inline_query
    };
    let host = if get(4).is_empty() { get(3) } else { get(4) };
    let country = get(10);
    emit.emit(Request {
        time_ms,
        client,
        method: Cow::Borrowed(get(2)),
        host: Cow::Borrowed(host),
        path: as_sent(path),
        query: as_sent(query),
        status: status(get(7))?,
        origin_status: None,
        waf_action: None,
        terminating_rule: None,
        country: (!country.is_empty()).then_some(Cow::Borrowed(country)),
        user_agent: as_sent(get(8)),
        labels: Vec::new(),
        ja3: None,
        ja4: None,
        asn: parse_asn(get(11)),
        header_names: HeaderNames::default(),
        challenge: None,
        captcha: None,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(fields: &[&str]) -> Box<dyn FileParser> {
        CloudfrontRealtime
            .open(&ParseOptions {
                realtime_fields: fields.iter().map(|s| s.to_string()).collect(),
                ..ParseOptions::default()
            })
            .unwrap()
    }

    #[test]
    fn columns_follow_cloudfronts_order_not_the_configured_one() {
        // Configured in another order; records come in FIELDS order.
        let mut p = parser(&["cs-uri-stem", "c-ip", "sc-status", "timestamp", "cs-method"]);
        let mut out = Vec::new();
        p.parse(
            "1684226820.937\t192.0.2.4\t403\tGET\t/a%2541dmin?x=1",
            &mut |r| out.push(r),
        )
        .unwrap();
        let r = &out[0];
        assert_eq!(r.time_ms, 1_684_226_820_937);
        assert_eq!(r.client.to_string(), "192.0.2.4");
        assert_eq!((r.status, r.method.as_ref()), (Some(403), "GET"));
        assert_eq!((r.path.as_ref(), r.query.as_ref()), ("/a%41dmin", "x=1"));
        let e = p
            .parse("1684226820.937\t192.0.2.4", &mut |_| {})
            .unwrap_err();
        assert_eq!(e.reason, RejectReason::WrongColumns);
        assert_eq!(r.asn, None);
    }

    /// `asn` (here and in v2): a number; `-`, empty or anything else is no ASN, never a
    /// lost record.
    #[test]
    fn asn_values() {
        for (field, want) in [
            ("16509", Some(16509)),
            ("AS7922", Some(7922)),
            ("4294967295", Some(u32::MAX)),
            ("4294967296", None),
            ("-", None),
            ("", None),
            ("+1", None),
            ("16509x", None),
        ] {
            assert_eq!(parse_asn(field), want, "{field:?}");
        }
    }

    #[test]
    fn asn_is_read_when_selected() {
        let mut p = parser(&["asn", "c-ip", "timestamp", "c-country"]);
        let mut out = Vec::new();
        p.parse("1684226820.937\t192.0.2.4\tDE\t3320", &mut |r| out.push(r))
            .unwrap();
        assert_eq!(
            (out[0].asn, out[0].country.as_deref()),
            (Some(3320), Some("DE"))
        );
    }

    #[test]
    fn field_lists_are_validated() {
        assert!(validate(&["timestamp".into(), "c-ip".into()]).is_ok());
        assert!(validate(&["timestamp".into(), "c_ip".into()])
            .unwrap_err()
            .contains("not a CloudFront"));
        assert!(validate(&["c-ip".into()])
            .unwrap_err()
            .contains("timestamp"));
        assert!(
            validate(&["timestamp".into(), "c-ip".into(), "c-ip".into()])
                .unwrap_err()
                .contains("twice")
        );
        assert!(CloudfrontRealtime.open(&ParseOptions::default()).is_err());
    }
}
