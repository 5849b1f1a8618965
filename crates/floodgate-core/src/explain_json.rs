//! `floodgate explain --json`: the [`Explanation`] as a documented, stable schema
//! (docs/report-schema.md, "explain --json"). Addresses and networks are strings, times are
//! RFC 3339 UTC strings as the reports write them, durations are words (`5m`) with seconds
//! beside them; nothing internal (key encodings, epoch milliseconds, sketches) leaks out, so
//! scripts can rely on it across versions. [`SCHEMA`] changes when a field changes meaning.

use crate::explain::Explanation;
use crate::report::{human_duration, Counted, TOP_N};
use crate::timefmt::format_rfc3339_ms;
use serde::Serialize;

/// The schema's name and version, the document's `schema` field.
pub const SCHEMA: &str = "floodgate-explain/1";

/// The whole document.
#[derive(Clone, Debug, Serialize)]
pub struct ExplainJson {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The address asked about.
    pub ip: String,
    /// The entry a ban of it would be: the address masked to `ipv4_prefix` / `ipv6_prefix`.
    pub cidr: String,
    /// The decision time.
    pub now: String,
    /// One word: `banned`, `allowlisted`, `dropped`, `expired` or `not_banned`.
    pub verdict: &'static str,
    /// In the blocklist at `now` (alone or as part of a range).
    pub blocked: bool,
    /// The allowlist entry that covers it.
    pub allowed_by: Option<String>,
    /// Why an active ban is not in the blocklist (`guardrail`, `max_entries`, …).
    pub dropped: Option<String>,
    /// Why the broken-rule guardrail tripped, one sentence per rule, when it held this back.
    pub guardrail: Vec<String>,
    /// The ban replayed from its offences within memory, if any.
    pub ban: Option<BanJson>,
    /// The evidence per configured rule.
    pub rules: Vec<RuleJson>,
    /// The network a range ban would cover, when something happened in it.
    pub range: Option<RangeJson>,
    /// What it requested, if it was suspicious enough to be profiled.
    pub profile: Option<ProfileJson>,
    /// The operator's manual bans and unbans that cover it, one sentence each.
    pub manual: Vec<String>,
}

/// `ban`.
#[derive(Clone, Debug, Serialize)]
pub struct BanJson {
    /// The rule of the latest offence.
    pub rule: String,
    /// Every rule offended within memory.
    pub rules: Vec<String>,
    /// Offences within memory.
    pub offences: u32,
    /// First and last offence.
    pub first_offence: String,
    /// See `first_offence`.
    pub last_offence: String,
    /// Start and end of the current ban.
    pub since: String,
    /// See `since`.
    pub until: String,
    /// `until` is after `now`.
    pub active: bool,
    /// Active now and not in the previous decision.
    pub new: bool,
    /// Highest window count, the limit of its rule and their ratio.
    pub peak: u32,
    /// See `peak`.
    pub limit: u32,
    /// See `peak`.
    pub severity: f64,
}

/// `rules[]`.
#[derive(Clone, Debug, Serialize)]
pub struct RuleJson {
    /// Rule name.
    pub rule: String,
    /// The window, as written in the configuration, and in seconds.
    pub window: String,
    /// See `window`.
    pub window_seconds: f64,
    /// The limit per window.
    pub limit: u32,
    /// Highest window count seen.
    pub peak: u32,
    /// Requests in the windows the state still holds, and their first and last time.
    pub held_requests: u64,
    /// See `held_requests`.
    pub first_held: Option<String>,
    /// See `held_requests`.
    pub last_held: Option<String>,
    /// Each offence: when, and the window count that crossed the limit.
    pub offences: Vec<OffenceJson>,
}

/// `rules[].offences[]`.
#[derive(Clone, Debug, Serialize)]
pub struct OffenceJson {
    /// When.
    pub at: String,
    /// Requests in the window, more than the limit.
    pub count: u32,
}

/// `range`.
#[derive(Clone, Debug, Serialize)]
pub struct RangeJson {
    /// The network (`/24`, `/48` by default).
    pub cidr: String,
    /// Offending keys in it and distinct keys seen in it.
    pub offenders: u32,
    /// See `offenders`.
    pub clients_seen: u32,
    /// Banned as one entry.
    pub banned: bool,
    /// Why, or why not, in one sentence.
    pub reason: String,
}

/// `profile`.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileJson {
    /// First and last request seen while profiled.
    pub first_seen: String,
    /// See `first_seen`.
    pub last_seen: String,
    /// Requests seen while profiled.
    pub requests: u64,
    /// Country (WAF logs only).
    pub country: Option<String>,
    /// Most requested paths and most used user agents, `{value, count}`.
    pub top_paths: Vec<Counted>,
    /// See `top_paths`.
    pub top_user_agents: Vec<Counted>,
}

fn rounded(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Explanation {
    /// The `explain --json` document at `now_ms`.
    pub fn to_json(&self, now_ms: i64) -> ExplainJson {
        let t = format_rfc3339_ms;
        let verdict = if self.allowed_by.is_some() {
            "allowlisted"
        } else if self.blocked {
            "banned"
        } else if self.dropped.is_some() {
            "dropped"
        } else if self.ban.is_some() {
            "expired"
        } else {
            "not_banned"
        };
        let top = |k: &crate::sketch::TopK| -> Vec<Counted> {
            k.top(TOP_N)
                .into_iter()
                .map(|(value, count)| Counted { value, count })
                .collect()
        };
        ExplainJson {
            schema: SCHEMA,
            ip: self.ip.to_string(),
            cidr: self.key.clone(),
            now: t(now_ms),
            verdict,
            blocked: self.blocked,
            allowed_by: self.allowed_by.clone(),
            dropped: self.dropped.clone(),
            guardrail: self.tripped.clone(),
            ban: self.ban.as_ref().map(|b| BanJson {
                rule: b.rule.clone(),
                rules: b.rules.clone(),
                offences: b.offences,
                first_offence: t(b.first_offence_ms),
                last_offence: t(b.last_offence_ms),
                since: t(b.since_ms),
                until: t(b.until_ms),
                active: b.active,
                new: b.new,
                peak: b.peak,
                limit: b.peak_limit,
                severity: rounded(b.severity),
            }),
            rules: self
                .rules
                .iter()
                .map(|r| RuleJson {
                    rule: r.rule.clone(),
                    window: human_duration(r.window_ms),
                    window_seconds: r.window_ms as f64 / 1000.0,
                    limit: r.limit,
                    peak: r.peak,
                    held_requests: r.held_requests,
                    first_held: r.first_ms.map(t),
                    last_held: r.last_ms.map(t),
                    offences: r
                        .offences
                        .iter()
                        .map(|(at, count)| OffenceJson {
                            at: t(*at),
                            count: *count,
                        })
                        .collect(),
                })
                .collect(),
            range: self.range.as_ref().map(|r| RangeJson {
                cidr: r.network.clone(),
                offenders: r.offenders,
                clients_seen: r.clients_seen,
                banned: r.banned,
                reason: r.reason.clone(),
            }),
            profile: self.profile.as_ref().map(|p| ProfileJson {
                first_seen: t(p.first_ms),
                last_seen: t(p.last_ms),
                requests: p.requests,
                country: p.country.clone(),
                top_paths: top(&p.paths),
                top_user_agents: top(&p.user_agents),
            }),
            manual: self.manual.clone(),
        }
    }
}
