//! Per-record cost of stream maps and flattening on tap-bench's 12-field `Event` record: a
//! 3-expression map (md5 of a field, a string method, an arithmetic cast), flattening at depth 1
//! (the nested address), a rename (copy and drop, no CEL), and the identity map as the floor.
//!
//! The record is cloned outside the measurement (`iter_batched`): the figures are the map's own
//! work on an owned record, as the engine hands it over.

use std::hint::black_box;
use std::time::Duration;

use burler_maps::{SourceStream, StreamMaps};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "uuid": {"type": "string"},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "amount": {"type": "number"},
        "quantity": {"type": "integer"},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"type": "object", "properties": {
            "street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string"}}},
        "note": {"type": ["string", "null"]}
    }})
}

fn event(id: u64) -> Map<String, Value> {
    let record = json!({
        "id": id,
        "uuid": format!("daa66d2c-7ddf-4743-8003-{id:012x}"),
        "name": format!("user-{:07}", id % 10_000_000),
        "email": format!("user{id}@example.com"),
        "amount": (id % 100_000) as f64 / 100.0,
        "quantity": id % 50,
        "active": id % 2 == 0,
        "created_at": "2020-01-01T00:00:03Z",
        "updated_at": "2020-01-01T00:01:03Z",
        "tags": ["t3", "t5", "t7"],
        "address": {"street": format!("{} Main St", id % 1000), "city": "Lisbon", "zip": format!("{:05}", id % 100_000)},
        "note": (id % 2 == 0).then(|| format!("note {id}"))
    });
    record.as_object().cloned().unwrap_or_default()
}

fn bench_config(c: &mut Criterion, name: &str, config: Value) {
    let schema = schema();
    let keys = ["id".to_owned()];
    let maps = StreamMaps::compile(
        config.as_object().expect("config object"),
        [SourceStream {
            name: "events",
            schema: &schema,
            key_properties: &keys,
        }],
    )
    .expect("the bench config compiles");
    let mapper = maps.stream("events").expect("events");
    let record = event(1_234_567);
    let mut out = Vec::with_capacity(1);
    let mut group = c.benchmark_group("maps");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter_batched(
            || record.clone(),
            |r| {
                mapper.apply(black_box(r), &mut out).expect("maps");
                black_box(out.len())
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn maps(c: &mut Criterion) {
    bench_config(c, "identity", json!({}));
    bench_config(
        c,
        "three_expressions",
        json!({"stream_maps": {"events": {
            "email_hash": "md5(record['email'])",
            "name_upper": "record['name'].upper()",
            "amount_cents": "int(record['amount'] * 100.0)"}}}),
    );
    bench_config(
        c,
        "rename",
        json!({"stream_maps": {"events": {"full_name": "name", "name": null}}}),
    );
    bench_config(
        c,
        "flatten_depth_1",
        json!({"flattening_enabled": true, "flattening_max_depth": 1}),
    );
}

criterion_group!(benches, maps);
criterion_main!(benches);
