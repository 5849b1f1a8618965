//! Why a client is or is not banned: the evidence behind one key, from the state alone.
//!
//! For the key of an address (masked like the engine masks it) this gathers, per rule, the
//! window counts the state still holds (peak, and the settled and pending offences with the
//! window count that crossed the limit), the ban replayed from those offences, whether it is in
//! the blocklist or was dropped by a guardrail, the allowlist entry that protects it, and the
//! profile (first/last seen, top paths and user agents).

use crate::config::Config;
use crate::decision::{Ban, Decision};
use crate::engine;
use crate::key::Key;
use crate::ranges::{self, RangeVerdict};
use crate::state::State;
use crate::tally::Profile;
use crate::timefmt::format_rfc3339_ms;
use crate::window;
use serde::Serialize;
use std::fmt::Write as _;
use std::net::IpAddr;

/// The evidence for one key under one rule.
#[derive(Clone, Debug, Serialize)]
pub struct RuleEvidence {
    /// Rule name.
    pub rule: String,
    /// Window, ms.
    pub window_ms: i64,
    /// Limit.
    pub limit: u32,
    /// Highest window count held.
    pub peak: u32,
    /// Requests counted in held buckets.
    pub held_requests: u64,
    /// First and last held request times (bucket starts), ms.
    pub first_ms: Option<i64>,
    /// See `first_ms`.
    pub last_ms: Option<i64>,
    /// Offences under this rule: (time ms, window count).
    pub offences: Vec<(i64, u32)>,
}

/// What `floodgate explain` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// The address asked about.
    pub ip: IpAddr,
    /// Its key as a CIDR.
    pub key: String,
    /// The allowlist entry that covers it, if any.
    pub allowed_by: Option<String>,
    /// Per rule.
    pub rules: Vec<RuleEvidence>,
    /// The replayed ban, if it ever offended within memory.
    pub ban: Option<Ban>,
    /// In the blocklist now.
    pub blocked: bool,
    /// Dropped by a guardrail: the reason.
    pub dropped: Option<String>,
    /// Why the broken-rule guardrail tripped, when it held this ban back (one sentence per
    /// tripped rule, as the reports print it).
    pub tripped: Vec<String>,
    /// Profile, if it was suspicious enough to get one.
    pub profile: Option<Profile>,
    /// The network a range ban would cover, and whether (and why) it is banned whole.
    pub range: Option<RangeVerdict>,
    /// The operator's decisions that cover it (`floodgate ban`, `unban`), one sentence each.
    pub manual: Vec<String>,
}

/// Explain `ip` against `state` and its `decision` (from `engine::decide_again`).
pub fn explain(config: &Config, state: &State, decision: &Decision, ip: IpAddr) -> Explanation {
    let ip = ip.to_canonical();
    let key = Key::from_ip(ip, config.ban.ipv4_prefix, config.ban.ipv6_prefix);
    let res = config.engine.resolution_ms;
    let rules = config
        .rules
        .iter()
        .map(|r| {
            let kw = state.rules.get(&r.name).and_then(|m| m.get(&key));
            let buckets: &[(u32, u32)] = kw.map_or(&[], |k| &k.buckets);
            let sweep = window::sweep(
                buckets,
                (r.window_ms / res) as u32,
                r.limit,
                kw.and_then(|k| k.reset),
                state.settled_bucket,
            );
            let settled: Vec<&crate::decision::Offence> = state
                .offences
                .get(&key)
                .into_iter()
                .flatten()
                .filter(|o| o.rule == r.name)
                .collect();
            let settled_peak = settled.iter().map(|o| o.peak).max().unwrap_or(0);
            let mut offences: Vec<(i64, u32)> =
                settled.iter().map(|o| (o.time_ms, o.count)).collect();
            offences.extend(
                sweep
                    .offences
                    .iter()
                    .map(|f| (f.bucket as i64 * res, f.count)),
            );
            RuleEvidence {
                rule: r.name.clone(),
                window_ms: r.window_ms,
                limit: r.limit,
                peak: sweep.peak.max(kw.map_or(0, |k| k.peak)).max(settled_peak),
                held_requests: buckets.iter().map(|p| p.1 as u64).sum(),
                first_ms: buckets.first().map(|p| p.0 as i64 * res),
                last_ms: buckets.last().map(|p| p.0 as i64 * res),
                offences,
            }
        })
        .collect();
    // Its own ban, else a manual ban of a wider CIDR holding it.
    let manual_ban = |b: &&Ban| b.rule == crate::manual::RULE && b.cidr.contains(&ip);
    let ban = decision
        .bans
        .iter()
        .find(|b| b.key == key)
        .or_else(|| decision.bans.iter().find(manual_ban))
        .cloned();
    let blocked_by_manual = decision
        .bans
        .iter()
        .filter(manual_ban)
        .any(|b| b.active && decision.kept.binary_search(&b.key).is_ok());
    let manual = manual_notes(state, ip);
    // A network is worth a word only when something happened in it: for an address never seen
    // in a quiet network, talk of offender shares would only confuse.
    let range = ranges::network_of(config, key).and_then(|net| {
        let offenders = decision
            .bans
            .iter()
            .filter(|b| b.active && b.rule != crate::manual::RULE)
            .filter(|b| ranges::network_of(config, b.key) == Some(net))
            .count() as u32;
        let seen = engine::population(config, state, &[net].into_iter().collect()).seen_in(&net);
        let range_ban = decision.ranges.iter().find(|r| r.cidr == net);
        if offenders == 0 && range_ban.is_none() {
            return None;
        }
        Some(match range_ban {
            Some(r) => RangeVerdict {
                network: net.to_string(),
                offenders: r.members.len() as u32,
                clients_seen: r.clients_seen,
                banned: r.blocked,
                reason: if r.blocked {
                    ranges::judge(config, net, r.members.len() as u32, r.clients_seen).reason
                } else {
                    "it qualified, but the blocklist was full (max_entries)".to_string()
                },
            },
            None => ranges::judge(config, net, offenders, seen),
        })
    });
    Explanation {
        ip,
        key: key
            .cidr(config.ban.ipv4_prefix, config.ban.ipv6_prefix)
            .to_string(),
        allowed_by: config
            .allow
            .iter()
            .find(|n| n.contains(&ip))
            .map(|n| n.to_string()),
        rules,
        blocked: decision.kept.binary_search(&key).is_ok() || blocked_by_manual,
        dropped: decision
            .dropped
            .iter()
            .find(|d| d.cidr == key.cidr(config.ban.ipv4_prefix, config.ban.ipv6_prefix))
            .map(|d| d.reason.clone()),
        tripped: if decision.dropped.iter().any(|d| {
            d.reason == "guardrail"
                && d.cidr == key.cidr(config.ban.ipv4_prefix, config.ban.ipv6_prefix)
        }) {
            decision.tripped.iter().map(|t| t.why()).collect()
        } else {
            Vec::new()
        },
        ban,
        profile: state.profiles.get(&key).cloned(),
        range,
        manual,
    }
}

/// The manual bans and unbans of `state` that cover `ip`, as sentences.
fn manual_notes(state: &State, ip: IpAddr) -> Vec<String> {
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    let bans = state
        .manual
        .bans
        .iter()
        .filter(|m| m.cidr.contains(&ip))
        .map(|m| {
            format!(
                "manual ban of {} from {} until {} by {}: {}",
                m.cidr,
                format_rfc3339_ms(m.since_ms),
                format_rfc3339_ms(m.until_ms),
                m.by,
                or_dash(&m.reason)
            )
        });
    let unbans = state
        .manual
        .unbans
        .iter()
        .filter(|u| u.cidr.contains(&ip))
        .map(|u| {
            format!(
                "unbanned ({}) at {} by {}: offences up to {} no longer count: {}",
                u.cidr,
                format_rfc3339_ms(u.recorded_ms),
                u.by,
                format_rfc3339_ms(u.counted_to_ms),
                or_dash(&u.reason)
            )
        });
    bans.chain(unbans).collect()
}

impl Explanation {
    /// A few lines a person reads in a terminal.
    pub fn to_text(&self, now_ms: i64) -> String {
        let mut s = String::new();
        let verdict = if let Some(a) = &self.allowed_by {
            format!("NOT BANNED: allowlisted by {a} (never counted, never banned)")
        } else if self.blocked {
            let within = match &self.range {
                Some(r) if r.banned => format!(", blocked as part of the range {}", r.network),
                _ => String::new(),
            };
            match self.ban.as_ref() {
                Some(b) => format!(
                    "BANNED until {} (rule {}, {} offence(s){within})",
                    format_rfc3339_ms(b.until_ms),
                    b.rule,
                    b.offences
                ),
                None => format!("BANNED{within}"),
            }
        } else if let Some(reason) = &self.dropped {
            format!("NOT IN THE BLOCKLIST: an active ban was dropped by the {reason} guardrail")
        } else if let Some(b) = &self.ban {
            format!(
                "NOT BANNED: its last ban ended {}",
                format_rfc3339_ms(b.until_ms)
            )
        } else if self.manual.iter().any(|n| n.starts_with("unbanned")) {
            "NOT BANNED: unbanned by an operator (below); the offences counted before it no longer count".to_string()
        } else {
            "NOT BANNED: no rule's limit was exceeded".to_string()
        };
        let _ = writeln!(
            s,
            "{} (key {}) at {}: {verdict}",
            self.ip,
            self.key,
            format_rfc3339_ms(now_ms)
        );
        for note in &self.manual {
            let _ = writeln!(s, "  {note}");
        }
        for why in &self.tripped {
            let _ = writeln!(
                s,
                "  guardrail: {why}: a rule that bans most of the site's audience is more likely broken than under attack"
            );
        }
        if let Some(r) = &self.range {
            let verdict = if r.banned {
                "banned whole"
            } else {
                "not banned whole"
            };
            let _ = writeln!(
                s,
                "  network {}: {verdict}: {} (offenders {} / clients seen {})",
                r.network, r.reason, r.offenders, r.clients_seen
            );
        }
        for r in &self.rules {
            let window = crate::report::human_duration(r.window_ms);
            let _ = write!(s, "  rule {:<12} limit {} per {window}: ", r.rule, r.limit);
            if r.peak == 0 && r.offences.is_empty() {
                let _ = writeln!(
                    s,
                    "no requests held (none matched, or older than the window horizon)"
                );
                continue;
            }
            let _ = write!(s, "peak {} ", r.peak);
            if r.peak > r.limit {
                let _ = writeln!(s, "(over the limit)");
            } else {
                let _ = writeln!(s, "({} below the limit)", r.limit - r.peak);
            }
            if let (Some(f), Some(l)) = (r.first_ms, r.last_ms) {
                let _ = writeln!(
                    s,
                    "    {} requests held, {} .. {}",
                    r.held_requests,
                    format_rfc3339_ms(f),
                    format_rfc3339_ms(l)
                );
            }
            for (t, count) in &r.offences {
                let _ = writeln!(
                    s,
                    "    offence at {}: {count} requests in the window > {}",
                    format_rfc3339_ms(*t),
                    r.limit
                );
            }
        }
        if let Some(p) = &self.profile {
            let _ = writeln!(
                s,
                "  seen {} .. {} ({} requests profiled{})",
                format_rfc3339_ms(p.first_ms),
                format_rfc3339_ms(p.last_ms),
                p.requests,
                p.country
                    .as_deref()
                    .map(|c| format!(", country {}", c.escape_debug()))
                    .unwrap_or_default()
            );
            for (label, top) in [
                ("paths", p.paths.top(5)),
                ("user agents", p.user_agents.top(5)),
            ] {
                let shown: Vec<String> = top
                    .iter()
                    .map(|(v, n)| format!("{} ×{n}", v.escape_debug()))
                    .collect();
                let _ = writeln!(s, "  top {label}: {}", shown.join(", "));
            }
        }
        s
    }
}
