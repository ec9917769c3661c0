//! `http_request_duration` timer metrics, one per attempt, in singer-python's format.
//!
//! Logged at INFO on tracing target `burler::metric`:
//! `METRIC: {"type": "timer", "metric": "http_request_duration", "value": 0.231, "tags": {"endpoint": "orders", "http_status_code": 200, "status": "succeeded"}}`

use crate::error::HttpError;
use crate::layer::{BoxFuture, Layer, Next};
use crate::message::{Request, Response};
use serde_json::{Map, Value};
use std::time::Instant;

/// Times every request that reaches it (put innermost to time each attempt; the client
/// does this by default).
#[derive(Debug, Clone, Default)]
pub struct MetricsLayer {
    _private: (),
}

impl MetricsLayer {
    /// The default metrics layer.
    pub fn new() -> Self {
        Self::default()
    }

    async fn run(&self, request: Request, next: Next<'_>) -> Result<Response, HttpError> {
        let endpoint = request
            .endpoint()
            .map_or_else(|| request.url().path().to_owned(), str::to_owned);
        let started = Instant::now();
        let outcome = next.run(request).await;
        let seconds = started.elapsed().as_secs_f64();
        let status = match &outcome {
            Ok(response) => Some(response.status()),
            Err(err) => err.status(),
        };
        let succeeded =
            outcome.is_ok() && status.is_some_and(|s| !s.is_client_error() && !s.is_server_error());
        let mut tags = Map::new();
        tags.insert("endpoint".into(), Value::String(endpoint));
        if let Some(status) = status {
            tags.insert("http_status_code".into(), Value::from(status.as_u16()));
        }
        tags.insert(
            "status".into(),
            Value::from(if succeeded { "succeeded" } else { "failed" }),
        );
        emit_timer("http_request_duration", seconds, tags);
        outcome
    }
}

impl Layer for MetricsLayer {
    fn handle<'a>(
        &'a self,
        request: Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Response, HttpError>> {
        Box::pin(self.run(request, next))
    }
}

/// Logs a timer metric line through the protocol crate's metric writer.
fn emit_timer(metric: &str, seconds: f64, tags: Map<String, Value>) {
    burler_singer::metrics::Metric::timer(metric, (seconds * 1e6).round() / 1e6, tags).emit();
}
