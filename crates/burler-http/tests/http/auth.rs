//! Auth: fixed credentials, refresh on 401, periodic refresh, OAuth2 flows.

use crate::support::*;
use axum::extract::Form;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use burler_http::auth::{Credential, Refresh};
use burler_http::{ApiKey, BasicAuth, BearerToken, HttpError, OAuth2};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Echoes the request's authorization header and query string.
fn echo() -> Router {
    Router::new().route(
        "/whoami",
        get(|headers: HeaderMap, uri: axum::http::Uri| async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            Json(json!({"authorization": auth, "x-api-key": key, "query": uri.query().unwrap_or(""), "user-agent": agent}))
        }),
    )
}

#[tokio::test]
async fn fixed_credentials_are_applied() {
    let base = serve(echo()).await;
    let bearer: Value = builder(&base)
        .auth(BearerToken::new("t0k"))
        .build()
        .unwrap()
        .get("whoami")
        .json()
        .await
        .unwrap();
    assert_eq!(bearer["authorization"], "Bearer t0k");
    assert_eq!(bearer["user-agent"], "tap-test/0.0.1");
    let basic: Value = builder(&base)
        .auth(BasicAuth::new("u", "p"))
        .build()
        .unwrap()
        .get("whoami")
        .json()
        .await
        .unwrap();
    assert_eq!(basic["authorization"], "Basic dTpw");
    let header: Value = builder(&base)
        .auth(ApiKey::header("x-api-key", "k1"))
        .build()
        .unwrap()
        .get("whoami")
        .json()
        .await
        .unwrap();
    assert_eq!(header["x-api-key"], "k1");
    let query: Value = builder(&base)
        .auth(ApiKey::query("api_key", "k2"))
        .build()
        .unwrap()
        .get("whoami?a=1")
        .json()
        .await
        .unwrap();
    assert_eq!(query["query"], "a=1&api_key=k2");
}

/// Accepts only `Bearer <current>`; the current token changes when `rotate` is hit.
fn protected(valid: Arc<Mutex<String>>, calls: Counter) -> Router {
    Router::new().route(
        "/secret",
        get(move |headers: HeaderMap| {
            calls.hit();
            let expected = format!("Bearer {}", valid.lock().unwrap());
            let ok = headers
                .get("authorization")
                .is_some_and(|v| v == expected.as_str());
            async move {
                if ok {
                    (StatusCode::OK, "{\"ok\": true}")
                } else {
                    (StatusCode::UNAUTHORIZED, "{\"error\": \"expired\"}")
                }
            }
        }),
    )
}

fn token_source(tokens: &'static [&'static str], fetches: Counter) -> Refresh {
    Refresh::one_time(move || {
        let n = fetches.hit();
        async move { Ok::<_, HttpError>(Credential::bearer(tokens[(n - 1).min(tokens.len() - 1)])) }
    })
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries() {
    let valid = Arc::new(Mutex::new("new".to_owned()));
    let (calls, fetches) = (Counter::default(), Counter::default());
    let base = serve(protected(valid, calls.clone())).await;
    let client = builder(&base)
        .auth(token_source(&["old", "new"], fetches.clone()))
        .build()
        .unwrap();
    let body: Value = client.get("secret").json().await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!((calls.get(), fetches.get()), (2, 2));
    // The refreshed credential is kept for later requests.
    client.get("secret").send().await.unwrap();
    assert_eq!((calls.get(), fetches.get()), (3, 2));
}

#[tokio::test]
async fn a_second_401_is_an_error() {
    let valid = Arc::new(Mutex::new("never".to_owned()));
    let (calls, fetches) = (Counter::default(), Counter::default());
    let base = serve(protected(valid, calls.clone())).await;
    let client = builder(&base)
        .auth(token_source(&["a", "b", "c"], fetches.clone()))
        .build()
        .unwrap();
    let err = client.get("secret").send().await.unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    assert_eq!((calls.get(), fetches.get()), (2, 2));
    assert!(!err.to_string().contains("Bearer"), "{err}");
}

#[tokio::test]
async fn fixed_credentials_do_not_retry_a_401_nor_claim_a_refresh() {
    let logs = capture_logs();
    let calls = Counter::default();
    let base = serve(protected(Arc::new(Mutex::new("x".into())), calls.clone())).await;
    let err = builder(&base)
        .auth(BearerToken::new("wrong"))
        .build()
        .unwrap()
        .get("secret")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    assert_eq!(calls.get(), 1);
    assert_eq!(
        logs.lines_with(&base),
        Vec::<String>::new(),
        "nothing claims a refresh"
    );
}

#[tokio::test]
async fn a_refreshable_credential_logs_its_refresh() {
    let logs = capture_logs();
    let valid = Arc::new(Mutex::new("new".to_owned()));
    let base = serve(protected(valid, Counter::default())).await;
    let client = builder(&base)
        .auth(token_source(&["old", "new"], Counter::default()))
        .build()
        .unwrap();
    client.get("secret").send().await.unwrap();
    let lines = logs.lines_with(&base);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with(&format!(
            "GET {base}/secret: 401 Unauthorized, refreshing the credential"
        )),
        "{lines:?}"
    );
}

#[tokio::test]
async fn periodic_refresh_renews_after_the_period() {
    let fetches = Counter::default();
    let counter = fetches.clone();
    let refresh = Refresh::periodic(
        move || {
            let n = counter.hit();
            async move { Ok::<_, std::io::Error>(Credential::bearer(format!("t{n}"))) }
        },
        ms(150),
    );
    let base = serve(echo()).await;
    let client = builder(&base).auth(refresh).build().unwrap();
    let first: Value = client.get("whoami").json().await.unwrap();
    let again: Value = client.get("whoami").json().await.unwrap();
    tokio::time::sleep(ms(200)).await;
    let later: Value = client.get("whoami").json().await.unwrap();
    assert_eq!(first["authorization"], "Bearer t1");
    assert_eq!(again["authorization"], "Bearer t1");
    assert_eq!(later["authorization"], "Bearer t2");
}

#[tokio::test]
async fn refresh_function_failure_is_an_auth_error() {
    let refresh = Refresh::one_time(|| async { Err::<Credential, _>("vault unreachable") });
    let base = serve(echo()).await;
    let err = builder(&base)
        .auth(refresh)
        .build()
        .unwrap()
        .get("whoami")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "authentication failed: credential refresh failed: vault unreachable"
    );
}

/// A token endpoint recording the forms it got; tokens live `expires_in` seconds.
fn token_endpoint(forms: Arc<Mutex<Vec<HashMap<String, String>>>>, expires_in: u64) -> Router {
    Router::new().route(
        "/token",
        post(move |Form(form): Form<HashMap<String, String>>| {
            let mut forms = forms.lock().unwrap();
            forms.push(form.clone());
            let n = forms.len();
            let ok = form.get("client_secret").is_some_and(|s| s == "shh");
            async move {
                if !ok {
                    return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_client"})));
                }
                (StatusCode::OK, Json(json!({"access_token": format!("at{n}"), "expires_in": expires_in, "refresh_token": format!("rt{n}")})))
            }
        }),
    )
}

#[tokio::test]
async fn oauth2_client_credentials_honours_expires_in() {
    let forms = Arc::default();
    let base = serve(token_endpoint(Arc::clone(&forms), 1).merge(echo())).await;
    let auth = OAuth2::client_credentials_with_scope(&format!("{base}/token"), "id", "shh", "read")
        .unwrap();
    let client = builder(&base).auth(auth).build().unwrap();
    let first: Value = client.get("whoami").json().await.unwrap();
    let second: Value = client.get("whoami").json().await.unwrap();
    assert_eq!(
        (
            first["authorization"].as_str(),
            second["authorization"].as_str()
        ),
        (Some("Bearer at1"), Some("Bearer at1"))
    );
    tokio::time::sleep(ms(950)).await;
    let third: Value = client.get("whoami").json().await.unwrap();
    assert_eq!(third["authorization"], "Bearer at2");
    let forms = forms.lock().unwrap();
    assert_eq!(forms[0]["grant_type"], "client_credentials");
    assert_eq!(forms[0]["scope"], "read");
}

#[tokio::test]
async fn oauth2_refresh_token_rotates_the_refresh_token() {
    let forms = Arc::default();
    let base = serve(token_endpoint(Arc::clone(&forms), 3600).merge(protected(
        Arc::new(Mutex::new("at2".into())),
        Counter::default(),
    )))
    .await;
    let auth = OAuth2::refresh_token(&format!("{base}/token"), "id", "shh", "rt0").unwrap();
    let client = builder(&base).auth(auth).build().unwrap();
    // at1 is rejected, the 401 refresh gets at2 using the rotated refresh token rt1.
    client.get("secret").send().await.unwrap();
    let forms = forms.lock().unwrap();
    assert_eq!(forms.len(), 2);
    assert_eq!(
        (
            forms[0]["refresh_token"].as_str(),
            forms[1]["refresh_token"].as_str()
        ),
        ("rt0", "rt1")
    );
    assert_eq!(forms[1]["grant_type"], "refresh_token");
}

#[tokio::test]
async fn oauth2_token_endpoint_rejection_names_the_endpoint() {
    let base = serve(token_endpoint(Arc::default(), 60)).await;
    let auth = OAuth2::client_credentials(&format!("{base}/token"), "id", "wrong").unwrap();
    let err = builder(&base)
        .auth(auth)
        .build()
        .unwrap()
        .get("whoami")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "authentication failed at {base}/token: token endpoint answered HTTP 400 Bad Request: {{\"error\":\"invalid_client\"}}"
        )
    );
}

#[tokio::test]
async fn concurrent_first_requests_fetch_the_credential_once() {
    let fetches = Counter::default();
    let counter = fetches.clone();
    let refresh = Refresh::one_time(move || {
        counter.hit();
        async {
            tokio::time::sleep(ms(50)).await;
            Ok::<_, HttpError>(Credential::bearer("shared"))
        }
    });
    let base = serve(echo()).await;
    let client = builder(&base).auth(refresh).build().unwrap();
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get("whoami").json::<Value>().await.unwrap() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap()["authorization"], "Bearer shared");
    }
    assert_eq!(fetches.get(), 1);
}
