//! A tally: what one batch of requests contributes, before any decision.
//!
//! Reading a log object produces a [`Tally`] (the *map* step, any concurrency); tallies and
//! the state are combined with [`Tally::merge`] and, at the end of a run, absorbed into the state
//! by [`engine::run`](crate::engine::run) (the *reduce* step). Counts
//! are sums, so merging is commutative and associative: the Lambda re-applies the same tally
//! after a conflicting state write, and the CLI may read files in any order.
//!
//! Per key and rule a tally holds sparse buckets (one `(bucket, count)` pair per active
//! second). A key that reaches a quarter of a rule's limit also gets a [`Profile`] (top paths,
//! user agents, country) for the report; quieter keys cost only their buckets.

use crate::config::Config;
use crate::key::{allowed, Key};
use crate::keymap::KeyMap;
use crate::request::Request;
use crate::rules::match_path;
use crate::sketch::TopK;
use crate::window::{self, Buckets};
use crate::{decode_for_display, timefmt};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One key's counts for one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Sparse sorted buckets.
    pub buckets: Buckets,
    /// Requests counted (saturating), used to decide when to start a profile.
    pub total: u32,
}

/// What a report shows about a suspicious client. Collected from the moment the key reached a
/// quarter of some rule's limit (so its earliest requests may be missing from the top lists).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Earliest request seen while profiled, ms.
    pub first_ms: i64,
    /// Latest request seen while profiled, ms.
    pub last_ms: i64,
    /// Requests seen while profiled.
    pub requests: u64,
    /// First country code seen (WAF logs only).
    pub country: Option<String>,
    /// Most requested paths, as the client sent them (the form rules match).
    pub paths: TopK,
    /// Most used user agents (decoded for display: CloudFront double-encodes some).
    pub user_agents: TopK,
}

impl Profile {
    /// Count `r`; returns the bytes of evidence newly stored.
    fn add(&mut self, r: &Request<'_>) -> usize {
        if self.requests == 0 {
            self.first_ms = r.time_ms;
            self.last_ms = r.time_ms;
        }
        self.first_ms = self.first_ms.min(r.time_ms);
        self.last_ms = self.last_ms.max(r.time_ms);
        self.requests += 1;
        if self.country.is_none() {
            self.country = r.country.as_deref().map(str::to_string);
        }
        self.paths.add(&r.path) + self.user_agents.add(&decode_for_display(&r.user_agent))
    }

    /// Bytes of evidence (paths and user agents) held.
    pub fn evidence_bytes(&self) -> usize {
        self.paths.bytes() + self.user_agents.bytes()
    }

    /// Combine two profiles of the same key (commutative).
    pub fn merge(&mut self, o: &Profile) {
        if o.requests == 0 {
            return;
        }
        if self.requests == 0 {
            *self = o.clone();
            return;
        }
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
        self.requests += o.requests;
        self.country = match (self.country.take(), &o.country) {
            (Some(a), Some(b)) => Some(a.min(b.clone())),
            (a, b) => a.or_else(|| b.clone()),
        };
        self.paths.merge(&o.paths);
        self.user_agents.merge(&o.user_agents);
    }
}

/// Requests counted by one batch. See the module docs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Per rule (config order): key → counts.
    pub rules: Vec<KeyMap<Counts>>,
    /// Profiles of suspicious keys.
    pub profiles: FxHashMap<Key, Profile>,
    /// All records seen (allowlisted and late included).
    pub records: u64,
    /// Records from allowlisted addresses: never counted by rules.
    pub allowlisted: u64,
    /// Records older than the state's settled line: counted here, not in windows.
    pub late: u64,
    /// Earliest and latest record time, ms.
    pub first_ms: Option<i64>,
    /// See `first_ms`.
    pub last_ms: Option<i64>,
    /// Records per minute (minute index since the epoch), for the report's chart.
    pub per_minute: BTreeMap<u32, u64>,
    /// Requests (not allowlisted) per bucket, so a later re-check can count late ones exactly.
    pub per_bucket: Buckets,
    /// Per log source read, the newest record time (the sources' watermarks, see
    /// [`crate::lateness`]). Set by [`crate::pipeline::read_object`], which knows the format.
    pub sources: BTreeMap<crate::request::Format, i64>,
    /// Latest bucket per key, kept only when no rule counts every request (see
    /// [`Config::unfiltered_rule`]): the clients seen are then counted here.
    pub presence: FxHashMap<Key, u32>,
    settled_bucket: u32,
    resolution_ms: i64,
    profile_at: Vec<u32>,
    uses_path: bool,
    track_presence: bool,
    /// Evidence bytes stored in profiles (an upper bound: evictions are not subtracted).
    evidence_bytes: usize,
}

/// Evidence bytes one tally may store before it starts no new profile (keys are still counted;
/// profiles already started go on, each bounded by its sketches): an object whose every request
/// carries a unique 200-byte path and user agent cannot make one read cost more than this plus
/// the profiles it had started (see [`crate::evidence`] for the state's own budget).
pub const TALLY_EVIDENCE_BUDGET: usize = 16 << 20;

impl Tally {
    /// An empty tally for `config`; requests in buckets before `settled_bucket` are late.
    pub fn new(config: &Config, settled_bucket: u32) -> Tally {
        Tally {
            rules: vec![KeyMap::new(); config.rules.len()],
            settled_bucket,
            resolution_ms: config.engine.resolution_ms,
            profile_at: config.rules.iter().map(|r| (r.limit / 4).max(1)).collect(),
            uses_path: config.rules.iter().any(|r| r.filters.uses_path()),
            track_presence: config.unfiltered_rule().is_none(),
            ..Tally::default()
        }
    }

    /// Count one request.
    pub fn observe(&mut self, config: &Config, r: &Request<'_>) {
        self.records += 1;
        self.first_ms = Some(self.first_ms.map_or(r.time_ms, |f| f.min(r.time_ms)));
        self.last_ms = Some(self.last_ms.map_or(r.time_ms, |l| l.max(r.time_ms)));
        *self
            .per_minute
            .entry((r.time_ms / 60_000) as u32)
            .or_insert(0) += 1;
        if allowed(&config.allow, r.client) {
            self.allowlisted += 1;
            return;
        }
        // timefmt keeps event times within 2000..2100, so the bucket fits in u32.
        debug_assert!(timefmt::in_range(r.time_ms));
        let bucket = (r.time_ms / self.resolution_ms) as u32;
        window::add(&mut self.per_bucket, bucket, 1);
        if bucket < self.settled_bucket {
            self.late += 1;
            return;
        }
        let key = Key::from_ip(r.client, config.ban.ipv4_prefix, config.ban.ipv6_prefix);
        if self.track_presence {
            let b = self.presence.entry(key).or_insert(bucket);
            *b = (*b).max(bucket);
        }
        let path = if self.uses_path {
            match_path(&r.path)
        } else {
            std::borrow::Cow::Borrowed("")
        };
        let mut profile = false;
        for (i, rule) in config.rules.iter().enumerate() {
            if rule.filters.matches(r, &path) {
                let c = self.rules[i].get_or_insert_with(key, Counts::default);
                window::add(&mut c.buckets, bucket, 1);
                c.total = c.total.saturating_add(1);
                profile |= c.total >= self.profile_at[i];
            }
        }
        if let Some(p) = self.profiles.get_mut(&key) {
            self.evidence_bytes += p.add(r);
        } else if profile && self.evidence_bytes < TALLY_EVIDENCE_BUDGET {
            self.evidence_bytes += self.profiles.entry(key).or_default().add(r);
        }
    }

    /// Make the requests before bucket `line` late, after the fact: a read only knows its
    /// format, and so its source's line, once it has read the object ([`crate::lateness`]).
    /// Costs a pass over the tally's keys only when some request is before the line.
    pub fn make_late_before(&mut self, line: u32) {
        let cut = self.per_bucket.partition_point(|p| p.0 < line);
        if cut == 0 {
            return;
        }
        self.late += self.per_bucket[..cut]
            .iter()
            .map(|p| u64::from(p.1))
            .sum::<u64>();
        self.per_bucket.drain(..cut);
        for map in &mut self.rules {
            map.retain(|_, c| {
                let cut = c.buckets.partition_point(|p| p.0 < line);
                c.buckets.drain(..cut);
                !c.buckets.is_empty()
            });
        }
        self.presence.retain(|_, b| *b >= line);
        let (rules, presence) = (&self.rules, &self.presence);
        self.profiles
            .retain(|k, _| presence.contains_key(k) || rules.iter().any(|m| m.contains_key(k)));
    }

    /// Add another tally of the same run (commutative, associative).
    pub fn merge(&mut self, other: &Tally) {
        if self.rules.is_empty() {
            self.rules = vec![KeyMap::new(); other.rules.len()];
            self.settled_bucket = other.settled_bucket;
            self.resolution_ms = other.resolution_ms;
            self.profile_at = other.profile_at.clone();
            self.uses_path = other.uses_path;
            self.track_presence = other.track_presence;
        }
        for (key, b) in &other.presence {
            let mine = self.presence.entry(*key).or_insert(*b);
            *mine = (*mine).max(*b);
        }
        for (mine, theirs) in self.rules.iter_mut().zip(&other.rules) {
            for (key, c) in theirs {
                let m = mine.get_or_insert_with(*key, Counts::default);
                window::merge(&mut m.buckets, &c.buckets);
                m.total = m.total.saturating_add(c.total);
            }
        }
        for (key, p) in &other.profiles {
            self.profiles.entry(*key).or_default().merge(p);
        }
        self.evidence_bytes += other.evidence_bytes;
        self.records += other.records;
        self.allowlisted += other.allowlisted;
        self.late += other.late;
        self.first_ms = min_opt(self.first_ms, other.first_ms);
        self.last_ms = other.last_ms.max(self.last_ms);
        for (m, n) in &other.per_minute {
            *self.per_minute.entry(*m).or_insert(0) += n;
        }
        window::merge(&mut self.per_bucket, &other.per_bucket);
        for (f, m) in &other.sources {
            let mine = self.sources.entry(*f).or_insert(*m);
            *mine = (*mine).max(*m);
        }
    }

    /// Distinct keys counted by at least one rule.
    pub fn distinct_keys(&self) -> u64 {
        let mut n = 0;
        for (i, map) in self.rules.iter().enumerate() {
            n += map
                .keys()
                .filter(|k| !self.rules[..i].iter().any(|m| m.contains_key(k)))
                .count() as u64;
        }
        n
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
