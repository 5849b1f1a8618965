//! Rules: which requests count towards which limit.
//!
//! A rule counts a request when *all* of its filters match (an absent filter matches
//! everything). Within one filter, *any* listed value matches:
//!
//! | filter | matches when |
//! |---|---|
//! | `methods` | the method equals one of them, case-insensitively |
//! | `paths` | the path as the origin sees it ([`crate::paths::normalize`]: decoded once, `//`, `/./`, `..`, `;params` and a trailing `/` collapsed) matches one glob (see [`glob_match`]), case-insensitively unless the rule says `case_sensitive = true`; the glob is normalised the same way. `/Login`, `//login`, `/login;x`, `/%6Cogin` all count for `/login`: spelling cannot evade a rule |
//! | `status` | the status equals a code (`"401"`) or is in a class (`"4xx"`); requests without a status never match |
//! | `actions` | the WAF action equals one (case-insensitive); non-WAF requests never match |
//! | `countries` | the country code equals one (case-insensitive); requests without a country never match |
//! | `labels` | any WAF label matches one glob |
//! | `ignore_extensions` | (exclusion) the path does NOT end with one of them, case-insensitively |

use crate::config::error::{err, parse_duration, ConfigError};
use crate::config::raw::RawRule;
use crate::request::Request;
use std::borrow::Cow;
use std::time::Duration;

/// Shortest and longest rule window.
pub const WINDOW_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(24 * 3600));

/// `[[rules]]`: validate and compile every rule (1 ..= 64, unique names, windows a multiple
/// of the resolution).
pub(crate) fn compile_all(raw: &[RawRule], resolution_ms: i64) -> Result<Vec<Rule>, ConfigError> {
    if raw.is_empty() {
        return Err(err("rules", "at least one [[rules]] entry is needed"));
    }
    if raw.len() > 64 {
        return Err(err("rules", "at most 64 rules"));
    }
    let mut rules: Vec<Rule> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
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
        if name == crate::manual::RULE {
            return Err(err(
                format!("{key}.name"),
                "\"manual\" is the name of manual bans (floodgate ban); choose another",
            ));
        }
        if rules.iter().any(|x| x.name == name) {
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
        rules.push(Rule {
            name,
            window_ms,
            limit: r.limit as u32,
            filters: Filters::compile(&key, r)?,
        });
    }
    Ok(rules)
}

/// One counting rule: a sliding window, a limit, and filters.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Name used in reports and bans.
    pub name: String,
    /// Window length, ms.
    pub window_ms: i64,
    /// Offence when a window's count EXCEEDS this.
    pub limit: u32,
    /// Which requests count.
    pub filters: Filters,
}

/// Compiled filters of a [`Rule`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filters {
    methods: Vec<String>,
    paths: Vec<String>,
    status: Vec<StatusMatch>,
    actions: Vec<String>,
    countries: Vec<String>,
    labels: Vec<String>,
    ignore_extensions: Vec<String>,
    /// Path globs compare letters as they are (the default folds ASCII case, as WAF's
    /// `LOWERCASE` transformation does).
    case_sensitive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum StatusMatch {
    Code(u16),
    Class(u16),
}

fn filter_err(key: &str, field: &str, i: usize, msg: String) -> ConfigError {
    err(format!("{key}.{field}[{i}]"), msg)
}

fn non_empty(key: &str, field: &str, list: &[String]) -> Result<Vec<String>, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let v = v.trim();
            if v.is_empty() || v.len() > 512 {
                Err(filter_err(key, field, i, "must be 1-512 characters".into()))
            } else {
                Ok(v.to_string())
            }
        })
        .collect()
}

impl Filters {
    pub(crate) fn compile(key: &str, raw: &RawRule) -> Result<Filters, ConfigError> {
        let mut status = Vec::new();
        for (i, s) in raw.status.iter().enumerate() {
            let s = s.trim().to_ascii_lowercase();
            let bad = || {
                filter_err(
                    key,
                    "status",
                    i,
                    format!("{s:?}: write a code like \"401\" or a class like \"4xx\" (100-599)"),
                )
            };
            let m = if let Some(d) = s.strip_suffix("xx") {
                match d.parse::<u16>() {
                    Ok(c @ 1..=5) if d.len() == 1 => StatusMatch::Class(c),
                    _ => return Err(bad()),
                }
            } else {
                match s.parse::<u16>() {
                    Ok(c @ 100..=599) => StatusMatch::Code(c),
                    _ => return Err(bad()),
                }
            };
            status.push(m);
        }
        let mut paths = non_empty(key, "paths", &raw.paths)?;
        for (i, p) in paths.iter_mut().enumerate() {
            if !p.starts_with('/') && !p.starts_with('*') {
                return Err(filter_err(
                    key,
                    "paths",
                    i,
                    format!("{p:?}: a path starts with '/' (or '*')"),
                ));
            }
            *p = crate::paths::normalize_pattern(p);
            if !raw.case_sensitive {
                *p = p.to_ascii_lowercase();
            }
        }
        let mut countries = non_empty(key, "countries", &raw.countries)?;
        for (i, c) in countries.iter_mut().enumerate() {
            if c.len() != 2 || !c.chars().all(|x| x.is_ascii_alphabetic()) {
                return Err(filter_err(
                    key,
                    "countries",
                    i,
                    format!("{c:?}: a two-letter country code like \"CN\""),
                ));
            }
            *c = c.to_ascii_uppercase();
        }
        let mut ignore_extensions = non_empty(key, "ignore_extensions", &raw.ignore_extensions)?;
        for e in &mut ignore_extensions {
            if !e.starts_with('.') {
                e.insert(0, '.');
            }
            *e = e.to_ascii_lowercase();
        }
        Ok(Filters {
            methods: non_empty(key, "methods", &raw.methods)?
                .into_iter()
                .map(|m| m.to_ascii_uppercase())
                .collect(),
            paths,
            status,
            actions: non_empty(key, "actions", &raw.actions)?
                .into_iter()
                .map(|a| a.to_ascii_uppercase())
                .collect(),
            countries,
            labels: non_empty(key, "labels", &raw.labels)?,
            ignore_extensions,
            case_sensitive: raw.case_sensitive,
        })
    }

    /// The filters as one human line (`methods POST; paths /login`), `all requests` if none.
    pub fn describe(&self) -> String {
        let status: Vec<String> = self
            .status
            .iter()
            .map(|s| match s {
                StatusMatch::Code(c) => c.to_string(),
                StatusMatch::Class(c) => format!("{c}xx"),
            })
            .collect();
        let mut parts: Vec<String> = [
            ("methods", &self.methods),
            ("paths", &self.paths),
            ("status", &status),
            ("actions", &self.actions),
            ("countries", &self.countries),
            ("labels", &self.labels),
            ("ignoring", &self.ignore_extensions),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| format!("{name} {}", v.join(", ")))
        .collect();
        if self.case_sensitive && !self.paths.is_empty() {
            parts.push("paths case-sensitive".to_string());
        }
        if parts.is_empty() {
            "all requests".to_string()
        } else {
            parts.join("; ")
        }
    }

    /// Whether the rule counts every request (no filter at all): its held windows then hold
    /// every client seen, which range bans and the guardrail count against.
    pub fn is_empty(&self) -> bool {
        *self
            == Filters {
                case_sensitive: self.case_sensitive,
                ..Filters::default()
            }
    }

    /// Whether the rule has path-based filters (then the caller decodes the path once).
    pub fn uses_path(&self) -> bool {
        !self.paths.is_empty() || !self.ignore_extensions.is_empty()
    }

    /// Does `r` count for this rule? `path` is [`match_path`] of the request's path.
    pub fn matches(&self, r: &Request<'_>, path: &str) -> bool {
        if !self.methods.is_empty()
            && !self
                .methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&r.method))
        {
            return false;
        }
        if !self.status.is_empty() {
            let Some(code) = r.status else { return false };
            let hit = self.status.iter().any(|s| match *s {
                StatusMatch::Code(c) => c == code,
                StatusMatch::Class(c) => code / 100 == c,
            });
            if !hit {
                return false;
            }
        }
        if !self.actions.is_empty() {
            let Some(a) = r.waf_action.as_deref() else {
                return false;
            };
            if !self.actions.iter().any(|x| x.eq_ignore_ascii_case(a)) {
                return false;
            }
        }
        if !self.countries.is_empty() {
            let Some(c) = r.country.as_deref() else {
                return false;
            };
            if !self.countries.iter().any(|x| x.eq_ignore_ascii_case(c)) {
                return false;
            }
        }
        if !self.labels.is_empty()
            && !r
                .labels
                .iter()
                .any(|l| self.labels.iter().any(|g| glob_match(g, l)))
        {
            return false;
        }
        let fold = !self.case_sensitive;
        if !self.paths.is_empty()
            && !self
                .paths
                .iter()
                .any(|g| glob_match_folded(g, path, fold) || glob_match_folded(g, &r.path, fold))
        {
            return false;
        }
        if !self.ignore_extensions.is_empty() {
            let tail = path
                .get(path.len().saturating_sub(16)..)
                .unwrap_or(path)
                .to_ascii_lowercase();
            if self
                .ignore_extensions
                .iter()
                .any(|e| tail.ends_with(e.as_str()))
            {
                return false;
            }
        }
        true
    }
}

/// The path rules match: [`crate::paths::normalize`] of the path as sent (borrowed when already
/// normal). Rules match a glob against this *or* the path as sent ([`Filters::matches`]): a rule
/// written from a report (which shows the path as sent) matches, and no spelling dodges a rule.
pub fn match_path<'a>(path: &'a str) -> Cow<'a, str> {
    crate::paths::normalize(path)
}

/// Glob match: `*` matches any run of characters (including `/`), `?` exactly one, everything
/// else itself. Linear-time greedy matching with single-star backtracking: no regex, no ReDoS.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    glob_match_folded(pattern, text, false)
}

/// [`glob_match`], with the text's ASCII letters lowercased first when `fold` (the pattern is
/// then expected in lowercase, as [`Filters`] stores it).
pub fn glob_match_folded(pattern: &str, text: &str, fold: bool) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let at = |i: usize| {
        if fold {
            t[i].to_ascii_lowercase()
        } else {
            t[i]
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (usize::MAX, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == at(ti)) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = pi;
            mark = ti;
            pi += 1;
        } else if star != usize::MAX {
            pi = star + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn glob_semantics() {
        assert!(glob_match("/api/*", "/api/v1/users"));
        assert!(glob_match("/login", "/login"));
        assert!(!glob_match("/login", "/login2"));
        assert!(glob_match("*.php", "/wp/x.php"));
        assert!(glob_match("/a?c", "/abc"));
        assert!(glob_match(
            "awswaf:managed:aws:bot-control:*",
            "awswaf:managed:aws:bot-control:bot:verified"
        ));
        assert!(!glob_match("/api/*", "/ap"));
        assert!(glob_match("*", ""));
        // pathological pattern stays fast
        let text = "a".repeat(10_000);
        assert!(!glob_match("*a*a*a*a*a*b", &text));
    }

    fn rule(extra: &str) -> Rule {
        Config::from_toml(&format!(
            "[[rules]]\nname = \"r\"\nwindow = \"1m\"\nlimit = 1\n{extra}"
        ))
        .unwrap()
        .rules
        .remove(0)
    }

    fn req() -> Request<'static> {
        Request::minimal(1_700_000_000_000, "1.2.3.4".parse().unwrap())
    }

    #[test]
    fn each_filter_matches_and_excludes() {
        let mut r = req();
        r.method = "post".into();
        r.path = "/log%69n".into();
        r.status = Some(401);
        r.waf_action = Some("BLOCK".into());
        r.country = Some("cn".into());
        r.labels = vec!["awswaf:managed:aws:bot-control:bot:verified".into()];
        let path = match_path(&r.path);
        assert_eq!(path, "/login");
        for (f, yes) in [
            ("methods = [\"POST\"]", true),
            ("methods = [\"GET\"]", false),
            ("paths = [\"/login\"]", true),
            ("paths = [\"/api/*\"]", false),
            ("status = [\"4xx\"]", true),
            ("status = [\"401\", \"403\"]", true),
            ("status = [\"5xx\"]", false),
            ("actions = [\"block\"]", true),
            ("actions = [\"ALLOW\"]", false),
            ("countries = [\"CN\"]", true),
            ("countries = [\"FR\"]", false),
            ("labels = [\"awswaf:managed:aws:bot-control:*\"]", true),
            ("labels = [\"x:*\"]", false),
            ("ignore_extensions = [\".css\"]", true),
            ("ignore_extensions = [\"gin\"]", true), // normalised to ".gin"
        ] {
            assert_eq!(rule(f).filters.matches(&r, &path), yes, "{f}");
        }
        // missing data never matches a filter on it
        let plain = req();
        for f in [
            "status = [\"4xx\"]",
            "actions = [\"BLOCK\"]",
            "countries = [\"CN\"]",
            "labels = [\"*\"]",
        ] {
            assert!(!rule(f).filters.matches(&plain, "/"), "{f}");
        }
        assert!(rule("").filters.matches(&plain, "/"));
        let css = rule("ignore_extensions = [\".CSS\"]");
        assert!(!css.filters.matches(&plain, "/a/style.css"));
    }

    #[test]
    fn every_spelling_of_a_path_counts_for_its_rule() {
        let login = rule("paths = [\"/login\", \"/API/Auth/*\"]");
        let strict = rule("paths = [\"/login/\"]\ncase_sensitive = true");
        for p in [
            "/login",
            "/login/",
            "/Login",
            "//login",
            "/login;x",
            "/%6Cogin",
            "/./login",
            "/LOGIN//",
            "/x/../login",
            "/api/auth/x",
            "/Api/AUTH/y;z",
        ] {
            let mut r = req();
            r.path = p.into();
            let path = match_path(&r.path);
            assert!(login.filters.matches(&r, &path), "{p}");
            let cased = !path.chars().any(|c| c.is_ascii_uppercase());
            if !p.starts_with("/api") && !p.starts_with("/Api") {
                assert_eq!(
                    strict.filters.matches(&r, &path),
                    cased,
                    "case-sensitive {p}"
                );
            }
        }
        for p in ["/login2", "/log/in", "/loginx;", "/api/authx"] {
            let mut r = req();
            r.path = p.into();
            let path = match_path(&r.path);
            assert!(!login.filters.matches(&r, &path), "{p}");
        }
        assert!(strict.filters.describe().contains("case-sensitive"));
    }
}
