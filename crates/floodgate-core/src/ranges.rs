//! Range bans: a network whose offenders are many and nearly all of its clients is banned as
//! one entry.
//!
//! # Semantics
//!
//! Let `N(k)` be the network of key `k`: its address masked to `ban.ranges.ipv4_prefix` (IPv4)
//! or `ipv6_prefix` (IPv6); only when that prefix is shorter than the key's own
//! (`ban.ipv4_prefix` / `ban.ipv6_prefix`) — otherwise that IP version has no range bans.
//!
//! * The **clients seen** of a network are the distinct keys of the [`Population`] in it: every
//!   key with held window buckets (or presence) within the horizon, plus every key with an
//!   offence within `ban.memory`.
//! * The **offenders** of a network are the keys of the *candidate* bans in it: bans active at
//!   the decision time that no earlier guardrail held back (allowlist, broken-rule guardrail,
//!   `max_new_per_run`).
//!
//! A network is banned whole when `offenders ≥ min_offenders`, `offenders ≥ min_share ×
//! clients seen`, and it overlaps no `[allow]` range. An IPv6 network with at least
//! `ipv6_many_offenders` offending keys is banned whole whatever its share (and still never
//! over the allowlist): a /48 is one site, and a site holding hundreds of offending /64s is
//! attacking; keeping a tenth of its /64s quiet must not let it fill the IPv6 capacity with
//! single /64 entries and push the most severe attackers out. Its members leave the blocklist (the
//! range covers them); they keep their own bans (in the report and `explain`). The range has
//! its members' severity (the highest), the latest `until` (it lasts while they do, as long as
//! enough of them stay active to qualify) and the earliest start. A network where ordinary
//! clients are a real share (a carrier NAT, an office) fails `min_share`: its offenders stay
//! single entries.
//!
//! The result is a function of the candidate bans and the population, both independent of the
//! order files were read in; ranges are re-derived at every decision, never stored.

use crate::config::Config;
use crate::decision::Ban;
use crate::key::Key;
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// The network a range ban would cover for `key`, if ranges apply to its IP version.
pub fn network_of(config: &Config, key: Key) -> Option<IpNet> {
    let r = &config.ban.ranges;
    if !r.enabled {
        return None;
    }
    let (range, own) = if key.is_ipv4() {
        (r.ipv4_prefix, config.ban.ipv4_prefix)
    } else {
        (r.ipv6_prefix, config.ban.ipv6_prefix)
    };
    if range >= own {
        return None;
    }
    IpNet::new(key.addr(), range).ok().map(|n| n.trunc())
}

/// Who the decision is judged against: how many distinct clients were seen in all, and per
/// network of interest (the networks with enough offenders to be candidates).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Population {
    /// Distinct keys seen within the horizon (see the module docs).
    pub clients: u64,
    /// Distinct networks ([`crate::history::network`]) of those keys: the broken-rule
    /// guardrail's denominator before there is any history.
    pub networks: u64,
    seen_in: FxHashMap<IpNet, u32>,
}

impl Population {
    /// Count `keys` (each distinct key once) in total and per network in `networks`.
    pub fn count(
        config: &Config,
        keys: impl Iterator<Item = Key>,
        networks: &FxHashSet<IpNet>,
    ) -> Population {
        let mut p = Population::default();
        let mut nets: FxHashSet<Key> = FxHashSet::default();
        for k in keys {
            p.clients += 1;
            nets.insert(crate::history::network(config, k));
            if networks.is_empty() {
                continue;
            }
            if let Some(n) = network_of(config, k).filter(|n| networks.contains(n)) {
                *p.seen_in.entry(n).or_insert(0) += 1;
            }
        }
        p.networks = nets.len() as u64;
        p
    }

    /// Distinct keys seen in `network` (counted only for the networks asked for).
    pub fn seen_in(&self, network: &IpNet) -> u32 {
        self.seen_in.get(network).copied().unwrap_or(0)
    }
}

/// One network banned as a whole entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RangeBan {
    /// The network.
    pub cidr: IpNet,
    /// Its offending keys (sorted), covered by this entry.
    pub members: Vec<Key>,
    /// Distinct keys seen in it.
    pub clients_seen: u32,
    /// The rule most of its members offended last.
    pub rule: String,
    /// The highest severity of its members.
    pub severity: f64,
    /// The earliest start of its members' bans, ms.
    pub since_ms: i64,
    /// The latest end of its members' bans, ms.
    pub until_ms: i64,
    /// Not in the previous blocklist.
    pub new: bool,
    /// In the blocklist (false: left out by the capacity).
    pub blocked: bool,
}

/// Why a network was or was not banned whole: what `explain` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RangeVerdict {
    /// The network.
    pub network: String,
    /// Offending keys in it (candidate bans).
    pub offenders: u32,
    /// Distinct keys seen in it.
    pub clients_seen: u32,
    /// Banned as one entry.
    pub banned: bool,
    /// Why, in words.
    pub reason: String,
}

fn overlaps_allow(config: &Config, net: &IpNet) -> Option<IpNet> {
    config
        .allow
        .iter()
        .find(|a| a.contains(net) || net.contains(*a))
        .copied()
}

/// Offending keys per network among `candidates`.
pub fn offenders_by_network(config: &Config, candidates: &[&Ban]) -> FxHashMap<IpNet, Vec<Key>> {
    let mut by: FxHashMap<IpNet, Vec<Key>> = FxHashMap::default();
    for b in candidates {
        if let Some(n) = network_of(config, b.key) {
            by.entry(n).or_default().push(b.key);
        }
    }
    by
}

/// The networks with at least `min_offenders` offenders: the only ones worth counting.
pub fn networks_of_interest(config: &Config, by: &FxHashMap<IpNet, Vec<Key>>) -> FxHashSet<IpNet> {
    by.iter()
        .filter(|(_, m)| m.len() as u32 >= config.ban.ranges.min_offenders)
        .map(|(n, _)| *n)
        .collect()
}

/// The verdict for one network (see the module docs).
pub fn judge(config: &Config, network: IpNet, offenders: u32, seen: u32) -> RangeVerdict {
    let r = &config.ban.ranges;
    let share = offenders as f64 / seen.max(offenders).max(1) as f64;
    // The share first: "ordinary clients are a real share" is the reason that matters for a
    // carrier NAT, whatever its number of offenders.
    let (banned, reason) = if let Some(a) = overlaps_allow(config, &network) {
        (false, format!("it overlaps the allowlisted {a}"))
    } else if network.addr().is_ipv6() && offenders >= r.ipv6_many_offenders {
        (
            true,
            format!(
                "{offenders} offending keys of {seen} clients seen: an IPv6 network holding at least ban.ranges.ipv6_many_offenders = {} offenders is one site attacking, whatever share stays quiet",
                r.ipv6_many_offenders
            ),
        )
    } else if share < r.min_share {
        (
            false,
            format!(
                "offenders are {:.0} % of its {seen} clients seen, below ban.ranges.min_share = {:.0} %: ordinary clients are a real share",
                share * 100.0,
                r.min_share * 100.0
            ),
        )
    } else if offenders < r.min_offenders {
        (
            false,
            format!(
                "{offenders} offender(s), fewer than ban.ranges.min_offenders = {}",
                r.min_offenders
            ),
        )
    } else {
        (
            true,
            format!(
                "{offenders} offenders of {seen} clients seen ({:.0} %)",
                share * 100.0
            ),
        )
    };
    RangeVerdict {
        network: network.to_string(),
        offenders,
        clients_seen: seen,
        banned,
        reason,
    }
}

/// The range bans among `candidates` (bans that may enter the blocklist), most members first.
/// `new` and `blocked` are set by the caller.
pub fn group(config: &Config, candidates: &[&Ban], population: &Population) -> Vec<RangeBan> {
    let by = offenders_by_network(config, candidates);
    let bans: FxHashMap<Key, &Ban> = candidates.iter().map(|b| (b.key, *b)).collect();
    let mut out = Vec::new();
    for (net, mut members) in by {
        let seen = population.seen_in(&net);
        if !judge(config, net, members.len() as u32, seen).banned {
            continue;
        }
        members.sort();
        let of: Vec<&Ban> = members
            .iter()
            .filter_map(|k| bans.get(k).copied())
            .collect();
        let mut rules: Vec<&str> = of.iter().map(|b| b.rule.as_str()).collect();
        rules.sort_unstable();
        let rule = most_common(&rules).unwrap_or("").to_string();
        out.push(RangeBan {
            cidr: net,
            clients_seen: seen,
            rule,
            severity: of.iter().map(|b| b.severity).fold(0.0, f64::max),
            since_ms: of.iter().map(|b| b.since_ms).min().unwrap_or(0),
            until_ms: of.iter().map(|b| b.until_ms).max().unwrap_or(0),
            members,
            new: false,
            blocked: false,
        });
    }
    out.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(b.severity.total_cmp(&a.severity))
            .then(a.cidr.cmp(&b.cidr))
    });
    out
}

/// The most frequent value of a sorted slice (ties: the first).
fn most_common<'a>(sorted: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(&str, usize)> = None;
    let mut i = 0;
    while i < sorted.len() {
        let j = sorted[i..].iter().take_while(|x| **x == sorted[i]).count() + i;
        if best.is_none_or(|(_, n)| j - i > n) {
            best = Some((sorted[i], j - i));
        }
        i = j;
    }
    best.map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::from_toml(&format!(
            "[[rules]]\nname = \"flood\"\nwindow = \"1m\"\nlimit = 10\n{extra}"
        ))
        .unwrap()
    }

    fn key(ip: &str) -> Key {
        Key::from_ip(ip.parse().unwrap(), 32, 64)
    }

    #[test]
    fn networks_follow_the_configured_prefixes() {
        let c = config("");
        assert_eq!(
            network_of(&c, key("203.0.113.77")).unwrap().to_string(),
            "203.0.113.0/24"
        );
        assert_eq!(
            network_of(&c, key("2001:db8:1:2::9")).unwrap().to_string(),
            "2001:db8:1::/48"
        );
        // keys as wide as the range: no range bans for that version
        let wide = config("[ban]\nipv4_prefix = 24\n");
        let k = Key::from_ip("203.0.113.77".parse().unwrap(), 24, 64);
        assert_eq!(network_of(&wide, k), None);
        assert_eq!(
            network_of(&config("[ban.ranges]\nenabled = false\n"), key("1.2.3.4")),
            None
        );
    }

    #[test]
    fn the_verdict_names_the_condition_that_failed() {
        let c = config("[allow]\ncidrs = [\"198.51.100.128/25\"]\n");
        let net: IpNet = "203.0.113.0/24".parse().unwrap();
        assert!(judge(&c, net, 200, 200).banned);
        assert!(judge(&c, net, 16, 17).banned, "16 of 17 is 94 %");
        let nat = judge(&c, net, 3, 150);
        assert!(
            !nat.banned && nat.reason.contains("min_share"),
            "{}",
            nat.reason
        );
        let lone = judge(&c, net, 1, 1);
        assert!(
            !lone.banned && lone.reason.contains("min_offenders"),
            "{}",
            lone.reason
        );
        let office = judge(&c, net, 20, 30);
        assert!(
            !office.banned && office.reason.contains("min_share"),
            "{}",
            office.reason
        );
        let allowed = judge(&c, "198.51.100.0/24".parse().unwrap(), 200, 200);
        assert!(!allowed.banned && allowed.reason.contains("198.51.100.128/25"));
        // offenders never count as fewer than the clients seen (a key seen only by its offence)
        assert!(judge(&c, net, 20, 0).banned);
    }

    #[test]
    fn most_common_takes_the_first_of_ties() {
        assert_eq!(most_common(&["a", "b", "b", "c"]), Some("b"));
        assert_eq!(most_common(&["a", "b"]), Some("a"));
        assert_eq!(most_common(&[]), None);
    }
}
