//! `http_request_duration` metric lines.

use crate::support::*;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

#[tokio::test]
async fn one_timer_line_per_attempt_in_singer_python_format() {
    let counter = Counter::default();
    let hits = counter.clone();
    let router = Router::new().route(
        "/metric-orders",
        get(move || {
            let first = hits.hit() == 1;
            async move {
                if first {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy")
                } else {
                    (StatusCode::OK, "[]")
                }
            }
        }),
    );
    let base = serve(router).await;
    let logs = capture_logs();
    let client = client(&base);
    client
        .get("metric-orders")
        .endpoint("metric-test-orders")
        .send()
        .await
        .unwrap();
    client.get("metric-orders?page=2").send().await.unwrap();
    let mut metrics = logs.lines_with("\"endpoint\": \"metric-test-orders\"");
    metrics.extend(logs.lines_with("\"endpoint\": \"/metric-orders\""));
    assert_eq!(metrics.len(), 3, "{metrics:?}");
    let prefix = r#"INFO METRIC: {"type": "timer", "metric": "http_request_duration", "value": "#;
    for line in &metrics {
        assert!(line.trim_start().starts_with(prefix), "{line}");
        let json = line.split_once("METRIC: ").unwrap().1;
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        assert!(value["value"].as_f64().unwrap() >= 0.0);
    }
    assert!(metrics[0].ends_with(r#""tags": {"endpoint": "metric-test-orders", "http_status_code": 503, "status": "failed"}}"#), "{}", metrics[0]);
    assert!(metrics[1].ends_with(r#""tags": {"endpoint": "metric-test-orders", "http_status_code": 200, "status": "succeeded"}}"#), "{}", metrics[1]);
    assert!(metrics[2].ends_with(r#""tags": {"endpoint": "/metric-orders", "http_status_code": 200, "status": "succeeded"}}"#), "{}", metrics[2]);
}
