//! The Lambda's configuration: environment variables set by infra (docs/deploy.md, "Lambda
//! environment"), validated at cold start so a broken deployment fails with one clear message
//! listing every problem, instead of on the first event.

use floodgate_aws::objects::{parse_s3_url, ObjectStore};
use floodgate_aws::{check_capacity, IpSetRef, IpVersion, Scope, SyncTarget};
use floodgate_core::config::Config;

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
}

/// Which sources of one kind are read, from an allowlist variable (`FLOODGATE_LOG_BUCKETS`,
/// `FLOODGATE_LOG_PREFIXES`, `FLOODGATE_LOG_GROUPS`, `FLOODGATE_STREAM_ARNS`).
///
/// Refusals fail closed: whoever can send the function an event must not be able to steer the
/// bans with logs floodgate should not trust, so a variable left unset (a deployment that
/// forgot it) reads nothing of its kind rather than everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// The variable is unset (or empty): every source of this kind is refused.
    Unset,
    /// `*`: any source the function's role can read, a choice made explicitly.
    Any,
    /// These sources only.
    Only(Vec<String>),
}

impl Allowed {
    /// The value of `name` (`None`: unset), or why it is invalid (`*` mixed with names).
    fn parse(name: &str, value: Option<String>) -> Result<Allowed, String> {
        let items = list(value);
        if items.is_empty() {
            Ok(Allowed::Unset)
        } else if items == ["*"] {
            Ok(Allowed::Any)
        } else if items.iter().any(|i| i == "*") {
            Err(format!(
                "{name}: `*` (any) stands alone, not among names: {items:?}"
            ))
        } else {
            Ok(Allowed::Only(items))
        }
    }

    /// Whether `matches` accepts one of the listed names (always under `*`, never unset).
    pub fn allows(&self, matches: impl Fn(&str) -> bool) -> bool {
        match self {
            Allowed::Unset => false,
            Allowed::Any => true,
            Allowed::Only(names) => names.iter().any(|n| matches(n)),
        }
    }

    /// Why `what` is refused under the variable `name` (`None`: `ok` says it is allowed).
    fn refuses(&self, name: &str, what: &str, kind: &str, ok: bool) -> Option<String> {
        match self {
            _ if ok => None,
            Allowed::Unset => Some(format!(
                "{what}: {name} is not set, so no {kind} is read; set it to the {kind}s to \
                 read (or `*` for any)"
            )),
            _ => Some(format!("{what} is not in {name}")),
        }
    }
}

/// What is wrong with the environment: every problem, one per line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid floodgate Lambda environment (see docs/operations.md):\n  {}", .problems.join("\n  "))]
pub struct SettingsError {
    /// One message per variable.
    pub problems: Vec<String>,
}

fn list(value: Option<String>) -> Vec<String> {
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
        let settings = Settings {
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

    /// Why an object must not be read: a bucket outside `FLOODGATE_LOG_BUCKETS` or a key
    /// outside `FLOODGATE_LOG_PREFIXES`, or either variable unset (`None`: read it). Suffixes
    /// only skip (a non-log key in a log folder is expected); a foreign bucket or prefix is
    /// refused, as it may be an attempt to steer the bans with logs floodgate must not trust.
    pub fn refuses_object(&self, bucket: &str, key: &str) -> Option<String> {
        let (buckets, prefixes) = (&self.log_buckets, &self.log_prefixes);
        let what = format!("bucket {bucket:?}");
        let ok = buckets.allows(|b| b == bucket);
        buckets
            .refuses("FLOODGATE_LOG_BUCKETS", &what, "bucket", ok)
            .or_else(|| {
                let what = format!("key {key:?}");
                let ok = prefixes.allows(|p| key.starts_with(p));
                prefixes.refuses("FLOODGATE_LOG_PREFIXES", &what, "key prefix", ok)
            })
    }

    /// Why a CloudWatch Logs delivery must not be read (`None`: read it).
    pub fn refuses_log_group(&self, group: &str) -> Option<String> {
        let ok = self.log_groups.allows(|g| g == group);
        let what = format!("log group {group:?}");
        (self.log_groups).refuses("FLOODGATE_LOG_GROUPS", &what, "log group", ok)
    }

    /// Why a Kinesis record must not be read (`None`: read it).
    pub fn refuses_stream(&self, arn: &str) -> Option<String> {
        let ok = self.stream_arns.allows(|s| s == arn);
        let what = format!("stream {arn:?}");
        (self.stream_arns).refuses("FLOODGATE_STREAM_ARNS", &what, "stream", ok)
    }

    /// The source allowlist variables left unset: every event of their kind is refused
    /// (logged once at cold start, so a deployment that forgot one is told which).
    pub fn unset_sources(&self) -> Vec<&'static str> {
        [
            ("FLOODGATE_LOG_BUCKETS", &self.log_buckets),
            ("FLOODGATE_LOG_PREFIXES", &self.log_prefixes),
            ("FLOODGATE_LOG_GROUPS", &self.log_groups),
            ("FLOODGATE_STREAM_ARNS", &self.stream_arns),
        ]
        .into_iter()
        .filter(|(_, a)| **a == Allowed::Unset)
        .map(|(name, _)| name)
        .collect()
    }

    /// Whether a log key is one floodgate should read (prefix and suffix filters).
    pub fn wants_key(&self, key: &str) -> bool {
        self.log_prefixes.allows(|p| key.starts_with(p))
            && (self.log_suffixes.is_empty() || self.log_suffixes.iter().any(|s| key.ends_with(s)))
    }

    /// Load and validate the TOML configuration (from S3 when so configured), with its
    /// `[allow] files` (`s3://` URLs, or keys next to a `FLOODGATE_CONFIG_S3` object), the
    /// `FLOODGATE_ALLOW_FILES` and the environment's replacements of `[source]` keys.
    pub async fn load_config<S: ObjectStore>(&self, store: &S) -> Result<Config, String> {
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
        for (bucket, key) in &self.allow_files {
            let url = format!("s3://{bucket}/{key}");
            let text = text_of(store, bucket, key)
                .await
                .map_err(|e| format!("FLOODGATE_ALLOW_FILES {url}: {e}"))?;
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
        Ok(config)
    }
}

/// A small text object (configuration, allowlist file).
async fn text_of<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> Result<String, String> {
    let o = store.get(bucket, key).await.map_err(|e| e.to_string())?;
    String::from_utf8(o.bytes).map_err(|_| format!("s3://{bucket}/{key}: not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const OK: &[(&str, &str)] = &[
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

    #[test]
    fn source_allowlists_refuse_what_they_do_not_name() {
        let mut vars = OK.to_vec();
        vars.extend([
            ("FLOODGATE_LOG_BUCKETS", "logs,more-logs"),
            ("FLOODGATE_LOG_GROUPS", "aws-waf-logs-a"),
            (
                "FLOODGATE_STREAM_ARNS",
                "arn:aws:kinesis:us-east-1:1:stream/rt",
            ),
        ]);
        let s = Settings::from_lookup(env(&vars)).unwrap();
        assert!(s.refuses_object("logs", "AWSLogs/x.gz").is_none());
        assert!(s
            .refuses_object("evil", "AWSLogs/x.gz")
            .unwrap()
            .contains("FLOODGATE_LOG_BUCKETS"));
        assert!(s
            .refuses_object("logs", "tmp/x.gz")
            .unwrap()
            .contains("FLOODGATE_LOG_PREFIXES"));
        assert!(s.refuses_log_group("aws-waf-logs-a").is_none());
        assert!(s.refuses_log_group("aws-waf-logs-b").is_some());
        assert!(s
            .refuses_stream("arn:aws:kinesis:us-east-1:1:stream/other")
            .is_some());
        let bad = Settings::from_lookup(env(&[
            OK,
            &[
                ("FLOODGATE_STREAM_ARNS", "rt"),
                ("FLOODGATE_WEB_ACL_ARNS", "my acl"),
                ("FLOODGATE_REALTIME_FIELDS", "cs-method"),
                ("FLOODGATE_ALLOW_FILES", "edges.txt"),
            ],
        ]
        .concat()))
        .unwrap_err()
        .to_string();
        for needle in [
            "FLOODGATE_STREAM_ARNS",
            "FLOODGATE_WEB_ACL_ARNS",
            "FLOODGATE_REALTIME_FIELDS",
            "FLOODGATE_ALLOW_FILES",
        ] {
            assert!(bad.contains(needle), "{needle} in {bad}");
        }
    }

    #[test]
    fn an_unset_source_allowlist_refuses_everything_and_names_its_variable() {
        // OK sets FLOODGATE_LOG_PREFIXES but none of the other three.
        let s = Settings::from_lookup(env(OK)).unwrap();
        assert_eq!(
            s.unset_sources(),
            [
                "FLOODGATE_LOG_BUCKETS",
                "FLOODGATE_LOG_GROUPS",
                "FLOODGATE_STREAM_ARNS"
            ]
        );
        let why = s.refuses_object("logs", "AWSLogs/x.gz").unwrap();
        assert!(
            why.contains("FLOODGATE_LOG_BUCKETS is not set") && why.contains("`*`"),
            "{why}"
        );
        let why = s.refuses_log_group("aws-waf-logs-a").unwrap();
        assert!(why.contains("FLOODGATE_LOG_GROUPS is not set"), "{why}");
        let why = s
            .refuses_stream("arn:aws:kinesis:us-east-1:1:stream/rt")
            .unwrap();
        assert!(why.contains("FLOODGATE_STREAM_ARNS is not set"), "{why}");
        // Prefixes too: unset reads no key, and wants none.
        let mut vars: Vec<(&str, &str)> = OK
            .iter()
            .copied()
            .filter(|(k, _)| *k != "FLOODGATE_LOG_PREFIXES")
            .collect();
        vars.push(("FLOODGATE_LOG_BUCKETS", "logs"));
        let s = Settings::from_lookup(env(&vars)).unwrap();
        let why = s.refuses_object("logs", "AWSLogs/x.gz").unwrap();
        assert!(why.contains("FLOODGATE_LOG_PREFIXES is not set"), "{why}");
        assert!(!s.wants_key("AWSLogs/x.gz"));
    }

    #[test]
    fn a_star_accepts_any_source_and_stands_alone() {
        let mut vars = OK.to_vec();
        vars.extend([
            ("FLOODGATE_LOG_BUCKETS", "*"),
            ("FLOODGATE_LOG_PREFIXES", " * "),
            ("FLOODGATE_LOG_GROUPS", "*"),
            ("FLOODGATE_STREAM_ARNS", "*"),
        ]);
        let s = Settings::from_lookup(env(&vars)).unwrap();
        assert!(s.unset_sources().is_empty());
        assert!(s.refuses_object("any-bucket", "any/key.gz").is_none());
        assert!(s.wants_key("any/key.gz"));
        assert!(s.refuses_log_group("whatever").is_none());
        assert!(s
            .refuses_stream("arn:aws:kinesis:eu-west-1:2:stream/x")
            .is_none());
        vars.push(("FLOODGATE_LOG_GROUPS", "aws-waf-logs-a,*"));
        let e = Settings::from_lookup(env(&vars)).unwrap_err().to_string();
        assert!(
            e.contains("FLOODGATE_LOG_GROUPS: `*` (any) stands alone"),
            "{e}"
        );
    }
}
