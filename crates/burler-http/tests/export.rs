//! The bulk-export helper against a loopback fixture API: submit, polls with a growing interval,
//! CSV and JSON Lines parts streamed in tiny chunks (records and quoted fields split across
//! chunks), a failed job, a job that never finishes, a missing part and a part that does not decode.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use burler_http::HttpClient;
use burler_http::export::{ExportError, ExportJob, JobState, Part, PartFormat, Record};
use futures::TryStreamExt;
use serde_json::{Value, json};

const CSV_ROWS: u64 = 3_000;
const JSONL_ROWS: u64 = 2_000;

#[derive(Clone, Default)]
struct Fixture {
    base: Arc<Mutex<String>>,
    polls: Arc<Mutex<Vec<Instant>>>,
}

/// A body sent 7 bytes at a time, so records and quoted fields straddle chunks.
fn trickle(text: String) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text
        .into_bytes()
        .chunks(7)
        .map(|c| Ok(c.to_vec()))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

fn csv_part() -> String {
    let mut text = String::from("id,name,note\n");
    for id in 1..=CSV_ROWS {
        let note = match id % 3 {
            0 => String::new(),
            1 => format!("\"a, quoted \"\"note\"\"\nover two lines {id}\""),
            _ => format!("plain {id}"),
        };
        text += &format!("{id},name {id},{note}\n");
    }
    text
}

fn jsonl_part() -> String {
    (CSV_ROWS + 1..=CSV_ROWS + JSONL_ROWS)
        .map(|id| json!({"id": id, "nested": {"ok": id % 2 == 0}}).to_string() + "\n\n")
        .collect()
}

async fn submit(Json(body): Json<Value>) -> Json<Value> {
    Json(json!({"id": format!("job-{}", body["kind"].as_str().unwrap_or("ok"))}))
}

async fn status(State(f): State<Fixture>, Path(id): Path<String>) -> Json<Value> {
    let n = {
        let mut polls = f.polls.lock().unwrap();
        polls.push(Instant::now());
        polls.len()
    };
    let base = f.base.lock().unwrap().clone();
    Json(match id.as_str() {
        "job-ok" if n >= 3 => {
            json!({"state": "done", "files": [[format!("{base}/parts/a.csv"), "csv"], [format!("{base}/parts/b.jsonl"), "jsonl"]]})
        }
        "job-fail" => json!({"state": "failed", "error": "quota exceeded"}),
        "job-missing" => {
            json!({"state": "done", "files": [[format!("{base}/parts/nope.csv"), "csv"]]})
        }
        "job-bad" => {
            json!({"state": "done", "files": [[format!("{base}/parts/bad.jsonl"), "jsonl"]]})
        }
        _ => json!({"state": "running"}),
    })
}

async fn part(Path(name): Path<String>) -> axum::response::Response {
    match name.as_str() {
        "a.csv" => trickle(csv_part()).into_response_ok(),
        "b.jsonl" => trickle(jsonl_part()).into_response_ok(),
        "bad.jsonl" => trickle("{\"id\": 1}\n[2]\n".into()).into_response_ok(),
        _ => axum::response::Response::builder()
            .status(404)
            .body(Body::from("no such part"))
            .unwrap(),
    }
}

trait Ok200 {
    fn into_response_ok(self) -> axum::response::Response;
}

impl Ok200 for Body {
    fn into_response_ok(self) -> axum::response::Response {
        axum::response::Response::new(self)
    }
}

async fn serve() -> (HttpClient, Fixture) {
    let fixture = Fixture::default();
    let router = Router::new()
        .route("/exports", post(submit))
        .route("/exports/{id}", get(status))
        .route("/parts/{name}", get(part))
        .with_state(fixture.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    *fixture.base.lock().unwrap() = base.clone();
    (
        HttpClient::builder(&base).unwrap().build().unwrap(),
        fixture,
    )
}

fn job(kind: &'static str) -> ExportJob {
    ExportJob::new(
        move |c: HttpClient| async move {
            let answer: Value = c
                .post("exports")
                .json_body(&json!({"kind": kind}))
                .json()
                .await?;
            Ok(answer["id"].as_str().unwrap_or_default().to_owned())
        },
        |c: HttpClient, id: String| async move {
            let status: Value = c.get(&format!("exports/{id}")).json().await?;
            Ok(match status["state"].as_str() {
                Some("done") => JobState::Done(
                    status["files"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|f| {
                            let format = if f[1] == "csv" {
                                PartFormat::Csv
                            } else {
                                PartFormat::JsonLines
                            };
                            Part::new(f[0].as_str().unwrap_or_default(), format)
                        })
                        .collect::<Result<_, _>>()?,
                ),
                Some("failed") => {
                    JobState::Failed(status["error"].as_str().unwrap_or_default().to_owned())
                }
                _ => JobState::Running,
            })
        },
    )
    .poll_interval(Duration::from_millis(20), Duration::from_millis(200))
}

async fn collect(job: &ExportJob, client: &HttpClient) -> Result<Vec<Record>, ExportError> {
    job.records(client).try_collect().await
}

#[tokio::test]
async fn a_job_is_polled_until_done_and_its_parts_stream_their_records_in_order() {
    let (client, fixture) = serve().await;
    let records = collect(&job("ok"), &client).await.unwrap();
    assert_eq!(records.len() as u64, CSV_ROWS + JSONL_ROWS);
    assert_eq!(
        records[0]["note"],
        json!("a, quoted \"note\"\nover two lines 1")
    );
    assert_eq!(records[1]["note"], json!("plain 2"));
    assert_eq!(
        records[2]["note"],
        Value::Null,
        "an empty CSV field is null"
    );
    assert_eq!(records[2]["id"], json!("3"), "CSV values are strings");
    let last_csv = &records[CSV_ROWS as usize - 1];
    assert_eq!(last_csv["name"], json!(format!("name {CSV_ROWS}")));
    assert_eq!(
        records[CSV_ROWS as usize],
        serde_json::from_value::<Record>(json!({"id": CSV_ROWS + 1, "nested": {"ok": false}}))
            .unwrap()
    );
    let ids: Vec<u64> = records
        .iter()
        .map(|r| {
            r["id"]
                .as_u64()
                .or_else(|| r["id"].as_str()?.parse().ok())
                .unwrap()
        })
        .collect();
    assert_eq!(ids, (1..=CSV_ROWS + JSONL_ROWS).collect::<Vec<_>>());
    let polls = fixture.polls.lock().unwrap().clone();
    assert_eq!(polls.len(), 3, "two running answers, then done");
    let gaps: Vec<Duration> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps[0] >= Duration::from_millis(40) && gaps[1] >= Duration::from_millis(80),
        "the interval doubles: {gaps:?}"
    );
}

#[tokio::test]
async fn a_failed_job_a_job_that_never_ends_and_broken_parts_are_one_clear_error_each() {
    let (client, _) = serve().await;
    let failed = collect(&job("fail"), &client).await.unwrap_err();
    assert!(matches!(failed, ExportError::Failed { .. }));
    assert_eq!(
        failed.to_string(),
        "export job job-fail: failed: quota exceeded"
    );
    let slow = job("slow").max_wait(Duration::from_millis(150));
    let timed_out = collect(&slow, &client).await.unwrap_err();
    assert!(
        timed_out
            .to_string()
            .starts_with("export job job-slow: not done after"),
        "{timed_out}"
    );
    let missing = collect(&job("missing"), &client).await.unwrap_err();
    let text = missing.to_string();
    assert!(
        text.contains("/parts/nope.csv") && text.contains("404") && text.contains("no such part"),
        "{text}"
    );
    let bad_job = job("bad");
    let mut bad = std::pin::pin!(bad_job.records(&client));
    assert_eq!(
        bad.try_next().await.unwrap().unwrap()["id"],
        1,
        "records before the bad line still arrive"
    );
    let error = bad.try_next().await.unwrap_err().to_string();
    assert!(
        error.contains("/parts/bad.jsonl: record 2: a JSON array where an object belongs"),
        "{error}"
    );
}
