//! The TOML configuration: rules, bans, allowlist, input — parsed, validated, compiled.
//!
//! Parsing is strict (unknown keys are errors: a typo must not silently disable a rule) and
//! every error names the key and says what is allowed. Defaults live in one place,
//! `default-config.toml` ([`DEFAULT_CONFIG_TOML`]): a key the user leaves out takes the value
//! written there, the file is what `floodgate config default` prints, and a
//! test checks that docs/configuration.md documents every key with that same default.
//!
//! One module per section: [`input`] (`[engine]`, `[source]`), [`crate::rules`] (`[[rules]]`),
//! [`ban`] (`[ban]`, `[ban.ranges]`, `[ban.guardrail]`), [`allow`] (`[allow]`).

pub mod allow;
pub mod ban;
pub mod error;
pub mod input;
pub(crate) mod raw;

pub use allow::FileLoader;
pub use ban::{BanConfig, GuardrailConfig, RangeConfig, IP_SET_CAPACITY, MAX_ENTRIES_LIMIT};
pub use error::{parse_duration, ConfigError};
pub use input::EngineConfig;

use crate::ingest::IngestOptions;
use crate::rules::{self, Rule};
use error::err;
use ipnet::IpNet;
use raw::RawConfig;

/// The built-in configuration text: every key with its default.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("default-config.toml");

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

/// A configuration as written: its text and the allowlist files it read. The state records it
/// ([`crate::state::State::config`]) so that `report`, `explain` and a later `analyze` decide with
/// the configuration the state was decided with, not the built-in one, unless told otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfigSource {
    /// The TOML text.
    pub text: String,
    /// The `[allow] files` it named, by name, with the text read from each.
    pub files: std::collections::BTreeMap<String, String>,
}

impl ConfigSource {
    /// The built-in configuration.
    pub fn builtin() -> ConfigSource {
        ConfigSource {
            text: DEFAULT_CONFIG_TOML.to_string(),
            files: Default::default(),
        }
    }

    /// Compile it again, its allowlist files served from what was recorded.
    pub fn compile(&self) -> Result<Config, ConfigError> {
        Config::from_toml_with(&self.text, &mut |name| {
            self.files
                .get(name)
                .cloned()
                .ok_or_else(|| format!("{name}: not recorded with the configuration"))
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::from_toml(DEFAULT_CONFIG_TOML).expect("the built-in configuration is valid")
    }
}

fn parse_raw(text: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().to_string();
        let at = e
            .span()
            .map(|s| line_col(text, s.start))
            .unwrap_or_default();
        err("toml", format!("{msg}{at}"))
    })
}

impl Config {
    /// Parse and validate a configuration file's text. `allow.files` cannot be read this way
    /// (the core reads no files): use [`Config::from_toml_with`].
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_with(text, &mut |_| {
            Err("allowlist files are not supported here (no file loader)".to_string())
        })
    }

    /// Parse and validate, reading the files named in `allow.files` through `load`.
    pub fn from_toml_with(text: &str, load: &mut FileLoader<'_>) -> Result<Config, ConfigError> {
        let user = parse_raw(text)?;
        let d = raw::builtin();
        let engine = input::engine(&user.engine, &d.engine)?;
        Ok(Config {
            source: input::source(&user.source, &d.source)?,
            rules: rules::compile_all(&user.rules, engine.resolution_ms)?,
            ban: ban::ban(&user.ban, &d.ban)?,
            allow: allow::allow(&user.allow, &d.allow, load)?,
            engine,
        })
    }

    /// The allowlist files a configuration names (so a front end can fetch them first).
    pub fn allow_files(text: &str) -> Result<Vec<String>, ConfigError> {
        Ok(parse_raw(text)?.allow.files.unwrap_or_default())
    }

    /// The first rule without filters: its windows count every client. Without one, the
    /// engine keeps a separate presence map so that clients seen stay exact.
    pub fn unfiltered_rule(&self) -> Option<usize> {
        self.rules.iter().position(|r| r.filters.is_empty())
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
    use crate::client_ip::ClientIpSource;

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
        // capacity follows the IP sets given; with none in sight (analyze), three sets' worth
        assert_eq!(c.ban.max_entries, None);
        assert_eq!(c.ban.ip_sets_needed(true), None);
        assert_eq!(c.ban.capacity(true), 30_000);
        let mut synced = c.ban.clone();
        synced.ip_sets = Some((3, 1));
        assert_eq!(
            (synced.capacity(true), synced.capacity(false)),
            (30_000, 10_000)
        );
        let per = Config::from_toml(&format!(
            "{RULE}[ban]\nmax_entries = 20000\nmax_entries_ipv6 = 5000\n"
        ))
        .unwrap();
        assert_eq!(
            (per.ban.capacity(true), per.ban.capacity(false)),
            (20_000, 5_000)
        );
        assert_eq!(per.ban.ip_sets_needed(true), Some(2));
        assert!(c.ban.ranges.enabled);
    }

    /// A file with nothing but one rule takes every other value from default-config.toml,
    /// so the built-in file must hold every key: no second copy of a default exists in code.
    #[test]
    fn every_default_comes_from_the_builtin_file() {
        let minimal = Config::from_toml(RULE).unwrap();
        let full = Config::default();
        assert_eq!(minimal.engine, full.engine);
        assert_eq!(minimal.source, full.source);
        assert_eq!(minimal.ban, full.ban);
        assert_eq!(
            minimal.allow, full.allow,
            "a config without [allow] keeps the built-in private ranges"
        );
        let none = Config::from_toml(&format!("{RULE}[allow]\ncidrs = []\n")).unwrap();
        assert!(
            none.allow.is_empty(),
            "cidrs = [] written out allows nothing"
        );
        assert_eq!(full.source, IngestOptions::default());
    }

    /// docs/configuration.md states each key's default; it must be the built-in file's.
    #[test]
    fn docs_state_the_builtin_defaults() {
        let doc = include_str!("../../../../docs/configuration.md");
        let mut section = String::new();
        for line in DEFAULT_CONFIG_TOML.lines() {
            let line = line.split(" #").next().unwrap_or("").trim();
            if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = s.trim_matches(['[', ']']).to_string();
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            if line.starts_with('#') || section == "rules" || section == "allow" {
                continue;
            }
            let heading = format!("## `[{section}]`");
            let start = doc
                .find(&heading)
                .unwrap_or_else(|| panic!("docs/configuration.md has no {heading} section"));
            let body = &doc[start..];
            let body = &body[..body[3..].find("\n## ").map_or(body.len(), |i| i + 3)];
            let row = body
                .lines()
                .find(|l| l.starts_with(&format!("| `{key}` |")))
                .unwrap_or_else(|| panic!("no row for {section}.{key} in docs/configuration.md"));
            assert!(
                row.contains(&format!("`{value}`")),
                "docs/configuration.md: {section}.{key} default is not `{value}`: {row}"
            );
        }
    }

    fn check(text: &str) -> ConfigError {
        Config::from_toml(text).unwrap_err()
    }

    const RULE: &str = "[[rules]]\nname = \"r\"\nwindow = \"5m\"\nlimit = 10\n";

    #[test]
    fn months_and_years_are_not_durations() {
        for d in ["5M", "1y", "2months"] {
            let e = check(&format!(
                "[[rules]]\nname = \"r\"\nwindow = \"{d}\"\nlimit = 1\n"
            ));
            assert_eq!(e.key, "rules[0].window", "{d}");
            assert!(e.to_string().contains("months"), "{e}");
        }
    }

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
            ClientIpSource::ForwardedFor {
                trusted_proxies: 2,
                proxies: Default::default()
            }
        );
        assert_eq!(
            check(&format!("{RULE}[source]\ntrusted_proxies = 2\n")).key,
            "source.trusted_proxies"
        );
    }
}
