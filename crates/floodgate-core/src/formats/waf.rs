//! AWS WAF logs: one JSON object per line (also objects back to back without a newline).
//!
//! Only the fields the engine needs are materialised; everything else (rule match details,
//! rate-based rule lists with their string-or-number `evaluationWindowSec`, `requestId` "null",
//! redacted headers …) is skipped without allocation. Strings borrow from the line unless they
//! contain JSON escapes. From the headers array the values of Host, User-Agent and
//! X-Forwarded-For are read, case-insensitively, and every name is noted in a
//! [`HeaderNames`] (a bitset: no copy). The features of DESIGN.md "Floods no single address
//! makes" are read too: `ja3Fingerprint`, `ja4Fingerprint` (borrowed), and the top-level
//! `challengeResponse` / `captchaResponse` (numbers and a known reason). A value of another
//! type in any of these four is read as absent: they never decide whether a record counts.

use super::{Confidence, Emit, FileParser, LogFormat, ParseOptions};
use crate::client_ip::{client_from, parse_ip, ClientIpSource, Unpicked};
use crate::features::{header_index, HeaderNames, HOST, USER_AGENT, X_FORWARDED_FOR};
use crate::reject::{Reject, RejectReason};
use crate::request::{Format, Request};
use crate::timefmt;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

#[path = "waf_fast.rs"]
mod fast;
#[path = "waf_token.rs"]
mod token;
use token::{Text, Token};
#[cfg(test)]
#[path = "waf_fast_tests.rs"]
mod fast_tests;

/// The format's name.
pub const FORMAT: Format = Format::new("waf");

/// AWS WAF logs: see the module docs.
pub struct Waf;

impl LogFormat for Waf {
    fn format(&self) -> Format {
        FORMAT
    }

    fn describe(&self) -> &'static str {
        "AWS WAF JSON lines: one object per line with an httpRequest object (webaclId, terminatingRuleId, action)"
    }

    /// A JSON object with an `httpRequest` key is likely WAF; with `webaclId` or
    /// `terminatingRuleId` too, certainly. Other JSON is not WAF (another JSON format's).
    fn detect(&self, line: &str) -> Option<Confidence> {
        if !line.trim_start().starts_with('{') || !line.contains("\"httpRequest\"") {
            return None;
        }
        if line.contains("\"webaclId\"") || line.contains("\"terminatingRuleId\"") {
            Some(Confidence::Certain)
        } else {
            Some(Confidence::Likely)
        }
    }

    fn open(&self, opts: &ParseOptions) -> Result<Box<dyn FileParser>, String> {
        Ok(Box::new(WafParser {
            client: opts.client_ip.clone(),
            web_acls: opts.web_acls.clone(),
        }))
    }
}

#[derive(Clone)]
struct WafParser {
    client: ClientIpSource,
    /// `[source] web_acls`: empty reads every web ACL's records.
    web_acls: Vec<String>,
}

impl FileParser for WafParser {
    fn fork(&self) -> Box<dyn FileParser> {
        Box::new(self.clone())
    }
    fn parse<'a>(
        &mut self,
        line: &'a str,
        emit: &mut dyn FnMut(Request<'a>),
    ) -> Result<(), Reject> {
        let acls = &self.web_acls;
        if acls.is_empty() {
            return parse_line(line, &self.client, &mut |r| emit(r));
        }
        parse_line_for(line, &self.client, acls, &mut |r| emit(r))
    }
}

#[derive(Default, Deserialize)]
struct Record<'a> {
    #[serde(default, borrow, rename = "webaclId")]
    webacl_id: Option<Cow<'a, str>>,
    #[serde(default)]
    timestamp: Option<Timestamp>,
    #[serde(default, borrow)]
    action: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "terminatingRuleId")]
    terminating_rule_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "httpRequest")]
    http_request: Option<HttpRequest<'a>>,
    #[serde(default, borrow)]
    labels: Option<LabelNames<'a>>,
    #[serde(
        default,
        deserialize_with = "int_or_string",
        rename = "responseCodeSent"
    )]
    response_code_sent: Option<i64>,
    #[serde(default, borrow, rename = "ja3Fingerprint")]
    ja3: Text<'a>,
    #[serde(default, borrow, rename = "ja4Fingerprint")]
    ja4: Text<'a>,
    #[serde(default, rename = "challengeResponse")]
    challenge: Token,
    #[serde(default, rename = "captchaResponse")]
    captcha: Token,
}

#[derive(Default, Deserialize)]
struct HttpRequest<'a> {
    #[serde(default, borrow, rename = "clientIp")]
    client_ip: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    country: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    headers: Option<Headers<'a>>,
    #[serde(default, borrow)]
    uri: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    args: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "httpMethod")]
    http_method: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    host: Option<Cow<'a, str>>,
}

/// The three headers floodgate reads, picked out of the array without collecting it, and
/// the names of all of them.
#[derive(Default)]
struct Headers<'a> {
    host: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
    forwarded_for: Option<Cow<'a, str>>,
    names: HeaderNames,
}

impl<'a> Headers<'a> {
    /// Note `name`; keep `value` if `name` is one of the three headers (case-insensitive) and
    /// the first of its name; X-Forwarded-For headers are all kept, joined in order into one
    /// list (as RFC 7230 combines a repeated field), so a second header cannot hide the address
    /// a proxy appended. A header with a name and no value counts as sent. The one rule both
    /// WAF parsers follow.
    fn keep(&mut self, name: &str, value: Option<Cow<'a, str>>) {
        let index = header_index(name);
        self.names.add(index);
        let (Some(index), Some(value)) = (index, value) else {
            return;
        };
        let slot = match index {
            X_FORWARDED_FOR => {
                self.forwarded_for = Some(match self.forwarded_for.take() {
                    None => value,
                    Some(before) => Cow::Owned(format!("{before}, {value}")),
                });
                return;
            }
            HOST => &mut self.host,
            USER_AGENT => &mut self.user_agent,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    value: Option<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Headers<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Headers<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of {name, value} headers")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Headers::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut h = Headers::default();
                while let Some(Header { name, value }) = seq.next_element::<Header<'de>>()? {
                    if let Some(name) = name {
                        h.keep(&name, value);
                    }
                }
                Ok(h)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `labels: [{"name": "…"}]` → just the names.
struct LabelNames<'a>(Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for LabelNames<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Label<'a> {
            #[serde(default, borrow)]
            name: Option<Cow<'a, str>>,
        }
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LabelNames<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of {name} labels")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LabelNames(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut names = Vec::new();
                while let Some(label) = seq.next_element::<Label<'de>>()? {
                    if let Some(n) = label.name {
                        names.push(n);
                    }
                }
                Ok(LabelNames(names))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `timestamp` as written: a number (or numeric string), absent/null, or something else —
/// the last is a bad time (not bad JSON: the line is valid JSON with a wrong value).
enum Timestamp {
    Ms(i64),
    Null,
    Bad(String),
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a timestamp")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Timestamp, E> {
                Ok(Timestamp::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Timestamp, E> {
                Ok(Timestamp::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Timestamp, E> {
                Ok(Timestamp::Bad(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp::Ms(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                Ok(i64::try_from(v).map_or_else(|_| Timestamp::Bad(v.to_string()), Timestamp::Ms))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                Ok(if v.is_finite() && v.abs() < 9.0e15 {
                    Timestamp::Ms(v as i64)
                } else {
                    Timestamp::Bad(v.to_string())
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Ok(match v {
                    "" | "null" | "-" => Timestamp::Null,
                    _ => v.parse::<i64>().map_or_else(
                        |_| Timestamp::Bad(format!("{:?}", v.chars().take(40).collect::<String>())),
                        Timestamp::Ms,
                    ),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Timestamp, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Timestamp::Bad("an object".into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Timestamp, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Timestamp::Bad("an array".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Accept an integer, a float, a numeric string or null (fields AWS has written several ways).
fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number, a numeric string or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("number out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.is_finite() && v.abs() < 9.0e15 {
                Ok(Some(v as i64))
            } else {
                Err(E::custom("number out of range"))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.is_empty() || v == "null" || v == "-" {
                return Ok(None);
            }
            v.parse::<i64>()
                .map(Some)
                .map_err(|_| E::custom("not a number"))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Err(de::Error::custom("expected a number, found an object"))
        }
    }
    d.deserialize_any(V)
}

/// Parse one line (one or more objects) and emit a [`Request`] per object.
///
/// Simple lines (one object, no escapes: nearly all real ones) take the zero-copy scanner in
/// `waf_fast.rs`; everything else, and every line that would be rejected, goes through
/// serde_json, so both paths give the same records and the same rejections.
pub fn parse_line<'a, F: Emit<'a>>(
    line: &'a str,
    client: &ClientIpSource,
    emit: &mut F,
) -> Result<(), Reject> {
    parse_line_for(line, client, &[], emit)
}

/// [`parse_line`] keeping only the records of `web_acls` (every record when empty); the others
/// are rejected as `other_web_acl`.
pub fn parse_line_for<'a, F: Emit<'a>>(
    line: &'a str,
    client: &ClientIpSource,
    web_acls: &[String],
    emit: &mut F,
) -> Result<(), Reject> {
    if let Some(record) = fast::scan(line) {
        emit.emit(to_request(record, client, web_acls)?);
        return Ok(());
    }
    parse_line_serde(line, client, web_acls, emit)
}

/// The reference parser: serde_json for every line. The fast path must agree with it.
fn parse_line_serde<'a, F: Emit<'a>>(
    line: &'a str,
    client: &ClientIpSource,
    web_acls: &[String],
    emit: &mut F,
) -> Result<(), Reject> {
    let mut stream = serde_json::Deserializer::from_str(line).into_iter::<Record<'a>>();
    for record in &mut stream {
        let record = record.map_err(|e| Reject::new(RejectReason::BadJson, e.to_string()))?;
        emit.emit(to_request(record, client, web_acls)?);
    }
    Ok(())
}

/// Refuse a record of a web ACL the deployment does not own (checked before anything else, so
/// a foreign ACL's malformed records are counted as foreign, not as damage of ours).
fn check_web_acl(id: Option<&str>, web_acls: &[String]) -> Result<(), Reject> {
    if web_acls.is_empty() || id.is_some_and(|id| web_acls.iter().any(|a| a == id)) {
        return Ok(());
    }
    Err(Reject::new(
        RejectReason::OtherWebAcl,
        match id {
            Some(id) => format!("webaclId {id:?} is not in [source] web_acls"),
            None => "no webaclId, and [source] web_acls is set".to_string(),
        },
    ))
}

fn to_request<'a>(
    r: Record<'a>,
    client: &ClientIpSource,
    web_acls: &[String],
) -> Result<Request<'a>, Reject> {
    check_web_acl(r.webacl_id.as_deref(), web_acls)?;
    let time_ms = match r.timestamp {
        Some(Timestamp::Ms(t)) => t,
        None | Some(Timestamp::Null) => {
            return Err(Reject::new(RejectReason::MissingField, "timestamp"))
        }
        Some(Timestamp::Bad(v)) => {
            return Err(Reject::new(
                RejectReason::BadTime,
                format!("timestamp {v} is not a number of ms"),
            ))
        }
    };
    if !timefmt::in_range(time_ms) {
        return Err(Reject::new(
            RejectReason::BadTime,
            format!("timestamp {time_ms} out of range"),
        ));
    }
    let http = r
        .http_request
        .ok_or_else(|| Reject::new(RejectReason::MissingField, "httpRequest"))?;
    let headers = http.headers.unwrap_or_default();
    let client = match client {
        ClientIpSource::Source => {
            let raw = http
                .client_ip
                .ok_or_else(|| Reject::new(RejectReason::MissingField, "httpRequest.clientIp"))?;
            parse_ip(&raw)
                .ok_or_else(|| Reject::new(RejectReason::BadIp, format!("clientIp {raw:?}")))?
        }
        ClientIpSource::ForwardedFor {
            trusted_proxies,
            proxies,
        } => {
            let xff = headers.forwarded_for.as_deref().unwrap_or("");
            let peer = match http.client_ip.as_deref() {
                Some(raw) if !proxies.is_empty() => Some(parse_ip(raw).ok_or_else(|| {
                    Reject::new(RejectReason::BadIp, format!("clientIp {raw:?}"))
                })?),
                _ => None,
            };
            client_from(peer, xff, *trusted_proxies, proxies).map_err(|e| match e {
                Unpicked::NoPeer => Reject::new(RejectReason::MissingField, "httpRequest.clientIp"),
                Unpicked::NoForwarded => Reject::new(
                    RejectReason::NoForwardedIp,
                    format!("X-Forwarded-For {xff:?}"),
                ),
            })?
        }
    };
    let status = match r.response_code_sent {
        None => None,
        Some(c) => Some(
            u16::try_from(c)
                .map_err(|_| Reject::new(RejectReason::BadValue, "responseCodeSent"))?,
        ),
    };
    Ok(Request {
        time_ms,
        client,
        method: http.http_method.unwrap_or(Cow::Borrowed("")),
        host: http.host.or(headers.host).unwrap_or(Cow::Borrowed("")),
        path: http.uri.unwrap_or(Cow::Borrowed("")),
        query: http.args.unwrap_or(Cow::Borrowed("")),
        status,
        origin_status: None,
        waf_action: r.action,
        terminating_rule: r.terminating_rule_id,
        country: http.country.filter(|c| !c.is_empty() && c != "-"),
        user_agent: headers.user_agent.unwrap_or(Cow::Borrowed("")),
        labels: r.labels.map(|l| l.0).unwrap_or_default(),
        ja3: r.ja3.0.filter(|f| !f.is_empty()),
        ja4: r.ja4.0.filter(|f| !f.is_empty()),
        asn: None,
        header_names: headers.names,
        challenge: r.challenge.0,
        captcha: r.captcha.0,
    })
}
