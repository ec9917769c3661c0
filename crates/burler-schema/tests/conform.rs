//! Record conformance: each coercion and each violation policy.

use burler_schema::{ConformStats, Conformed, Conformer, ViolationPolicy};
use serde_json::{Value, json};

fn conform(
    schema: Value,
    record: Value,
    policy: ViolationPolicy,
) -> (Value, ConformStats, Conformed) {
    let conformer = Conformer::compile(&schema, policy);
    let mut record = record;
    let mut stats = ConformStats::default();
    let outcome = conformer.conform(&mut record, &mut stats).unwrap();
    (record, stats, outcome)
}

fn field(schema: Value, value: Value) -> (Value, ConformStats) {
    let schema = json!({"type": "object", "properties": {"f": schema}});
    let (record, stats, outcome) = conform(schema, json!({"f": value}), ViolationPolicy::Error);
    assert_eq!(outcome, Conformed::Kept);
    (record["f"].clone(), stats)
}

fn field_error(schema: Value, value: Value) -> String {
    let schema = json!({"type": "object", "properties": {"f": schema}});
    let conformer = Conformer::compile(&schema, ViolationPolicy::Error);
    let mut record = json!({"f": value});
    conformer
        .conform(&mut record, &mut ConformStats::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn integers_from_digit_strings_and_integral_numbers() {
    assert_eq!(
        field(json!({"type": "integer"}), json!("42")),
        (json!(42), stats(1))
    );
    assert_eq!(
        field(json!({"type": "integer"}), json!("-7")),
        (json!(-7), stats(1))
    );
    assert_eq!(
        field(json!({"type": "integer"}), json!(3.0)),
        (json!(3), stats(1))
    );
    assert_eq!(
        field(json!({"type": "integer"}), json!(5)),
        (json!(5), stats(0))
    );
    assert_eq!(
        field_error(json!({"type": "integer"}), json!(3.5)),
        "record field f: expected integer, got number"
    );
    assert_eq!(
        field_error(json!({"type": "integer"}), json!("4.2")),
        "record field f: expected integer, got string"
    );
}

#[test]
fn numbers_from_numeric_strings() {
    assert_eq!(
        field(json!({"type": "number"}), json!("4.5")),
        (json!(4.5), stats(1))
    );
    assert_eq!(
        field(json!({"type": "number"}), json!("12")),
        (json!(12), stats(1))
    );
    assert_eq!(
        field(json!({"type": "number"}), json!(7)),
        (json!(7), stats(0))
    );
    assert!(field_error(json!({"type": "number"}), json!("NaN")).contains("expected number"));
}

#[test]
fn booleans_from_true_false_strings() {
    assert_eq!(
        field(json!({"type": "boolean"}), json!("true")),
        (json!(true), stats(1))
    );
    assert_eq!(
        field(json!({"type": "boolean"}), json!("FALSE")),
        (json!(false), stats(1))
    );
    assert!(field_error(json!({"type": "boolean"}), json!("yes")).contains("expected boolean"));
}

#[test]
fn strings_from_numbers() {
    assert_eq!(
        field(json!({"type": "string"}), json!(12.5)),
        (json!("12.5"), stats(1))
    );
    assert!(field_error(json!({"type": "string"}), json!(true)).contains("expected string"));
}

#[test]
fn date_times_are_normalised_to_rfc3339_utc_microseconds() {
    let dt = json!({"type": "string", "format": "date-time"});
    assert_eq!(
        field(dt.clone(), json!("2024-05-06T07:08:09+02:00")),
        (json!("2024-05-06T05:08:09.000000Z"), stats(1))
    );
    assert_eq!(
        field(dt.clone(), json!("2024-05-06 07:08:09.25")),
        (json!("2024-05-06T07:08:09.250000Z"), stats(1))
    );
    assert_eq!(
        field(dt.clone(), json!("2024-05-06T07:08:09.123456Z")),
        (json!("2024-05-06T07:08:09.123456Z"), stats(0))
    );
    assert_eq!(
        field_error(dt, json!("last tuesday")),
        "record field f: expected date-time string, got string"
    );
}

#[test]
fn dates_are_kept_as_year_month_day() {
    let date = json!({"type": ["null", "string"], "format": "date"});
    assert_eq!(
        field(date.clone(), json!("2024-02-29")),
        (json!("2024-02-29"), stats(0))
    );
    assert_eq!(
        field(date.clone(), json!("2024-02-29T23:00:00-05:00")),
        (json!("2024-02-29"), stats(1))
    );
    assert!(
        field_error(date, json!("2023-02-29"))
            .ends_with("expected null or date string (YYYY-MM-DD), got string")
    );
}

#[test]
fn singer_decimals_become_strings_without_precision_loss() {
    let dec = json!({"type": ["null", "string"], "format": "singer.decimal"});
    assert_eq!(field(dec.clone(), json!(0.1)), (json!("0.1"), stats(1)));
    assert_eq!(
        field(dec.clone(), json!(12345678901234567u64)),
        (json!("12345678901234567"), stats(1))
    );
    assert_eq!(
        field(dec.clone(), json!("-10.50")),
        (json!("-10.50"), stats(0))
    );
    assert!(field_error(dec, json!("ten")).contains("decimal string"));
}

#[test]
fn multiple_types_and_any_of_are_tried_in_order() {
    // A value already of an allowed type is left alone.
    assert_eq!(
        field(json!({"type": ["string", "integer"]}), json!(5)),
        (json!(5), stats(0))
    );
    // Otherwise the first type that can take it wins.
    assert_eq!(
        field(json!({"type": ["null", "integer", "string"]}), json!(5.0)),
        (json!(5), stats(1))
    );
    assert_eq!(
        field(json!({"type": ["boolean", "number"]}), json!("1.5")),
        (json!(1.5), stats(1))
    );
    let any_of = json!({"anyOf": [{"type": "integer"}, {"type": "string", "format": "date-time"}]});
    assert_eq!(field(any_of.clone(), json!("7")), (json!(7), stats(1)));
    assert_eq!(
        field(any_of.clone(), json!("2024-01-01")),
        (json!("2024-01-01T00:00:00.000000Z"), stats(1))
    );
    assert_eq!(field(any_of.clone(), json!(8)), (json!(8), stats(0)));
    assert_eq!(
        field_error(any_of, json!(false)),
        "record field f: expected integer or date-time string, got boolean"
    );
}

#[test]
fn nested_objects_and_arrays_are_conformed_and_unknown_fields_dropped() {
    let schema = json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "customer": {"type": ["null", "object"], "properties": {
            "since": {"type": "string", "format": "date-time"}}},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}}},
        "free": {"type": "object", "additionalProperties": true, "properties": {"a": {"type": "integer"}}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "anything": {}
    }});
    let record = json!({"id": "1", "extra": 1,
        "customer": {"since": "2020-01-01", "secret": "x"},
        "lines": [{"qty": "2", "note": "n"}, {"qty": 3}],
        "free": {"a": "1", "b": "kept"},
        "counts": {"x": "5"},
        "anything": {"whatever": [1]}});
    let (out, stats, outcome) = conform(schema, record, ViolationPolicy::Error);
    assert_eq!(outcome, Conformed::Kept);
    assert_eq!(
        out,
        json!({"id": 1, "customer": {"since": "2020-01-01T00:00:00.000000Z"},
            "lines": [{"qty": 2}, {"qty": 3}], "free": {"a": 1, "b": "kept"}, "counts": {"x": 5},
            "anything": {"whatever": [1]}})
    );
    assert_eq!(stats.coerced, 5);
}

#[test]
fn error_policy_names_the_path_and_type_never_the_value() {
    let schema = json!({"type": "object", "properties": {"lines": {"type": "array", "items": {
        "type": "object", "properties": {"qty": {"type": "integer"}}}}}});
    let conformer = Conformer::compile(&schema, ViolationPolicy::Error);
    let mut record = json!({"lines": [{"qty": 1}, {"qty": "secret-value"}]});
    let e = conformer
        .conform(&mut record, &mut ConformStats::default())
        .unwrap_err();
    assert_eq!(e.path, "lines[1].qty");
    assert_eq!(
        e.to_string(),
        "record field lines[1].qty: expected integer, got string"
    );
    assert!(!e.to_string().contains("secret"));
    let mut not_object = json!([1]);
    let e = Conformer::compile(
        &json!({"type": "object", "properties": {}}),
        ViolationPolicy::Error,
    )
    .conform(&mut not_object, &mut ConformStats::default())
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "record field (record): expected object, got array"
    );
}

#[test]
fn warn_and_null_nulls_nullable_fields_and_removes_the_others() {
    let schema = json!({"type": "object", "properties": {
        "a": {"type": ["null", "integer"]},
        "b": {"type": "integer"},
        "c": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "integer"}}}});
    let record = json!({"a": "x", "b": "y", "c": "ok", "tags": [1, "two", "3"]});
    let (out, stats, outcome) = conform(schema, record, ViolationPolicy::WarnAndNull);
    assert_eq!(outcome, Conformed::Kept);
    assert_eq!(out, json!({"a": null, "c": "ok", "tags": [1, 3]}));
    assert_eq!(
        stats,
        ConformStats {
            coerced: 1,
            nulled: 1,
            dropped: 2
        }
    );
    let (_, stats, outcome) = conform(
        json!({"type": "object"}),
        json!("text"),
        ViolationPolicy::WarnAndNull,
    );
    assert_eq!((outcome, stats.dropped), (Conformed::Dropped, 1));
}

#[test]
fn drop_record_drops_the_whole_record() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}});
    let conformer = Conformer::compile(&schema, ViolationPolicy::DropRecord);
    let mut stats = ConformStats::default();
    let mut good = json!({"a": "1", "b": 2});
    let mut bad = json!({"a": 1, "b": "nope"});
    assert_eq!(
        conformer.conform(&mut good, &mut stats).unwrap(),
        Conformed::Kept
    );
    assert_eq!(
        conformer.conform(&mut bad, &mut stats).unwrap(),
        Conformed::Dropped
    );
    assert_eq!(
        stats,
        ConformStats {
            coerced: 1,
            nulled: 0,
            dropped: 1
        }
    );
}

#[test]
fn nulls_where_not_allowed_are_violations() {
    assert_eq!(
        field_error(json!({"type": "string"}), Value::Null),
        "record field f: expected string, got null"
    );
    assert_eq!(
        field(json!({"type": ["null", "string"]}), Value::Null),
        (Value::Null, stats(0))
    );
}

fn stats(coerced: u64) -> ConformStats {
    ConformStats {
        coerced,
        nulled: 0,
        dropped: 0,
    }
}
