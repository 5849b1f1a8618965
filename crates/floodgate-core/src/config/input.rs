//! `[engine]` (how time is bucketed) and `[source]` (how logs are read).

use super::error::{err, int_in, or_default, parse_duration, ConfigError};
use super::raw::{RawEngine, RawSource};
use crate::client_ip::{ClientIpSource, Proxies};
use crate::ingest::IngestOptions;
use ipnet::IpNet;

/// `[engine]`: how time is bucketed.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// Bucket size in ms (whole seconds, ≥ 1 s).
    pub resolution_ms: i64,
    /// How far behind its source's newest request a record of a log delivered within minutes
    /// (WAF, ALB, streams) may arrive and still be counted exactly, in ms.
    pub lateness_ms: i64,
    /// The same for CloudFront standard logs, which AWS delivers "usually within an hour".
    pub cloudfront_lateness_ms: i64,
}

pub(super) fn engine(user: &RawEngine, d: &RawEngine) -> Result<EngineConfig, ConfigError> {
    let resolution_ms = parse_duration(
        "engine.resolution",
        &or_default("engine.resolution", &user.resolution, &d.resolution)?,
    )?;
    if resolution_ms < 1000 || resolution_ms % 1000 != 0 || resolution_ms > 3_600_000 {
        return Err(err(
            "engine.resolution",
            "must be whole seconds between 1s and 1h",
        ));
    }
    let lateness_ms = parse_duration(
        "engine.lateness",
        &or_default("engine.lateness", &user.lateness, &d.lateness)?,
    )?;
    if lateness_ms > 7 * 86_400_000 {
        return Err(err("engine.lateness", "at most 7d"));
    }
    let cloudfront_lateness_ms = parse_duration(
        "engine.cloudfront_lateness",
        &or_default(
            "engine.cloudfront_lateness",
            &user.cloudfront_lateness,
            &d.cloudfront_lateness,
        )?,
    )?;
    if cloudfront_lateness_ms > 7 * 86_400_000 {
        return Err(err("engine.cloudfront_lateness", "at most 7d"));
    }
    Ok(EngineConfig {
        resolution_ms,
        lateness_ms,
        cloudfront_lateness_ms,
    })
}

pub(super) fn source(user: &RawSource, d: &RawSource) -> Result<IngestOptions, ConfigError> {
    let name = or_default("source.client_ip", &user.client_ip, &d.client_ip)?;
    let proxies = or_default(
        "source.trusted_proxies",
        &user.trusted_proxies,
        &d.trusted_proxies,
    )?;
    let proxy_list = or_default("source.proxies", &user.proxies, &d.proxies)?;
    let client_ip = match name.as_str() {
        "source" => {
            if proxies != 0 {
                return Err(err(
                    "source.trusted_proxies",
                    "only meaningful with client_ip = \"x-forwarded-for\"",
                ));
            }
            if !proxy_list.is_empty() {
                return Err(err(
                    "source.proxies",
                    "only meaningful with client_ip = \"x-forwarded-for\"",
                ));
            }
            ClientIpSource::Source
        }
        "x-forwarded-for" => {
            let list = parse_proxies(&proxy_list)?;
            if !list.is_empty() && proxies != 0 {
                return Err(err(
                    "source.trusted_proxies",
                    "set proxies or trusted_proxies, not both: with proxies, X-Forwarded-For is walked past every listed proxy",
                ));
            }
            ClientIpSource::ForwardedFor {
                trusted_proxies: int_in("source.trusted_proxies", proxies, 0, 16)? as u32,
                proxies: list,
            }
        }
        other => {
            return Err(err(
                "source.client_ip",
                format!("{other:?}: allowed \"source\" or \"x-forwarded-for\""),
            ))
        }
    };
    let line = or_default(
        "source.max_line_bytes",
        &user.max_line_bytes,
        &d.max_line_bytes,
    )?;
    let decoded = or_default(
        "source.max_decoded_bytes",
        &user.max_decoded_bytes,
        &d.max_decoded_bytes,
    )?;
    let realtime_fields = or_default(
        "source.realtime_fields",
        &user.realtime_fields,
        &d.realtime_fields,
    )?;
    crate::formats::cloudfront_realtime::validate(&realtime_fields)
        .map_err(|e| err("source.realtime_fields", e))?;
    let web_acls = or_default("source.web_acls", &user.web_acls, &d.web_acls)?;
    validate_web_acls(&web_acls).map_err(|e| err("source.web_acls", e))?;
    Ok(IngestOptions {
        client_ip,
        max_line_bytes: int_in("source.max_line_bytes", line, 1024, 1 << 30)? as usize,
        max_decoded_bytes: int_in("source.max_decoded_bytes", decoded, 1 << 20, i64::MAX)? as u64,
        realtime_fields,
        web_acls,
        format: None,
        wall_clock_ms: None,
    })
}

/// CloudFront's origin-facing ranges, as shipped (`scripts/refresh-cloudfront-ranges.sh`).
pub const CLOUDFRONT_ORIGIN_FACING: &str = include_str!("cloudfront-origin-facing.txt");

/// `[source] proxies`: CIDRs or bare addresses, and `"cloudfront"` for
/// [`CLOUDFRONT_ORIGIN_FACING`].
fn parse_proxies(list: &[String]) -> Result<Proxies, ConfigError> {
    let mut nets: Vec<IpNet> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let e = entry.trim();
        if e.eq_ignore_ascii_case("cloudfront") {
            nets.extend(
                CLOUDFRONT_ORIGIN_FACING
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                    .filter_map(|l| l.trim().parse::<IpNet>().ok()),
            );
            continue;
        }
        let net = e
            .parse::<IpNet>()
            .or_else(|_| e.parse::<std::net::IpAddr>().map(IpNet::from))
            .map_err(|_| {
                err(
                    format!("source.proxies[{i}]"),
                    format!("{e:?}: a CIDR like \"203.0.113.0/24\", an address, or \"cloudfront\""),
                )
            })?;
        if net.prefix_len() == 0 {
            return Err(err(
                format!("source.proxies[{i}]"),
                format!(
                    "{e:?} would make every address a proxy, so every client could choose its key"
                ),
            ));
        }
        nets.push(net.trunc());
    }
    Ok(Proxies::new(nets))
}

/// A web ACL as WAF logs name it in `webaclId`: the ARN (WAFv2,
/// `arn:aws:wafv2:REGION:ACCOUNT:regional/webacl/NAME/ID`) or a WAF Classic id.
pub fn validate_web_acls(acls: &[String]) -> Result<(), String> {
    for a in acls {
        let classic_id = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let v2_arn = a.starts_with("arn:") && a.contains(":wafv2:") && a.contains("/webacl/");
        if !(classic_id || v2_arn) {
            return Err(format!(
                "{a:?} is not a web ACL ARN (arn:aws:wafv2:REGION:ACCOUNT:regional/webacl/NAME/ID or global/webacl/…)"
            ));
        }
    }
    Ok(())
}
