//! Reading rate-limit headers (`X-RateLimit-Remaining`, `X-RateLimit-Reset`).

use crate::message::header_text;
use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Reset values above this are epoch seconds; below, seconds from now.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// Which headers report the remaining quota and its reset time.
#[derive(Debug, Clone)]
pub struct RateLimitHeaders {
    remaining: String,
    reset: String,
    max_wait: Duration,
}

impl Default for RateLimitHeaders {
    /// `X-RateLimit-Remaining` and `X-RateLimit-Reset`, waits capped at 15 minutes.
    fn default() -> Self {
        Self::new("x-ratelimit-remaining", "x-ratelimit-reset")
    }
}

impl RateLimitHeaders {
    /// Custom header names. The reset header holds epoch seconds or seconds from now.
    pub fn new(remaining: &str, reset: &str) -> Self {
        Self {
            remaining: remaining.to_owned(),
            reset: reset.to_owned(),
            max_wait: Duration::from_secs(900),
        }
    }

    /// The longest pause a reset header can impose.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// How long to pause when a response's headers say the quota is used up.
    pub fn pause_after(&self, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
        let remaining: f64 = header_text(headers, &self.remaining)?.trim().parse().ok()?;
        if remaining > 0.0 {
            return None;
        }
        let reset = header_text(headers, &self.reset)?.trim();
        let reset: u64 = reset
            .parse()
            .ok()
            .or_else(|| reset.parse::<f64>().ok().map(|s| s.ceil() as u64))?;
        let wait = if reset > EPOCH_THRESHOLD {
            let at = UNIX_EPOCH + Duration::from_secs(reset);
            at.duration_since(now).unwrap_or(Duration::ZERO)
        } else {
            Duration::from_secs(reset)
        };
        Some(wait.min(self.max_wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(remaining: &str, reset: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", remaining.parse().unwrap());
        headers.insert("x-ratelimit-reset", reset.parse().unwrap());
        headers
    }

    #[test]
    fn pauses_only_when_exhausted_with_epoch_or_relative_reset() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let headers = RateLimitHeaders::default();
        assert_eq!(headers.pause_after(&response("3", "10"), now), None);
        assert_eq!(
            headers.pause_after(&response("0", "10"), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            headers.pause_after(&response("0", "1700000042"), now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            headers.pause_after(&response("0", "1699999999"), now),
            Some(Duration::ZERO)
        );
    }
}
