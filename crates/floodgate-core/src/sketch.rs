//! Bounded "top values" counters for reports: top paths, user agents, methods of a client.
//!
//! Space-Saving (Metwally et al.): at most `CAP` values are tracked; a new value evicts the
//! least-counted one and inherits its count as *error*. `count − error` is a guaranteed lower
//! bound of the true count, and that is what [`TopK::top`] reports (exact while fewer than `CAP`
//! distinct values were seen), so a scanner's thousand one-off paths never show inflated counts.
//! Memory per sketch is bounded whatever an attacker sends. Values are cut to
//! [`MAX_VALUE_BYTES`]. [`TopK::merge`] is commutative: it sums the two sketches and keeps the
//! `CAP` largest, ties broken by value.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Longest value kept, bytes (longer values are cut on a char boundary).
pub const MAX_VALUE_BYTES: usize = 200;
/// Values tracked per sketch.
pub const CAP: usize = 16;

/// A Space-Saving sketch of at most [`CAP`] values. Values are shared strings: the same path
/// or user agent in forty thousand profiles is one allocation after the state is loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopK {
    /// (value, count, error): the true count lies in `count − error ..= count`.
    entries: Vec<(Arc<str>, u64, u64)>,
}

fn cut(v: &str) -> &str {
    if v.len() <= MAX_VALUE_BYTES {
        return v;
    }
    let mut end = MAX_VALUE_BYTES;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    &v[..end]
}

impl TopK {
    /// Count one occurrence of `value`; returns the bytes of the value when it was newly
    /// stored (0 when it was already tracked), so callers can bound what evidence costs.
    pub fn add(&mut self, value: &str) -> usize {
        let value = cut(value);
        if let Some(e) = self.entries.iter_mut().find(|e| &*e.0 == value) {
            e.1 += 1;
            return 0;
        }
        if self.entries.len() < CAP {
            self.entries.push((Arc::from(value), 1, 0));
        } else if let Some(min) = self
            .entries
            .iter_mut()
            .min_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        {
            *min = (Arc::from(value), min.1 + 1, min.1);
        }
        value.len()
    }

    /// Keep the `n` values with the highest guaranteed counts (ties by value).
    pub fn trim(&mut self, n: usize) {
        if self.entries.len() <= n {
            return;
        }
        self.entries
            .sort_by(|a, b| (b.1 - b.2).cmp(&(a.1 - a.2)).then_with(|| a.0.cmp(&b.0)));
        self.entries.truncate(n);
    }

    /// Bytes of the values held.
    pub fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.0.len()).sum()
    }

    /// Forget every value.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Add another sketch's counts (commutative).
    pub fn merge(&mut self, other: &TopK) {
        for (v, n, err) in &other.entries {
            match self.entries.iter_mut().find(|e| &e.0 == v) {
                Some(e) => {
                    e.1 += n;
                    e.2 += err;
                }
                None => self.entries.push((v.clone(), *n, *err)),
            }
        }
        self.entries
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.entries.truncate(CAP);
    }

    /// The raw entries `(value, count, error)`, for the state's encoding.
    pub fn entries(&self) -> &[(Arc<str>, u64, u64)] {
        &self.entries
    }

    /// A sketch from raw entries (the state's decoding): at most [`CAP`], each count at least
    /// its error.
    pub fn from_entries(mut entries: Vec<(Arc<str>, u64, u64)>) -> Option<TopK> {
        if entries.len() > CAP
            || entries
                .iter()
                .any(|e| e.2 > e.1 || e.0.len() > MAX_VALUE_BYTES)
        {
            return None;
        }
        entries.shrink_to_fit();
        Some(TopK { entries })
    }

    /// Values with their guaranteed counts (`count − error`), highest first, ties by value.
    pub fn top(&self, n: usize) -> Vec<(Arc<str>, u64)> {
        let mut v: Vec<(Arc<str>, u64)> = self
            .entries
            .iter()
            .map(|(s, c, e)| (s.clone(), c - e))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_under_capacity_and_finds_heavy_hitters_over_it() {
        let mut t = TopK::default();
        for i in 0..1000 {
            t.add("/");
            t.add(&format!("/scan/{i}"));
        }
        assert_eq!(&*t.top(1)[0].0, "/");
        assert!(t.top(1)[0].1 >= 900 && t.top(1)[0].1 <= 1000);
        // one-off values never show more than they were seen
        assert!(t.top(CAP).iter().skip(1).all(|(_, n)| *n <= 1));
        let mut small = TopK::default();
        small.add("a");
        small.add("b");
        small.add("a");
        assert_eq!(small.top(5), vec![("a".into(), 2), ("b".into(), 1)]);
    }

    #[test]
    fn merge_is_commutative() {
        let mut a = TopK::default();
        let mut b = TopK::default();
        for i in 0..20 {
            a.add(&format!("v{}", i % 11));
            b.add(&format!("v{}", i % 7));
        }
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab.top(CAP), ba.top(CAP));
    }

    #[test]
    fn long_values_are_cut() {
        let mut t = TopK::default();
        t.add(&"é".repeat(500));
        assert!(t.top(1)[0].0.len() <= MAX_VALUE_BYTES);
    }
}
