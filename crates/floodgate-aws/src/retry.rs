//! Bounded retries with "full jitter" exponential backoff.
//!
//! Both the state write (412/409 after a concurrent writer) and the WAF calls (optimistic lock,
//! throttling at roughly one write per second per account) need to retry without a thundering
//! herd; one small policy type keeps the numbers in one place and lets tests shrink them.

use rand::Rng;
use std::time::Duration;

/// How often and how long to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (the first try included); at least 1.
    pub attempts: u32,
    /// Ceiling of the first delay; doubles per attempt.
    pub base: Duration,
    /// Longest single delay.
    pub max: Duration,
}

impl RetryPolicy {
    /// State object writes: conflicts resolve as soon as the other writer is done.
    pub const STATE: RetryPolicy = RetryPolicy {
        attempts: 5,
        base: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };
    /// WAF calls: the account-wide write rate is about one per second.
    pub const WAF: RetryPolicy = RetryPolicy {
        attempts: 6,
        base: Duration::from_millis(1000),
        max: Duration::from_secs(15),
    };

    /// The delay before retry number `attempt` (1 = first retry): uniform in `[0, cap]` with
    /// `cap = min(max, base × 2^(attempt−1))` ("full jitter", so racing writers spread out).
    pub fn delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(20);
        let cap = self.base.saturating_mul(1 << shift).min(self.max);
        if cap.is_zero() {
            return cap;
        }
        let nanos = rand::thread_rng().gen_range(0..=cap.as_nanos().min(u64::MAX as u128) as u64);
        Duration::from_nanos(nanos)
    }

    /// Sleep for [`RetryPolicy::delay`].
    pub async fn backoff(&self, attempt: u32) {
        tokio::time::sleep(self.delay(attempt)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_capped_and_grows() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
        };
        for attempt in 1..40 {
            let cap = Duration::from_millis(10 * (1u64 << (attempt - 1).min(20))).min(p.max);
            assert!(p.delay(attempt) <= cap);
        }
        // Growth: the first retry waits at most 10 ms; the third may wait up to 40 ms, so among
        // 200 draws some exceed 10 ms (all 200 below would have probability 4^-200).
        let first = (0..200).map(|_| p.delay(1)).max().unwrap();
        let third = (0..200).map(|_| p.delay(3)).max().unwrap();
        assert!(first <= Duration::from_millis(10));
        assert!(third > Duration::from_millis(10), "{third:?}");
        assert!(
            (0..200).any(|_| p.delay(10) > Duration::from_millis(40)),
            "capped at max, 50 ms"
        );
    }
}
