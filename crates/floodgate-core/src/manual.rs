//! Manual bans and unbans: an operator's decision, recorded in the state so that every front
//! end (the CLI's `analyze`, `report`, `bans`, `sync`, the Lambda) applies it the same way.
//!
//! # Semantics
//!
//! * A **manual ban** of a CIDR (any prefix) runs from `since` to `until`. While active at the
//!   decision time it is a ban like any other under the rule name [`RULE`]: in the reports,
//!   `bans`, the blocklist and the IP sets. An operator chose it, so the broken-rule guardrail,
//!   `max_new_per_run` and range grouping do not apply to it, and it is kept first when the IP
//!   sets are full. It overlapping the allowlist is refused when it is recorded (and, if the
//!   allowlist changes later, dropped as `allowlisted` like any ban). It expires on time.
//! * An **unban** of a CIDR lifts, now, every ban of a key overlapping it: the manual bans it
//!   covers are removed, and the offences of those keys at or before `counted_to` (the newest
//!   request the state had counted when the unban was recorded) no longer count, so the
//!   requests already counted do not ban the key again. A new offence, after `counted_to`, does
//!   (and escalates from nothing: the lifted offences are not earlier offences either).
//! * Records are kept while they matter: an unban as long as the offences it lifts are kept
//!   (`max(ban.memory, ban.max_duration)`), a manual ban until it has ended.
//!
//! * The **emergency stop** ([`Stop`]) takes floodgate's entries out of the IP sets until it
//!   is lifted; deciding and counting go on.
//!
//! Who and why (`by`, `reason`, `recorded_ms` from the front end's clock) are kept for the
//! audit trail and shown by `floodgate bans`. The core reads no clock: times are passed in.

use crate::decision::Ban;
use crate::key::Key;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The rule name of manual bans (refused as a `[[rules]]` name).
pub const RULE: &str = "manual";

/// The state's extension section holding [`Manual`] (JSON).
pub const SECTION: &str = "manual";

/// A manual ban (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualBan {
    /// What is banned.
    pub cidr: IpNet,
    /// Start, ms.
    pub since_ms: i64,
    /// End, ms.
    pub until_ms: i64,
    /// Why (free text).
    pub reason: String,
    /// Who recorded it.
    pub by: String,
}

/// An unban (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unban {
    /// What is lifted: every key overlapping it.
    pub cidr: IpNet,
    /// Offences at or before this time no longer count.
    pub counted_to_ms: i64,
    /// When it was recorded (the front end's clock), ms.
    pub recorded_ms: i64,
    /// Why (free text).
    pub reason: String,
    /// Who recorded it.
    pub by: String,
}

/// The emergency stop (`floodgate stop`): while it is set, every front end that writes the IP
/// sets writes none of floodgate's entries (the entries others added stay), and everything else
/// goes on: logs are counted, bans decided and reported. `floodgate resume` clears it, and the
/// next run puts the blocklist back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    /// When it was recorded (the front end's clock), ms.
    pub since_ms: i64,
    /// Why (free text).
    pub reason: String,
    /// Who recorded it.
    pub by: String,
}

/// Every manual decision a state holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manual {
    /// Manual bans, in the order recorded.
    pub bans: Vec<ManualBan>,
    /// Unbans, in the order recorded.
    pub unbans: Vec<Unban>,
    /// The emergency stop, when enforcement is stopped.
    #[serde(default)]
    pub stopped: Option<Stop>,
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

impl Manual {
    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.bans.is_empty() && self.unbans.is_empty() && self.stopped.is_none()
    }

    /// Record a manual ban (replacing an earlier manual ban of the same CIDR).
    pub fn ban(&mut self, ban: ManualBan) {
        self.bans.retain(|b| b.cidr != ban.cidr);
        self.bans.push(ban);
    }

    /// Record an unban; returns the manual bans it removed.
    pub fn unban(&mut self, unban: Unban) -> Vec<ManualBan> {
        let (removed, kept) = std::mem::take(&mut self.bans)
            .into_iter()
            .partition(|b| overlaps(&b.cidr, &unban.cidr));
        self.bans = kept;
        self.unbans.push(unban);
        removed
    }

    /// Whether an offence at `time_ms` of the key whose CIDR is `key_cidr` was lifted.
    pub fn lifts(&self, key_cidr: &IpNet, time_ms: i64) -> bool {
        self.unbans
            .iter()
            .any(|u| time_ms <= u.counted_to_ms && overlaps(&u.cidr, key_cidr))
    }

    /// The manual bans as [`Ban`]s (activity is decided later, like any ban's).
    pub fn as_bans(&self, ipv4_prefix: u8, ipv6_prefix: u8) -> Vec<Ban> {
        self.bans
            .iter()
            .map(|m| Ban {
                key: Key::from_ip(m.cidr.network(), ipv4_prefix, ipv6_prefix),
                cidr: m.cidr,
                rule: RULE.to_string(),
                rules: vec![RULE.to_string()],
                offences: 0,
                first_offence_ms: m.since_ms,
                last_offence_ms: m.since_ms,
                since_ms: m.since_ms,
                until_ms: m.until_ms,
                peak: 0,
                peak_limit: 0,
                // An operator's choice ranks before every counted ban.
                severity: f64::MAX,
                active: false,
                new: false,
            })
            .collect()
    }

    /// Forget what no longer matters at event time `horizon_ms` (see the module docs).
    pub fn prune(&mut self, offences_horizon_ms: i64, ended_before_ms: i64) {
        self.unbans
            .retain(|u| u.counted_to_ms > offences_horizon_ms);
        self.bans.retain(|b| b.until_ms > ended_before_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn unban(cidr: &str, to: i64) -> Unban {
        Unban {
            cidr: net(cidr),
            counted_to_ms: to,
            recorded_ms: to,
            reason: String::new(),
            by: String::new(),
        }
    }

    #[test]
    fn an_unban_lifts_counted_offences_of_overlapping_keys_only() {
        let mut m = Manual::default();
        m.ban(ManualBan {
            cidr: net("192.0.2.0/24"),
            since_ms: 0,
            until_ms: 10,
            reason: "x".into(),
            by: "me".into(),
        });
        let removed = m.unban(unban("192.0.2.7/32", 100));
        assert_eq!(removed.len(), 1, "the /24 covering the address is lifted");
        assert!(m.bans.is_empty());
        assert!(m.lifts(&net("192.0.2.7/32"), 100));
        assert!(!m.lifts(&net("192.0.2.7/32"), 101), "a new offence counts");
        assert!(
            !m.lifts(&net("192.0.2.8/32"), 50),
            "another address is not lifted"
        );
        assert!(
            m.lifts(&net("192.0.2.0/24"), 50),
            "a wider key overlapping it is"
        );
    }

    #[test]
    fn records_are_pruned_when_they_no_longer_matter() {
        let mut m = Manual::default();
        m.unbans.push(unban("192.0.2.7/32", 100));
        m.prune(99, 0);
        assert_eq!(m.unbans.len(), 1);
        m.prune(100, 0);
        assert!(m.unbans.is_empty());
    }
}
