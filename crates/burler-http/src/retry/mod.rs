//! Middleware for retrying failed requests, with backoff, `Retry-After` and a budget.
//!
//! ```
//! use burler_http::{HttpClient, RetryLayer, RetryPolicy};
//! use std::time::Duration;
//!
//! let client = HttpClient::builder("https://api.example.com")
//!     .unwrap()
//!     .layer(RetryLayer::new(
//!         RetryPolicy::default()
//!             .max_attempts(6)
//!             .exponential(Duration::from_millis(500), Duration::from_secs(30)),
//!     ))
//!     .build()
//!     .unwrap();
//! ```

mod backoff;
mod policy;
mod retry_after;

pub use backoff::{Backoff, ExponentialBackoff};
pub use policy::{DefaultRetryPredicate, RetryPolicy, RetryPredicate};
pub use retry_after::parse_retry_after;

use crate::error::HttpError;
use crate::layer::{BoxFuture, Layer, Next};
use crate::message::{Request, Response};
use std::time::{Duration, SystemTime};

/// Retries requests as its [`RetryPolicy`] says; each retry is logged at WARN.
#[derive(Debug, Clone, Default)]
pub struct RetryLayer {
    policy: RetryPolicy,
}

impl RetryLayer {
    /// A retry layer with this policy.
    pub fn new(policy: RetryPolicy) -> Self {
        Self { policy }
    }

    /// The wait before retry `retry` after `outcome`, `Retry-After` first.
    fn wait_for(
        &self,
        retry: u32,
        outcome: &Result<Response, HttpError>,
    ) -> Result<Duration, String> {
        let asked = outcome
            .as_ref()
            .ok()
            .and_then(|response| response.header("retry-after"))
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        match asked {
            Some(wait) if wait > self.policy.max_retry_after => Err(format!(
                "server asked to wait {wait:?} (Retry-After), more than the allowed {:?}",
                self.policy.max_retry_after
            )),
            Some(wait) => Ok(wait),
            None => Ok(self.policy.backoff.delay(retry)),
        }
    }

    async fn run(&self, request: Request, next: Next<'_>) -> Result<Response, HttpError> {
        let mut waited = Duration::ZERO;
        let mut attempt = 1;
        let mut current = request;
        loop {
            let spare = current.try_clone();
            let outcome = next.run(current).await;
            let Some(spare) = spare else { return outcome };
            if attempt >= self.policy.max_attempts || !self.policy.predicate.should_retry(&outcome)
            {
                if attempt > 1 && self.policy.predicate.should_retry(&outcome) {
                    tracing::warn!(
                        "giving up on {} {} after {attempt} attempts: {}",
                        spare.method(),
                        spare.redacted_url(),
                        describe(&spare, &outcome)
                    );
                }
                return outcome;
            }
            let wait = match self.wait_for(attempt, &outcome) {
                Ok(wait) if waited + wait <= self.policy.max_total_wait => wait,
                Ok(wait) => {
                    tracing::warn!(
                        "giving up on {} {}: waiting {wait:?} more would pass the retry budget of {:?}: {}",
                        spare.method(),
                        spare.redacted_url(),
                        self.policy.max_total_wait,
                        describe(&spare, &outcome)
                    );
                    return outcome;
                }
                Err(why) => {
                    tracing::warn!(
                        "giving up on {} {}: {why}: {}",
                        spare.method(),
                        spare.redacted_url(),
                        describe(&spare, &outcome)
                    );
                    return outcome;
                }
            };
            tracing::warn!(
                "retrying {} {} in {:.3}s (attempt {} of {}): {}",
                spare.method(),
                spare.redacted_url(),
                wait.as_secs_f64(),
                attempt + 1,
                self.policy.max_attempts,
                describe(&spare, &outcome)
            );
            tokio::time::sleep(wait).await;
            waited += wait;
            attempt += 1;
            current = spare;
        }
    }
}

impl Layer for RetryLayer {
    fn handle<'a>(
        &'a self,
        request: Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Response, HttpError>> {
        Box::pin(self.run(request, next))
    }
}

/// The reason for a retry, for the log line (which already names the request).
fn describe(request: &Request, outcome: &Result<Response, HttpError>) -> String {
    match outcome {
        Ok(response) => format!("HTTP {}", response.status()),
        Err(err) => {
            let text = err.to_string();
            let prefix = format!("{} {}: ", request.method(), request.redacted_url());
            text.strip_prefix(&prefix)
                .map_or_else(|| text.clone(), str::to_owned)
        }
    }
}
