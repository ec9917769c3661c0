//! A token bucket that makes callers wait asynchronously for their turn.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// `rate` tokens per `per`, at most `burst` saved up.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    per_token: Duration,
    burst: f64,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub(crate) fn new(rate: u32, per: Duration, burst: u32) -> Self {
        let per_token = per / rate.max(1);
        let burst = f64::from(burst.max(1));
        Self {
            per_token,
            burst,
            state: Mutex::new(BucketState {
                tokens: burst,
                updated: Instant::now(),
            }),
        }
    }

    /// Waits until a token is free and takes it. Waiters queue on the lock, so they are
    /// served in order.
    pub(crate) async fn acquire(&self) {
        let mut state = self.state.lock().await;
        loop {
            let now = Instant::now();
            let refill =
                now.duration_since(state.updated).as_secs_f64() / self.per_token.as_secs_f64();
            state.tokens = (state.tokens + refill).min(self.burst);
            state.updated = now;
            if state.tokens >= 1.0 {
                state.tokens -= 1.0;
                return;
            }
            let missing = 1.0 - state.tokens;
            tokio::time::sleep(self.per_token.mul_f64(missing)).await;
        }
    }
}
