//! Requests planned in advance (by scenarios that decide every client's requests up front),
//! kept per minute of event time so that `fill` hands them out one time slice at a time.

use crate::time::MINUTE;

/// Planned items by minute; bucket `i` holds minute `start + i`.
pub struct Schedule<T> {
    minutes: Vec<Vec<(i64, T)>>,
    start_min: i64,
}

impl<T: Copy + Ord> Schedule<T> {
    /// Room for `span_ms` of event time from `start_ms` (plus the minute each end may spill).
    pub fn new(start_ms: i64, span_ms: i64) -> Schedule<T> {
        Schedule {
            minutes: vec![Vec::new(); (span_ms / MINUTE + 2) as usize],
            start_min: start_ms.div_euclid(MINUTE),
        }
    }

    /// Plans `x` at `t`; a time outside the room is dropped.
    pub fn put(&mut self, t: i64, x: T) {
        let i = (t.div_euclid(MINUTE) - self.start_min) as usize;
        if let Some(m) = self.minutes.get_mut(i) {
            m.push((t, x));
        }
    }

    /// Orders each minute by time, then item; call once, after the last [`Schedule::put`].
    pub fn sort(&mut self) {
        for m in &mut self.minutes {
            m.sort_unstable();
        }
    }

    /// The items planned at `from <= t < to`, in order.
    pub fn between(&self, from: i64, to: i64) -> impl Iterator<Item = (i64, T)> + '_ {
        let first = (from.div_euclid(MINUTE) - self.start_min).max(0) as usize;
        let last = ((to - 1).div_euclid(MINUTE) - self.start_min).max(0) as usize;
        self.minutes
            .iter()
            .skip(first)
            .take((last + 1).saturating_sub(first))
            .flatten()
            .copied()
            .filter(move |(t, _)| *t >= from && *t < to)
    }
}
