//! Limit the rate of requests: a token bucket per client, and pauses the API asks for.
//!
//! ```
//! use burler_http::{HttpClient, RateLimitMiddleware, RateLimitHeaders};
//!
//! let client = HttpClient::builder("https://api.example.com")
//!     .unwrap()
//!     .with(RateLimitMiddleware::per_minute(120).adaptive(RateLimitHeaders::default()))
//!     .build()
//!     .unwrap();
//! ```
//!
//! A rate of `0` means no limit (only the pauses the headers ask for, when
//! [`adaptive`](RateLimitMiddleware::adaptive)): a config's `requests_per_second: 0` turns the
//! limiter off rather than meaning "one request per second" or "never".

mod bucket;
mod headers;

pub use headers::RateLimitHeaders;

use crate::middleware::{Extensions, Middleware, Next, Outcome};
use bucket::TokenBucket;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Spaces requests to a rate, and (when [`adaptive`](Self::adaptive)) pauses until the
/// quota resets when the API reports it used up. Shared by every clone of the client.
///
/// A small token bucket of this crate rather than `governor`: for the few requests per second
/// of a tap the bucket is ~50 lines serving waiters in order, where governor would add 19 crates
/// and its own timer thread, and neither reads the API's rate-limit headers.
#[derive(Debug)]
pub struct RateLimitMiddleware {
    bucket: Option<TokenBucket>,
    headers: Option<RateLimitHeaders>,
    paused_until: Mutex<Option<Instant>>,
}

impl RateLimitMiddleware {
    /// At most `rate` requests per `per`, with a burst of `rate`; `0` (or a zero `per`): no limit.
    pub fn new(rate: u32, per: Duration) -> Self {
        Self::with_burst(rate, per, rate)
    }

    /// At most `rate` requests per `per`, at most `burst` of them back to back; `0`: no limit.
    pub fn with_burst(rate: u32, per: Duration, burst: u32) -> Self {
        let limited = rate > 0 && !per.is_zero();
        Self {
            bucket: limited.then(|| TokenBucket::new(rate, per, burst)),
            headers: None,
            paused_until: Mutex::new(None),
        }
    }

    /// Whether requests are spaced to a rate (false for a rate of 0 or [`from_headers`](Self::from_headers)).
    pub fn is_limited(&self) -> bool {
        self.bucket.is_some()
    }

    /// At most `rate` requests per second; `0`: no limit.
    pub fn per_second(rate: u32) -> Self {
        Self::new(rate, Duration::from_secs(1))
    }

    /// At most `rate` requests per minute; `0`: no limit.
    pub fn per_minute(rate: u32) -> Self {
        Self::new(rate, Duration::from_secs(60))
    }

    /// No fixed rate: only the pauses the API's rate-limit headers ask for.
    pub fn from_headers(headers: RateLimitHeaders) -> Self {
        Self {
            bucket: None,
            headers: Some(headers),
            paused_until: Mutex::new(None),
        }
    }

    /// Also pause when the API reports its quota used up.
    pub fn adaptive(mut self, headers: RateLimitHeaders) -> Self {
        self.headers = Some(headers);
        self
    }

    fn pause_deadline(&self) -> Option<Instant> {
        *self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn note_response(&self, url: &reqwest::Url, response: &reqwest::Response) {
        let Some(headers) = &self.headers else { return };
        let Some(wait) = headers.pause_after(response.headers(), SystemTime::now()) else {
            return;
        };
        tracing::warn!(
            "rate limit reached at {}: pausing requests for {:.3}s",
            crate::error::redact_url(url),
            wait.as_secs_f64()
        );
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

#[async_trait::async_trait]
impl Middleware for RateLimitMiddleware {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Outcome {
        if let Some(until) = self.pause_deadline() {
            tokio::time::sleep_until(until).await;
        }
        if let Some(bucket) = &self.bucket {
            bucket.acquire().await;
        }
        let url = request.url().clone();
        let outcome = next.run(request, extensions).await;
        if let Ok(response) = &outcome {
            self.note_response(&url, response);
        }
        outcome
    }
}
