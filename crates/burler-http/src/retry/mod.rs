//! Middleware for retrying failed requests, with backoff, `Retry-After` and a budget.
//!
//! ```
//! use burler_http::{HttpClient, RetryMiddleware, RetryPolicy};
//! use std::time::Duration;
//!
//! let client = HttpClient::builder("https://api.example.com")
//!     .unwrap()
//!     .with(RetryMiddleware::new(
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
use crate::message::header_text;
use crate::middleware::{Extensions, Middleware, Next, Outcome};
use std::time::{Duration, SystemTime};

/// Retries requests as its [`RetryPolicy`] says; each retry is logged at WARN.
///
/// It is this crate's rather than reqwest-retry's `RetryTransientMiddleware` because that one
/// neither honours `Retry-After` nor bounds the total wait; with the client's body reader below
/// it, a connection that breaks mid-body is retried too.
#[derive(Debug, Clone, Default)]
pub struct RetryMiddleware {
    policy: RetryPolicy,
}

impl RetryMiddleware {
    /// A retry middleware with this policy.
    pub fn new(policy: RetryPolicy) -> Self {
        Self { policy }
    }

    /// The wait before retry `retry` after `outcome`, `Retry-After` first.
    fn wait_for(&self, retry: u32, outcome: &Outcome) -> Result<Duration, String> {
        let asked = outcome
            .as_ref()
            .ok()
            .and_then(|response| header_text(response.headers(), "retry-after"))
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

    /// The wait before the next attempt, or `None` (with the reason logged) to give up.
    fn next_wait(
        &self,
        request: &reqwest::Request,
        attempt: u32,
        waited: Duration,
        outcome: &Outcome,
    ) -> Option<Duration> {
        if !self.policy.predicate.should_retry(outcome) {
            return None;
        }
        let why = if attempt >= self.policy.max_attempts {
            if attempt == 1 {
                return None;
            }
            format!(" after {attempt} attempts")
        } else {
            match self.wait_for(attempt, outcome) {
                Ok(wait) if waited + wait <= self.policy.max_total_wait => return Some(wait),
                Ok(wait) => format!(
                    ": waiting {wait:?} more would pass the retry budget of {:?}",
                    self.policy.max_total_wait
                ),
                Err(why) => format!(": {why}"),
            }
        };
        tracing::warn!(
            "giving up on {} {}{why}: {}",
            request.method(),
            crate::error::redact_url(request.url()),
            describe(request, outcome)
        );
        None
    }
}

#[async_trait::async_trait]
impl Middleware for RetryMiddleware {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Outcome {
        let mut waited = Duration::ZERO;
        let mut attempt = 1;
        let mut current = request;
        loop {
            let Some(spare) = current.try_clone() else {
                return next.run(current, extensions).await;
            };
            let outcome = next.clone().run(current, extensions).await;
            let Some(wait) = self.next_wait(&spare, attempt, waited, &outcome) else {
                return outcome;
            };
            tracing::warn!(
                "retrying {} {} in {:.3}s (attempt {} of {}): {}",
                spare.method(),
                crate::error::redact_url(spare.url()),
                wait.as_secs_f64(),
                attempt + 1,
                self.policy.max_attempts,
                describe(&spare, &outcome)
            );
            drop(outcome);
            tokio::time::sleep(wait).await;
            waited += wait;
            attempt += 1;
            current = spare;
        }
    }
}

/// The reason for a retry, for the log line (which already names the request).
fn describe(request: &reqwest::Request, outcome: &Outcome) -> String {
    let err = match outcome {
        Ok(response) => return format!("HTTP {}", response.status()),
        Err(err) => err,
    };
    match (err, crate::middleware::http_error(err)) {
        (reqwest_middleware::Error::Reqwest(err), _) => crate::error::transport_text(err),
        (_, Some(err)) => {
            let text = err.to_string();
            let prefix = format!(
                "{} {}: ",
                request.method(),
                crate::error::redact_url(request.url())
            );
            text.strip_prefix(&prefix)
                .map_or_else(|| text.clone(), str::to_owned)
        }
        (other, None) => format!("{other:#}").replace('\n', " "),
    }
}

/// Whether an error of the stack is worth retrying: transport errors (connect, reset, broken
/// body) and this crate's retryable errors (timeouts).
pub fn is_retryable_error(err: &reqwest_middleware::Error) -> bool {
    match err {
        reqwest_middleware::Error::Reqwest(err) => {
            crate::error::TransportKind::of(err) != crate::error::TransportKind::Other
        }
        reqwest_middleware::Error::Middleware(_) => {
            crate::middleware::http_error(err).is_some_and(HttpError::is_retryable)
        }
    }
}
