//! Sliding windows over event time, and the exact moment a key offends.
//!
//! # Semantics
//!
//! Time is the request's own timestamp `t` (ms). Requests are counted in buckets of
//! `resolution`: bucket `b = floor(t / resolution)`. A rule with window `W` spans
//! `w = W / resolution` buckets. For a key, the **window sum** at bucket `b` is the sum of the
//! key's counts in buckets `(b − w, b]`.
//!
//! An **offence** happens at the first bucket whose window sum EXCEEDS `limit`. The offence's
//! time is the start of that bucket (`b × resolution`): the offending request's time at the
//! resolution. After an offence the count restarts: the next offence is the first later
//! bucket `b'` whose sum over `(max(b' − w, b), b']` exceeds `limit` — sustained abuse offends
//! again after each further `limit + 1` requests within a window, which is what escalates bans.
//!
//! Because the result is a function of the *set* of (bucket, count) pairs, files may be read in
//! any order and overlap in time: the offences are the same as for one sorted stream.
//!
//! # Incremental evaluation
//!
//! [`sweep`] takes a `reset` (the last offence already settled in an earlier run) and a
//! `from` bucket (the first unsettled bucket): earlier buckets only warm the sums up; offences
//! are reported for buckets `≥ from`. The engine guarantees that every bucket in
//! `(from − w, …)` is still held, so sums at `b ≥ from` are complete.
//!
//! The **peak** is the largest plain window sum (no restart) at buckets `≥ from`: how hard the
//! key hit, shown in reports and used to rank bans.

/// Sorted `(bucket, count)` pairs of one key for one rule. Sparse: a key with 3 requests in one
/// second costs one pair. Two pairs are held inline, in the 24 bytes the vector takes anyway
/// (smallvec's `union` layout): most clients of a big run are seen in one or two seconds of a
/// window, and a heap allocation each cost them ~32 bytes more (the memory per client at 1 M
/// clients, docs/performance.md).
pub type Buckets = smallvec::SmallVec<[(u32, u32); 2]>;

/// Add `n` requests at bucket `b`, keeping the pairs sorted (appends are the common case).
pub fn add(buckets: &mut Buckets, b: u32, n: u32) {
    match buckets.last_mut() {
        Some(last) if last.0 == b => last.1 = last.1.saturating_add(n),
        Some(last) if last.0 < b => buckets.push((b, n)),
        None => buckets.push((b, n)),
        _ => match buckets.binary_search_by_key(&b, |p| p.0) {
            Ok(i) => buckets[i].1 = buckets[i].1.saturating_add(n),
            Err(i) => buckets.insert(i, (b, n)),
        },
    }
}

/// Merge `other` into `into` (sum of counts per bucket). Commutative and associative.
pub fn merge(into: &mut Buckets, other: &[(u32, u32)]) {
    if other.is_empty() {
        return;
    }
    if into.last().is_none_or(|l| l.0 < other[0].0) {
        into.extend_from_slice(other);
        return;
    }
    let mut out = Buckets::with_capacity(into.len() + other.len());
    let (mut i, mut j) = (0, 0);
    while i < into.len() || j < other.len() {
        let take_left = j >= other.len() || (i < into.len() && into[i].0 < other[j].0);
        let take_both = i < into.len() && j < other.len() && into[i].0 == other[j].0;
        if take_both {
            out.push((into[i].0, into[i].1.saturating_add(other[j].1)));
            i += 1;
            j += 1;
        } else if take_left {
            out.push(into[i]);
            i += 1;
        } else {
            out.push(other[j]);
            j += 1;
        }
    }
    *into = out;
}

/// An offence found by [`sweep`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// The offending bucket.
    pub bucket: u32,
    /// The (restarted) window sum at that bucket: > limit.
    pub count: u32,
}

/// What [`sweep`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Offences at buckets `≥ from`, in time order.
    pub offences: Vec<Found>,
    /// Largest plain window sum at buckets `≥ from` (0 if none).
    pub peak: u32,
}

/// Find the offences of one key for one rule. See the module docs for the exact semantics.
pub fn sweep(buckets: &[(u32, u32)], w: u32, limit: u32, reset: Option<u32>, from: u32) -> Sweep {
    let mut out = Sweep::default();
    let w = w as u64;
    let (mut lo, mut sum) = (0usize, 0u64);
    // The restarted window starts after the reset bucket.
    let mut lo_r = reset.map_or(0, |r| buckets.partition_point(|p| p.0 <= r));
    let mut sum_r = 0u64;
    for (i, &(b, c)) in buckets.iter().enumerate() {
        sum += c as u64;
        while buckets[lo].0 as u64 + w <= b as u64 {
            sum -= buckets[lo].1 as u64;
            lo += 1;
        }
        if b >= from {
            out.peak = out.peak.max(sum.min(u32::MAX as u64) as u32);
        }
        if i < lo_r {
            continue;
        }
        sum_r += c as u64;
        while buckets[lo_r].0 as u64 + w <= b as u64 {
            sum_r -= buckets[lo_r].1 as u64;
            lo_r += 1;
        }
        if b >= from && sum_r > limit as u64 {
            out.offences.push(Found {
                bucket: b,
                count: sum_r.min(u32::MAX as u64) as u32,
            });
            lo_r = i + 1;
            sum_r = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The model: every request's bucket, sorted; windows summed by brute force.
    fn model(mut requests: Vec<u32>, w: u32, limit: u32) -> (Vec<Found>, u32) {
        requests.sort_unstable();
        let mut distinct: Vec<u32> = requests.clone();
        distinct.dedup();
        let count_in = |lo_excl: i64, hi: u32| {
            requests
                .iter()
                .filter(|&&x| (x as i64) > lo_excl && x <= hi)
                .count() as u32
        };
        let mut offences = Vec::new();
        let mut reset: i64 = -1;
        let mut peak = 0;
        for &b in &distinct {
            peak = peak.max(count_in(b as i64 - w as i64, b));
            if (b as i64) <= reset {
                continue;
            }
            let s = count_in((b as i64 - w as i64).max(reset), b);
            if s > limit {
                offences.push(Found {
                    bucket: b,
                    count: s,
                });
                reset = b as i64;
            }
        }
        (offences, peak)
    }

    fn build(parts: &[Vec<u32>]) -> Buckets {
        let mut total = Buckets::new();
        for part in parts {
            let mut file = Buckets::new();
            for &b in part {
                add(&mut file, b, 1);
            }
            merge(&mut total, &file);
        }
        total
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
        #[test]
        fn sweep_matches_the_brute_force_model_in_any_file_order(
            files in prop::collection::vec(prop::collection::vec(1000u32..1400, 0..60), 1..6),
            w in 1u32..120,
            limit in 1u32..30,
            seed in any::<u64>(),
        ) {
            let all: Vec<u32> = files.iter().flatten().copied().collect();
            let (want, want_peak) = model(all, w, limit);
            let sorted = build(&files);
            let got = sweep(&sorted, w, limit, None, 0);
            prop_assert_eq!(&got.offences, &want);
            prop_assert_eq!(got.peak, want_peak);
            // a different file order, and requests within files shuffled, give the same buckets
            let mut shuffled: Vec<Vec<u32>> = files.clone();
            let mut x = seed | 1;
            for f in &mut shuffled {
                for i in (1..f.len()).rev() {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    f.swap(i, (x % (i as u64 + 1)) as usize);
                }
            }
            shuffled.reverse();
            prop_assert_eq!(build(&shuffled), sorted);
        }

        #[test]
        fn resuming_from_a_settled_offence_gives_the_same_later_offences(
            reqs in prop::collection::vec(0u32..500, 0..200),
            w in 1u32..60,
            limit in 1u32..15,
            split in 0u32..500,
        ) {
            let b = build(&[reqs]);
            let full = sweep(&b, w, limit, None, 0);
            let settled: Vec<&Found> = full.offences.iter().filter(|f| f.bucket < split).collect();
            let reset = settled.last().map(|f| f.bucket);
            // drop buckets the engine would have pruned: older than split - w
            let kept: Vec<(u32, u32)> = b.iter().copied().filter(|p| p.0 as i64 > split as i64 - w as i64 - 1).collect();
            let resumed = sweep(&kept, w, limit, reset, split);
            let later: Vec<Found> = full.offences.iter().copied().filter(|f| f.bucket >= split).collect();
            prop_assert_eq!(resumed.offences, later);
        }
    }

    #[test]
    fn first_offence_is_the_first_bucket_over_the_limit() {
        // limit 3, window 10 buckets: 4 requests at buckets 0,1,2,9 → offence at 9
        let b = build(&[vec![0, 1, 2, 9]]);
        assert_eq!(
            sweep(&b, 10, 3, None, 0).offences,
            vec![Found {
                bucket: 9,
                count: 4
            }]
        );
        // bucket 10 drops bucket 0 out of (0, 10]
        let b = build(&[vec![0, 1, 2, 10]]);
        assert!(sweep(&b, 10, 3, None, 0).offences.is_empty());
        // exactly the limit is not an offence
        let b = build(&[vec![5, 5, 5]]);
        assert!(sweep(&b, 10, 3, None, 0).offences.is_empty());
        // after an offence, counting restarts
        let b = build(&[vec![1; 8]]);
        let s = sweep(&b, 10, 3, None, 0);
        assert_eq!(
            s.offences,
            vec![Found {
                bucket: 1,
                count: 8
            }]
        );
        assert_eq!(s.peak, 8);
    }
}
