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

/// Logs a timer metric line.
fn emit_timer(metric: &str, seconds: f64, tags: Map<String, Value>) {
    let mut line = String::from("{\"type\": \"timer\", \"metric\": ");
    push_python_json(&mut line, &Value::from(metric));
    line.push_str(", \"value\": ");
    push_python_json(&mut line, &Value::from((seconds * 1e6).round() / 1e6));
    line.push_str(", \"tags\": ");
    push_python_json(&mut line, &Value::Object(tags));
    line.push('}');
    tracing::info!(target: "burler::metric", "METRIC: {line}");
}

/// JSON with Python's `json.dumps` separators (`", "` and `": "`).
fn push_python_json(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push_str(": ");
                push_python_json(out, value);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_python_json(out, item);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_separators() {
        let mut out = String::new();
        push_python_json(
            &mut out,
            &serde_json::json!({"endpoint": "orders", "http_status_code": 200, "l": [1, 2]}),
        );
        assert_eq!(
            out,
            r#"{"endpoint": "orders", "http_status_code": 200, "l": [1, 2]}"#
        );
    }
}
