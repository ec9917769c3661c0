//! What to retry and for how long: the [`RetryPolicy`] value and its [`RetryPredicate`].

use super::backoff::{Backoff, ExponentialBackoff};
use crate::error::is_retryable_status;
use crate::middleware::Outcome;
use std::sync::Arc;
use std::time::Duration;

/// Decides whether an attempt's outcome is worth another try.
///
/// Any `Fn(&Outcome) -> bool` is a predicate:
/// ```
/// use burler_http::RetryPolicy;
/// use burler_http::middleware::Outcome;
/// use burler_http::retry::is_retryable_error;
/// // Also retry 409 Conflict.
/// let policy = RetryPolicy::default().retry_if(|outcome: &Outcome| match outcome {
///     Ok(response) => response.status() == 409 || burler_http::error::is_retryable_status(response.status()),
///     Err(err) => is_retryable_error(err),
/// });
/// ```
pub trait RetryPredicate: Send + Sync + 'static {
    /// Whether to retry after this outcome.
    fn should_retry(&self, outcome: &Outcome) -> bool;
}

impl<F> RetryPredicate for F
where
    F: Fn(&Outcome) -> bool + Send + Sync + 'static,
{
    fn should_retry(&self, outcome: &Outcome) -> bool {
        self(outcome)
    }
}

/// The default predicate: transport errors, timeouts, 429 and 5xx (except 501).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRetryPredicate;

impl RetryPredicate for DefaultRetryPredicate {
    fn should_retry(&self, outcome: &Outcome) -> bool {
        match outcome {
            Ok(response) => is_retryable_status(response.status()),
            Err(err) => super::is_retryable_error(err),
        }
    }
}

/// Retry settings: predicate, backoff strategy and budget (tries and total wait).
#[derive(Clone)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) max_total_wait: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) backoff: Arc<dyn Backoff>,
    pub(crate) predicate: Arc<dyn RetryPredicate>,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("max_total_wait", &self.max_total_wait)
            .finish_non_exhaustive()
    }
}

impl Default for RetryPolicy {
    /// 5 attempts, at most 10 minutes of waiting, [`ExponentialBackoff::default`],
    /// [`DefaultRetryPredicate`].
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_total_wait: Duration::from_secs(600),
            max_retry_after: Duration::from_secs(600),
            backoff: Arc::new(ExponentialBackoff::default()),
            predicate: Arc::new(DefaultRetryPredicate),
        }
    }
}

impl RetryPolicy {
    /// How many attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The most time spent waiting between attempts; a wait that would pass it ends the retries.
    pub fn max_total_wait(mut self, wait: Duration) -> Self {
        self.max_total_wait = wait;
        self
    }

    /// The longest `Retry-After` honoured; a server asking for more ends the retries.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Replaces the backoff strategy.
    pub fn backoff(mut self, backoff: impl Backoff) -> Self {
        self.backoff = Arc::new(backoff);
        self
    }

    /// Shorthand for an [`ExponentialBackoff`] between `min` and `max`.
    pub fn exponential(self, min: Duration, max: Duration) -> Self {
        self.backoff(ExponentialBackoff::new(min, max))
    }

    /// Replaces what is retried.
    pub fn retry_if(mut self, predicate: impl RetryPredicate) -> Self {
        self.predicate = Arc::new(predicate);
        self
    }
}
