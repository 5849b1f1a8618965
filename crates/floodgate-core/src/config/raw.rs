//! The configuration as written: every key optional, unknown keys refused.
//!
//! Values missing from the user's file come from `default-config.toml`, parsed into the same
//! structs ([`builtin`]): that file is the one place defaults live.

use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub engine: RawEngine,
    #[serde(default)]
    pub source: RawSource,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub ban: RawBan,
    #[serde(default)]
    pub allow: RawAllow,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEngine {
    pub resolution: Option<String>,
    pub lateness: Option<String>,
    pub cloudfront_lateness: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub client_ip: Option<String>,
    pub trusted_proxies: Option<i64>,
    pub proxies: Option<Vec<String>>,
    pub max_line_bytes: Option<i64>,
    pub max_decoded_bytes: Option<i64>,
    pub realtime_fields: Option<Vec<String>>,
    pub web_acls: Option<Vec<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub name: String,
    pub window: String,
    pub limit: i64,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub status: Vec<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub ignore_extensions: Vec<String>,
    #[serde(default)]
    pub case_sensitive: bool,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBan {
    pub duration: Option<String>,
    pub escalation: Option<f64>,
    pub max_duration: Option<String>,
    pub memory: Option<String>,
    pub ipv4_prefix: Option<i64>,
    pub ipv6_prefix: Option<i64>,
    pub max_entries: Option<i64>,
    pub max_entries_ipv4: Option<i64>,
    pub max_entries_ipv6: Option<i64>,
    pub max_new_per_run: Option<i64>,
    pub dry_run: Option<bool>,
    #[serde(default)]
    pub ranges: RawRanges,
    #[serde(default)]
    pub guardrail: RawGuardrail,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRanges {
    pub enabled: Option<bool>,
    pub ipv4_prefix: Option<i64>,
    pub ipv6_prefix: Option<i64>,
    pub min_offenders: Option<i64>,
    pub min_share: Option<f64>,
    pub ipv6_many_offenders: Option<i64>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGuardrail {
    pub max_share: Option<f64>,
    pub min_bans: Option<i64>,
    pub history: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAllow {
    pub cidrs: Option<Vec<String>>,
    pub files: Option<Vec<String>>,
}

/// `default-config.toml` as raw values: the fallback of every key.
pub(crate) fn builtin() -> &'static RawConfig {
    static BUILTIN: OnceLock<RawConfig> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        // A unit test parses the same text; a broken built-in file fails the build's tests.
        toml::from_str(super::DEFAULT_CONFIG_TOML).unwrap_or_default()
    })
}
