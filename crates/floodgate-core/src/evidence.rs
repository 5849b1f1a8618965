//! The state's budget for evidence: what reports show about a client (top paths, user agents),
//! never what decides a ban.
//!
//! An attacker who has read floodgate sends every request with a unique 200-byte path and user
//! agent from tens of thousands of keys: each profile's sketches then hold up to
//! 2 × [`crate::sketch::CAP`] values of [`crate::sketch::MAX_VALUE_BYTES`] (6.4 KB), and 30,000
//! such keys made a 201 MB state that every invocation decoded and wrote. Counts are small and
//! fixed per key; evidence is what grows with what requests carry, so evidence is what gives.
//!
//! # Semantics of [`bound`]
//!
//! Let `E` be the bytes of every profile's values. When `E ≤ budget` nothing changes.
//! Otherwise profiles are ranked: keys with an offence first, then by requests seen (more
//! first), then by key; walking that order, each profile's sketches are trimmed to their
//! [`TRIMMED`] highest guaranteed counts, and kept while the running total stays within the
//! budget; every later profile loses its values (its request count, times and country stay).
//! The result depends only on the state, so any order of files gives the same one. Window
//! buckets, offences and peaks are never touched: bans are decided exactly as without the
//! budget.

use crate::decision::Offence;
use crate::key::Key;
use crate::tally::Profile;
use rustc_hash::FxHashMap;

/// Evidence bytes a state keeps at most (see the module docs).
pub const STATE_EVIDENCE_BUDGET: usize = 8 << 20;

/// Values per sketch kept once the budget is exceeded.
pub const TRIMMED: usize = 4;

/// Bring the evidence of `profiles` within `budget` (see the module docs). Returns the number
/// of profiles whose values were dropped.
pub fn bound(
    profiles: &mut FxHashMap<Key, Profile>,
    offences: &FxHashMap<Key, Vec<Offence>>,
    budget: usize,
) -> usize {
    let total: usize = profiles.values().map(Profile::evidence_bytes).sum();
    if total <= budget {
        return 0;
    }
    let mut order: Vec<(bool, u64, Key)> = profiles
        .iter()
        .map(|(k, p)| (!offences.contains_key(k), u64::MAX - p.requests, *k))
        .collect();
    order.sort_unstable();
    let mut used = 0usize;
    let mut dropped = 0;
    for (_, _, key) in order {
        let Some(p) = profiles.get_mut(&key) else {
            continue;
        };
        p.paths.trim(TRIMMED);
        p.user_agents.trim(TRIMMED);
        let bytes = p.evidence_bytes();
        if used + bytes <= budget {
            used += bytes;
        } else {
            p.paths.clear();
            p.user_agents.clear();
            dropped += 1;
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::TopK;

    fn profile(requests: u64, tag: &str, values: usize) -> Profile {
        let mut paths = TopK::default();
        let mut uas = TopK::default();
        for i in 0..values {
            paths.add(&format!("/{tag}/{i}/{}", "p".repeat(180)));
            uas.add(&format!("{tag}-{i}-{}", "u".repeat(180)));
        }
        Profile {
            requests,
            paths,
            user_agents: uas,
            ..Profile::default()
        }
    }

    #[test]
    fn under_budget_nothing_changes_and_over_it_offenders_keep_evidence_first() {
        let mut profiles: FxHashMap<Key, Profile> = FxHashMap::default();
        for i in 0..100u64 {
            profiles.insert(Key(i, 0), profile(100 + i, &i.to_string(), 16));
        }
        let before = profiles.clone();
        assert_eq!(bound(&mut profiles, &FxHashMap::default(), usize::MAX), 0);
        assert_eq!(profiles, before);
        let mut offences: FxHashMap<Key, Vec<Offence>> = FxHashMap::default();
        offences.insert(Key(3, 0), Vec::new());
        let budget = 20 * 8 * 200;
        let dropped = bound(&mut profiles, &offences, budget);
        let total: usize = profiles.values().map(Profile::evidence_bytes).sum();
        assert!(total <= budget, "{total}");
        assert!(dropped > 0);
        // the offender first, then the busiest
        assert_eq!(profiles[&Key(3, 0)].paths.entries().len(), TRIMMED);
        assert_eq!(profiles[&Key(99, 0)].paths.entries().len(), TRIMMED);
        assert!(profiles[&Key(0, 0)].paths.entries().is_empty());
        assert_eq!(profiles[&Key(0, 0)].requests, 100, "counts stay");
    }
}
