//! A test API with one route per manifest feature (auth schemes, paginators, incremental and
//! windowed queries, parents and children, POST bodies), and helpers that run a manifest
//! in-process against it.

#![allow(dead_code)] // each test binary uses part of it

use axum::extract::{Form, Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;

type Params = Query<HashMap<String, String>>;

/// The seven widgets every route serves: ids 1..=7, `updated_at` on 2024-01-0{id}, groups 0 and 1.
pub fn widgets() -> Vec<Value> {
    (1..=7)
        .map(|id| {
            json!({"id": id, "name": format!("widget {id}"), "group": id % 2,
            "updated_at": format!("2024-01-0{id}T00:00:00Z")})
        })
        .collect()
}

fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "unauthorized"})),
    )
        .into_response()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn number(q: &HashMap<String, String>, key: &str, default: usize) -> usize {
    q.get(key).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn page(offset: usize, limit: usize) -> Vec<Value> {
    widgets().into_iter().skip(offset).take(limit).collect()
}

async fn cursor(Query(q): Params) -> Json<Value> {
    let (after, limit) = (number(&q, "after", 0), number(&q, "limit", 3));
    let next = (after + limit < 7).then(|| (after + limit).to_string());
    Json(json!({"results": page(after, limit), "next": next}))
}

async fn next_url(Query(q): Params) -> Json<Value> {
    let p = number(&q, "p", 1);
    let next = (p * 3 < 7).then(|| format!("/next/items?p={}", p + 1));
    Json(json!({"items": page((p - 1) * 3, 3), "links": {"next": next}}))
}

async fn link(Query(q): Params) -> Response {
    let p = number(&q, "page", 1);
    let mut response = Json(page((p - 1) * 3, 3)).into_response();
    if p * 3 < 7 {
        let value = format!("</link/items?page={}>; rel=\"next\"", p + 1);
        response.headers_mut().insert(
            "link",
            HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("")),
        );
    }
    response
}

async fn paged(Query(q): Params) -> Json<Value> {
    let (p, size) = (number(&q, "page", 1), number(&q, "per_page", 3));
    Json(Value::Array(page((p - 1) * size, size)))
}

/// Ignores `page`: the first page, every time.
async fn stuck() -> Json<Value> {
    Json(json!({"data": page(0, 3), "next": 2}))
}

/// A new cursor every time, the same records under it (for 20 pages, so that a missed loop is
/// a wrong answer, not a hang).
async fn drifting(Query(q): Params) -> Json<Value> {
    let after = number(&q, "after", 0);
    let next = (after < 20).then(|| (after + 1).to_string());
    Json(json!({"data": page(0, 3), "next": next}))
}

/// The widgets keyed by name: `$.data[*]` selects the object's values.
async fn keyed() -> Json<Value> {
    let data: serde_json::Map<String, Value> = widgets()
        .into_iter()
        .map(|w| (format!("w{}", w["id"]), w))
        .collect();
    Json(json!({"data": data}))
}

/// Two pages of one record each, written with spaces and an escape (as some APIs do), the
/// cursor at `meta.next`.
async fn spaced(Query(q): Params) -> Response {
    let body = match q.get("after").map(String::as_str) {
        None => r#"{"data": [{"id": 1, "name": "w\u0031"}], "meta": {"next": "2"}}"#,
        Some(_) => r#"{"meta": {"next": null}, "data": [{"id": 2, "name": "w2"}]}"#,
    };
    ([("content-type", "application/json")], body).into_response()
}

/// The widgets as a pretty-printed body (line breaks between tokens, and in no string).
async fn pretty() -> Response {
    let body = serde_json::to_string_pretty(&json!({"data": widgets()})).unwrap_or_default();
    ([("content-type", "application/json")], body).into_response()
}

async fn offset(Query(q): Params) -> Json<Value> {
    Json(json!({"rows": page(number(&q, "offset", 0), number(&q, "limit", 3))}))
}

/// Widgets with `since <= updated_at < until` (`until` optional); `seen` echoes the query.
async fn updated(Query(q): Params) -> Json<Value> {
    let since = q.get("since").cloned().unwrap_or_default();
    let until = q.get("until").cloned();
    let data: Vec<Value> = widgets()
        .into_iter()
        .filter(|w| {
            let at = w["updated_at"].as_str().unwrap_or_default();
            at >= since.as_str() && until.as_deref().is_none_or(|u| at < u)
        })
        .collect();
    Json(json!({"data": data, "seen": q}))
}

async fn members(Path(gid): Path<u64>, Query(q): Params) -> Json<Value> {
    let kind = q.get("kind").cloned().unwrap_or_default();
    let data: Vec<Value> = widgets()
        .into_iter()
        .filter(|w| w["group"] == gid)
        .map(|mut w| {
            w["kind"] = json!(kind);
            w
        })
        .collect();
    Json(json!({"data": data}))
}

async fn search(Json(body): Json<Value>) -> Json<Value> {
    let q = body["q"].as_str().unwrap_or_default().to_owned();
    let p = body["page"].as_u64().unwrap_or(1) as usize;
    let hits: Vec<Value> = widgets()
        .into_iter()
        .filter(|w| w["name"].as_str().is_some_and(|n| n.contains(&q)))
        .collect();
    let chunk: Vec<Value> = hits.iter().skip((p - 1) * 2).take(2).cloned().collect();
    Json(json!({"hits": chunk, "more": p * 2 < hits.len()}))
}

async fn token(Form(form): Form<HashMap<String, String>>) -> Response {
    let ok = form.get("client_id").map(String::as_str) == Some("cid")
        && form.get("client_secret").map(String::as_str) == Some("csecret");
    if !ok {
        return denied();
    }
    Json(json!({"access_token": "tok-oauth", "token_type": "bearer", "expires_in": 3600}))
        .into_response()
}

fn guarded(check: fn(&HeaderMap, &HashMap<String, String>) -> bool) -> axum::routing::MethodRouter {
    get(move |h: HeaderMap, Query(q): Params| async move {
        if check(&h, &q) {
            Json(json!({"data": widgets()})).into_response()
        } else {
            denied()
        }
    })
}

/// The test API.
pub fn router() -> Router {
    Router::new()
        .route(
            "/bearer/items",
            guarded(|h, _| header(h, "authorization") == Some("Bearer T")),
        )
        .route(
            "/basic/items",
            guarded(|h, _| header(h, "authorization") == Some("Basic dXNlcjpwdw==")),
        )
        .route(
            "/key/items",
            guarded(|h, q| {
                header(h, "x-key") == Some("k") || q.get("api_key").map(String::as_str) == Some("k")
            }),
        )
        .route(
            "/oauth/items",
            guarded(|h, _| header(h, "authorization") == Some("Bearer tok-oauth")),
        )
        .route("/oauth/token", post(token))
        .route("/cursor/items", get(cursor))
        .route("/next/items", get(next_url))
        .route("/link/items", get(link))
        .route("/page/items", get(paged))
        .route("/offset/items", get(offset))
        .route("/keyed/items", get(keyed))
        .route("/spaced/items", get(spaced))
        .route("/pretty/items", get(pretty))
        .route("/stuck/items", get(stuck))
        .route("/drifting/items", get(drifting))
        .route("/updated/items", get(updated))
        .route(
            "/groups",
            get(|| async {
                Json(json!([{"gid": 0, "label": "even"}, {"gid": 1, "label": "odd"}]))
            }),
        )
        .route("/groups/{gid}/members", get(members))
        .route("/search", post(search))
}

/// Serves the test API on 127.0.0.1; its base URL.
pub fn serve() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router()).await.unwrap();
        })
    });
    url
}

/// A manifest written to a temporary directory (with `files` beside it), loaded.
pub fn load(
    yaml: &str,
    files: &[(&str, &str)],
) -> (
    tempfile::TempDir,
    Result<burler_manifest::Manifest, burler_manifest::ManifestError>,
) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("tap.yaml");
    std::fs::write(&path, yaml).unwrap();
    let manifest = burler_manifest::Manifest::load(&path);
    (dir, manifest)
}

/// Runs a manifest with `config` (and `state`, and extra arguments); exit code and messages.
pub fn run(
    manifest: burler_manifest::Manifest,
    config: &Value,
    state: Option<&Value>,
    extra: &[&str],
) -> (u8, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let mut args = vec![
        "tap".to_owned(),
        "--config".into(),
        config_path.display().to_string(),
    ];
    if let Some(state) = state {
        let state_path = dir.path().join("state.json");
        std::fs::write(&state_path, state.to_string()).unwrap();
        args.extend(["--state".into(), state_path.display().to_string()]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let sink = burler::CaptureBuffer::new();
    let outcome = manifest.into_tap().run_with(args, Box::new(sink.clone()));
    let text = sink.text();
    // --discover and --about print one pretty JSON document, a sync one message a line.
    let messages = match serde_json::from_str::<Value>(&text) {
        Ok(document) => vec![document],
        Err(_) => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    };
    (outcome.exit_code, messages)
}

/// A manifest run that must succeed; its messages.
pub fn sync(yaml: &str, config: &Value) -> Vec<Value> {
    let (_dir, manifest) = load(yaml, &[]);
    let (code, messages) = run(
        manifest.unwrap_or_else(|e| panic!("{e}")),
        config,
        None,
        &[],
    );
    assert_eq!(code, 0, "the sync failed");
    messages
}

/// The records of `stream`.
pub fn records<'a>(messages: &'a [Value], stream: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| &m["record"])
        .collect()
}

/// The `id`s of `stream`'s records.
pub fn ids(messages: &[Value], stream: &str) -> Vec<u64> {
    records(messages, stream)
        .iter()
        .filter_map(|r| r["id"].as_u64())
        .collect()
}

/// The last STATE's value.
pub fn last_state(messages: &[Value]) -> Value {
    messages
        .iter()
        .rfind(|m| m["type"] == "STATE")
        .map(|m| m["value"].clone())
        .unwrap_or(Value::Null)
}

/// The problems of a manifest that must not load, as `LINE:COLUMN: message` lines.
pub fn problems(yaml: &str) -> Vec<String> {
    let (_dir, manifest) = load(yaml, &[]);
    match manifest {
        Err(burler_manifest::ManifestError::Invalid(d)) => d
            .items
            .iter()
            .map(|i| format!("{}:{}: {}", i.position.line, i.position.column, i.message))
            .collect(),
        Err(other) => panic!("not a manifest problem: {other}"),
        Ok(_) => panic!("the manifest loaded"),
    }
}
