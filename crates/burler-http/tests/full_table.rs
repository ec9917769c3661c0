//! Resumable pagination through real burler tap runs: a FULL_TABLE stream checkpoints each
//! page's resume point; a run cut between pages (the server fails a page) resumes at the last
//! checkpoint under the same table version, for cursors, page numbers and links alike, and the
//! test kit's resume check finds no record lost at any cut.

use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use burler::prelude::*;
use burler::{CaptureBuffer, RunOutcome};
use burler_http::paginate::{Cursor, LinkHeader, PageNumber};
use burler_http::{HttpClient, HttpError, Paged};
use burler_testkit::ResumeCheck;
use burler_testkit::runner::{InProcessTap, RunInput};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Items on the server, ten a page.
const ITEMS: u64 = 95;
const PER_PAGE: u64 = 10;

/// The server's switches and what it was asked.
#[derive(Default)]
struct Api {
    /// The 0-based page index that answers 500 (`u64::MAX`: none).
    fail_at: AtomicU64,
    /// The page indexes requested, in order.
    asked: Mutex<Vec<u64>>,
}

type Params = Query<HashMap<String, String>>;

fn number(q: &HashMap<String, String>, name: &str, default: u64) -> u64 {
    q.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Page `index` of the items, or a 500 when the switch says so.
fn page(
    api: &Api,
    index: u64,
    headers: HeaderMap,
    body: impl FnOnce(Vec<Value>) -> Value,
) -> Response {
    api.asked.lock().unwrap().push(index);
    if api.fail_at.load(Ordering::SeqCst) == index {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let items = (index * PER_PAGE..((index + 1) * PER_PAGE).min(ITEMS))
        .map(|id| json!({"id": id}))
        .collect();
    (headers, Json(body(items))).into_response()
}

fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route(
            "/cursor",
            get(|State(api): State<Arc<Api>>, Query(q): Params| async move {
                let index = number(&q, "cursor", 0) / PER_PAGE;
                let next =
                    ((index + 1) * PER_PAGE < ITEMS).then(|| ((index + 1) * PER_PAGE).to_string());
                page(
                    &api,
                    index,
                    HeaderMap::new(),
                    |data| json!({"data": data, "next": next}),
                )
            }),
        )
        .route(
            "/pages",
            get(|State(api): State<Arc<Api>>, Query(q): Params| async move {
                let index = number(&q, "page", 1) - 1;
                page(&api, index, HeaderMap::new(), |data| json!({"data": data}))
            }),
        )
        .route(
            "/link",
            get(|State(api): State<Arc<Api>>, Query(q): Params| async move {
                let index = number(&q, "p", 1) - 1;
                let mut headers = HeaderMap::new();
                if (index + 1) * PER_PAGE < ITEMS {
                    let link = format!("</link?p={}>; rel=\"next\"", index + 2);
                    headers.insert("link", link.parse().unwrap());
                }
                page(&api, index, headers, |data| json!({"data": data}))
            }),
        )
        .with_state(api)
}

/// Serves the items on 127.0.0.1 from a thread of its own (a tap run has its own runtime).
fn serve() -> (String, Arc<Api>) {
    let api = Arc::new(Api {
        fail_at: AtomicU64::new(u64::MAX),
        ..Api::default()
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let app = router(api.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (base, api)
}

/// The pages of the endpoint of `strategy`.
fn paged(client: &HttpClient, strategy: &str) -> Paged {
    match strategy {
        "pages" => client
            .get("pages")
            .paginate(PageNumber::new("page").page_size("per_page", 10)),
        "link" => client.get("link").paginate(LinkHeader::new()),
        _ => client.get("cursor").paginate(Cursor::new("cursor", "next")),
    }
    .records_at("data")
}

type Client = (HttpClient, String);

/// The whole table, page by page, the next page's position checkpointed after each.
async fn sync_items(ctx: SyncContext<Value, Value, Client>) -> SyncResult {
    let (client, strategy) = ctx.client();
    let resume = ctx.resume_point();
    let mut pages = pin!(
        paged(client, strategy)
            .resume_at(resume.as_ref())
            .pages::<Value>()
    );
    while let Some(page) = pages.next().await {
        let page = page?;
        let next = page.resume_point();
        ctx.emit_all(page.into_records())?;
        if let Some(next) = next {
            ctx.checkpoint(next).await?;
        }
    }
    Ok(())
}

fn tap() -> Tap<Value, Client> {
    let schema = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
    Tap::new("tap-items")
        .client(|config: &Value| -> Result<Client, HttpError> {
            let base = config["base_url"].as_str().unwrap_or_default();
            let strategy = config["strategy"].as_str().unwrap_or("cursor").to_owned();
            Ok((HttpClient::builder(base)?.build()?, strategy))
        })
        .stream(
            Stream::new("items")
                .schema(schema)
                .key(["id"])
                .full_table()
                .sync(sync_items),
        )
}

/// One run with `config` and, when given, `state`: its outcome and messages.
fn run(dir: &std::path::Path, config: &Value, state: Option<&Value>) -> (RunOutcome, Vec<Value>) {
    let write = |name: &str, value: &Value| {
        let path = dir.join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.display().to_string()
    };
    let mut args = vec![
        "tap-items".to_owned(),
        "--config".into(),
        write("config.json", config),
    ];
    if let Some(state) = state {
        args.extend(["--state".into(), write("state.json", state)]);
    }
    let sink = CaptureBuffer::new();
    let outcome = tap().run_with(args, Box::new(sink.clone()));
    let messages = sink
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (outcome, messages)
}

fn of_type<'a>(messages: &'a [Value], kind: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["type"] == kind).collect()
}

fn ids(messages: &[Value]) -> Vec<u64> {
    of_type(messages, "RECORD")
        .iter()
        .map(|m| m["record"]["id"].as_u64().unwrap())
        .collect()
}

/// Cuts a sync of `strategy` at page 4 (a 500), resumes it, checks the resumed run; returns the
/// resume point the cut run left.
fn cut_and_resume(strategy: &str) -> Value {
    let (base, api) = serve();
    let dir = tempfile::tempdir().unwrap();
    let config = json!({"base_url": base, "strategy": strategy});
    api.fail_at.store(4, Ordering::SeqCst);
    let (cut, first) = run(dir.path(), &config, None);
    assert_eq!(cut.exit_code, 1, "the failed page fails the run");
    assert_eq!(ids(&first), (0..40).collect::<Vec<_>>());
    let state = of_type(&first, "STATE").last().unwrap()["value"].clone();
    let bookmark = &state["bookmarks"]["items"];
    let version = bookmark["version"].clone();
    assert!(version.is_i64(), "the version stays open: {state}");

    api.fail_at.store(u64::MAX, Ordering::SeqCst);
    api.asked.lock().unwrap().clear();
    let (resumed, second) = run(dir.path(), &config, Some(&state));
    assert_eq!(resumed.exit_code, 0, "{:?}", resumed.error);
    assert_eq!(
        ids(&second),
        (40..ITEMS).collect::<Vec<_>>(),
        "only the pages after the checkpoint"
    );
    assert_eq!(
        api.asked.lock().unwrap().first(),
        Some(&4),
        "the first request is the cut page's"
    );
    assert!(
        of_type(&second, "RECORD")
            .iter()
            .all(|m| m["version"] == version)
    );
    let activations: Vec<&Value> = of_type(&second, "ACTIVATE_VERSION")
        .iter()
        .map(|m| &m["version"])
        .collect();
    assert_eq!(activations, [&version], "once, when the table is done");
    let end = &of_type(&second, "STATE").last().unwrap()["value"];
    assert_eq!(
        end["bookmarks"]["items"],
        json!({}),
        "position and version leave"
    );
    bookmark["resume_point"].clone()
}

#[test]
fn a_cursor_sync_cut_between_pages_resumes_at_the_cut_page() {
    assert_eq!(cut_and_resume("cursor"), json!({"cursor": "40"}));
}

#[test]
fn a_page_number_sync_cut_between_pages_resumes_at_the_cut_page() {
    assert_eq!(cut_and_resume("pages"), json!({"page_index": 4}));
}

#[test]
fn a_link_sync_cut_between_pages_resumes_at_the_cut_page() {
    let point = cut_and_resume("link");
    assert!(
        point["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/link?p=5")),
        "{point}"
    );
}

#[test]
fn no_record_is_lost_at_any_cut_of_a_paged_full_table_sync() {
    let (base, _api) = serve();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, json!({"base_url": base}).to_string()).unwrap();
    let report = ResumeCheck::new().run(&InProcessTap::new(tap), &RunInput::sync(&config));
    report.assert_passes();
    assert!(report.resumed_runs >= 5, "{report:?}");
}
