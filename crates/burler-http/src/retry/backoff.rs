//! How long to wait before a retry: the [`Backoff`] trait and exponential backoff with jitter.

use std::time::Duration;

/// A backoff strategy: the wait before retry number `retry` (1 for the first retry).
///
/// Any `Fn(u32) -> Duration` is a strategy:
/// ```
/// use burler_http::RetryPolicy;
/// use std::time::Duration;
/// let policy = RetryPolicy::default().backoff(|retry: u32| Duration::from_secs(u64::from(retry)));
/// ```
pub trait Backoff: Send + Sync + 'static {
    /// The wait before retry number `retry`.
    fn delay(&self, retry: u32) -> Duration;
}

impl<F: Fn(u32) -> Duration + Send + Sync + 'static> Backoff for F {
    fn delay(&self, retry: u32) -> Duration {
        self(retry)
    }
}

/// `min * 2^(retry-1)`, capped at `max`, with a random part removed (jitter) so that
/// clients failing together do not retry together.
#[derive(Debug, Clone, Copy)]
pub struct ExponentialBackoff {
    min: Duration,
    max: Duration,
    jitter: f64,
}

impl ExponentialBackoff {
    /// Waits from `min` doubling up to `max` (swapped if given the wrong way round); jitter 0.5.
    pub fn new(min: Duration, max: Duration) -> Self {
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        Self {
            min,
            max,
            jitter: 0.5,
        }
    }

    /// The share of each wait that is random, from 0 (none) to 1 (anywhere from 0 to the wait).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// The wait before jitter is applied.
    pub fn base_delay(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        self.min.saturating_mul(1u32 << exponent).min(self.max)
    }
}

impl Default for ExponentialBackoff {
    /// 1 s doubling up to 60 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Backoff for ExponentialBackoff {
    fn delay(&self, retry: u32) -> Duration {
        let base = self.base_delay(retry);
        let keep = 1.0 - self.jitter * rand::random::<f64>();
        base.mul_f64(keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_and_jitter_stays_below_base() {
        let backoff =
            ExponentialBackoff::new(Duration::from_millis(100), Duration::from_millis(500));
        assert_eq!(backoff.base_delay(1), Duration::from_millis(100));
        assert_eq!(backoff.base_delay(3), Duration::from_millis(400));
        assert_eq!(backoff.base_delay(9), Duration::from_millis(500));
        for retry in 1..6 {
            let wait = backoff.delay(retry);
            assert!(wait <= backoff.base_delay(retry) && wait >= backoff.base_delay(retry) / 2);
        }
    }
}
