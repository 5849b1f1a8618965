//! Surge detection per group of traffic: a window that holds far more requests than the
//! group's usual rate, and more than a floor (DESIGN.md, "Floods no single address makes").
//!
//! A residential fleet sends one or two requests per address, so no per-address limit fires;
//! what moves is the rate of the path it hits. This module counts requests per group and
//! window and says which groups surge. It is pure: time is passed in, nothing is read from a
//! clock, and memory is bounded whatever the input. Not wired into the engine yet.
//!
//! # Semantics
//!
//! * **Group**: the request's host (ASCII lower case) and the first segment of its path
//!   (`/search/x?q` → `/search`; `/` and an empty path → `/`), named `host/segment`
//!   (`example.com/search`; just the segment when the host is empty). A group is identified by
//!   a 64-bit hash of the two; a collision (about 2⁻⁶⁴ per pair) merges two groups.
//! * **Windows**: `window_ms` long, aligned on the epoch (window `w` holds times
//!   `w·window_ms ≤ t < (w+1)·window_ms`). The detector's *current* window is the latest one
//!   it has observed or been evaluated at; it never goes back.
//! * **Memory**: at most `max_groups` groups, each with `baseline_windows + 2` counts (the
//!   current window, the one before, and the baseline). A new group when the table is full
//!   evicts the group with the fewest requests over those windows (ties: the smaller hash):
//!   the table keeps the top groups by volume. After an eviction at window `e`, a group
//!   admitted later is known only from `e + 1` (its requests before that may have been in the
//!   evicted group's place); before any eviction, from the detector's start.
//! * **Observing** a request at `t`: a window before the detector's `start` or older than the
//!   counts kept (`current − baseline_windows − 1`) is ignored and counted as too old; a later
//!   window than the current one first moves the current window there. The caller passes only
//!   times it trusts (one far-future time ages out every baseline).
//! * **Evaluating** at `now` (after moving the current window to `now`'s if later): for each
//!   group, `peak` = the larger count of the current window and the one before (a surge is
//!   seen both while it rises and right after a window boundary); the baseline windows are the
//!   `baseline_windows` before those two, of which only those at or after the group's known
//!   start count (`known` of them); `usual` = their mean. A group **surges** when `known ≥
//!   min_history_windows` (and ≥ 1), `peak ≥ floor` (quiet paths never trigger) and `peak > factor ×
//!   usual`. A group that had no request in its known history has `usual` 0: a path nobody
//!   asked for that suddenly gets `floor` requests a window surges.

use rustc_hash::FxHashMap;
use std::hash::Hasher;

/// What counts as a surge; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct SurgeConfig {
    /// Length of a counting window, ms.
    pub window_ms: i64,
    /// Windows of usual traffic each group keeps (the baseline horizon).
    pub baseline_windows: u32,
    /// Baseline windows a group needs before it can surge (no verdict on a cold start).
    pub min_history_windows: u32,
    /// Groups tracked at most (the busiest are kept).
    pub max_groups: usize,
    /// A peak must exceed this many times the usual count of a window.
    pub factor: f64,
    /// A peak below this many requests in a window is never a surge.
    pub floor: u32,
}

impl Default for SurgeConfig {
    /// One-minute windows, an hour of baseline needed and kept, 256 groups, ten times the
    /// usual and at least 300 requests in a minute (5 a second).
    fn default() -> SurgeConfig {
        SurgeConfig {
            window_ms: 60_000,
            baseline_windows: 60,
            min_history_windows: 60,
            max_groups: 256,
            factor: 10.0,
            floor: 300,
        }
    }
}

/// A group over its usual rate at an evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Surge {
    /// `host/segment`.
    pub group: String,
    /// Start of the window holding the peak, ms.
    pub window_start_ms: i64,
    /// Requests in that window.
    pub peak: u32,
    /// Mean requests per window over the group's known baseline.
    pub usual: f64,
    /// Baseline windows the mean is over.
    pub known_windows: u32,
}

struct Group {
    hash: u64,
    name: String,
    /// First window of which this group's counts are complete.
    known_from: i64,
    /// Counts by window, slot `w mod len`.
    counts: Box<[u32]>,
    /// Sum of `counts` (for eviction).
    total: u64,
}

/// Counts per group and window; see the module docs.
pub struct Detector {
    cfg: SurgeConfig,
    start: i64,
    current: i64,
    /// Groups admitted from now on are complete from this window.
    complete_since: i64,
    groups: Vec<Group>,
    index: FxHashMap<u64, usize>,
    /// Requests ignored as older than the counts kept (or than the start).
    pub too_old: u64,
}

/// The group of a request: (hash, host, first path segment).
fn group_of<'a>(host: &'a str, path: &'a str) -> (u64, &'a str, &'a str) {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let segment = &path[..path.len() - rest.len() + end];
    let segment = if segment.is_empty() { "/" } else { segment };
    let mut h = rustc_hash::FxHasher::default();
    for b in host.bytes() {
        h.write_u8(b.to_ascii_lowercase());
    }
    h.write_u8(0xff);
    h.write(segment.as_bytes());
    (h.finish(), host, segment)
}

impl Detector {
    /// A detector whose history starts at `start_ms` (earlier requests are ignored).
    pub fn new(cfg: SurgeConfig, start_ms: i64) -> Detector {
        let cfg = SurgeConfig {
            window_ms: cfg.window_ms.max(1),
            max_groups: cfg.max_groups.max(1),
            ..cfg
        };
        let start = start_ms.div_euclid(cfg.window_ms);
        Detector {
            cfg,
            start,
            current: start,
            complete_since: start,
            groups: Vec::new(),
            index: FxHashMap::default(),
            too_old: 0,
        }
    }

    fn len(&self) -> i64 {
        self.cfg.baseline_windows as i64 + 2
    }

    fn slot(&self, w: i64) -> usize {
        w.rem_euclid(self.len()) as usize
    }

    /// Groups tracked now (never more than `max_groups`).
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// Move the current window to `w` if later, clearing the windows that fall out.
    fn advance(&mut self, w: i64) {
        if w <= self.current {
            return;
        }
        let from = (self.current + 1).max(w - self.len() + 1);
        for x in from..=w {
            let s = self.slot(x);
            for g in &mut self.groups {
                g.total -= g.counts[s] as u64;
                g.counts[s] = 0;
            }
        }
        self.current = w;
    }

    /// Count one request of `host` and `path` at `time_ms`.
    pub fn observe(&mut self, time_ms: i64, host: &str, path: &str) {
        let w = time_ms.div_euclid(self.cfg.window_ms);
        if w < self.start || w <= self.current - self.len() {
            self.too_old += 1;
            return;
        }
        self.advance(w);
        let (hash, host, segment) = group_of(host, path);
        let i = match self.index.get(&hash) {
            Some(&i) => i,
            None => self.admit(hash, host, segment),
        };
        let s = self.slot(w);
        let g = &mut self.groups[i];
        g.counts[s] = g.counts[s].saturating_add(1);
        g.total += 1;
    }

    fn admit(&mut self, hash: u64, host: &str, segment: &str) -> usize {
        let name = if host.is_empty() {
            segment.to_string()
        } else {
            format!("{}{segment}", host.to_ascii_lowercase())
        };
        let group = Group {
            hash,
            name,
            known_from: self.complete_since,
            counts: vec![0; self.len() as usize].into_boxed_slice(),
            total: 0,
        };
        if self.groups.len() < self.cfg.max_groups {
            self.groups.push(group);
            self.index.insert(hash, self.groups.len() - 1);
            return self.groups.len() - 1;
        }
        let (victim, _) = (self.groups.iter().enumerate())
            .min_by_key(|(_, g)| (g.total, g.hash))
            .expect("max_groups ≥ 1");
        self.index.remove(&self.groups[victim].hash);
        self.complete_since = self.current + 1;
        let group = Group {
            known_from: self.complete_since,
            ..group
        };
        self.groups[victim] = group;
        self.index.insert(hash, victim);
        victim
    }

    /// The groups that surge at `now_ms`, sorted by group; see the module docs.
    pub fn evaluate(&mut self, now_ms: i64) -> Vec<Surge> {
        self.advance(now_ms.div_euclid(self.cfg.window_ms));
        let cur = self.current;
        let mut out = Vec::new();
        for g in &self.groups {
            let (a, b) = (g.counts[self.slot(cur)], g.counts[self.slot(cur - 1)]);
            let (peak, at) = if b > a { (b, cur - 1) } else { (a, cur) };
            let first = (cur - 1 - self.cfg.baseline_windows as i64)
                .max(g.known_from)
                .max(self.start);
            let known = (cur - 1 - first).max(0) as u32;
            if known < self.cfg.min_history_windows.max(1) || peak < self.cfg.floor {
                continue;
            }
            let sum: u64 = (first..cur - 1)
                .map(|w| g.counts[self.slot(w)] as u64)
                .sum();
            let usual = sum as f64 / known as f64;
            if peak as f64 > self.cfg.factor * usual {
                out.push(Surge {
                    group: g.name.clone(),
                    window_start_ms: at * self.cfg.window_ms,
                    peak,
                    usual,
                    known_windows: known,
                });
            }
        }
        out.sort_by(|x, y| x.group.cmp(&y.group));
        out
    }
}

#[cfg(test)]
#[path = "surge_tests.rs"]
mod tests;
