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
//! # From active bans to the blocklist ([`decide`])
//!
//! Every active ban ends in the blocklist or in `dropped` with a reason, never silently:
//!
//! 1. `allowlisted`: its CIDR overlaps an `[allow]` range (a key prefix wider than the range,
//!    or an address allowlisted after it was banned).
//! 2. `guardrail`: the broken-rule guardrail. It judges a rule's collateral among
//!    **networks** ([`crate::history::network`]: /24, /48), never among keys, which an attacker
//!    mints for free (3,000 IPv6 /64s of one /48 are one network). For each rule `R` with
//!    `n(R) ≥ min_bans` remaining active bans that offended it within memory, and at least one
//!    of them new, let the *onset* be the earliest first offence of its new bans and
//!    `E = onset − ban.guardrail.history`:
//!    * **established basis**, when at least `min_bans` networks were first seen at or before
//!      `E` ([`crate::history`]): the share is the offending networks first seen at or before
//!      `E` over all the networks first seen at or before `E`. An attack's clients arrive with
//!      it, so they are not established and cannot trip the rule, however many they are; a
//!      broken rule bans the site's established audience;
//!    * **networks-seen basis** otherwise (no history yet, e.g. one folder of logs all from
//!      the same minutes): offending networks over the networks of the clients seen.
//!
//!    `R` is **tripped** when that share exceeds `max_share`. A *new* ban (not active after
//!    the previous run) whose rules are all tripped is held back. Bans from earlier runs
//!    stay; other rules are unaffected. The residual case: with no history at all, a botnet
//!    in more networks than the whole audience is indistinguishable from a broken rule; the
//!    Lambda (and `analyze --state`) always has history after its first hour.
//! 3. `max_new_per_run` (only when set, > 0): past that many new bans the least severe new ones.
//! 4. The remaining bans are the **candidates**; [`crate::ranges`] groups them into range bans.
//!    Entries are ranges (covering their members) and the candidates no range covers.
//! 5. `max_entries`: per IP version, entries are kept in order of how many offenders they
//!    cover, then severity, then the most recent offence; past the capacity the rest are left
//!    out (a range left out drops its members).
//!
//! Severity is the key's peak window count divided by the rule's limit (how many times over
//! the limit it went), then the most recent offence, then the address (for a total order).
//! Kept CIDRs are merged where adjacent (`ipnet` aggregation) and sorted.

use crate::config::Config;
use crate::history::{self, History};
use crate::key::Key;
use crate::ranges::{self, Population, RangeBan};
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};
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
    /// `allowlisted`, `guardrail`, `max_new_per_run` or `max_entries`.
    pub reason: String,
    /// Its severity, to judge the cut.
    pub severity: f64,
    /// Ban end, ms.
    pub until_ms: i64,
}

/// A rule the broken-rule guardrail stopped (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tripped {
    /// The rule.
    pub rule: String,
    /// Active bans that offended it.
    pub bans: u64,
    /// Clients seen.
    pub clients: u64,
    /// Offending networks counted (established ones on the established basis).
    pub networks: u64,
    /// The networks judged against.
    pub of_networks: u64,
    /// `established` or `networks seen` (see the module docs).
    pub basis: String,
    /// `networks / of_networks`.
    pub share: f64,
    /// New bans held back because of it.
    pub held_back: u64,
}

impl Tripped {
    /// What tripped, in one sentence (every front end and report prints this).
    pub fn why(&self) -> String {
        let int = crate::report::text::int;
        let among = if self.basis == BASIS_ESTABLISHED {
            "networks established before its new offences"
        } else {
            "networks of the clients seen"
        };
        format!(
            "rule {} would ban {} client(s) in {} of the {} {among} ({:.0} %)",
            self.rule,
            int(self.bans),
            int(self.networks),
            int(self.of_networks),
            self.share * 100.0
        )
    }
}

/// [`Tripped::basis`] when judged among established networks.
pub const BASIS_ESTABLISHED: &str = "established";
/// [`Tripped::basis`] when judged among the networks seen (no history yet).
pub const BASIS_SEEN: &str = "networks seen";

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
    /// Networks banned as one entry, most members first.
    pub ranges: Vec<RangeBan>,
    /// Active bans left out of the blocklist, and why.
    pub dropped: Vec<Dropped>,
    /// Rules the broken-rule guardrail stopped.
    pub tripped: Vec<Tripped>,
    /// Clients seen (the guardrail's and the ranges' denominator).
    pub clients_seen: u64,
    /// Keys the blocklist covers: single entries and members of blocked ranges.
    pub kept: Vec<Key>,
    /// The blocklist.
    pub blocklist: Blocklist,
    /// Versus the previous blocklist.
    pub changes: Changes,
}

/// Replay one key's offences (sorted by time) into its ban at `now_ms`. Offences after `now_ms`
/// have not happened yet at `now_ms` (`analyze --now` before the logs): they are left out, so a
/// ban is active at `now` only if an offence at or before `now` holds it past `now`.
pub fn replay(
    config: &Config,
    key: Key,
    offences: &[Offence],
    peak: (u32, u32),
    now_ms: i64,
) -> Option<Ban> {
    let b = &config.ban;
    let offences = &offences[..offences.partition_point(|o| o.time_ms <= now_ms)];
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

/// The blocklist of the previous decision, against which bans are "new" and changes counted.
#[derive(Clone, Copy, Debug)]
pub struct Previous<'a> {
    /// Keys the previous blocklist covered.
    pub active: &'a BTreeSet<Key>,
    /// The previous blocklist.
    pub blocklist: &'a Blocklist,
}

/// One blocklist entry before aggregation: a range or a single key.
enum Entry {
    Range(usize),
    Single(usize),
}

/// Apply activity, the guardrails, range bans and the capacity; build the blocklist and the
/// changes (see the module docs). `population` counts the clients seen, in total and in the
/// networks it is given.
pub fn decide(
    config: &Config,
    mut bans: Vec<Ban>,
    now_ms: i64,
    previous: Previous<'_>,
    population: &dyn Fn(&FxHashSet<IpNet>) -> Population,
    history: &History,
) -> Decision {
    bans.sort_by(by_severity);
    let mut dropped = Vec::new();
    let drop = |ban: &Ban, reason: &str| Dropped {
        cidr: ban.cidr,
        rule: ban.rule.clone(),
        reason: reason.to_string(),
        severity: ban.severity,
        until_ms: ban.until_ms,
    };
    // 1. activity and the allowlist
    let mut open: Vec<usize> = Vec::new();
    for (i, ban) in bans.iter_mut().enumerate() {
        ban.active = ban.until_ms > now_ms;
        if !ban.active {
            continue;
        }
        ban.new = !previous.active.contains(&ban.key);
        // An allowlisted range is never blocked, also when a wide key (`ipv4_prefix = 16`)
        // covers it or it was allowlisted after the ban began ("unblock an address now").
        if config
            .allow
            .iter()
            .any(|a| ban.cidr.contains(a) || a.contains(&ban.cidr))
        {
            dropped.push(drop(ban, "allowlisted"));
        } else {
            open.push(i);
        }
    }
    // The population, counted once for every network that could become a range.
    // Manual bans are an operator's choice, not offenders: no range, population or guardrail
    // figure counts them.
    let refs: Vec<&Ban> = open
        .iter()
        .map(|&i| &bans[i])
        .filter(|b| b.rule != crate::manual::RULE)
        .collect();
    let interest =
        ranges::networks_of_interest(config, &ranges::offenders_by_network(config, &refs));
    let pop = population(&interest);
    // Offending keys are clients seen too, even where their windows are gone.
    let clients = pop.clients.max(refs.len() as u64);
    // 2. the broken-rule guardrail
    let tripped = guardrail(config, &refs, clients, &pop, history);
    let mut tripped = tripped;
    let mut candidates: Vec<usize> = Vec::new();
    let mut manual: Vec<usize> = Vec::new();
    let mut new_kept = 0usize;
    for &i in &open {
        let ban = &bans[i];
        if ban.rule == crate::manual::RULE {
            // An operator's choice: no guardrail, no cap on new bans, no range grouping.
            manual.push(i);
            continue;
        }
        if ban.new && !tripped.is_empty() {
            let stopped: Vec<usize> = tripped
                .iter()
                .enumerate()
                .filter(|(_, t)| ban.rules.contains(&t.rule))
                .map(|(j, _)| j)
                .collect();
            if stopped.len() == ban.rules.len() {
                for j in stopped {
                    tripped[j].held_back += 1;
                }
                dropped.push(drop(ban, "guardrail"));
                continue;
            }
        }
        // 3. the optional absolute cap on new bans
        if ban.new {
            if config.ban.max_new_per_run > 0 && new_kept >= config.ban.max_new_per_run {
                dropped.push(drop(ban, "max_new_per_run"));
                continue;
            }
            new_kept += 1;
        }
        candidates.push(i);
    }
    // 4. range bans over the candidates
    let cand: Vec<&Ban> = candidates.iter().map(|&i| &bans[i]).collect();
    let mut ranges = ranges::group(config, &cand, &pop);
    let mut in_range: FxHashMap<Key, usize> = FxHashMap::default();
    for (r, range) in ranges.iter().enumerate() {
        for k in &range.members {
            in_range.insert(*k, r);
        }
    }
    // 5. capacity per IP version, entries covering the most offenders first
    let mut entries: Vec<Entry> = manual.into_iter().map(Entry::Single).collect();
    entries.extend((0..ranges.len()).map(Entry::Range));
    entries.extend(
        candidates
            .iter()
            .filter(|&&i| !in_range.contains_key(&bans[i].key))
            .map(|&i| Entry::Single(i)),
    );
    let (mut v4, mut v6): (Vec<IpNet>, Vec<IpNet>) = (Vec::new(), Vec::new());
    let mut kept: Vec<Key> = Vec::new();
    let before: BTreeSet<&String> = previous.blocklist.all().collect();
    for e in entries {
        let (cidr, is_v4) = match e {
            Entry::Range(r) => (ranges[r].cidr, ranges[r].cidr.addr().is_ipv4()),
            Entry::Single(i) => (bans[i].cidr, bans[i].key.is_ipv4()),
        };
        let list = if is_v4 { &mut v4 } else { &mut v6 };
        let fits = list.len() < config.ban.capacity(is_v4);
        match e {
            Entry::Range(r) => {
                let range = &mut ranges[r];
                range.new = !before.contains(&range.cidr.to_string());
                if fits {
                    range.blocked = true;
                    list.push(cidr);
                    kept.extend(range.members.iter().copied());
                } else {
                    let members: BTreeSet<Key> = range.members.iter().copied().collect();
                    for b in bans.iter().filter(|b| members.contains(&b.key)) {
                        dropped.push(drop(b, "max_entries"));
                    }
                }
            }
            Entry::Single(i) => {
                if fits {
                    list.push(cidr);
                    kept.push(bans[i].key);
                } else {
                    dropped.push(drop(&bans[i], "max_entries"));
                }
            }
        }
    }
    let render = |nets: &[IpNet]| -> Vec<String> {
        IpNet::aggregate(&nets.to_vec())
            .iter()
            .map(|n| n.to_string())
            .collect()
    };
    let blocklist = Blocklist {
        ipv4: render(&v4),
        ipv6: render(&v6),
    };
    let after: BTreeSet<&String> = blocklist.all().collect();
    let changes = Changes {
        added: after.difference(&before).map(|s| s.to_string()).collect(),
        removed: before.difference(&after).map(|s| s.to_string()).collect(),
    };
    kept.sort();
    Decision {
        now_ms,
        bans,
        ranges,
        dropped,
        tripped,
        clients_seen: clients,
        kept,
        blocklist,
        changes,
    }
}

/// The broken-rule guardrail's verdict per rule (see the module docs, step 2).
fn guardrail(
    config: &Config,
    open: &[&Ban],
    clients: u64,
    pop: &Population,
    history: &History,
) -> Vec<Tripped> {
    let g = &config.ban.guardrail;
    let res = config.engine.resolution_ms.max(1);
    let mut out = Vec::new();
    for rule in &config.rules {
        let of_rule: Vec<&Ban> = open
            .iter()
            .copied()
            .filter(|b| b.rules.contains(&rule.name))
            .collect();
        let n = of_rule.len() as u64;
        if n < u64::from(g.min_bans) {
            continue;
        }
        let Some(onset) = of_rule
            .iter()
            .filter(|b| b.new)
            .map(|b| b.first_offence_ms)
            .min()
        else {
            continue;
        };
        let line = ((onset - g.history_ms).max(0) / res).min(i64::from(u32::MAX)) as u32;
        let established = history.iter().filter(|(_, s)| s.first <= line).count() as u64;
        let offending: FxHashSet<Key> = of_rule
            .iter()
            .map(|b| history::network(config, b.key))
            .collect();
        let (networks, of_networks, basis) = if established >= u64::from(g.min_bans) {
            let hit = offending
                .iter()
                .filter(|k| history.get(k).is_some_and(|s| s.first <= line))
                .count() as u64;
            (hit, established, BASIS_ESTABLISHED)
        } else {
            let seen = pop.networks.max(offending.len() as u64);
            (offending.len() as u64, seen, BASIS_SEEN)
        };
        let share = networks as f64 / of_networks.max(1) as f64;
        if share > g.max_share {
            out.push(Tripped {
                rule: rule.name.clone(),
                bans: n,
                clients,
                networks,
                of_networks,
                basis: basis.to_string(),
                share,
                held_back: 0,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offence(time_ms: i64) -> Offence {
        Offence {
            time_ms,
            rule: "login".to_string(),
            count: 21,
            limit: 20,
            window_ms: 300_000,
            peak: 21,
        }
    }

    /// An offence after `now` has not happened at `now`: it neither starts a ban that is active
    /// at `now` nor extends one (`analyze --now` before the logs).
    #[test]
    fn offences_after_now_do_not_count_at_now() {
        let config = Config::default();
        let key = Key::from_ip("192.0.2.50".parse().unwrap(), 32, 64);
        let hour = 3_600_000;
        let (t1, t2) = (10 * hour, 10 * hour + 30 * 60_000);
        let both = [offence(t1), offence(t2)];
        // Before either offence: no ban at all.
        assert!(replay(&config, key, &both, (0, 0), t1 - 1).is_none());
        // Between them: the first offence's one-hour ban, not escalated by the second.
        let at = t1 + 10 * 60_000;
        let ban = replay(&config, key, &both, (0, 0), at).unwrap();
        assert_eq!((ban.offences, ban.last_offence_ms), (1, t1));
        assert_eq!(ban.until_ms, t1 + config.ban.duration_ms);
        // At the second offence it counts (at or before now) and escalates.
        let ban = replay(&config, key, &both, (0, 0), t2).unwrap();
        assert_eq!(ban.offences, 2);
        assert!(ban.until_ms > t1 + config.ban.duration_ms);
    }
}
