//! Limit the rate of requests: a token bucket per client, and pauses the API asks for.
//!
//! ```
//! use burler_http::{HttpClient, RateLimitLayer, RateLimitHeaders};
//!
//! let client = HttpClient::builder("https://api.example.com")
//!     .unwrap()
//!     .layer(RateLimitLayer::per_minute(120).adaptive(RateLimitHeaders::default()))
//!     .build()
//!     .unwrap();
//! ```

mod bucket;
mod headers;

pub use headers::RateLimitHeaders;

use crate::error::HttpError;
use crate::layer::{BoxFuture, Layer, Next};
use crate::message::{Request, Response};
use bucket::TokenBucket;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Spaces requests to a rate, and (when [`adaptive`](Self::adaptive)) pauses until the
/// quota resets when the API reports it used up. Shared by every clone of the client.
#[derive(Debug)]
pub struct RateLimitLayer {
    bucket: Option<TokenBucket>,
    headers: Option<RateLimitHeaders>,
    paused_until: Mutex<Option<Instant>>,
}

impl RateLimitLayer {
    /// At most `rate` requests per `per`, with a burst of `rate`.
    pub fn new(rate: u32, per: Duration) -> Self {
        Self::with_burst(rate, per, rate)
    }

    /// At most `rate` requests per `per`, at most `burst` of them back to back.
    pub fn with_burst(rate: u32, per: Duration, burst: u32) -> Self {
        Self {
            bucket: Some(TokenBucket::new(rate, per, burst)),
            headers: None,
            paused_until: Mutex::new(None),
        }
    }

    /// At most `rate` requests per second.
    pub fn per_second(rate: u32) -> Self {
        Self::new(rate, Duration::from_secs(1))
    }

    /// At most `rate` requests per minute.
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

    fn note_response(&self, response: &Response) {
        let Some(headers) = &self.headers else { return };
        let Some(wait) = headers.pause_after(response, SystemTime::now()) else {
            return;
        };
        tracing::warn!(
            "rate limit reached at {}: pausing requests for {:.3}s",
            crate::error::redact_url(response.url()),
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

    async fn run(&self, request: Request, next: Next<'_>) -> Result<Response, HttpError> {
        if let Some(until) = self.pause_deadline() {
            tokio::time::sleep_until(until).await;
        }
        if let Some(bucket) = &self.bucket {
            bucket.acquire().await;
        }
        let outcome = next.run(request).await;
        if let Ok(response) = &outcome {
            self.note_response(response);
        }
        outcome
    }
}

impl Layer for RateLimitLayer {
    fn handle<'a>(
        &'a self,
        request: Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Response, HttpError>> {
        Box::pin(self.run(request, next))
    }
}
