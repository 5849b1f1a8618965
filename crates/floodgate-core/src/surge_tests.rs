//! The detector against a model that keeps every request (no eviction), and its bounds.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn small() -> SurgeConfig {
    SurgeConfig {
        window_ms: 10,
        baseline_windows: 5,
        min_history_windows: 3,
        max_groups: 1000,
        factor: 2.0,
        floor: 3,
    }
}

/// Every kept request by (group name, window); the same drop rule, written plainly.
struct Model {
    cfg: SurgeConfig,
    start: i64,
    current: i64,
    counts: BTreeMap<(String, i64), u32>,
}

impl Model {
    fn observe(&mut self, t: i64, host: &str, path: &str) {
        let w = t.div_euclid(self.cfg.window_ms);
        let len = self.cfg.baseline_windows as i64 + 2;
        if w < self.start || w <= self.current - len {
            return;
        }
        self.current = self.current.max(w);
        let seg = path.trim_start_matches('/');
        let seg = seg.split(['/', '?']).next().unwrap_or("");
        let name = format!("{}/{}", host.to_ascii_lowercase(), seg);
        *self.counts.entry((name, w)).or_default() += 1;
    }

    fn evaluate(&mut self, now: i64) -> Vec<(String, i64, u32, u32)> {
        self.current = self.current.max(now.div_euclid(self.cfg.window_ms));
        let cur = self.current;
        let names: std::collections::BTreeSet<&String> =
            self.counts.keys().map(|(n, _)| n).collect();
        let c = |n: &String, w: i64| self.counts.get(&(n.clone(), w)).copied().unwrap_or(0);
        let mut out = Vec::new();
        for n in names {
            let (a, b) = (c(n, cur), c(n, cur - 1));
            let (peak, at) = if b > a { (b, cur - 1) } else { (a, cur) };
            let first = (cur - 1 - self.cfg.baseline_windows as i64).max(self.start);
            let known = (cur - 1 - first).max(0) as u32;
            if known < self.cfg.min_history_windows || peak < self.cfg.floor {
                continue;
            }
            let usual = (first..cur - 1).map(|w| c(n, w) as f64).sum::<f64>() / known as f64;
            if peak as f64 > self.cfg.factor * usual {
                out.push((n.clone(), at * self.cfg.window_ms, peak, known));
            }
        }
        out
    }
}

fn names(s: &[Surge]) -> Vec<(String, i64, u32, u32)> {
    s.iter()
        .map(|x| (x.group.clone(), x.window_start_ms, x.peak, x.known_windows))
        .collect()
}

#[test]
fn groups_are_host_and_first_segment() {
    assert_eq!(group_of("Example.COM", "/search/x").2, "/search");
    assert_eq!(group_of("a", "/").2, "/");
    assert_eq!(group_of("a", "").2, "/");
    assert_eq!(group_of("a", "/search?q=1").2, "/search");
    assert_eq!(group_of("A", "/x").0, group_of("a", "/x/y").0);
    assert_ne!(group_of("a", "/x").0, group_of("a", "/X").0);
    let mut d = Detector::new(small(), 0);
    d.observe(0, "Example.COM", "/search/x");
    assert_eq!(d.groups[0].name, "example.com/search");
}

#[test]
fn a_flood_on_a_quiet_path_surges_and_the_usual_traffic_does_not() {
    let cfg = SurgeConfig::default();
    let mut d = Detector::new(cfg.clone(), 0);
    let minute = 60_000;
    // Two hours of ordinary traffic: /search 20 a minute, / 400 a minute.
    for m in 0..120 {
        for i in 0..20 {
            d.observe(m * minute + i * 1000, "shop", "/search");
        }
        for i in 0..400 {
            d.observe(m * minute + i * 100, "shop", "/");
        }
        assert!(d.evaluate(m * minute + 59_000).is_empty(), "minute {m}");
    }
    // Then 2,000 /search a minute from many addresses (the detector does not care which).
    for i in 0..2000 {
        d.observe(120 * minute + i * 30, "shop", "/search");
    }
    let s = d.evaluate(121 * minute - 1);
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].group.as_str(), s[0].peak), ("shop/search", 2000));
    assert!((s[0].usual - 20.0).abs() < 1e-9 && s[0].known_windows == 60);
    // Still reported just after the window boundary, gone once the flood is two windows old.
    assert_eq!(d.evaluate(121 * minute + 1).len(), 1);
    assert!(d.evaluate(122 * minute + 1).is_empty());
}

#[test]
fn no_verdict_before_enough_history() {
    let mut d = Detector::new(SurgeConfig::default(), 0);
    for i in 0..5000 {
        d.observe(30 * 60_000 + i, "h", "/search");
    }
    assert!(
        d.evaluate(30 * 60_000 + 5000).is_empty(),
        "30 minutes is not an hour"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Without eviction, the detector says exactly what the model says, at every evaluation,
    /// whatever the order of the requests.
    #[test]
    fn matches_the_model(
        start in 0i64..50,
        steps in prop::collection::vec(
            prop_oneof![
                (0i64..200, 0usize..4, 0usize..4).prop_map(|(t, h, p)| (t, h, p, false)),
                (0i64..200).prop_map(|t| (t, 0, 0, true)),
            ],
            0..300,
        ),
    ) {
        const HOSTS: [&str; 4] = ["a", "A", "b", ""];
        const PATHS: [&str; 4] = ["/search", "/search/x?q=1", "/", "/api/v1"];
        let cfg = small();
        let mut d = Detector::new(cfg.clone(), start);
        let mut m = Model {
            start: start.div_euclid(cfg.window_ms),
            current: start.div_euclid(cfg.window_ms),
            cfg,
            counts: BTreeMap::new(),
        };
        for (t, h, p, eval) in steps {
            if eval {
                let got = d.evaluate(t);
                prop_assert_eq!(names(&got), m.evaluate(t));
            } else {
                d.observe(t, HOSTS[h], PATHS[p]);
                m.observe(t, HOSTS[h], PATHS[p]);
            }
        }
    }

    /// Memory stays bounded and a peak under the floor is never a surge, whatever arrives.
    #[test]
    fn bounded_and_floored(
        reqs in prop::collection::vec((0i64..500, 0u32..64), 0..600),
        max_groups in 1usize..8,
        floor in 1u32..20,
    ) {
        let cfg = SurgeConfig { max_groups, floor, ..small() };
        let mut d = Detector::new(cfg, 0);
        for (t, g) in reqs {
            d.observe(t, "h", &format!("/p{g}"));
            prop_assert!(d.groups() <= max_groups);
            prop_assert!(d.groups.iter().all(|g| g.total == g.counts.iter().map(|&c| c as u64).sum::<u64>()));
            for s in d.evaluate(t) {
                prop_assert!(s.peak >= floor);
                prop_assert!(s.known_windows >= 3);
            }
        }
    }
}
