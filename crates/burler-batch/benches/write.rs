//! Per-record cost of writing batch files on tap-bench's 12-field `Event` record: JSON lines with
//! gzip, and Parquet (snappy pages), the record given as its JSON text as the engine holds it.
//! Files of 10,000 records are written, closed and synced inside the measurement, so the
//! figures include compression, encoding and the per-file `fsync` spread over the file.

use std::hint::black_box;
use std::time::Duration;

use burler_batch::{BatchConfig, BatchWriter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

const RECORDS: u64 = 10_000;

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "uuid": {"type": "string"}, "name": {"type": "string"},
        "email": {"type": "string"}, "amount": {"type": "number"}, "quantity": {"type": "integer"},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"type": "object", "properties": {
            "street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string"}}},
        "note": {"type": ["string", "null"]}
    }})
}

fn event(id: u64) -> Vec<u8> {
    let record = json!({
        "id": id, "uuid": format!("daa66d2c-7ddf-4743-8003-{id:012x}"),
        "name": format!("user-{:07}", id % 10_000_000), "email": format!("user{id}@example.com"),
        "amount": (id % 100_000) as f64 / 100.0, "quantity": id % 50, "active": id % 2 == 0,
        "created_at": "2020-01-01T00:00:03Z", "updated_at": "2020-01-01T00:01:03Z",
        "tags": ["t3", "t5", "t7"],
        "address": {"street": format!("{} Main St", id % 1000), "city": "Lisbon", "zip": format!("{:05}", id % 100_000)},
        "note": (id % 2 == 0).then(|| format!("note {id}"))
    });
    serde_json::to_vec(&record).unwrap_or_default()
}

fn bench_format(c: &mut Criterion, name: &str, format: &str, compression: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = json!({"batch_config": {"encoding": {"format": format, "compression": compression},
        "storage": {"root": dir.path()}, "batch_size": RECORDS}});
    let batch = BatchConfig::from_config(config.as_object().expect("object"))
        .expect("valid")
        .expect("present");
    let records: Vec<Vec<u8>> = (1..=RECORDS).map(event).collect();
    let schema = schema();
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(6));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(RECORDS));
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut writer =
                BatchWriter::new(&batch, "tap-bench", "events", &schema).expect("writer");
            let mut messages = 0;
            for record in &records {
                messages += usize::from(
                    writer
                        .write_json(black_box(record))
                        .expect("writes")
                        .is_some(),
                );
            }
            assert_eq!(messages, 1, "one full file");
            for entry in std::fs::read_dir(dir.path()).expect("dir").flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        })
    });
    group.finish();
}

fn write(c: &mut Criterion) {
    bench_format(c, "jsonl_gzip_10k", "jsonl", "gzip");
    bench_format(c, "parquet_10k", "parquet", "none");
}

criterion_group!(benches, write);
criterion_main!(benches);
