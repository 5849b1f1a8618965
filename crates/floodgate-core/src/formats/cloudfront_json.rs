//! CloudFront standard logging v2, JSON output (to S3, CloudWatch Logs or Firehose): one JSON
//! object per request, keys the W3C field names (`c-ip`, `cs-uri-stem`, `timestamp(ms)`, …),
//! every value a string, only the fields the distribution's logging selects.
//!
//! Recognised by those keys, so it can never be taken for WAF (which has an `httpRequest`
//! object) or the other way round. The fields read, the time preference (`timestamp(ms)`, then
//! `timestamp`, then `date` + `time`), the decoding of CloudFront's percent-encoding and the
//! rejections are those of the W3C form ([`super::cloudfront`]). A record without `c-ip` is
//! rejected as `missing_field`, naming the logging field to turn on.

use super::cloudfront::{as_sent, client, dash, status, time_of};
use super::{Confidence, Emit, FileParser, LogFormat, ParseOptions};
use crate::client_ip::ClientIpSource;
use crate::features::{parse_asn, HeaderNames};
use crate::reject::{Reject, RejectReason};
use crate::request::{Format, Request};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// The format's name.
pub const FORMAT: Format = Format::new("cloudfront-json");

/// Keys only CloudFront's JSON records have (W3C field names).
const KEYS: [&str; 8] = [
    "\"c-ip\"",
    "\"cs-uri-stem\"",
    "\"x-edge-location\"",
    "\"x-edge-request-id\"",
    "\"timestamp(ms)\"",
    "\"cs(Host)\"",
    "\"x-host-header\"",
    "\"sc-status\"",
];

/// CloudFront v2 JSON records: see the module docs.
pub struct CloudfrontJson;

impl LogFormat for CloudfrontJson {
    fn format(&self) -> Format {
        FORMAT
    }

    fn delivery(&self) -> super::Delivery {
        super::Delivery::CloudFrontStandard
    }

    fn describe(&self) -> &'static str {
        "CloudFront standard logging v2, JSON: one object per line with W3C field names as keys (c-ip, cs-uri-stem, timestamp(ms), …)"
    }

    /// A JSON object with two of CloudFront's field names is certain, with one likely.
    fn detect(&self, line: &str) -> Option<Confidence> {
        if !line.trim_start().starts_with('{') || line.contains("\"httpRequest\"") {
            return None;
        }
        match KEYS.iter().filter(|k| line.contains(*k)).count() {
            0 => None,
            1 => Some(Confidence::Likely),
            _ => Some(Confidence::Certain),
        }
    }

    fn open(&self, opts: &ParseOptions) -> Result<Box<dyn FileParser>, String> {
        Ok(Box::new(JsonParser(opts.client_ip.clone())))
    }
}

#[derive(Clone)]
struct JsonParser(ClientIpSource);

impl FileParser for JsonParser {
    fn fork(&self) -> Box<dyn FileParser> {
        Box::new(self.clone())
    }
    fn parse<'a>(
        &mut self,
        line: &'a str,
        emit: &mut dyn FnMut(Request<'a>),
    ) -> Result<(), Reject> {
        parse_line(line, &self.0, &mut |r| emit(r))
    }
}

/// A value as CloudFront writes it: a string (a number or null is accepted too).
#[derive(Default)]
struct Value<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Value<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Value<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'a>, E> {
                Ok(Value(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'a>, E> {
                Ok(Value(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value<'a>, E> {
                Ok(Value(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value<'a>, E> {
                Ok(Value(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value<'a>, E> {
                Ok(Value(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'a>, E> {
                Ok(Value(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value<'a>, E> {
                Ok(Value::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Value<'a>, E> {
                Ok(Value::default())
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize, Default)]
struct Record<'a> {
    #[serde(default, borrow, rename = "timestamp(ms)")]
    timestamp_ms: Value<'a>,
    #[serde(default, borrow)]
    timestamp: Value<'a>,
    #[serde(default, borrow)]
    date: Value<'a>,
    #[serde(default, borrow)]
    time: Value<'a>,
    #[serde(default, borrow, rename = "c-ip")]
    c_ip: Option<Value<'a>>,
    #[serde(default, borrow, rename = "cs-method")]
    method: Value<'a>,
    #[serde(default, borrow, rename = "cs(Host)")]
    host: Value<'a>,
    #[serde(default, borrow, rename = "x-host-header")]
    host_header: Value<'a>,
    #[serde(default, borrow, rename = "cs-uri-stem")]
    path: Value<'a>,
    #[serde(default, borrow, rename = "cs-uri-query")]
    query: Value<'a>,
    #[serde(default, borrow, rename = "sc-status")]
    status: Value<'a>,
    #[serde(default, borrow, rename = "cs(User-Agent)")]
    user_agent: Value<'a>,
    #[serde(default, borrow, rename = "x-forwarded-for")]
    forwarded_for: Value<'a>,
    #[serde(default, borrow, rename = "c-country")]
    country: Value<'a>,
    #[serde(default, borrow)]
    asn: Value<'a>,
}

/// Parse one record and emit one [`Request`].
pub fn parse_line<'a, F: Emit<'a>>(
    line: &'a str,
    client_source: &ClientIpSource,
    emit: &mut F,
) -> Result<(), Reject> {
    let r: Record<'a> = serde_json::from_str(line)
        .map_err(|e| Reject::new(RejectReason::BadJson, e.to_string()))?;
    if r.c_ip.is_none() && *client_source == ClientIpSource::Source {
        return Err(Reject::new(
            RejectReason::MissingField,
            "c-ip: this record has no client address; add the c-ip field to the distribution's standard logging (v2) fields",
        ));
    }
    let time_ms = time_of(&r.timestamp_ms.0, &r.timestamp.0, &r.date.0, &r.time.0)?;
    let c_ip = r.c_ip.map(|v| v.0).unwrap_or_default();
    let client = client(client_source, dash(&c_ip), &r.forwarded_for.0)?;
    let own = |v: Value<'a>| -> Cow<'a, str> {
        match v.0 {
            Cow::Borrowed(s) => Cow::Borrowed(dash(s)),
            Cow::Owned(s) => Cow::Owned(dash(&s).to_string()),
        }
    };
    let decoded = |v: Value<'a>| -> Cow<'a, str> {
        match own(v) {
            Cow::Borrowed(s) => as_sent(s),
            Cow::Owned(s) => Cow::Owned(as_sent(&s).into_owned()),
        }
    };
    let status = status(&r.status.0)?;
    let host = if dash(&r.host_header.0).is_empty() {
        own(r.host)
    } else {
        own(r.host_header)
    };
    let country = own(r.country);
    emit.emit(Request {
        time_ms,
        client,
        method: own(r.method),
        host,
        path: decoded(r.path),
        query: decoded(r.query),
        status,
        origin_status: None,
        waf_action: None,
        terminating_rule: None,
        country: (!country.is_empty()).then_some(country),
        user_agent: decoded(r.user_agent),
        labels: Vec::new(),
        ja3: None,
        ja4: None,
        asn: parse_asn(&r.asn.0),
        header_names: HeaderNames::default(),
        challenge: None,
        captcha: None,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Request<'_>, Reject> {
        let mut out = None;
        parse_line(line, &ClientIpSource::Source, &mut |r| out = Some(r))?;
        Ok(out.expect("a record"))
    }

    #[test]
    fn a_record_with_the_fields_read() {
        let r = parse(r#"{"timestamp(ms)":"1731620046814","c-ip":"192.0.2.7","cs-method":"GET","cs(Host)":"d1.cloudfront.net","cs-uri-stem":"/a%2541dmin","sc-status":"403","cs(User-Agent)":"curl/8.0%20x","c-country":"FR","asn":"16509"}"#).unwrap();
        assert_eq!(r.time_ms, 1_731_620_046_814);
        assert_eq!(r.client.to_string(), "192.0.2.7");
        assert_eq!(r.path, "/a%41dmin");
        assert_eq!(r.user_agent, "curl/8.0 x");
        assert_eq!((r.status, r.country.as_deref()), (Some(403), Some("FR")));
        assert_eq!(r.asn, Some(16509));
        // date and time when there is no timestamp
        let r = parse(r#"{"date":"2024-11-14","time":"21:34:06","c-ip":"192.0.2.7"}"#).unwrap();
        assert_eq!(r.time_ms, 1_731_620_046_000);
    }

    #[test]
    fn no_c_ip_names_the_field_to_turn_on() {
        let e = parse(r#"{"date":"2024-11-14","time":"21:34:06","x-edge-location":"SOF50-P2","timestamp(ms)":"1731620046814"}"#).unwrap_err();
        assert_eq!(e.reason, RejectReason::MissingField);
        assert!(e.detail.contains("add the c-ip field"));
        assert_eq!(
            parse("{not json").unwrap_err().reason,
            RejectReason::BadJson
        );
        assert_eq!(
            parse(r#"{"c-ip":"192.0.2.7","timestamp(ms)":"soon"}"#)
                .unwrap_err()
                .reason,
            RejectReason::BadTime
        );
    }
}
