//! The Lambda's configuration: environment variables set by infra (docs/deploy.md, "Lambda
//! environment"), validated at cold start so a broken deployment fails with one clear message
//! listing every problem, instead of on the first event.

use floodgate_aws::objects::{parse_s3_url, ObjectStore};
use floodgate_aws::{check_capacity, IpSetRef, IpVersion, Scope, SyncTarget};
use floodgate_core::config::Config;

pub use crate::sources::Allowed;

/// Where the TOML configuration comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// `FLOODGATE_CONFIG_TOML`: the text itself.
    Inline(String),
    /// `FLOODGATE_CONFIG_S3`: `s3://bucket/key`.
    S3 {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
}

/// Every setting of the function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `FLOODGATE_STATE_BUCKET`.
    pub state_bucket: String,
    /// `FLOODGATE_STATE_KEY`.
    pub state_key: String,
    /// `FLOODGATE_REPORTS_PREFIX` (ends with `/`, or empty).
    pub reports_prefix: String,
    /// `FLOODGATE_IPV4_SET`: comma-separated `NAME:ID`, in placement order.
    pub ipv4_sets: Vec<IpSetRef>,
    /// `FLOODGATE_IPV6_SET`: comma-separated `NAME:ID`, in placement order.
    pub ipv6_sets: Vec<IpSetRef>,
    /// `FLOODGATE_SCOPE`.
    pub scope: Scope,
    /// `FLOODGATE_CONFIG_TOML` or `FLOODGATE_CONFIG_S3`.
    pub config: ConfigSource,
    /// `FLOODGATE_DRY_RUN`; unset: the config's `ban.dry_run`.
    pub dry_run: Option<bool>,
    /// `FLOODGATE_LOG_PREFIXES`: the only key prefixes whose objects are read.
    pub log_prefixes: Allowed,
    /// `FLOODGATE_LOG_SUFFIXES` (empty: every key).
    pub log_suffixes: Vec<String>,
    /// `FLOODGATE_METRICS_NAMESPACE` (default `floodgate`).
    pub metrics_namespace: String,
    /// `FLOODGATE_REPORT_INTERVAL` (default `60s`; `0` writes reports on every run).
    pub report_interval_ms: i64,
    /// `FLOODGATE_NOTIFY_TOPIC_ARN`: where notifications go (none when unset).
    pub notify_topic_arn: Option<String>,
    /// `FLOODGATE_LOG_BUCKETS`: the only buckets whose objects are read. Objects of other
    /// buckets are refused, counted and logged.
    pub log_buckets: Allowed,
    /// `FLOODGATE_LOG_GROUPS`: the only CloudWatch Logs groups whose deliveries are read.
    pub log_groups: Allowed,
    /// `FLOODGATE_STREAM_ARNS`: the only Kinesis streams whose records are read.
    pub stream_arns: Allowed,
    /// `FLOODGATE_WEB_ACL_ARNS`: replaces the configuration's `[source] web_acls`.
    pub web_acl_arns: Option<Vec<String>>,
    /// `FLOODGATE_REALTIME_FIELDS`: replaces the configuration's `[source] realtime_fields`.
    pub realtime_fields: Option<Vec<String>>,
    /// `FLOODGATE_ALLOW_FILES`: `s3://` allowlist files added to the configuration's `[allow]`.
    pub allow_files: Vec<(String, String)>,
    /// `FLOODGATE_PARTIALS_PREFIX` (ends with `/`): when set, an invocation that reads logs
    /// writes its counts under this prefix of the state bucket instead of committing them, and
    /// the S3 notifications of that prefix start the reducer that commits them all
    /// ([`floodgate_aws::partials`]). Unset: every invocation commits its own batch.
    pub partials_prefix: Option<String>,
}

/// What is wrong with the environment: every problem, one per line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid floodgate Lambda environment (see docs/operations.md):\n  {}", .problems.join("\n  "))]
pub struct SettingsError {
    /// One message per variable.
    pub problems: Vec<String>,
}

pub(crate) fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Settings {
    /// Read the settings through `get` (the process environment in production, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let mut problems = Vec::new();
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut required = |name: &str| {
            get(name).unwrap_or_else(|| {
                problems.push(format!("{name} is not set"));
                String::new()
            })
        };
        let state_bucket = required("FLOODGATE_STATE_BUCKET");
        let state_key = required("FLOODGATE_STATE_KEY");
        let v4 = required("FLOODGATE_IPV4_SET");
        let v6 = required("FLOODGATE_IPV6_SET");
        let scope = required("FLOODGATE_SCOPE");
        let mut sets = |name: &str, text: &str| {
            if text.is_empty() {
                return Vec::new();
            }
            IpSetRef::parse_list(text).unwrap_or_else(|e| {
                problems.push(format!("{name}: {e}"));
                Vec::new()
            })
        };
        let ipv4_sets = sets("FLOODGATE_IPV4_SET", &v4);
        let ipv6_sets = sets("FLOODGATE_IPV6_SET", &v6);
        let scope = if scope.is_empty() {
            Scope::Regional
        } else {
            scope.parse().unwrap_or_else(|e| {
                problems.push(format!("FLOODGATE_SCOPE: {e}"));
                Scope::Regional
            })
        };
        let config = match (get("FLOODGATE_CONFIG_TOML"), get("FLOODGATE_CONFIG_S3")) {
            (Some(text), None) => ConfigSource::Inline(text),
            (None, Some(url)) => match parse_s3_url(&url) {
                Some((bucket, key)) if !key.is_empty() => ConfigSource::S3 { bucket, key },
                _ => {
                    problems.push(format!(
                        "FLOODGATE_CONFIG_S3: expected s3://bucket/key, got {url:?}"
                    ));
                    ConfigSource::Inline(String::new())
                }
            },
            (Some(_), Some(_)) => {
                problems.push(
                    "set one of FLOODGATE_CONFIG_TOML and FLOODGATE_CONFIG_S3, not both".into(),
                );
                ConfigSource::Inline(String::new())
            }
            (None, None) => {
                problems.push("FLOODGATE_CONFIG_TOML or FLOODGATE_CONFIG_S3 must be set".into());
                ConfigSource::Inline(String::new())
            }
        };
        let dry_run = match get("FLOODGATE_DRY_RUN").map(|v| v.trim().to_ascii_lowercase()) {
            None => None,
            Some(v) if v == "true" || v == "1" => Some(true),
            Some(v) if v == "false" || v == "0" => Some(false),
            Some(v) => {
                problems.push(format!(
                    "FLOODGATE_DRY_RUN must be true or false, not {v:?}"
                ));
                None
            }
        };
        let report_interval_ms = match get("FLOODGATE_REPORT_INTERVAL") {
            None => 60_000,
            Some(v) if v.trim() == "0" => 0,
            Some(v) => humantime::parse_duration(v.trim())
                .map(|d| d.as_millis().min(i64::MAX as u128) as i64)
                .unwrap_or_else(|_| {
                    problems.push(format!(
                        "FLOODGATE_REPORT_INTERVAL: {v:?} is not a duration like \"60s\" or \"5m\""
                    ));
                    0
                }),
        };
        let notify_topic_arn = get("FLOODGATE_NOTIFY_TOPIC_ARN");
        if let Some(arn) = &notify_topic_arn {
            if !arn.starts_with("arn:") || arn.split(':').count() < 6 {
                problems.push(format!(
                    "FLOODGATE_NOTIFY_TOPIC_ARN: {arn:?} is not an SNS topic ARN"
                ));
            }
        }
        let non_empty = |name: &str| Some(list(get(name))).filter(|l| !l.is_empty());
        let web_acl_arns = non_empty("FLOODGATE_WEB_ACL_ARNS");
        if let Some(acls) = &web_acl_arns {
            if let Err(e) = floodgate_core::config::input::validate_web_acls(acls) {
                problems.push(format!("FLOODGATE_WEB_ACL_ARNS: {e}"));
            }
        }
        let realtime_fields = non_empty("FLOODGATE_REALTIME_FIELDS");
        if let Some(fields) = &realtime_fields {
            if let Err(e) = floodgate_core::formats::cloudfront_realtime::validate(fields) {
                problems.push(format!("FLOODGATE_REALTIME_FIELDS: {e}"));
            }
        }
        let mut allow_files = Vec::new();
        for url in list(get("FLOODGATE_ALLOW_FILES")) {
            match parse_s3_url(&url) {
                Some((bucket, key)) if !key.is_empty() => allow_files.push((bucket, key)),
                _ => problems.push(format!(
                    "FLOODGATE_ALLOW_FILES: expected s3://bucket/key, got {url:?}"
                )),
            }
        }
        let mut allowed = |name: &str| {
            Allowed::parse(name, get(name)).unwrap_or_else(|e| {
                problems.push(e);
                Allowed::Unset
            })
        };
        let log_buckets = allowed("FLOODGATE_LOG_BUCKETS");
        let log_prefixes = allowed("FLOODGATE_LOG_PREFIXES");
        let log_groups = allowed("FLOODGATE_LOG_GROUPS");
        let stream_arns = allowed("FLOODGATE_STREAM_ARNS");
        if let Allowed::Only(arns) = &stream_arns {
            for arn in arns {
                if !arn.starts_with("arn:")
                    || !arn.contains(":kinesis:")
                    || !arn.contains(":stream/")
                {
                    problems.push(format!(
                        "FLOODGATE_STREAM_ARNS: {arn:?} is not a Kinesis stream ARN"
                    ));
                }
            }
        }
        let mut reports_prefix = get("FLOODGATE_REPORTS_PREFIX").unwrap_or_default();
        if !reports_prefix.is_empty() && !reports_prefix.ends_with('/') {
            reports_prefix.push('/');
        }
        let partials_prefix = match get("FLOODGATE_PARTIALS_PREFIX") {
            None => None,
            Some(p) => {
                let mut p = p.trim().trim_start_matches('/').to_string();
                if !p.is_empty() && !p.ends_with('/') {
                    p.push('/');
                }
                if p.is_empty() {
                    problems.push("FLOODGATE_PARTIALS_PREFIX: empty (unset it to commit every batch directly)".to_string());
                } else if state_key.starts_with(&p)
                    || (!reports_prefix.is_empty()
                        && (reports_prefix.starts_with(&p) || p.starts_with(&reports_prefix)))
                {
                    problems.push(format!(
                        "FLOODGATE_PARTIALS_PREFIX: {p:?} must not hold the state key or the reports"
                    ));
                }
                Some(p)
            }
        };
        let settings = Settings {
            partials_prefix,
            state_bucket,
            state_key,
            reports_prefix,
            ipv4_sets,
            ipv6_sets,
            scope,
            config,
            dry_run,
            log_prefixes,
            log_suffixes: list(get("FLOODGATE_LOG_SUFFIXES")),
            metrics_namespace: get("FLOODGATE_METRICS_NAMESPACE")
                .unwrap_or_else(|| floodgate_aws::metrics::DEFAULT_NAMESPACE.to_string()),
            report_interval_ms,
            notify_topic_arn,
            log_buckets,
            log_groups,
            stream_arns,
            web_acl_arns,
            realtime_fields,
            allow_files,
        };
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(SettingsError { problems })
        }
    }

    /// Read the settings from the process environment.
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Every IP set to keep in sync, IPv4 first, each version in placement order.
    pub fn targets(&self) -> Vec<SyncTarget> {
        let v4 = self.ipv4_sets.iter().map(|s| SyncTarget {
            set: s.clone(),
            version: IpVersion::V4,
        });
        let v6 = self.ipv6_sets.iter().map(|s| SyncTarget {
            set: s.clone(),
            version: IpVersion::V6,
        });
        v4.chain(v6).collect()
    }

    /// Cold-start checks that need the configuration too: enough IP sets for
    /// `ban.max_entries` (never a silent truncation).
    pub fn check_against(&self, config: &Config) -> Result<(), SettingsError> {
        check_capacity(
            &config.ban,
            &self.targets(),
            ["FLOODGATE_IPV4_SET", "FLOODGATE_IPV6_SET"],
        )
        .map_err(|problems| SettingsError { problems })
    }

    /// Load and validate the TOML configuration (from S3 when so configured), with its
    /// `[allow] files` (`s3://` URLs, or keys next to a `FLOODGATE_CONFIG_S3` object), the
    /// `FLOODGATE_ALLOW_FILES` and the environment's replacements of `[source]` keys.
    pub async fn load_config<S: ObjectStore>(&self, store: &S) -> Result<Config, String> {
        Ok(self.load_config_recorded(store).await?.0)
    }

    /// [`Settings::load_config`] with the configuration as the state records it (extension
    /// `config`, as the CLI records its `--config`): the text, with the environment's
    /// replacements written into it, and every allowlist file it read. `floodgate report
    /// --state s3://…` then decides with what the Lambda decided with.
    pub async fn load_config_recorded<S: ObjectStore>(
        &self,
        store: &S,
    ) -> Result<(Config, floodgate_core::config::ConfigSource), String> {
        let text = match &self.config {
            ConfigSource::Inline(text) => text.clone(),
            ConfigSource::S3 { bucket, key } => text_of(store, bucket, key)
                .await
                .map_err(|e| format!("FLOODGATE_CONFIG_S3: {e}"))?,
        };
        let invalid =
            |e: floodgate_core::config::ConfigError| format!("floodgate configuration: {e}");
        let mut files = std::collections::HashMap::new();
        for name in Config::allow_files(&text).map_err(invalid)? {
            let (bucket, key) = match (parse_s3_url(&name), &self.config) {
                (Some((b, k)), _) => (b, k),
                (None, ConfigSource::S3 { bucket, key }) => {
                    let dir = key.rsplit_once('/').map_or("", |(d, _)| d);
                    let sep = if dir.is_empty() { "" } else { "/" };
                    (bucket.clone(), format!("{dir}{sep}{name}"))
                }
                (None, ConfigSource::Inline(_)) => {
                    files.insert(
                        name.clone(),
                        Err(
                            "an inline configuration names allowlist files as s3:// URLs"
                                .to_string(),
                        ),
                    );
                    continue;
                }
            };
            files.insert(name, text_of(store, &bucket, &key).await);
        }
        let mut config = Config::from_toml_with(&text, &mut |name| {
            files
                .get(name)
                .cloned()
                .unwrap_or_else(|| Err("not fetched".into()))
        })
        .map_err(invalid)?;
        let mut allow = std::mem::take(&mut config.allow);
        let mut env_files = Vec::new();
        for (bucket, key) in &self.allow_files {
            let url = format!("s3://{bucket}/{key}");
            let text = text_of(store, bucket, key)
                .await
                .map_err(|e| format!("FLOODGATE_ALLOW_FILES {url}: {e}"))?;
            env_files.push((url.clone(), text.clone()));
            let nets = floodgate_core::config::allow::parse_file(
                &format!("FLOODGATE_ALLOW_FILES {url}"),
                &text,
            )
            .map_err(|e| e.to_string())?;
            allow.extend(nets);
        }
        config.allow = ipnet::IpNet::aggregate(&allow);
        if let Some(acls) = &self.web_acl_arns {
            config.source.web_acls = acls.clone();
        }
        if let Some(fields) = &self.realtime_fields {
            config.source.realtime_fields = fields.clone();
        }
        let read: Vec<(String, String)> = files
            .into_iter()
            .filter_map(|(name, body)| body.ok().map(|b| (name, b)))
            .collect();
        let recorded = crate::recorded::record(
            &text,
            read,
            env_files,
            self.web_acl_arns.as_deref(),
            self.realtime_fields.as_deref(),
        )?;
        Ok((config, recorded))
    }
}

/// A small text object (configuration, allowlist file).
async fn text_of<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> Result<String, String> {
    let o = store.get(bucket, key).await.map_err(|e| e.to_string())?;
    String::from_utf8(o.bytes).map_err(|_| format!("s3://{bucket}/{key}: not UTF-8"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    pub(crate) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    pub(crate) const OK: &[(&str, &str)] = &[
        ("FLOODGATE_STATE_BUCKET", "st"),
        ("FLOODGATE_STATE_KEY", "state/floodgate.state"),
        ("FLOODGATE_REPORTS_PREFIX", "reports"),
        ("FLOODGATE_IPV4_SET", "v4:abc"),
        ("FLOODGATE_IPV6_SET", "v6:def"),
        ("FLOODGATE_SCOPE", "CLOUDFRONT"),
        ("FLOODGATE_CONFIG_S3", "s3://cfg/floodgate.toml"),
        ("FLOODGATE_DRY_RUN", "true"),
        ("FLOODGATE_LOG_PREFIXES", "AWSLogs/, cloudfront/"),
        ("FLOODGATE_LOG_SUFFIXES", ""),
    ];

    #[test]
    fn reads_every_variable() {
        let s = Settings::from_lookup(env(OK)).unwrap();
        assert_eq!(s.reports_prefix, "reports/");
        assert_eq!(s.scope, Scope::Cloudfront);
        assert_eq!(s.ipv6_sets[0].id, "def");
        assert_eq!(s.dry_run, Some(true));
        assert_eq!(s.metrics_namespace, "floodgate");
        assert!(s.wants_key("cloudfront/x.gz") && !s.wants_key("other/x.gz"));
        assert_eq!(
            s.log_prefixes,
            Allowed::Only(vec!["AWSLogs/".into(), "cloudfront/".into()])
        );
        assert_eq!(
            s.config,
            ConfigSource::S3 {
                bucket: "cfg".into(),
                key: "floodgate.toml".into()
            }
        );
    }

    #[test]
    fn the_partials_prefix_is_a_folder_apart_from_the_state_and_the_reports() {
        let with = |p: &str| {
            let mut pairs = OK.to_vec();
            pairs.push(("FLOODGATE_PARTIALS_PREFIX", p));
            Settings::from_lookup(env(&pairs))
        };
        assert_eq!(
            Settings::from_lookup(env(OK)).unwrap().partials_prefix,
            None
        );
        assert_eq!(
            with("/partials").unwrap().partials_prefix.as_deref(),
            Some("partials/")
        );
        for bad in ["state", "reports/", "reports/x", "/"] {
            let e = with(bad).unwrap_err().to_string();
            assert!(e.contains("FLOODGATE_PARTIALS_PREFIX"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn lists_every_problem() {
        let e = Settings::from_lookup(env(&[
            ("FLOODGATE_IPV4_SET", "nocolon"),
            ("FLOODGATE_SCOPE", "GLOBAL"),
            ("FLOODGATE_DRY_RUN", "maybe"),
        ]))
        .unwrap_err();
        let text = e.to_string();
        for needle in [
            "FLOODGATE_STATE_BUCKET is not set",
            "FLOODGATE_STATE_KEY is not set",
            "FLOODGATE_IPV4_SET: expected NAME:ID",
            "FLOODGATE_IPV6_SET is not set",
            "FLOODGATE_SCOPE: scope must be REGIONAL or CLOUDFRONT",
            "FLOODGATE_CONFIG_TOML or FLOODGATE_CONFIG_S3 must be set",
            "FLOODGATE_DRY_RUN must be true or false",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
    }
}
