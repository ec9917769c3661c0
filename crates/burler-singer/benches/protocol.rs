//! Hot-path costs of the Singer protocol layer: encoding a RECORD line, parsing a message stream
//! (owned, raw, and serde's internally tagged enum as the baseline the one-pass parser replaced),
//! and catalog field selection.

use std::hint::black_box;
use std::time::Duration;

use burler_singer::{
    ActivateVersionMessage, BatchMessage, Catalog, FieldSelection, Message, MessageReader,
    RawMessage, RecordEncoder, RecordMessage, SchemaMessage, StateMessage, raw_messages,
};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A postal address (mirrors tap-bench's `Address`).
#[derive(Serialize)]
struct Address {
    street: String,
    city: &'static str,
    zip: String,
}

/// One 12-field record shaped like tap-bench's `Event`.
#[derive(Serialize)]
struct Event {
    id: u64,
    uuid: String,
    name: String,
    email: String,
    amount: f64,
    quantity: u32,
    active: bool,
    created_at: String,
    updated_at: String,
    tags: [&'static str; 3],
    address: Address,
    note: Option<String>,
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
        created_at: "2020-01-01T00:00:03Z".into(),
        updated_at: "2020-01-01T00:01:03Z".into(),
        tags: ["t3", "t5", "t7"],
        address: Address {
            street: format!("{} Main St", id % 1000),
            city: "Lisbon",
            zip: format!("{:05}", id % 100_000),
        },
        note: (id % 2 == 0).then(|| format!("note {id}")),
    }
}

fn configure(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
}

const TIME_EXTRACTED: &str = "2024-03-01T10:15:00.000000Z";

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    configure(&mut group);
    group.throughput(Throughput::Elements(1));
    let encoder = RecordEncoder::new("events");
    let record = event(1_234_567);
    let mut out = Vec::with_capacity(1024);
    group.bench_function("record_line", |b| {
        b.iter(|| {
            out.clear();
            encoder
                .encode(&mut out, black_box(&record), None, Some(TIME_EXTRACTED))
                .unwrap();
            black_box(out.len())
        })
    });
    let mut key = Vec::with_capacity(64);
    group.bench_function("record_line_capturing_key", |b| {
        b.iter(|| {
            out.clear();
            let found = encoder
                .encode_capturing(
                    &mut out,
                    black_box(&record),
                    None,
                    Some(TIME_EXTRACTED),
                    "updated_at",
                    &mut key,
                )
                .unwrap();
            black_box((found, out.len(), key.len()))
        })
    });
    let tail = RecordEncoder::line_tail(None, Some(TIME_EXTRACTED));
    group.bench_function(
        "record_line_capturing_key_pre_encoded_tail (the runtime's path)",
        |b| {
            b.iter(|| {
                out.clear();
                let found = encoder
                    .encode_capturing_with_tail(
                        &mut out,
                        black_box(&record),
                        &tail,
                        "updated_at",
                        &mut key,
                    )
                    .unwrap();
                black_box((found, out.len(), key.len()))
            })
        },
    );
    let value = serde_json::to_value(&record).unwrap();
    group.bench_function("record_line_from_value", |b| {
        b.iter(|| {
            out.clear();
            encoder
                .encode(&mut out, black_box(&value), None, Some(TIME_EXTRACTED))
                .unwrap();
            black_box(out.len())
        })
    });
    group.finish();
}

/// About 1000 lines: a SCHEMA, then RECORDs with a STATE every 100.
fn message_buffer() -> Vec<u8> {
    let schema = json!({"type": "SCHEMA", "stream": "events", "key_properties": ["id"],
        "bookmark_properties": ["updated_at"],
        "schema": {"type": "object", "properties": {
            "id": {"type": "integer"}, "uuid": {"type": "string"}, "name": {"type": "string"},
            "email": {"type": "string"}, "amount": {"type": "number"}, "quantity": {"type": "integer"},
            "active": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "address": {"type": "object", "properties": {"street": {"type": "string"},
                "city": {"type": "string"}, "zip": {"type": "string"}}},
            "note": {"type": ["null", "string"]}}}});
    let mut buf = serde_json::to_vec(&schema).unwrap();
    buf.push(b'\n');
    let encoder = RecordEncoder::new("events");
    for id in 1..=1000u64 {
        encoder
            .encode(&mut buf, &event(id), None, Some(TIME_EXTRACTED))
            .unwrap();
        if id % 100 == 0 {
            let state = json!({"type": "STATE", "value": {"bookmarks": {"events": {
                "replication_key": "updated_at", "replication_key_value": "2020-01-01T00:01:03Z"}}}});
            serde_json::to_writer(&mut buf, &state).unwrap();
            buf.push(b'\n');
        }
    }
    buf
}

fn bench_parse(c: &mut Criterion) {
    let buf = message_buffer();
    let lines = buf.iter().filter(|&&b| b == b'\n').count();
    let mut group = c.benchmark_group("parse");
    configure(&mut group);
    group.throughput(Throughput::Bytes(buf.len() as u64));
    group.bench_function(format!("message_reader_{lines}_lines"), |b| {
        b.iter(|| {
            let mut n = 0usize;
            for message in MessageReader::new(black_box(buf.as_slice())) {
                message.unwrap();
                n += 1;
            }
            assert_eq!(n, lines);
            n
        })
    });
    group.bench_function(format!("message_reader_next_raw_{lines}_lines"), |b| {
        b.iter(|| {
            let mut reader = MessageReader::new(black_box(buf.as_slice()));
            let mut n = 0usize;
            while let Some(message) = reader.next_raw() {
                message.unwrap();
                n += 1;
            }
            assert_eq!(n, lines);
            n
        })
    });
    group.bench_function(format!("raw_messages_in_memory_{lines}_lines"), |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (_, message) in raw_messages(black_box(buf.as_slice())) {
                black_box(message.unwrap());
                n += 1;
            }
            assert_eq!(n, lines);
            n
        })
    });
    group.finish();
}

/// `Message::parse` as it was: serde's internally tagged enum, which buffers every message into
/// a tree of its own before it dispatches on `"type"`. Kept as the baseline.
#[derive(Deserialize)]
#[serde(tag = "type")]
#[allow(dead_code)] // only parsed
enum TaggedMessage {
    #[serde(rename = "SCHEMA")]
    Schema(SchemaMessage),
    #[serde(rename = "RECORD")]
    Record(RecordMessage),
    #[serde(rename = "STATE")]
    State(StateMessage),
    #[serde(rename = "ACTIVATE_VERSION")]
    ActivateVersion(ActivateVersionMessage),
    #[serde(rename = "BATCH")]
    Batch(BatchMessage),
}

/// RECORD lines of the 12-field workload only, as tap-bench writes them.
fn record_lines() -> Vec<String> {
    let encoder = RecordEncoder::new("events");
    (1..=1000u64)
        .map(|id| {
            let mut line = Vec::new();
            encoder
                .encode(&mut line, &event(id), None, Some(TIME_EXTRACTED))
                .unwrap();
            line.pop();
            String::from_utf8(line).unwrap()
        })
        .collect()
}

fn bench_parse_records(c: &mut Criterion) {
    let lines = record_lines();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut group = c.benchmark_group("parse_record_lines");
    configure(&mut group);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("serde_tagged_enum (Message::parse before)", |b| {
        b.iter(|| {
            for line in black_box(&lines) {
                let m: TaggedMessage = serde_json::from_str(line).unwrap();
                black_box(&m);
            }
        })
    });
    group.bench_function("message_parse (owned, record as a tree)", |b| {
        b.iter(|| {
            for line in black_box(&lines) {
                black_box(Message::parse(line).unwrap());
            }
        })
    });
    group.bench_function("raw_message_parse (record borrowed)", |b| {
        b.iter(|| {
            for line in black_box(&lines) {
                black_box(RawMessage::parse(line).unwrap());
            }
        })
    });
    group.bench_function("raw_message_parse_and_key_field", |b| {
        b.iter(|| {
            for line in black_box(&lines) {
                let RawMessage::Record(r) = RawMessage::parse(line).unwrap() else {
                    unreachable!()
                };
                black_box(r.fields(&["id"]).unwrap());
            }
        })
    });
    group.finish();
}

/// A stream with 50 fields: 40 flat, two objects of 5; every fifth flat field and one nested
/// field deselected.
fn catalog() -> Catalog {
    let mut props = Map::new();
    let mut metadata = vec![json!({"breadcrumb": [], "metadata": {"selected": true}})];
    for i in 0..40 {
        let name = format!("f{i:02}");
        props.insert(name.clone(), json!({"type": ["null", "string"]}));
        metadata.push(json!({"breadcrumb": ["properties", name],
            "metadata": {"selected": i % 5 != 0, "inclusion": "available"}}));
    }
    for object in ["billing", "shipping"] {
        let mut inner = Map::new();
        for j in 0..5 {
            let name = format!("g{j}");
            inner.insert(name.clone(), json!({"type": ["null", "string"]}));
            metadata.push(
                json!({"breadcrumb": ["properties", object, "properties", name],
                "metadata": {"selected": !(object == "shipping" && j == 2)}}),
            );
        }
        props.insert(
            object.into(),
            json!({"type": "object", "properties": inner}),
        );
    }
    Catalog::from_value(
        json!({"streams": [{"tap_stream_id": "wide", "stream": "wide",
        "schema": {"type": "object", "properties": props}, "metadata": metadata}]}),
    )
    .unwrap()
}

fn wide_record() -> Map<String, Value> {
    let mut record = Map::new();
    for i in 0..40 {
        record.insert(format!("f{i:02}"), Value::from(format!("value {i}")));
    }
    for object in ["billing", "shipping"] {
        let inner: Map<String, Value> = (0..5)
            .map(|j| (format!("g{j}"), Value::from(format!("{object} {j}"))))
            .collect();
        record.insert(object.into(), Value::Object(inner));
    }
    record
}

fn bench_selection(c: &mut Criterion) {
    let catalog = catalog();
    let entry = catalog.get("wide").unwrap();
    let selection: FieldSelection = entry.field_selection();
    assert!(!selection.all_selected());
    let mut group = c.benchmark_group("selection");
    configure(&mut group);
    group.bench_function("field_selection_50_fields", |b| {
        b.iter(|| black_box(entry).field_selection())
    });
    group.bench_function("prune_schema_50_fields", |b| {
        b.iter(|| selection.prune_schema(black_box(&entry.schema)))
    });
    let record = wide_record();
    group.throughput(Throughput::Elements(1));
    group.bench_function("prune_record_50_fields (includes the record clone)", |b| {
        b.iter_batched(
            || record.clone(),
            |mut r| {
                selection.prune_record(&mut r);
                r
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_encode,
    bench_parse,
    bench_parse_records,
    bench_selection
);
criterion_main!(benches);
