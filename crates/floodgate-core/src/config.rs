//! The TOML configuration: rules, bans, allowlist, input — parsed, validated, compiled.
//!
//! Parsing is strict (unknown keys are errors: a typo must not silently disable a rule) and
//! every error names the key and says what is allowed. [`Config::default`] is the built-in
//! configuration in `default-config.toml`, printed by `floodgate config default` and documented
//! key by key in docs/configuration.md.

use crate::client_ip::ClientIpSource;
use crate::ingest::{IngestOptions, DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_LINE_BYTES};
use crate::rules::{Filters, Rule};
use ipnet::IpNet;
use serde::Deserialize;
use std::time::Duration;

/// The built-in configuration text.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("default-config.toml");

/// Shortest and longest rule window.
pub const WINDOW_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(24 * 3600));

/// A configuration error: which key, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// Dotted path of the key (`rules[1].window`), or `toml` for syntax errors.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    engine: RawEngine,
    #[serde(default)]
    source: RawSource,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    ban: RawBan,
    #[serde(default)]
    allow: RawAllow,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    resolution: Option<String>,
    lateness: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSource {
    client_ip: Option<String>,
    trusted_proxies: Option<i64>,
    max_line_bytes: Option<i64>,
    max_decoded_bytes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    window: String,
    limit: i64,
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    status: Vec<String>,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    countries: Vec<String>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    ignore_extensions: Vec<String>,
}

/// The optional filters of a rule, as written.
#[derive(Default, Clone)]
pub(crate) struct RawFilters {
    pub methods: Vec<String>,
    pub paths: Vec<String>,
    pub status: Vec<String>,
    pub actions: Vec<String>,
    pub countries: Vec<String>,
    pub labels: Vec<String>,
    pub ignore_extensions: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBan {
    duration: Option<String>,
    escalation: Option<f64>,
    max_duration: Option<String>,
    memory: Option<String>,
    ipv4_prefix: Option<i64>,
    ipv6_prefix: Option<i64>,
    max_entries: Option<i64>,
    max_new_per_run: Option<i64>,
    dry_run: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default)]
    cidrs: Vec<String>,
}

/// `[engine]`: how time is bucketed.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// Bucket size in ms (whole seconds, ≥ 1 s).
    pub resolution_ms: i64,
    /// How late a log may arrive and still be counted, in ms.
    pub lateness_ms: i64,
}

/// `[ban]`: durations, escalation, keys and guardrails.
#[derive(Clone, Debug, PartialEq)]
pub struct BanConfig {
    /// First ban, ms.
    pub duration_ms: i64,
    /// Each further offence within `memory_ms` multiplies the duration by this.
    pub escalation: f64,
    /// Cap on one ban's duration, ms.
    pub max_duration_ms: i64,
    /// How long past offences count towards escalation, ms.
    pub memory_ms: i64,
    /// IPv4 key prefix length (32: per address).
    pub ipv4_prefix: u8,
    /// IPv6 key prefix length (64: per subnet, since one host holds a /64).
    pub ipv6_prefix: u8,
    /// Most CIDRs per IP version in the blocklist (the WAF IP set limit is 10 000).
    pub max_entries: usize,
    /// Most new bans one run may add (guardrail against a bad rule banning the world).
    pub max_new_per_run: usize,
    /// Decide and report only; touch no IP set.
    pub dry_run: bool,
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Windowing.
    pub engine: EngineConfig,
    /// How logs are read.
    pub source: IngestOptions,
    /// The rules, in file order (each request is offered to every rule).
    pub rules: Vec<Rule>,
    /// Bans.
    pub ban: BanConfig,
    /// Never counted, never banned.
    pub allow: Vec<IpNet>,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_toml(DEFAULT_CONFIG_TOML).expect("the built-in configuration is valid")
    }
}

/// Parse `"90s"`, `"5m"`, `"1h30m"`, `"7d"` (humantime syntax) into ms.
pub fn parse_duration(key: &str, text: &str) -> Result<i64, ConfigError> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        err(
            key,
            format!("{text:?} is not a duration ({e}); write e.g. \"90s\", \"5m\", \"1h\", \"7d\""),
        )
    })?;
    i64::try_from(d.as_millis()).map_err(|_| err(key, "duration too long"))
}

fn duration_or(key: &str, v: &Option<String>, default: &str) -> Result<i64, ConfigError> {
    parse_duration(key, v.as_deref().unwrap_or(default))
}

fn int_in(key: &str, v: Option<i64>, default: i64, lo: i64, hi: i64) -> Result<i64, ConfigError> {
    let v = v.unwrap_or(default);
    if v < lo || v > hi {
        return Err(err(
            key,
            format!("{v} is out of range; allowed {lo}..={hi}"),
        ));
    }
    Ok(v)
}

impl Config {
    /// Parse and validate a configuration file's text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            let at = e
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or_default();
            err("toml", format!("{msg}{at}"))
        })?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Config, ConfigError> {
        let resolution_ms = duration_or("engine.resolution", &raw.engine.resolution, "1s")?;
        if resolution_ms < 1000 || resolution_ms % 1000 != 0 || resolution_ms > 3_600_000 {
            return Err(err(
                "engine.resolution",
                "must be whole seconds between 1s and 1h",
            ));
        }
        let lateness_ms = duration_or("engine.lateness", &raw.engine.lateness, "15m")?;
        if lateness_ms > 7 * 86_400_000 {
            return Err(err("engine.lateness", "at most 7d"));
        }
        let engine = EngineConfig {
            resolution_ms,
            lateness_ms,
        };

        let client_ip = match raw.source.client_ip.as_deref().unwrap_or("source") {
            "source" => ClientIpSource::Source,
            "x-forwarded-for" => ClientIpSource::ForwardedFor {
                trusted_proxies: int_in(
                    "source.trusted_proxies",
                    raw.source.trusted_proxies,
                    0,
                    0,
                    16,
                )? as u32,
            },
            other => {
                return Err(err(
                    "source.client_ip",
                    format!("{other:?}: allowed \"source\" or \"x-forwarded-for\""),
                ))
            }
        };
        if raw.source.trusted_proxies.is_some() && client_ip == ClientIpSource::Source {
            int_in(
                "source.trusted_proxies",
                raw.source.trusted_proxies,
                0,
                0,
                0,
            )
            .map_err(|_| {
                err(
                    "source.trusted_proxies",
                    "only meaningful with client_ip = \"x-forwarded-for\"",
                )
            })?;
        }
        let source = IngestOptions {
            client_ip,
            max_line_bytes: int_in(
                "source.max_line_bytes",
                raw.source.max_line_bytes,
                DEFAULT_MAX_LINE_BYTES as i64,
                1024,
                1 << 30,
            )? as usize,
            max_decoded_bytes: int_in(
                "source.max_decoded_bytes",
                raw.source.max_decoded_bytes,
                DEFAULT_MAX_DECODED_BYTES as i64,
                1 << 20,
                i64::MAX,
            )? as u64,
        };

        if raw.rules.is_empty() {
            return Err(err("rules", "at least one [[rules]] entry is needed"));
        }
        if raw.rules.len() > 64 {
            return Err(err("rules", "at most 64 rules"));
        }
        let mut rules = Vec::new();
        for (i, r) in raw.rules.into_iter().enumerate() {
            let key = format!("rules[{i}]");
            let name = r.name.trim().to_string();
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(err(
                    format!("{key}.name"),
                    "1-64 characters of letters, digits, '-' or '_'",
                ));
            }
            if rules.iter().any(|x: &Rule| x.name == name) {
                return Err(err(
                    format!("{key}.name"),
                    format!("{name:?} is used twice"),
                ));
            }
            let window_ms = parse_duration(&format!("{key}.window"), &r.window)?;
            let (lo, hi) = WINDOW_RANGE;
            if window_ms < lo.as_millis() as i64 || window_ms > hi.as_millis() as i64 {
                return Err(err(format!("{key}.window"), "allowed 1s ..= 24h"));
            }
            if window_ms % resolution_ms != 0 {
                return Err(err(
                    format!("{key}.window"),
                    "must be a multiple of engine.resolution",
                ));
            }
            if r.limit < 1 || r.limit > u32::MAX as i64 / 2 {
                return Err(err(
                    format!("{key}.limit"),
                    format!("{}: allowed 1 ..= {}", r.limit, u32::MAX / 2),
                ));
            }
            let raw_filters = RawFilters {
                methods: r.methods,
                paths: r.paths,
                status: r.status,
                actions: r.actions,
                countries: r.countries,
                labels: r.labels,
                ignore_extensions: r.ignore_extensions,
            };
            let filters = Filters::compile(&key, &raw_filters)?;
            rules.push(Rule {
                name,
                window_ms,
                limit: r.limit as u32,
                filters,
            });
        }

        let b = raw.ban;
        let duration_ms = duration_or("ban.duration", &b.duration, "1h")?;
        let max_duration_ms = duration_or("ban.max_duration", &b.max_duration, "7d")?;
        let memory_ms = duration_or("ban.memory", &b.memory, "7d")?;
        if duration_ms < 1000 {
            return Err(err("ban.duration", "at least 1s"));
        }
        if max_duration_ms < duration_ms || max_duration_ms > 365 * 86_400_000 {
            return Err(err(
                "ban.max_duration",
                "at least ban.duration and at most 365d",
            ));
        }
        if memory_ms > 365 * 86_400_000 {
            return Err(err("ban.memory", "at most 365d"));
        }
        let escalation = b.escalation.unwrap_or(2.0);
        if !(1.0..=100.0).contains(&escalation) {
            return Err(err(
                "ban.escalation",
                format!("{escalation}: allowed 1.0 ..= 100.0 (1.0 turns escalation off)"),
            ));
        }
        let ban = BanConfig {
            duration_ms,
            escalation,
            max_duration_ms,
            memory_ms,
            ipv4_prefix: int_in("ban.ipv4_prefix", b.ipv4_prefix, 32, 8, 32)? as u8,
            ipv6_prefix: int_in("ban.ipv6_prefix", b.ipv6_prefix, 64, 16, 128)? as u8,
            max_entries: int_in("ban.max_entries", b.max_entries, 10_000, 1, 10_000)? as usize,
            max_new_per_run: int_in("ban.max_new_per_run", b.max_new_per_run, 1000, 0, 1_000_000)?
                as usize,
            dry_run: b.dry_run.unwrap_or(false),
        };

        let mut allow = Vec::new();
        for (i, c) in raw.allow.cidrs.iter().enumerate() {
            let net = c
                .trim()
                .parse::<IpNet>()
                .or_else(|_| c.trim().parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    err(
                        format!("allow.cidrs[{i}]"),
                        format!("{c:?} is not a CIDR like \"10.0.0.0/8\" or an address"),
                    )
                })?;
            allow.push(net.trunc());
        }
        allow = IpNet::aggregate(&allow);
        Ok(Config {
            engine,
            source,
            rules,
            ban,
            allow,
        })
    }

    /// The longest rule window, ms.
    pub fn max_window_ms(&self) -> i64 {
        self.rules.iter().map(|r| r.window_ms).max().unwrap_or(0)
    }
}

fn line_col(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(" (line {line}, column {col})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_as_documented() {
        let c = Config::default();
        assert_eq!(c.rules.len(), 3);
        assert_eq!(
            (
                c.rules[0].name.as_str(),
                c.rules[0].window_ms,
                c.rules[0].limit
            ),
            ("flood", 300_000, 600)
        );
        assert_eq!(c.ban.duration_ms, 3_600_000);
        assert_eq!(c.ban.max_duration_ms, 7 * 86_400_000);
        assert_eq!(c.engine.lateness_ms, 900_000);
        assert_eq!(c.allow.len(), 6);
        assert_eq!(c.max_window_ms(), 600_000);
    }

    fn check(text: &str) -> ConfigError {
        Config::from_toml(text).unwrap_err()
    }

    const RULE: &str = "[[rules]]\nname = \"r\"\nwindow = \"5m\"\nlimit = 10\n";

    #[test]
    fn errors_name_the_key_and_what_is_allowed() {
        assert!(Config::from_toml(RULE).is_ok());
        let e = check(&RULE.replace("5m", "25h"));
        assert_eq!(e.key, "rules[0].window");
        assert!(e.message.contains("24h"));
        assert_eq!(
            check(&RULE.replace("\"5m\"", "\"5 parsecs\"")).key,
            "rules[0].window"
        );
        assert_eq!(
            check(&RULE.replace("limit = 10", "limit = 0")).key,
            "rules[0].limit"
        );
        assert_eq!(
            check(&format!("{RULE}[ban]\nipv4_prefix = 33\n")).key,
            "ban.ipv4_prefix"
        );
        assert_eq!(
            check(&format!("{RULE}[ban]\nipv6_prefix = 8\n")).key,
            "ban.ipv6_prefix"
        );
        assert_eq!(
            check(&format!("{RULE}[ban]\nescalation = 0.5\n")).key,
            "ban.escalation"
        );
        assert_eq!(
            check(&format!("{RULE}[allow]\ncidrs = [\"10.0.0.0/33\"]\n")).key,
            "allow.cidrs[0]"
        );
        assert_eq!(
            check(&format!("{RULE}[source]\nclient_ip = \"header\"\n")).key,
            "source.client_ip"
        );
        assert_eq!(
            check(&format!("{RULE}status = [\"6xx\"]\n")).key,
            "rules[0].status[0]"
        );
        assert_eq!(check(&format!("{RULE}{RULE}")).key, "rules[1].name");
        assert_eq!(check("").key, "rules");
        assert_eq!(
            check(&format!("{RULE}[engine]\nresolution = \"1500ms\"\n")).key,
            "engine.resolution"
        );
        assert_eq!(
            check(&format!("{RULE}[engine]\nresolution = \"7s\"\n")).key,
            "rules[0].window"
        );
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_place() {
        let e = check(&format!("{RULE}limt = 5\n"));
        assert_eq!(e.key, "toml");
        assert!(e.message.contains("limt"), "{e}");
        let e = check(&format!("{RULE}[bans]\nduration = \"1h\"\n"));
        assert!(
            e.message.contains("bans") && e.message.contains("line"),
            "{e}"
        );
    }

    #[test]
    fn allow_accepts_addresses_and_normalises() {
        let c = Config::from_toml(&format!(
            "{RULE}[allow]\ncidrs = [\"10.1.2.3/8\", \"192.0.2.1\", \"2001:db8::/32\"]\n"
        ))
        .unwrap();
        let shown: Vec<String> = c.allow.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]);
    }

    #[test]
    fn forwarded_for_source_is_parsed() {
        let c = Config::from_toml(&format!(
            "{RULE}[source]\nclient_ip = \"x-forwarded-for\"\ntrusted_proxies = 2\n"
        ))
        .unwrap();
        assert_eq!(
            c.source.client_ip,
            ClientIpSource::ForwardedFor { trusted_proxies: 2 }
        );
        assert_eq!(
            check(&format!("{RULE}[source]\ntrusted_proxies = 2\n")).key,
            "source.trusted_proxies"
        );
    }
}
