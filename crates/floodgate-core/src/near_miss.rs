//! Near misses: the clients that came close to a rule's limit without crossing it, for tuning
//! ("what would a lower limit catch, and who are they?").
//!
//! # Semantics
//!
//! At each run, after the windows are swept and before they are settled, a key is a near miss
//! of a rule when its peak window count under that rule (the largest plain window sum over the
//! windows the state holds, [`crate::state::KeyWindow::peak`]) is at least half the rule's limit
//! (`2 × peak ≥ limit`) and it has no offence under that rule (held or settled). Per rule the
//! [`TOP`] highest peaks are kept (then the address, for a total order), in the run's summary
//! ([`crate::state::LastRun::near_misses`]) and so in the report of that state. A key whose
//! windows were dropped before the run (older than the horizon) is not seen: near misses are
//! about the traffic the run decided on.

use crate::config::Config;
use crate::key::Key;
use crate::state::State;
use serde::{Deserialize, Serialize};

/// Near misses kept per rule.
pub const TOP: usize = 50;

/// One near miss (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearMiss {
    /// The rule.
    pub rule: String,
    /// The client's key, as a CIDR.
    pub cidr: String,
    /// Its peak window count under the rule.
    pub peak: u32,
    /// The rule's limit.
    pub limit: u32,
}

/// The near misses of `state` (see the module docs); `offended(rule index, key)` says whether
/// the key has an offence under the rule that is not settled yet.
pub fn collect(
    config: &Config,
    state: &State,
    offended: &dyn Fn(usize, &Key) -> bool,
) -> Vec<NearMiss> {
    let (v4, v6) = (config.ban.ipv4_prefix, config.ban.ipv6_prefix);
    let mut out = Vec::new();
    for (i, rule) in config.rules.iter().enumerate() {
        let Some(keys) = state.rules.get(&rule.name) else {
            continue;
        };
        let mut near: Vec<(u32, Key)> = keys
            .iter()
            .filter(|(_, kw)| u64::from(kw.peak) * 2 >= u64::from(rule.limit))
            .filter(|(key, _)| !offended(i, key))
            .filter(|(key, _)| {
                !state
                    .offences
                    .get(key)
                    .is_some_and(|l| l.iter().any(|o| o.rule == rule.name))
            })
            .map(|(key, kw)| (kw.peak, *key))
            .collect();
        near.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        out.extend(near.into_iter().take(TOP).map(|(peak, key)| NearMiss {
            rule: rule.name.clone(),
            cidr: key.cidr(v4, v6).to_string(),
            peak,
            limit: rule.limit,
        }));
    }
    out
}
