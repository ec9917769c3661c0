//! The concurrency benchmark: 4 streams read page by page from a loopback HTTP API that answers
//! each page after a simulated latency, synced with `max_concurrent_streams(1)` and then `(4)`;
//! with `--partitions 1`, one stream with 4 for-each partitions (one per API path), synced with
//! `max_concurrent_partitions(1)` and then `(4)`. Prints both wall times and the speed-up.
//!
//! Usage: `concurrency [--streams 4] [--pages 25] [--page-size 100] [--latency-ms 20]
//! [--partitions 0|1] [--concurrent N]` (`--concurrent`: the limit of the concurrent run, default
//! the number of streams).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use burler::prelude::*;
use burler_http::HttpClient;
use burler_http::paginate::Cursor;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the fixture serves and how slowly.
#[derive(Debug, Clone, Copy)]
struct Shape {
    streams: usize,
    pages: u64,
    page_size: u64,
    latency: Duration,
    /// One stream with `streams` partitions instead of `streams` streams.
    partitions: bool,
    /// The limit of the concurrent run.
    concurrent: usize,
}

impl Shape {
    fn from_args() -> Result<Self, String> {
        let mut shape = Shape {
            streams: 4,
            pages: 25,
            page_size: 100,
            latency: Duration::from_millis(20),
            partitions: false,
            concurrent: 0,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        for pair in args.chunks(2) {
            let [flag, value] = pair else {
                return Err(format!("{} needs a value", pair[0]));
            };
            let n: u64 = value
                .parse()
                .map_err(|_| format!("{flag}: {value:?} is not a number"))?;
            match flag.as_str() {
                "--streams" => shape.streams = n as usize,
                "--pages" => shape.pages = n,
                "--page-size" => shape.page_size = n,
                "--latency-ms" => shape.latency = Duration::from_millis(n),
                "--partitions" => shape.partitions = n != 0,
                "--concurrent" => shape.concurrent = n as usize,
                other => return Err(format!("unknown option {other}")),
            }
        }
        if shape.concurrent == 0 {
            shape.concurrent = shape.streams;
        }
        Ok(shape)
    }
}

/// One record of the API.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
struct Item {
    id: u64,
    name: String,
    updated_at: String,
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<u64>,
}

/// `GET /items/{stream}?page=N`: one page after the latency, with `next` until the last page.
async fn page(
    State(shape): State<Shape>,
    Path(stream): Path<String>,
    Query(q): Query<PageQuery>,
) -> Json<Value> {
    tokio::time::sleep(shape.latency).await;
    let page = q.page.unwrap_or(1);
    let first = (page - 1) * shape.page_size;
    let data: Vec<Item> = (first..first + shape.page_size)
        .map(|id| Item {
            id,
            name: format!("{stream}-{id}"),
            updated_at: tap_bench::timestamp(1_577_836_800 + id as i64),
        })
        .collect();
    let next = (page < shape.pages).then(|| (page + 1).to_string());
    Json(json!({"data": data, "next": next}))
}

/// Serves the API on a loopback port from its own thread and runtime (so the tap under test has
/// its runtime to itself); returns the base URL.
fn spawn_fixture(shape: Shape) -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let app = Router::new()
                .route("/items/{stream}", get(page))
                .with_state(shape);
            if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                let _ = axum::serve(listener, app).await;
            }
        });
    });
    Ok(format!("http://{addr}/"))
}

#[burler::config]
struct Config {
    base_url: String,
}

type Ctx = SyncContext<Item, Config, HttpClient>;

async fn sync_items(ctx: Ctx) -> SyncResult {
    let source = match ctx.partition() {
        Some(p) => p["source"].as_str().unwrap_or_default().to_owned(),
        None => ctx.stream_name().to_owned(),
    };
    let path = format!("items/{source}");
    let records = ctx
        .client()
        .get(&path)
        .paginate(Cursor::new("page", "next"))
        .records_at("data")
        .records::<Item>();
    ctx.emit_stream(records).await?;
    Ok(())
}

/// The tap: `shape.streams` streams, at most `concurrent` at once; or one stream with as many
/// partitions, at most `concurrent` at once.
fn tap(shape: Shape, concurrent: usize) -> Tap<Config, HttpClient> {
    let tap = Tap::new("tap-bench-concurrency")
        .config::<Config>()
        .client(|c: &Config| HttpClient::builder(&c.base_url)?.build());
    let stream = |name: String| {
        Stream::new(name)
            .schema_from_type()
            .key(["id"])
            .sync(sync_items)
    };
    if shape.partitions {
        let sources: Vec<Value> = (0..shape.streams)
            .map(|i| json!({"source": format!("s{i}")}))
            .collect();
        let items = stream("items".into())
            .max_concurrent_partitions(concurrent)
            .partitions(move |_ctx: Ctx| {
                let sources = sources.clone();
                async move { Ok(sources) }
            });
        return tap.stream(items);
    }
    let mut tap = tap.max_concurrent_streams(concurrent);
    for i in 0..shape.streams {
        tap = tap.stream(stream(format!("s{i}")));
    }
    tap
}

/// Syncs with at most `concurrent` streams (or partitions) at once; returns the wall time and
/// records written.
fn sync(
    config: &std::path::Path,
    shape: Shape,
    concurrent: usize,
) -> Result<(Duration, u64), String> {
    let tap = tap(shape, concurrent);
    let started = Instant::now();
    let args = [
        "concurrency".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
    ];
    let outcome = tap.run_with(args, Box::new(std::io::sink()));
    let elapsed = started.elapsed();
    if outcome.exit_code != 0 {
        return Err(outcome.error.unwrap_or_else(|| "the sync failed".into()));
    }
    let emitted = outcome
        .report
        .map(|r| r.streams.iter().map(|s| s.stats.emitted).sum())
        .unwrap_or(0);
    Ok((elapsed, emitted))
}

fn main() -> Result<(), String> {
    let shape = Shape::from_args()?;
    let base_url = spawn_fixture(shape).map_err(|e| format!("fixture: {e}"))?;
    let config =
        std::env::temp_dir().join(format!("tap-bench-concurrency-{}.json", std::process::id()));
    std::fs::write(&config, json!({"base_url": base_url}).to_string())
        .map_err(|e| format!("{}: {e}", config.display()))?;
    let expected = shape.streams as u64 * shape.pages * shape.page_size;
    let result = (|| {
        // A first short run warms up connections and the allocator; it is not counted.
        sync(&config, shape, shape.concurrent)?;
        let (sequential, n1) = sync(&config, shape, 1)?;
        let (concurrent, n4) = sync(&config, shape, shape.concurrent)?;
        if n1 != expected || n4 != expected {
            return Err(format!("expected {expected} records, got {n1} and {n4}"));
        }
        Ok((sequential, concurrent))
    })();
    let _ = std::fs::remove_file(&config);
    let (sequential, concurrent) = result?;
    let (what, setting) = if shape.partitions {
        ("partitions of one stream", "max_concurrent_partitions")
    } else {
        ("streams", "max_concurrent_streams")
    };
    println!(
        "{} {what} x {} pages x {} records, {} ms per page",
        shape.streams,
        shape.pages,
        shape.page_size,
        shape.latency.as_millis()
    );
    println!("{setting}(1): {:.3} s", sequential.as_secs_f64());
    println!(
        "{setting}({}): {:.3} s",
        shape.concurrent,
        concurrent.as_secs_f64()
    );
    println!(
        "speed-up: {:.2}x",
        sequential.as_secs_f64() / concurrent.as_secs_f64()
    );
    Ok(())
}
