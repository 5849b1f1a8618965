//! From offences to bans to the blocklist.
//!
//! # Ban semantics
//!
//! A key's offences (from all rules) are replayed in time order. For an offence at time `t`,
//! let `k` be the number of the key's earlier offences within `memory` before `t`. The ban
//! length is `min(duration × escalation^k, max_duration)` (fail2ban's `bantime.increment`).
//! If the key is not banned at `t`, a ban runs from `t` to `t + length`; if it is still banned
//! (an offence while banned), the ban is extended to `max(until, t + length)`.
//! At the decision time `now` a ban is **active** while `until > now`.
//!
//! Active bans become the blocklist, per IP version, after three guardrails — all reported in
//! `dropped`, never silent:
//! 0. `allowlisted`: a ban whose CIDR overlaps an `[allow]` range (a key prefix wider than the
//!    allowlisted range, or an address allowlisted after it was banned) is not blocked.
//! 1. `max_new_per_run`: keys that were not active after the previous run count as new; past
//!    the limit the least severe new ones are held back.
//! 2. `max_entries`: past the IP set capacity the least severe are left out.
//!
//! Severity is the key's peak window count divided by the rule's limit (how many times over
//! the limit it went), then the most recent offence, then the address (for a total order).
//! Kept CIDRs are merged where adjacent (`ipnet` aggregation) and sorted.

use crate::config::Config;
use crate::key::Key;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// One offence of a key: when, under which rule, and how many requests the window held.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Offence {
    /// Start of the offending bucket, ms.
    pub time_ms: i64,
    /// Rule name.
    pub rule: String,
    /// Requests in the (restarted) window at the offence: more than `limit`.
    pub count: u32,
    /// The rule's limit at the time.
    pub limit: u32,
    /// The rule's window, ms.
    pub window_ms: i64,
    /// Highest plain window count of this key under this rule, as known when the offence was
    /// settled and when the key's buckets were dropped (so severity survives pruning).
    pub peak: u32,
}

/// A key's ban, replayed from its offences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ban {
    /// The key.
    pub key: Key,
    /// The key as CIDR.
    pub cidr: IpNet,
    /// Rule of the most recent offence.
    pub rule: String,
    /// All rules this key offended.
    pub rules: Vec<String>,
    /// Offences within memory of the last one.
    pub offences: u32,
    /// First offence within memory, ms.
    pub first_offence_ms: i64,
    /// Last offence, ms.
    pub last_offence_ms: i64,
    /// When the ban started (the offence that opened the current ban), ms.
    pub since_ms: i64,
    /// End of the ban, ms.
    pub until_ms: i64,
    /// Highest window count seen for the key under the rule with the highest peak/limit.
    pub peak: u32,
    /// That rule's limit.
    pub peak_limit: u32,
    /// peak / peak_limit.
    pub severity: f64,
    /// `until > now`.
    pub active: bool,
    /// Active now and not active after the previous run.
    pub new: bool,
}

/// Why an active ban is not in the blocklist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// The key's CIDR.
    pub cidr: IpNet,
    /// Its rule.
    pub rule: String,
    /// `max_new_per_run` or `max_entries`.
    pub reason: String,
    /// Its severity, to judge the cut.
    pub severity: f64,
    /// Ban end, ms.
    pub until_ms: i64,
}

/// The CIDRs to block, split by version, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocklist {
    /// IPv4 CIDRs.
    pub ipv4: Vec<String>,
    /// IPv6 CIDRs.
    pub ipv6: Vec<String>,
}

impl Blocklist {
    /// Every entry, IPv4 first.
    pub fn all(&self) -> impl Iterator<Item = &String> {
        self.ipv4.iter().chain(self.ipv6.iter())
    }
}

/// Added and removed CIDRs versus the previous decision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Now blocked, not before.
    pub added: Vec<String>,
    /// Blocked before, not now.
    pub removed: Vec<String>,
}

/// Everything decided at `now`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The decision time, ms.
    pub now_ms: i64,
    /// Every key with an offence within memory: active and expired bans, most severe first.
    pub bans: Vec<Ban>,
    /// Active bans left out of the blocklist, and why.
    pub dropped: Vec<Dropped>,
    /// Keys in the blocklist (before aggregation).
    pub kept: Vec<Key>,
    /// The blocklist.
    pub blocklist: Blocklist,
    /// Versus the previous blocklist.
    pub changes: Changes,
}

/// Replay one key's offences (sorted by time) into its ban.
pub fn replay(config: &Config, key: Key, offences: &[Offence], peak: (u32, u32)) -> Option<Ban> {
    let b = &config.ban;
    let last = offences.last()?;
    let mut until = i64::MIN;
    let mut since = last.time_ms;
    for (i, o) in offences.iter().enumerate() {
        let k = offences[..i]
            .iter()
            .filter(|p| p.time_ms > o.time_ms - b.memory_ms)
            .count();
        let length = ((b.duration_ms as f64) * b.escalation.powi(k.min(1000) as i32))
            .min(b.max_duration_ms as f64) as i64;
        if until > o.time_ms {
            until = until.max(o.time_ms + length);
        } else {
            until = o.time_ms + length;
            since = o.time_ms;
        }
    }
    let in_memory: Vec<&Offence> = offences
        .iter()
        .filter(|o| o.time_ms > last.time_ms - b.memory_ms)
        .collect();
    let rules: BTreeSet<String> = in_memory.iter().map(|o| o.rule.clone()).collect();
    let (peak, peak_limit) = if peak.1 == 0 {
        (last.count, last.limit)
    } else {
        peak
    };
    Some(Ban {
        key,
        cidr: key.cidr(b.ipv4_prefix, b.ipv6_prefix),
        rule: last.rule.clone(),
        rules: rules.into_iter().collect(),
        offences: in_memory.len() as u32,
        first_offence_ms: in_memory.first().map_or(last.time_ms, |o| o.time_ms),
        last_offence_ms: last.time_ms,
        since_ms: since,
        until_ms: until,
        peak,
        peak_limit,
        severity: peak as f64 / peak_limit.max(1) as f64,
        active: false,
        new: false,
    })
}

/// Most severe first; a total order so the result never depends on input order.
pub fn by_severity(a: &Ban, b: &Ban) -> Ordering {
    b.severity
        .total_cmp(&a.severity)
        .then(b.last_offence_ms.cmp(&a.last_offence_ms))
        .then(a.key.cmp(&b.key))
}

/// Apply activity, the guardrails and the capacity; build the blocklist and the changes.
pub fn decide(
    config: &Config,
    mut bans: Vec<Ban>,
    now_ms: i64,
    previously_active: &BTreeSet<Key>,
    previous: &Blocklist,
) -> Decision {
    bans.sort_by(by_severity);
    let mut dropped = Vec::new();
    let mut new_kept = 0usize;
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for ban in &mut bans {
        ban.active = ban.until_ms > now_ms;
        if !ban.active {
            continue;
        }
        ban.new = !previously_active.contains(&ban.key);
        let drop = |reason: &str| Dropped {
            cidr: ban.cidr,
            rule: ban.rule.clone(),
            reason: reason.to_string(),
            severity: ban.severity,
            until_ms: ban.until_ms,
        };
        // An allowlisted range is never blocked, also when a wide key (`ipv4_prefix = 16`)
        // covers it or it was allowlisted after the ban began ("unblock an address now").
        if config
            .allow
            .iter()
            .any(|a| ban.cidr.contains(a) || a.contains(&ban.cidr))
        {
            dropped.push(drop("allowlisted"));
            continue;
        }
        if ban.new && config.ban.max_new_per_run > 0 && new_kept >= config.ban.max_new_per_run {
            dropped.push(drop("max_new_per_run"));
            continue;
        }
        let list = if ban.key.is_ipv4() { &mut v4 } else { &mut v6 };
        if list.len() >= config.ban.max_entries {
            dropped.push(drop("max_entries"));
            continue;
        }
        if ban.new {
            new_kept += 1;
        }
        list.push((ban.key, ban.cidr));
    }
    let kept: Vec<Key> = v4.iter().chain(v6.iter()).map(|(k, _)| *k).collect();
    let render = |list: &[(Key, IpNet)]| -> Vec<String> {
        let nets: Vec<IpNet> = list.iter().map(|(_, n)| *n).collect();
        IpNet::aggregate(&nets)
            .iter()
            .map(|n| n.to_string())
            .collect()
    };
    let blocklist = Blocklist {
        ipv4: render(&v4),
        ipv6: render(&v6),
    };
    let before: BTreeSet<&String> = previous.all().collect();
    let after: BTreeSet<&String> = blocklist.all().collect();
    let changes = Changes {
        added: after.difference(&before).map(|s| s.to_string()).collect(),
        removed: before.difference(&after).map(|s| s.to_string()).collect(),
    };
    Decision {
        now_ms,
        bans,
        dropped,
        kept,
        blocklist,
        changes,
    }
}
