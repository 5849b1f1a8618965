//! Which log sources the function reads: the allowlist variables (`FLOODGATE_LOG_BUCKETS`,
//! `FLOODGATE_LOG_PREFIXES`, `FLOODGATE_LOG_GROUPS`, `FLOODGATE_STREAM_ARNS`) and the refusals
//! they make, failing closed.

use crate::settings::{list, Settings};

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
    pub(crate) fn parse(name: &str, value: Option<String>) -> Result<Allowed, String> {
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

impl Settings {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{env, OK};

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
