//! The parsed record every format produces and every rule consumes.
//!
//! A [`Request`] borrows from the line it was parsed from: the hot path allocates nothing per
//! record for the fields the engine needs. Strings that may carry escapes (JSON `\"`, `\/`)
//! are [`Cow`]s that borrow whenever the source had no escape.

use crate::features::{HeaderNames, TokenResponse, Verdict};
use crate::ua::{self, UaClass};
use std::borrow::Cow;
use std::net::IpAddr;

/// Which log format a file was written in: the name of a registered
/// [`LogFormat`](crate::formats::LogFormat). Detected from content, never from the file name.
/// A name rather than an enum, so that adding a format touches only its own file and the
/// registry; each format module exports its own (`formats::waf::FORMAT`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Format(&'static str);

impl Format {
    /// A format name (for a format module's `FORMAT` constant).
    pub const fn new(name: &'static str) -> Format {
        Format(name)
    }

    /// The lowercase name used in reports, the state and configuration.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The registered format of that name.
    pub fn from_name(name: &str) -> Option<Format> {
        crate::formats::by_name(name).map(|f| f.format())
    }
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
        let name = <Cow<'de, str>>::deserialize(d)?;
        Format::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown log format {name:?}")))
    }
}

/// One HTTP request as read from a log line, borrowing from that line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// Event time in milliseconds since the Unix epoch, UTC (the request's own timestamp).
    pub time_ms: i64,
    /// The client chosen by the configured [`ClientIpSource`](crate::ClientIpSource),
    /// IPv4-mapped IPv6 already normalised to IPv4.
    pub client: IpAddr,
    /// HTTP method as logged (`GET`, `POST`, …).
    pub method: Cow<'a, str>,
    /// Host header (WAF), `cs(Host)`/`x-host-header` (CloudFront) or the URL host (ALB).
    pub host: Cow<'a, str>,
    /// Path without the query string, as the client sent it: each format undoes exactly the
    /// encoding it adds (CloudFront percent-encodes `%`, spaces and more; ALB and WAF log the
    /// request as sent), so `/a%41dmin` is `/a%41dmin` whatever log it came from.
    pub path: Cow<'a, str>,
    /// Query string without the `?` (empty when none).
    pub query: Cow<'a, str>,
    /// Status sent to the client: CloudFront `sc-status`, ALB `elb_status_code`, WAF
    /// `responseCodeSent` (custom responses only). `None` when the log does not say
    /// (CloudFront writes `000` when the viewer went away before a response).
    pub status: Option<u16>,
    /// ALB `target_status_code`: the origin's answer. A 403 with no origin status was produced
    /// by the load balancer or WAF, not by the application.
    pub origin_status: Option<u16>,
    /// WAF `action` (`ALLOW`, `BLOCK`, `COUNT`, `CAPTCHA`, `CHALLENGE`); `None` elsewhere.
    pub waf_action: Option<Cow<'a, str>>,
    /// WAF `terminatingRuleId`; `None` elsewhere.
    pub terminating_rule: Option<Cow<'a, str>>,
    /// Two-letter country code when the log has one (WAF `httpRequest.country`).
    pub country: Option<Cow<'a, str>>,
    /// User agent, as sent (CloudFront's encoding undone once; some old CloudFront files encode
    /// it twice, which [`decode_for_display`](crate::decode_for_display) handles for reports).
    pub user_agent: Cow<'a, str>,
    /// WAF label names (`awswaf:managed:…`). Empty (and unallocated) when there are none.
    pub labels: Vec<Cow<'a, str>>,
    /// WAF `ja3Fingerprint`: the JA3 hash of the client's TLS hello (CloudFront and ALB web
    /// ACLs). A fleet of residential addresses often shares one; `None` when not logged.
    pub ja3: Option<Cow<'a, str>>,
    /// WAF `ja4Fingerprint` (`t13d1516h2_8daaf6152771_…`), what WAF rules can match on.
    pub ja4: Option<Cow<'a, str>>,
    /// Autonomous system number of the client's address: CloudFront standard logging v2 and
    /// real-time logs' `asn` (when selected). `None` when not logged or not a number.
    pub asn: Option<u32>,
    /// Which header names the request carried (WAF `httpRequest.headers[].name`); empty for
    /// the other logs. See [`HeaderNames`].
    pub header_names: HeaderNames,
    /// WAF `challengeResponse`, when the Challenge action applied.
    pub challenge: Option<TokenResponse>,
    /// WAF `captchaResponse`, when the CAPTCHA action applied.
    pub captcha: Option<TokenResponse>,
}

impl Request<'_> {
    /// A request with only time and client set; the rest empty. Handy for tests and generators.
    pub fn minimal(time_ms: i64, client: IpAddr) -> Request<'static> {
        Request {
            time_ms,
            client,
            method: Cow::Borrowed("GET"),
            host: Cow::Borrowed(""),
            path: Cow::Borrowed("/"),
            query: Cow::Borrowed(""),
            status: None,
            origin_status: None,
            waf_action: None,
            terminating_rule: None,
            country: None,
            user_agent: Cow::Borrowed(""),
            labels: Vec::new(),
            ja3: None,
            ja4: None,
            asn: None,
            header_names: HeaderNames::default(),
            challenge: None,
            captcha: None,
        }
    }

    /// What WAF did with the request (from [`Request::waf_action`]): whether it reached the
    /// origin or was blocked, challenged or shown a CAPTCHA. `Unknown` outside WAF logs.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(self.waf_action.as_deref())
    }

    /// The user agent's family and major version, computed now (nothing is stored per record
    /// for it: only what looks at it pays). See [`crate::ua`].
    pub fn ua_class(&self) -> UaClass {
        ua::classify(&self.user_agent)
    }
}
