//! Which networks floodgate has seen, and since when: the broken-rule guardrail's "clients
//! with a history".
//!
//! The guardrail must tell a broken rule (`limit = 1`, which bans the site's own audience) from
//! an attack (which bans clients that arrived with it). A raw count of keys cannot: an attacker
//! mints IPv6 /64s for free, so 3,000 decoy /64s over the limit made "more than half of every
//! client seen" offend and held back the real attackers' bans. This module remembers, per
//! **network** (the key masked to `[ban.ranges]`' `ipv4_prefix` / `ipv6_prefix`, a /24 and a
//! /48 by default, never narrower than the key), the first and last bucket it was seen in.
//! [`crate::decision`] judges a rule's collateral among networks established before its new
//! offences (see there).
//!
//! # Semantics
//!
//! * [`History::observe`] widens a network's `[first, last]` bucket span; merging is a min/max,
//!   so the result does not depend on the order of files or runs.
//! * [`History::prune`] drops networks not seen since `from` (the engine passes the watermark
//!   minus `ban.memory`), then, over [`HISTORY_CAP`] networks, the **most recently first
//!   seen** ones. An attacker who mints networks to flood this map only evicts its own: the
//!   networks with the longest history are the last to go. Ties go by key, for determinism.
//! * Stored in the state's extension section [`SECTION`], so states written before it load
//!   (with no history) and a build that does not know it keeps it.

use crate::config::Config;
use crate::key::Key;
use rustc_hash::FxHashMap;

/// Most networks remembered: ~24 bytes each encoded, so at most ~1.2 MB of the state.
pub const HISTORY_CAP: usize = 50_000;

/// The state's extension section holding the history.
pub const SECTION: &str = "history";

/// First and last bucket a network was seen in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// First bucket seen.
    pub first: u32,
    /// Last bucket seen.
    pub last: u32,
}

/// Per network, when it was seen (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    nets: FxHashMap<Key, Seen>,
}

/// The network `key` belongs to for the guardrail: masked to the range prefixes, or the key
/// itself where the key is already that wide.
pub fn network(config: &Config, key: Key) -> Key {
    let (b, r) = (&config.ban, &config.ban.ranges);
    Key::from_ip(
        key.addr(),
        r.ipv4_prefix.min(b.ipv4_prefix),
        r.ipv6_prefix.min(b.ipv6_prefix),
    )
}

impl History {
    /// Record that `net` was seen from bucket `first` to bucket `last`.
    pub fn observe(&mut self, net: Key, first: u32, last: u32) {
        let s = self.nets.entry(net).or_insert(Seen { first, last });
        s.first = s.first.min(first);
        s.last = s.last.max(last);
    }

    /// When `net` was seen, if it is remembered.
    pub fn get(&self, net: &Key) -> Option<Seen> {
        self.nets.get(net).copied()
    }

    /// Networks remembered.
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    /// Nothing remembered.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Every network with its span.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Seen)> {
        self.nets.iter()
    }

    /// Forget networks not seen since bucket `from`, then keep the [`HISTORY_CAP`] first seen.
    pub fn prune(&mut self, from: u32) {
        self.nets.retain(|_, s| s.last >= from);
        if self.nets.len() > HISTORY_CAP {
            let mut firsts: Vec<(u32, Key)> =
                self.nets.iter().map(|(k, s)| (s.first, *k)).collect();
            firsts.select_nth_unstable(HISTORY_CAP - 1);
            let cut = firsts[HISTORY_CAP - 1];
            self.nets.retain(|k, s| (s.first, *k) <= cut);
        }
    }

    /// The section's bytes: postcard of the networks sorted by key.
    pub fn encode(&self) -> Vec<u8> {
        let mut v: Vec<(Key, u32, u32)> = self
            .nets
            .iter()
            .map(|(k, s)| (*k, s.first, s.last))
            .collect();
        v.sort_unstable();
        postcard::to_stdvec(&v).unwrap_or_default()
    }

    /// The inverse of [`History::encode`]; a span with `first > last` is corrupt.
    pub fn decode(bytes: &[u8]) -> Result<History, String> {
        let v: Vec<(Key, u32, u32)> =
            postcard::from_bytes(bytes).map_err(|e| format!("history section: {e}"))?;
        let mut h = History::default();
        for (k, first, last) in v {
            if first > last {
                return Err("history section: a network seen last before it was first".into());
            }
            h.observe(k, first, last);
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(ip: &str) -> Key {
        Key::from_ip(ip.parse().unwrap(), 24, 48)
    }

    #[test]
    fn spans_widen_in_any_order_and_round_trip() {
        let mut a = History::default();
        a.observe(k("1.2.3.0"), 10, 20);
        a.observe(k("1.2.3.0"), 5, 8);
        a.observe(k("2001:db8::"), 7, 7);
        let mut b = History::default();
        b.observe(k("2001:db8::"), 7, 7);
        b.observe(k("1.2.3.0"), 5, 8);
        b.observe(k("1.2.3.0"), 10, 20);
        assert_eq!(a, b);
        assert_eq!(a.get(&k("1.2.3.0")), Some(Seen { first: 5, last: 20 }));
        assert_eq!(History::decode(&a.encode()).unwrap(), a);
        assert!(History::decode(&[1, 0, 0, 9, 1]).is_err());
    }

    #[test]
    fn pruning_evicts_the_newcomers_first() {
        let mut h = History::default();
        for i in 0..(HISTORY_CAP as u32 + 500) {
            let key = Key(u64::from(i), 0);
            // the first 100 are old, the rest arrive later
            let first = if i < 100 { 1 } else { 1000 + i };
            h.observe(key, first, 5000 + i);
        }
        h.prune(0);
        assert_eq!(h.len(), HISTORY_CAP);
        assert!(
            (0..100).all(|i| h.get(&Key(i, 0)).is_some()),
            "old networks stay"
        );
        assert!(h.get(&Key(HISTORY_CAP as u64 + 499, 0)).is_none());
        h.prune(5000 + 200);
        assert!(h.get(&Key(150, 0)).is_none(), "not seen since: forgotten");
        assert!(h.get(&Key(250, 0)).is_some());
    }
}
