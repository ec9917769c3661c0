//! Schemas through the framework: record conformance and its policies, the metadata visitor, and
//! schema files with `$ref`s to other files.

mod common;

use burler::prelude::*;
use burler::{CaptureBuffer, RunOutcome};
use common::*;
use serde_json::{Value, json};

fn typed_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "amount": {"type": ["null", "number"]},
        "active": {"type": "boolean"},
        "updated_at": {"type": "string", "format": "date-time"}}})
}

/// A stream emitting `records` as they are, with `typed_schema()`.
fn loose(records: Vec<Value>) -> Stream<Value, Value, ()> {
    Stream::new("loose")
        .schema(typed_schema())
        .key(["id"])
        .sync(move |ctx: SyncContext<Value>| {
            let records = records.clone();
            async move {
                for r in records {
                    ctx.emit(r)?;
                }
                Ok(())
            }
        })
}

fn report_stats(out: &RunOutcome) -> (u64, u64, u64, u64) {
    let s = &out.report.as_ref().unwrap().streams[0].stats;
    (s.emitted, s.coerced, s.nulled, s.dropped)
}

#[test]
fn conformance_coerces_strings_normalises_date_times_and_drops_unknown_fields() {
    let f = Files::new();
    let input = vec![json!({"id": "7", "amount": "12.50", "active": "TRUE",
        "updated_at": "2024-03-01 10:00:00+02:00", "extra": 1})];
    let tap = Tap::new("t").stream(loose(input).conform(ViolationPolicy::Error));
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(
        records(&msgs, "loose"),
        vec![&json!({"id": 7, "amount": 12.5, "active": true,
            "updated_at": "2024-03-01T08:00:00.000000Z"})]
    );
    assert_eq!(report_stats(&out), (1, 4, 0, 0));
}

#[test]
fn without_conform_records_are_written_as_emitted() {
    let f = Files::new();
    let input = vec![json!({"id": "7", "extra": 1})];
    let (out, msgs) = run(
        Tap::new("t").stream(loose(input)),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 0);
    assert_eq!(
        records(&msgs, "loose"),
        vec![&json!({"id": "7", "extra": 1})]
    );
}

#[test]
fn policy_error_fails_the_stream_naming_the_field_not_the_value() {
    let f = Files::new();
    let input = vec![json!({"id": 1}), json!({"id": "seven-secret"})];
    let tap = Tap::new("t").stream(loose(input).conform(ViolationPolicy::Error));
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    assert_eq!(records(&msgs, "loose").len(), 1, "the good record went out");
    let error = out.report.unwrap().streams[0].error.clone().unwrap();
    assert!(error.contains("id") && error.contains("integer"), "{error}");
    assert!(
        !error.contains("seven-secret"),
        "values stay out of errors: {error}"
    );
}

#[test]
fn policy_warn_and_null_nulls_the_bad_value_and_counts_it() {
    let f = Files::new();
    let input = vec![
        json!({"id": 1, "amount": "lots"}),
        json!({"id": 2, "amount": 3}),
    ];
    let tap = Tap::new("t").stream(loose(input).conform(ViolationPolicy::WarnAndNull));
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(
        records(&msgs, "loose"),
        vec![
            &json!({"id": 1, "amount": null}),
            &json!({"id": 2, "amount": 3})
        ]
    );
    assert_eq!(report_stats(&out), (2, 0, 1, 0));
}

#[test]
fn policy_drop_record_drops_it_and_counts_it() {
    let f = Files::new();
    let input = vec![json!({"id": 1, "active": "maybe"}), json!({"id": 2})];
    let tap = Tap::new("t").stream(loose(input).conform(ViolationPolicy::DropRecord));
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(records(&msgs, "loose"), vec![&json!({"id": 2})]);
    assert_eq!(report_stats(&out), (1, 0, 0, 1));
}

#[test]
fn a_tap_wide_policy_applies_unless_the_stream_sets_its_own() {
    let f = Files::new();
    let bad = || vec![json!({"id": "x"}), json!({"id": 2})];
    let tap = Tap::new("t")
        .conform(ViolationPolicy::DropRecord)
        .stream(loose(bad()));
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!((out.exit_code, records(&msgs, "loose").len()), (0, 1));
    let tap = Tap::new("t")
        .conform(ViolationPolicy::DropRecord)
        .stream(loose(bad()).conform(ViolationPolicy::Error));
    let (out, _) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1, "the stream's own policy wins");
}

#[test]
fn conformance_follows_the_catalog_selection() {
    let f = Files::new();
    let catalog = f.json(
        "catalog.json",
        &json!({"streams": [{"tap_stream_id": "loose", "stream": "loose", "schema": typed_schema(),
            "metadata": [{"breadcrumb": [], "metadata": {"selected": true}},
                         {"breadcrumb": ["properties", "amount"], "metadata": {"selected": false}}]}]}),
    );
    let input = vec![json!({"id": "3", "amount": 1.5, "active": false})];
    let tap = Tap::new("t").stream(loose(input).conform(ViolationPolicy::Error));
    let (out, msgs) = run(tap, &["--config", &f.empty_config(), "--catalog", &catalog]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(
        records(&msgs, "loose"),
        vec![&json!({"id": 3, "active": false})]
    );
}

fn discover(f: &Files, tap: Tap) -> Value {
    let buf = CaptureBuffer::new();
    let out = tap.run_with(
        ["t", "--config", &f.empty_config(), "--discover"],
        Box::new(buf.clone()),
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    serde_json::from_str(&buf.text()).unwrap()
}

fn metadata_at(catalog: &Value, breadcrumb: Value) -> &Value {
    catalog["streams"][0]["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["breadcrumb"] == breadcrumb)
        .map(|m| &m["metadata"])
        .unwrap_or_else(|| panic!("no metadata at {breadcrumb}"))
}

fn docs() -> Stream<Value, Value, ()> {
    Stream::new("docs")
        .schema(json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "updated_at": {"type": "string", "format": "date-time"},
            "blob": {"type": "string", "contentEncoding": "base64"},
            "owner": {"type": "object", "properties": {"login": {"type": "string"}}}}}))
        .key(["id"])
        .incremental("updated_at")
        .metadata(|node, meta| {
            if node.schema.get("contentEncoding").is_some() {
                meta.unsupported();
            }
            if node.level == 2 {
                meta.set("x-path", node.path.join("."));
            }
            if node.level == 0 {
                meta.set("forced-replication-method", "INCREMENTAL");
            }
        })
        .sync(|ctx: SyncContext<Value>| async move {
            ctx.emit(
                json!({"id": 1, "updated_at": "2024-01-01T00:00:00Z", "blob": "AA==",
                "owner": {"login": "ann"}}),
            )?;
            Ok(())
        })
}

#[test]
fn the_metadata_visitor_writes_in_context_after_the_standard_metadata() {
    let f = Files::new();
    let tap = || Tap::new("t").stream(docs());
    let catalog = discover(&f, tap());
    assert_eq!(
        metadata_at(&catalog, json!(["properties", "blob"]))["inclusion"],
        "unsupported"
    );
    assert_eq!(
        metadata_at(&catalog, json!(["properties", "id"]))["inclusion"],
        "automatic"
    );
    assert_eq!(
        metadata_at(&catalog, json!(["properties", "updated_at"]))["inclusion"],
        "automatic"
    );
    assert_eq!(
        metadata_at(&catalog, json!(["properties", "owner"]))["inclusion"],
        "available"
    );
    assert_eq!(
        metadata_at(
            &catalog,
            json!(["properties", "owner", "properties", "login"])
        )["x-path"],
        "owner.login"
    );
    assert_eq!(
        metadata_at(&catalog, json!([]))["forced-replication-method"],
        "INCREMENTAL"
    );
    // An unsupported field is never synced, even when the record carries it.
    let (out, msgs) = run(tap(), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert!(records(&msgs, "docs")[0].get("blob").is_none(), "{msgs:?}");
}

#[test]
fn a_schema_file_resolves_refs_into_other_files_relative_to_itself() {
    let f = Files::new();
    std::fs::create_dir(f.dir.path().join("shared")).unwrap();
    f.json(
        "shared/common.json",
        &json!({"definitions": {"address": {"type": "object", "properties": {
            "city": {"type": "string"}, "zip": {"$ref": "#/definitions/zip"}}},
            "zip": {"type": "string", "pattern": "^[0-9]{5}$"}}}),
    );
    let path = f.json(
        "users.json",
        &json!({"type": "object", "properties": {"id": {"type": "integer"},
            "home": {"$ref": "shared/common.json#/definitions/address"},
            "work": {"$ref": "shared/common.json#/definitions/address"}}}),
    );
    let stream = Stream::new("users")
        .schema_file(path)
        .sync(|_ctx: SyncContext<Value>| async move { Ok(()) });
    let catalog = discover(&f, Tap::new("t").stream(stream));
    let address = json!({"type": "object", "properties": {
        "city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}}});
    let schema = &catalog["streams"][0]["schema"];
    assert_eq!(schema["properties"]["home"], address);
    assert_eq!(schema["properties"]["work"], address);
    assert!(!schema.to_string().contains("$ref"), "{schema}");
}

#[test]
fn a_missing_ref_target_ends_discovery_with_one_line_naming_it() {
    let f = Files::new();
    let stream = Stream::new("users")
        .schema(json!({"type": "object", "properties": {"a": {"$ref": "#/definitions/nope"}}}))
        .sync(|_ctx: SyncContext<Value>| async move { Ok(()) });
    let (out, _) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config(), "--discover"],
    );
    assert_eq!(out.exit_code, 1);
    let error = out.error.unwrap();
    assert!(
        error.contains("users") && error.contains("#/definitions/nope"),
        "{error}"
    );
    assert!(!error.contains('\n'), "{error}");
}
