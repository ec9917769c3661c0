//! The page decoder on one page of 1,000 twelve-field records (the shape of tap-bench's `events`):
//! typed records (owned and borrowing), records passed through as their text (`Box<RawValue>`),
//! untyped `serde_json::Value` records, a count-only pass,
//! and the path pages took before the streaming decoder (whole body to a `Value`, records moved
//! out, each re-serialized for loop detection, then `from_value`) for comparison.

use std::borrow::Cow;
use std::hint::black_box;

use burler_http::decode::PageShape;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;
use serde_json::{Value, json};

const RECORDS: u64 = 1_000;

#[derive(Deserialize)]
#[allow(dead_code)] // fields are decoded, not read
struct Address {
    street: String,
    city: String,
    zip: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
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
    tags: Vec<String>,
    address: Address,
    note: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct BorrowedAddress<'a> {
    #[serde(borrow)]
    street: Cow<'a, str>,
    #[serde(borrow)]
    city: Cow<'a, str>,
    #[serde(borrow)]
    zip: Cow<'a, str>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct BorrowedEvent<'a> {
    id: u64,
    #[serde(borrow)]
    uuid: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    email: Cow<'a, str>,
    amount: f64,
    quantity: u32,
    active: bool,
    #[serde(borrow)]
    created_at: Cow<'a, str>,
    #[serde(borrow)]
    updated_at: Cow<'a, str>,
    #[serde(borrow)]
    tags: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    address: BorrowedAddress<'a>,
    #[serde(borrow)]
    note: Option<Cow<'a, str>>,
}

/// One page body: `{"data": [...1,000 records...], "next_page": 2, "total": 200000}`.
fn page() -> Vec<u8> {
    let records: Vec<Value> = (1..=RECORDS)
        .map(|id| {
            json!({
                "id": id,
                "uuid": format!("9e3779b9-7f4a-47c1-8001-{id:012x}"),
                "name": format!("user-{id:07}"),
                "email": format!("user{id}@example.com"),
                "amount": (id % 100_000) as f64 / 100.0,
                "quantity": id % 50,
                "active": id % 2 == 0,
                "created_at": "2020-01-01T00:00:01Z",
                "updated_at": "2020-01-01T00:01:01Z",
                "tags": ["t1", "t4", "t9"],
                "address": {"street": format!("{} Main St", id % 1000), "city": "Nairobi", "zip": format!("{:05}", id % 100_000)},
                "note": if id % 2 == 0 { json!(format!("note {id}")) } else { Value::Null },
            })
        })
        .collect();
    serde_json::to_vec(&json!({"data": records, "next_page": 2, "total": 200_000}))
        .unwrap_or_default()
}

/// What the page path did before the streaming decoder.
fn old_path(body: &[u8]) -> Vec<Event> {
    let mut value: Value = serde_json::from_slice(body).unwrap_or_default();
    let records = match value.get_mut("data").map(Value::take) {
        Some(Value::Array(records)) => records,
        _ => Vec::new(),
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for record in &records {
        std::hash::Hash::hash(&record.to_string(), &mut hasher);
    }
    black_box(std::hash::Hasher::finish(&hasher));
    let _cursor = value.get("next_page").cloned();
    records
        .into_iter()
        .filter_map(|r| serde_json::from_value(r).ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let body = page();
    let shape = PageShape::records_at("data")
        .value_at("next_page")
        .value_at("total");
    let mut group = c.benchmark_group("page_1000_records");
    group.throughput(Throughput::Elements(RECORDS));
    group.bench_function("typed_owned", |b| {
        b.iter(|| {
            shape
                .decode::<Event>(black_box(&body))
                .map(|d| d.records.len())
        })
    });
    group.bench_function("typed_borrowed", |b| {
        b.iter(|| {
            shape
                .decode::<BorrowedEvent<'_>>(black_box(&body))
                .map(|d| d.records.len())
        })
    });
    group.bench_function("raw_passthrough", |b| {
        b.iter(|| {
            shape
                .decode::<Box<serde_json::value::RawValue>>(black_box(&body))
                .map(|d| d.records.len())
        })
    });
    group.bench_function("value", |b| {
        b.iter(|| {
            shape
                .decode::<Value>(black_box(&body))
                .map(|d| d.records.len())
        })
    });
    group.bench_function("count_only", |b| {
        b.iter(|| shape.count(black_box(&body)).map(|v| v.record_count()))
    });
    group.bench_function("before_streaming_decoder", |b| {
        b.iter(|| old_path(black_box(&body)).len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
