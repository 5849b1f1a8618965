//! CloudFront standard logs in W3C form: the legacy logs and standard logging v2 (W3C output).
//!
//! Tab-separated; columns are named by the most recent `#Fields` line, so any layout works:
//! the 12-field files of 2011, the 33 fields of today, and a v2 delivery with any subset of
//! fields in any order. A file without a header (some tools strip it) is read by position with
//! the standard field order (the first N of the 33 fields, N the number of columns), because
//! CloudFront only ever appended fields.
//!
//! * Time: `timestamp(ms)` when present (epoch ms), else `timestamp` (epoch seconds with a
//!   fraction), else `date` + `time`.
//! * Client: `c-ip` (or `x-forwarded-for` with `client_ip = "x-forwarded-for"`). A layout
//!   without it is rejected line by line as `missing_field`, naming the logging field to turn on.
//! * Values: `-` is empty; `sc-status` `000` (viewer gone before a response) is no status.
//!   CloudFront percent-encodes some characters of every value it writes (space, `%`, quotes,
//!   …): the path, the query and the user agent are decoded exactly once, which gives them as
//!   the client sent them (`/a%2541dmin` in the log is `/a%41dmin` on the wire).
//! * An RTMP distribution's log (`x-event` in `#Fields`) is rejected as `unsupported_format`; a
//!   data line without tabs (a copy from a web page) is `wrong_columns`, saying so.

use super::{Confidence, Emit, FileParser, LogFormat, ParseOptions};
use crate::client_ip::{client_from, parse_ip, ClientIpSource, Unpicked};
use crate::features::{parse_asn, HeaderNames};
use crate::reject::{Reject, RejectReason};
use crate::request::{Format, Request};
use crate::timefmt;
use std::borrow::Cow;

/// The format's name.
pub const FORMAT: Format = Format::new("cloudfront");

/// The standard log's fields in the order CloudFront writes them (header-less files are read
/// with the first N of these).
pub const STANDARD_FIELDS: [&str; 33] = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
];

/// CloudFront standard logs: see the module docs.
pub struct Cloudfront;

impl LogFormat for Cloudfront {
    fn format(&self) -> Format {
        FORMAT
    }

    fn delivery(&self) -> super::Delivery {
        super::Delivery::CloudFrontStandard
    }

    fn describe(&self) -> &'static str {
        "CloudFront standard access logs (legacy and v2 W3C): tab-separated, columns named by #Fields, or the standard order when the header is missing"
    }

    /// A `#Version` or `#Fields` header is certain; a header-less data line (`date<TAB>time<TAB>`)
    /// is likely.
    fn detect(&self, line: &str) -> Option<Confidence> {
        if line.starts_with("#Version") || line.starts_with("#Fields") {
            return Some(Confidence::Certain);
        }
        let mut f = line.splitn(3, '\t');
        match (f.next(), f.next(), f.next()) {
            (Some(d), Some(t), Some(_)) if timefmt::parse_date_clock(d, t).is_some() => {
                Some(Confidence::Likely)
            }
            _ => None,
        }
    }

    fn open(&self, opts: &ParseOptions) -> Result<Box<dyn FileParser>, String> {
        Ok(Box::new(CloudfrontParser {
            columns: Columns::default(),
            client: opts.client_ip.clone(),
        }))
    }
}

#[derive(Clone)]
struct CloudfrontParser {
    columns: Columns,
    client: ClientIpSource,
}

impl FileParser for CloudfrontParser {
    fn fork(&self) -> Box<dyn FileParser> {
        Box::new(self.clone())
    }
    fn header_prefix(&self) -> Option<&'static str> {
        Some("#")
    }
    fn parse<'a>(
        &mut self,
        line: &'a str,
        emit: &mut dyn FnMut(Request<'a>),
    ) -> Result<(), Reject> {
        parse_line(line, &mut self.columns, &self.client, &mut |r| emit(r))
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
    TimestampMs,
    Timestamp,
    Country,
    Asn,
}
const N_COLS: usize = 15;

fn col_of(name: &str) -> Option<Col> {
    Some(match name {
        "date" => Col::Date,
        "time" => Col::Time,
        "c-ip" => Col::ClientIp,
        "cs-method" => Col::Method,
        "cs(Host)" => Col::Host,
        "cs-uri-stem" => Col::Path,
        "sc-status" => Col::Status,
        "cs(User-Agent)" => Col::UserAgent,
        "cs-uri-query" => Col::Query,
        "x-forwarded-for" => Col::ForwardedFor,
        "x-host-header" => Col::HostHeader,
        "timestamp(ms)" => Col::TimestampMs,
        "timestamp" => Col::Timestamp,
        "c-country" => Col::Country,
        "asn" => Col::Asn,
        _ => return None,
    })
}

/// The column layout of the current file.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    /// For each column index, which field it holds (`u8::MAX`: not read).
    slot_of: Vec<u8>,
    /// Highest column index that holds a field needed for a record, +1.
    min_len: usize,
    present: [bool; N_COLS],
    /// A header was read (else the standard order is assumed, by column count).
    known: bool,
    /// Why no record can come from this layout (a missing field, an RTMP log).
    unusable: Option<Reject>,
}

impl Columns {
    /// A layout from field names, in column order.
    fn from_names<'n>(names: impl Iterator<Item = &'n str>) -> Columns {
        let mut c = Columns {
            known: true,
            ..Columns::default()
        };
        let mut rtmp = false;
        for name in names {
            rtmp |= name == "x-event";
            let col = col_of(name);
            c.slot_of.push(col.map_or(u8::MAX, |c| c as u8));
            if let Some(col) = col {
                c.present[col as usize] = true;
            }
        }
        let has = |col: Col| c.present[col as usize];
        c.unusable = if rtmp {
            Some(Reject::new(
                RejectReason::UnsupportedFormat,
                "a CloudFront RTMP (streaming) distribution log: RTMP distributions were discontinued in 2020; not supported",
            ))
        } else if !has(Col::ClientIp) && !has(Col::ForwardedFor) {
            Some(Reject::new(
                RejectReason::MissingField,
                "c-ip: this log has no client address; add the c-ip field to the distribution's standard logging fields",
            ))
        } else if !(has(Col::TimestampMs)
            || has(Col::Timestamp)
            || (has(Col::Date) && has(Col::Time)))
        {
            Some(Reject::new(
                RejectReason::MissingField,
                "time: this log has neither timestamp(ms), timestamp nor date and time; add timestamp(ms) to the distribution's standard logging fields",
            ))
        } else {
            None
        };
        // The columns a record needs: the client and the time fields that will be used.
        let time: &[Col] = if has(Col::TimestampMs) {
            &[Col::TimestampMs]
        } else if has(Col::Timestamp) {
            &[Col::Timestamp]
        } else {
            &[Col::Date, Col::Time]
        };
        let needed: Vec<u8> = time
            .iter()
            .chain([Col::ClientIp].iter())
            .map(|c| *c as u8)
            .collect();
        c.min_len = c
            .slot_of
            .iter()
            .enumerate()
            .filter(|(_, s)| needed.contains(s))
            .map(|(i, _)| i + 1)
            .max()
            .unwrap_or(0);
        c
    }

    /// Read a `#Fields:` line (names separated by spaces or tabs).
    fn from_fields(line: &str) -> Columns {
        Columns::from_names(line.trim_start_matches("#Fields:").split_whitespace())
    }

    /// The standard layout for a header-less line of `n` columns.
    fn standard(n: usize) -> Columns {
        let mut c = Columns::from_names(STANDARD_FIELDS.iter().take(n).copied());
        c.known = false;
        c
    }
}

/// `line.split('\t')` with the SIMD `memchr` crate (std's char search was the hot spot).
pub(super) fn tab_fields(line: &str) -> impl Iterator<Item = &str> {
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

/// CloudFront's "empty": `-`.
pub(super) fn dash(s: &str) -> &str {
    if s == "-" {
        ""
    } else {
        s
    }
}

/// Undo CloudFront's percent-encoding of a value exactly once: the value as the client sent
/// it. Borrowed when there is nothing to decode; invalid UTF-8 becomes U+FFFD.
pub(super) fn as_sent(s: &str) -> Cow<'_, str> {
    if s.contains('%') {
        percent_encoding::percent_decode_str(s).decode_utf8_lossy()
    } else {
        Cow::Borrowed(s)
    }
}

/// `sc-status`: `000` and `-` are no status.
pub(super) fn status(s: &str) -> Result<Option<u16>, Reject> {
    match dash(s) {
        "" | "000" => Ok(None),
        s => s
            .parse::<u16>()
            .map(Some)
            .map_err(|_| Reject::new(RejectReason::BadValue, format!("sc-status {s:?}"))),
    }
}

/// The client by the configured source, from `c-ip` or the (percent-encoded) X-Forwarded-For.
pub(super) fn client(
    source: &ClientIpSource,
    c_ip: &str,
    xff: &str,
) -> Result<std::net::IpAddr, Reject> {
    match source {
        ClientIpSource::Source => {
            if c_ip.is_empty() {
                return Err(Reject::new(RejectReason::MissingField, "c-ip"));
            }
            parse_ip(c_ip).ok_or_else(|| Reject::new(RejectReason::BadIp, format!("c-ip {c_ip:?}")))
        }
        ClientIpSource::ForwardedFor {
            trusted_proxies,
            proxies,
        } => {
            let raw = dash(xff);
            // CloudFront writes the list URL-encoded (`%2C%20`) in some files and with `\x20`
            // for the space after each comma in others (`10.3.200.121,\x2010.56.14.213`).
            let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
            let decoded = if decoded.contains("\\x20") {
                std::borrow::Cow::Owned(decoded.replace("\\x20", " "))
            } else {
                decoded
            };
            let peer =
                if proxies.is_empty() || c_ip.is_empty() {
                    None
                } else {
                    Some(parse_ip(c_ip).ok_or_else(|| {
                        Reject::new(RejectReason::BadIp, format!("c-ip {c_ip:?}"))
                    })?)
                };
            client_from(peer, &decoded, *trusted_proxies, proxies).map_err(|e| match e {
                Unpicked::NoPeer => Reject::new(RejectReason::MissingField, "c-ip"),
                Unpicked::NoForwarded => Reject::new(
                    RejectReason::NoForwardedIp,
                    format!("x-forwarded-for {raw:?}"),
                ),
            })
        }
    }
}

/// Epoch seconds with a fraction (`1684226820.937`) or epoch ms, as ms.
pub(super) fn epoch(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 15 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    if frac.is_empty() && w > 100_000_000_000 {
        return Some(w); // already ms
    }
    let mut ms: i64 = 0;
    for (i, b) in frac.bytes().take(3).enumerate() {
        ms += (b - b'0') as i64 * [100, 10, 1][i];
    }
    w.checked_mul(1000)?.checked_add(ms)
}

/// The request time from whichever time fields the layout has (`timestamp(ms)` first).
pub(super) fn time_of(ts_ms: &str, ts: &str, date: &str, clock: &str) -> Result<i64, Reject> {
    let t = if !dash(ts_ms).is_empty() {
        ts_ms
            .parse::<i64>()
            .ok()
            .ok_or_else(|| Reject::new(RejectReason::BadTime, format!("timestamp(ms) {ts_ms:?}")))?
    } else if !dash(ts).is_empty() {
        epoch(ts).ok_or_else(|| Reject::new(RejectReason::BadTime, format!("timestamp {ts:?}")))?
    } else {
        timefmt::parse_date_clock(date, clock)
            .ok_or_else(|| Reject::new(RejectReason::BadTime, format!("{date} {clock}")))?
    };
    if !timefmt::in_range(t) {
        return Err(Reject::new(
            RejectReason::BadTime,
            format!("{t} out of range"),
        ));
    }
    Ok(t)
}

/// Parse one line: a `#` header updates `columns`, a data line emits one [`Request`].
pub fn parse_line<'a, F: Emit<'a>>(
    line: &'a str,
    columns: &mut Columns,
    client_source: &ClientIpSource,
    emit: &mut F,
) -> Result<(), Reject> {
    if let Some(rest) = line.strip_prefix('#') {
        if rest.starts_with("Fields:") {
            *columns = Columns::from_fields(line);
        }
        return Ok(());
    }
    if line.trim().is_empty() {
        return Ok(());
    }
    if !columns.known {
        // Header-less: the standard order, as many fields as the line has.
        let n = tab_fields(line).count();
        if columns.slot_of.len() != n {
            *columns = Columns::standard(n);
        }
    }
    if let Some(why) = &columns.unusable {
        return Err(why.clone());
    }
    // CloudFront never writes a space inside a field (it encodes them), so a tab-less line
    // that splits into enough words on spaces is a copy from a web page, not a damaged line.
    if !line.contains('\t')
        && (line.contains("  ") || line.split(' ').count() >= columns.min_len.max(5))
    {
        return Err(Reject::new(
            RejectReason::WrongColumns,
            "fields are separated by spaces, not tabs: CloudFront writes tabs (a copy from a web page?)",
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
    let time_ms = time_of(
        v[Col::TimestampMs as usize],
        v[Col::Timestamp as usize],
        v[Col::Date as usize],
        v[Col::Time as usize],
    )?;
    let client = client(
        client_source,
        dash(v[Col::ClientIp as usize]),
        v[Col::ForwardedFor as usize],
    )?;
    let host = match dash(v[Col::HostHeader as usize]) {
        "" => dash(v[Col::Host as usize]),
        h => h,
    };
    let country = dash(v[Col::Country as usize]);
    emit.emit(Request {
        time_ms,
        client,
        method: Cow::Borrowed(dash(v[Col::Method as usize])),
        host: Cow::Borrowed(host),
        path: as_sent(dash(v[Col::Path as usize])),
        query: as_sent(dash(v[Col::Query as usize])),
        status: status(v[Col::Status as usize])?,
        origin_status: None,
        waf_action: None,
        terminating_rule: None,
        country: (!country.is_empty()).then_some(Cow::Borrowed(country)),
        user_agent: as_sent(dash(v[Col::UserAgent as usize])),
        labels: Vec::new(),
        ja3: None,
        ja4: None,
        asn: parse_asn(v[Col::Asn as usize]),
        header_names: HeaderNames::default(),
        challenge: None,
        captcha: None,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn one(header: &str, line: &str) -> Result<Request<'static>, Reject> {
        let mut c = Columns::default();
        let mut out = Vec::new();
        let h: &'static str = Box::leak(header.to_string().into_boxed_str());
        let l: &'static str = Box::leak(line.to_string().into_boxed_str());
        if !h.is_empty() {
            parse_line(h, &mut c, &ClientIpSource::Source, &mut |r| out.push(r))?;
        }
        parse_line(l, &mut c, &ClientIpSource::Source, &mut |r| out.push(r))?;
        Ok(out.pop().expect("a record"))
    }

    #[test]
    fn v2_subsets_in_any_order_with_timestamp_ms() {
        let r = one(
            "#Fields: timestamp(ms) c-ip cs-uri-stem c-country sc-status asn",
            "1731623425421\t192.0.2.9\t/a%2541dmin\tDE\t403\t16509",
        )
        .unwrap();
        assert_eq!(r.asn, Some(16509));
        assert_eq!(r.time_ms, 1_731_623_425_421);
        assert_eq!(r.path, "/a%41dmin", "CloudFront's own encoding undone once");
        assert_eq!(r.country.as_deref(), Some("DE"));
        assert_eq!(r.status, Some(403));
        let r = one("#Fields: c-ip timestamp", "192.0.2.9\t1684226820.937").unwrap();
        assert_eq!(r.time_ms, 1_684_226_820_937);
        assert_eq!(r.asn, None);
    }

    #[test]
    fn layouts_that_cannot_give_a_record_say_which_field_to_turn_on() {
        let e = one(
            "#Fields: date time x-edge-location asn",
            "2024-11-14\t22:30:25\tSOF50\t16509",
        )
        .unwrap_err();
        assert_eq!(e.reason, RejectReason::MissingField);
        assert!(e.detail.contains("add the c-ip field"), "{}", e.detail);
        let e = one(
            "#Fields: date time c-ip x-event",
            "2010-03-12\t23:51:20\t192.0.2.1\tconnect",
        )
        .unwrap_err();
        assert_eq!(e.reason, RejectReason::UnsupportedFormat);
        let e = one(
            "#Fields: date time c-ip",
            "2024-11-14    22:30:25    192.0.2.1",
        )
        .unwrap_err();
        assert_eq!(e.reason, RejectReason::WrongColumns);
        assert!(e.detail.contains("spaces, not tabs"));
        // single spaces, as web pages render the tabs of AWS's own examples
        let e = one(
            "#Fields: date time x-edge-location sc-bytes c-ip cs-method",
            "2014-05-23 01:13:11 FRA2 182 192.0.2.10 GET",
        )
        .unwrap_err();
        assert!(e.detail.contains("spaces, not tabs"), "{}", e.detail);
    }

    #[test]
    fn a_headerless_line_is_read_in_the_standard_order() {
        let r = one(
            "",
            "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111.cloudfront.net\t/index.html\t200\t-\tcurl/7\t-",
        )
        .unwrap();
        assert_eq!(r.client.to_string(), "192.0.2.100");
        assert_eq!(
            (r.method.as_ref(), r.path.as_ref(), r.status),
            ("GET", "/index.html", Some(200))
        );
    }

    #[test]
    fn epoch_forms() {
        assert_eq!(epoch("1684226820.937"), Some(1_684_226_820_937));
        assert_eq!(epoch("1684226820.9"), Some(1_684_226_820_900));
        assert_eq!(epoch("1684226820"), Some(1_684_226_820_000));
        assert_eq!(epoch("1731620046814"), Some(1_731_620_046_814));
        for bad in ["", ".5", "1e9", "-1", "12.x", "99999999999999999999"] {
            assert_eq!(epoch(bad), None, "{bad}");
        }
    }

    #[test]
    fn forwarded_for_with_escaped_spaces_is_a_list() {
        let xff = ClientIpSource::ForwardedFor {
            trusted_proxies: 0,
            proxies: Default::default(),
        };
        for raw in [
            "10.3.200.121,\\x2010.56.14.213",
            "10.3.200.121%2C%2010.56.14.213",
            "10.3.200.121, 10.56.14.213",
        ] {
            assert_eq!(
                client(&xff, "192.0.2.1", raw).map(|ip| ip.to_string()),
                Ok("10.56.14.213".to_string()),
                "{raw}"
            );
        }
    }
}
