//! Conformance cost of a realistic 12-field record with a nested object and an array.

use burler_schema::{ConformStats, Conformer, ViolationPolicy};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "email": {"type": ["null", "string"]},
        "name": {"type": "string"},
        "active": {"type": "boolean"},
        "score": {"type": ["null", "number"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": ["null", "string"], "format": "date-time"},
        "birthday": {"type": ["null", "string"], "format": "date"},
        "balance": {"type": "string", "format": "singer.decimal"},
        "visits": {"type": "integer"},
        "address": {"type": ["null", "object"], "properties": {
            "street": {"type": "string"}, "city": {"type": "string"},
            "zip": {"type": "string"}, "country": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}}
    }})
}

fn conforming_record() -> Value {
    json!({"id": 1042, "email": "ada@example.com", "name": "Ada Lovelace", "active": true,
        "score": 4.5, "created_at": "2024-03-01T10:15:00.000000Z", "updated_at": null,
        "birthday": "1815-12-10", "balance": "1234.50", "visits": 17,
        "address": {"street": "12 St James's Sq", "city": "London", "zip": "SW1Y 4JH", "country": "GB"},
        "tags": ["vip", "newsletter", "beta"]})
}

/// The same record as a loose source sends it: strings for numbers, offsets, extra fields.
fn loose_record() -> Value {
    json!({"id": "1042", "email": "ada@example.com", "name": "Ada Lovelace", "active": "true",
        "score": "4.5", "created_at": "2024-03-01T11:15:00+01:00", "updated_at": null,
        "birthday": "1815-12-10", "balance": 1234.5, "visits": 17.0, "internal": "x",
        "address": {"street": "12 St James's Sq", "city": "London", "zip": "SW1Y 4JH", "country": "GB", "geo": 1},
        "tags": ["vip", "newsletter", "beta"]})
}

fn bench(c: &mut Criterion) {
    let conformer = Conformer::compile(&schema(), ViolationPolicy::Error);
    let conforming = conforming_record();
    c.bench_function("conform/already_conforming", |b| {
        let mut record = conforming.clone();
        let mut stats = ConformStats::default();
        b.iter(|| {
            conformer
                .conform(std::hint::black_box(&mut record), &mut stats)
                .unwrap()
        })
    });
    let loose = loose_record();
    c.bench_function("conform/coercing (includes the record clone)", |b| {
        let mut stats = ConformStats::default();
        b.iter_batched(
            || loose.clone(),
            |mut record| {
                conformer.conform(&mut record, &mut stats).unwrap();
                record
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
