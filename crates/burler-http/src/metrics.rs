//! `http_request_duration` timer metrics, one per attempt, in singer-python's format.
//!
//! Logged at INFO on tracing target `burler::metric`:
//! `METRIC: {"type": "timer", "metric": "http_request_duration", "value": 0.231, "tags": {"endpoint": "orders", "http_status_code": 200, "status": "succeeded"}}`

use crate::middleware::{EndpointName, Extensions, Middleware, Next, Outcome, http_error};
use serde_json::{Map, Value};
use std::time::Instant;

/// Times every attempt that reaches it; the client puts it inside the author's middleware, so
/// each retry is timed on its own.
#[derive(Debug, Clone, Default)]
pub struct MetricsMiddleware {
    _private: (),
}

impl MetricsMiddleware {
    /// The default metrics middleware.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl Middleware for MetricsMiddleware {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Outcome {
        let endpoint = extensions.get::<EndpointName>().map_or_else(
            || request.url().path().to_owned(),
            |name| name.0.to_string(),
        );
        let started = Instant::now();
        let outcome = next.run(request, extensions).await;
        let seconds = started.elapsed().as_secs_f64();
        let status = match &outcome {
            Ok(response) => Some(response.status()),
            Err(err) => http_error(err).and_then(|err| err.status()),
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

/// Logs a timer metric line through the protocol crate's metric writer.
fn emit_timer(metric: &str, seconds: f64, tags: Map<String, Value>) {
    burler_singer::metrics::Metric::timer(metric, (seconds * 1e6).round() / 1e6, tags).emit();
}
