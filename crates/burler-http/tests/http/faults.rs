//! Broken servers: resets, truncated bodies, HTML where JSON was expected, slow answers.

use crate::support::*;
use axum::Router;
use axum::routing::get;
use burler_http::error::TransportKind;
use burler_http::{HttpError, RetryLayer};
use std::time::{Duration, Instant};

const GOOD: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"data\": [1,2]}";
const CUT_MID_BODY: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{\"data\": [1,";

#[derive(serde::Deserialize, Debug)]
struct Data {
    data: Vec<u32>,
}

#[tokio::test]
async fn connection_closed_mid_body_is_retried() {
    let (base, connections) = raw_server(vec![CUT_MID_BODY, CUT_MID_BODY, GOOD]).await;
    let data: Data = client(&base).get("x").json().await.unwrap();
    assert_eq!(data.data, vec![1, 2]);
    assert_eq!(connections.get(), 3);
}

#[tokio::test]
async fn connection_closed_before_any_response_is_retried() {
    let (base, connections) = raw_server(vec!["", GOOD]).await;
    let data: Data = client(&base).get("x").json().await.unwrap();
    assert_eq!(data.data, vec![1, 2]);
    assert_eq!(connections.get(), 2);
}

#[tokio::test]
async fn unsupported_scheme_is_not_retried() {
    let err = client("http://127.0.0.1:9")
        .get("ftp://127.0.0.1:9/x")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::Transport {
                kind: TransportKind::Other,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .starts_with("GET ftp://127.0.0.1:9/x: request failed"),
        "{err}"
    );
}

#[tokio::test]
async fn connection_always_cut_ends_in_a_one_line_body_error() {
    let (base, connections) = raw_server(vec![CUT_MID_BODY]).await;
    let err = client(&base).get("x").send().await.unwrap_err();
    assert_eq!(connections.get(), 4);
    assert!(
        matches!(
            err,
            HttpError::Transport {
                kind: TransportKind::Body,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("GET {base}/x: connection broke")),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[tokio::test]
async fn truncated_json_with_correct_length_is_a_decode_error_naming_the_url() {
    let truncated = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{\"data\": [1,";
    let (base, _) = raw_server(vec![truncated]).await;
    let err = client(&base).get("x").json::<Data>().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, HttpError::Decode { .. }));
    assert!(
        text.starts_with(&format!("GET {base}/x: invalid response body: EOF")),
        "{text}"
    );
    assert!(text.ends_with(r#": {"data": [1,"#), "{text}");
}

#[tokio::test]
async fn html_error_page_gives_status_error_with_excerpt() {
    let page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>";
    let router = Router::new()
        .route(
            "/gone",
            get(move || async move { (axum::http::StatusCode::GONE, axum::response::Html(page)) }),
        )
        .route(
            "/ok-html",
            get(move || async move { axum::response::Html(page) }),
        );
    let base = serve(router).await;
    let client = client(&base);
    let err = client.get("gone").send().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "GET {base}/gone: HTTP 410 Gone: <html> <head><title>502 Bad Gateway</title></head> <body>nginx</body> </html>"
        )
    );
    let err = client.get("ok-html").json::<Data>().await.unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "GET {base}/ok-html: invalid response body: expected value"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn slow_response_times_out_then_recovers() {
    let counter = Counter::default();
    let hits = counter.clone();
    let router = Router::new().route(
        "/slow",
        get(move || {
            let first = hits.hit() == 1;
            async move {
                if first {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                "[]"
            }
        }),
    );
    let base = serve(router).await;
    let client = builder(&base)
        .timeout(ms(150))
        .layer(RetryLayer::new(fast_retry(3)))
        .build()
        .unwrap();
    let items: Vec<u32> = client.get("slow").json().await.unwrap();
    assert!(items.is_empty());
    assert_eq!(counter.get(), 2);
}

#[tokio::test]
async fn always_slow_ends_in_timeout_error_naming_the_url() {
    let router = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "[]"
        }),
    );
    let base = serve(router).await;
    let client = builder(&base)
        .timeout(ms(100))
        .layer(RetryLayer::new(fast_retry(2)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.get("slow").send().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        err.to_string(),
        format!("GET {base}/slow: timed out after 100ms")
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = client(&base).get("x").send().await.unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("GET {base}/x: connection failed")),
        "{err}"
    );
}
