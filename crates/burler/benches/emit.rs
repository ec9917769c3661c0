//! The end-to-end emit path: a `Tap` with one INCREMENTAL stream emitting 100,000 typed records
//! (tap-bench's 12-field `Event`) in-process, through the fast path and through the slow paths
//! (a field deselected by the catalog; conformance).
//!
//! Records are generated once, outside the measurement, and emitted by reference, so the figures
//! are the framework's cost per record: encoding, replication-key capture, bookmark tracking, a
//! STATE every 10,000 records and the hand-off of full buffers to the sink.

use std::hint::black_box;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use burler::prelude::*;
use burler::{CaptureBuffer, Tap};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

const RECORDS: u64 = 100_000;

/// A postal address (mirrors tap-bench's `Address`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
struct Address {
    street: String,
    city: &'static str,
    zip: String,
}

/// One 12-field record shaped like tap-bench's `Event`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
struct Event {
    id: u64,
    uuid: String,
    name: String,
    email: String,
    amount: f64,
    quantity: u32,
    active: bool,
    #[schemars(extend("format" = "date-time"))]
    created_at: String,
    #[schemars(extend("format" = "date-time"))]
    updated_at: String,
    tags: [&'static str; 3],
    address: Address,
    note: Option<String>,
}

/// `YYYY-MM-DDTHH:MM:SSZ` for `secs` seconds after 2020-01-01 (enough for 100,000 records).
fn timestamp(secs: u64) -> String {
    let (day, rest) = (secs / 86_400, secs % 86_400);
    format!(
        "2020-01-{:02}T{:02}:{:02}:{:02}Z",
        day + 1,
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

fn event(id: u64) -> Event {
    Event {
        id,
        uuid: format!("daa66d2c-7ddf-4743-8003-{id:012x}"),
        name: format!("user-{:07}", id % 10_000_000),
        email: format!("user{id}@example.com"),
        amount: (id % 100_000) as f64 / 100.0,
        quantity: (id % 50) as u32,
        active: id % 2 == 0,
        created_at: timestamp(id),
        updated_at: timestamp(id + 60),
        tags: ["t3", "t5", "t7"],
        address: Address {
            street: format!("{} Main St", id % 1000),
            city: "Lisbon",
            zip: format!("{:05}", id % 100_000),
        },
        note: (id % 2 == 0).then(|| format!("note {id}")),
    }
}

/// How the stream is set up for one benchmark.
#[derive(Clone, Copy)]
enum Route {
    /// Every field selected, no conformance: serialized straight into the buffer.
    Fast,
    /// `note` deselected by the catalog: each record becomes a `Map` and is pruned.
    Deselected,
    /// Conformance on: each record becomes a `Map` and is checked against the schema.
    Conform,
}

fn tap(records: Arc<Vec<Event>>, path: Route) -> Tap {
    let mut stream = Stream::new("events")
        .schema_from_type()
        .key(["id"])
        .incremental("updated_at")
        .bookmark_strategy(BookmarkStrategy::Records(10_000));
    if matches!(path, Route::Conform) {
        stream = stream.conform(ViolationPolicy::Error);
    }
    Tap::new("bench").stream(stream.sync(move |ctx: SyncContext<Event>| {
        let records = records.clone();
        async move {
            // One emit per record, borrowed: the bench measures the path, not a clone.
            for record in records.iter() {
                ctx.emit_all(std::iter::once(record))?;
            }
            Ok(())
        }
    }))
}

/// A catalog selecting the stream and every field but `note`.
fn catalog_without_note() -> Value {
    json!({"streams": [{"tap_stream_id": "events", "stream": "events", "key_properties": ["id"],
    "schema": burler::schema::for_type::<Event>(),
    "metadata": [
        {"breadcrumb": [], "metadata": {"selected": true, "replication-method": "INCREMENTAL",
            "replication-key": "updated_at"}},
        {"breadcrumb": ["properties", "note"], "metadata": {"selected": false}}
    ]}]})
}

/// A sink like a buffered stdout that keeps nothing: counts bytes and lines.
#[derive(Clone, Default)]
struct CountingSink(Arc<(AtomicU64, AtomicU64)>);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        let lines = buf.iter().filter(|&&b| b == b'\n').count() as u64;
        self.0.1.fetch_add(lines, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn write_json(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path.to_string_lossy().into_owned()
}

/// Runs once into a `CaptureBuffer` and checks the output, so the benchmark measures a working run.
fn check_output(records: &Arc<Vec<Event>>, path: Route, args: &[String]) {
    let buf = CaptureBuffer::new();
    let outcome = tap(records.clone(), path).run_with(args, Box::new(buf.clone()));
    assert_eq!(outcome.exit_code, 0, "{:?}", outcome.error);
    let text = buf.text();
    let record_lines = text.lines().filter(|l| l.contains(r#""type":"RECORD""#));
    let mut count = 0;
    for line in record_lines {
        count += 1;
        assert_eq!(
            line.contains(r#""note":"#),
            !matches!(path, Route::Deselected),
            "{line}"
        );
    }
    assert_eq!(count, RECORDS);
    let states = text.lines().filter(|l| l.starts_with(r#"{"type":"STATE""#));
    assert!(states.count() >= (RECORDS / 10_000) as usize);
}

fn bench_emit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_json(dir.path(), "config.json", &json!({}));
    let catalog = write_json(dir.path(), "catalog.json", &catalog_without_note());
    let records = Arc::new((1..=RECORDS).map(event).collect::<Vec<_>>());

    let mut group = c.benchmark_group("emit");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(RECORDS));
    let base: Vec<String> = vec!["bench".into(), "--config".into(), config];
    let with_catalog: Vec<String> = [base.clone(), vec!["--catalog".into(), catalog]].concat();
    let cases = [
        ("incremental_fast_path_100k", Route::Fast, &base),
        (
            "incremental_field_deselected_100k",
            Route::Deselected,
            &with_catalog,
        ),
        ("incremental_conform_100k", Route::Conform, &base),
    ];
    for (name, path, args) in cases {
        check_output(&records, path, args);
        group.bench_function(name, |b| {
            b.iter(|| {
                let sink = CountingSink::default();
                let outcome = tap(records.clone(), path).run_with(args, Box::new(sink.clone()));
                assert_eq!(outcome.exit_code, 0);
                black_box(sink.0.0.load(Ordering::Relaxed))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_emit);
criterion_main!(benches);
