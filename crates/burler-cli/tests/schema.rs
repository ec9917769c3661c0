//! `burler schema ...` as a user runs it.

use std::path::PathBuf;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{Value, json};

fn schema_fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../burler-schema/tests/fixtures")
        .join(path)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn burler(args: &[&str], stdin: &str) -> Run {
    let out = cargo_bin_cmd!("burler")
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn assert_one_line_failure(run: &Run) {
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn resolve_prints_the_resolved_schema() {
    let file = schema_fixture("refs/transitive/schema.json");
    let run = burler(&["schema", "resolve", file.to_str().unwrap()], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(schema_fixture("refs/transitive/expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(printed, expected);
    assert!(run.stdout.contains("\n  \""), "pretty: {}", run.stdout);
}

#[test]
fn resolve_fails_on_a_cycle_with_one_line() {
    let file = schema_fixture("refs/cycle/schema.json");
    let run = burler(&["schema", "resolve", file.to_str().unwrap()], "");
    assert_one_line_failure(&run);
    assert!(
        run.stderr.starts_with("burler: recursive $ref \"#/definitions/category\" at #/properties/category/properties/parent"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .trim_end()
            .ends_with("(unroll it with --max-recursion N)"),
        "{}",
        run.stderr
    );
    let bounded = burler(
        &[
            "schema",
            "resolve",
            "--max-recursion",
            "1",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(bounded.code, 0, "{}", bounded.stderr);
    let printed: Value = serde_json::from_str(&bounded.stdout).unwrap();
    assert_eq!(
        printed["properties"]["category"]["properties"]["parent"],
        json!({})
    );
}

#[test]
fn resolve_fails_on_a_missing_target_or_file() {
    let file = schema_fixture("refs/missing_file/schema.json");
    let run = burler(&["schema", "resolve", file.to_str().unwrap()], "");
    assert_one_line_failure(&run);
    assert!(
        run.stderr.contains("\"customers/missing.json\""),
        "{}",
        run.stderr
    );
    let run = burler(&["schema", "resolve", "/nonexistent/schema.json"], "");
    assert_one_line_failure(&run);
    assert!(
        run.stderr.contains("/nonexistent/schema.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn wsdl_prints_type_schemas() {
    let file = schema_fixture("wsdl/order_service.wsdl");
    let run = burler(&["schema", "wsdl", file.to_str().unwrap()], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&String> = printed.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "Amount",
            "RecordRef",
            "OrderLine",
            "SalesOrder",
            "getOrdersResponse"
        ]
    );
    assert_eq!(
        printed["SalesOrder"]["properties"]["createdDate"],
        json!({"type": "string", "format": "date-time"})
    );
    let bad = burler(
        &[
            "schema",
            "wsdl",
            file.parent().unwrap().join("nope.wsdl").to_str().unwrap(),
        ],
        "",
    );
    assert_one_line_failure(&bad);
}

#[test]
fn infer_from_json_lines() {
    let input = concat!(
        r#"{"id": 1, "name": "a", "at": "2024-01-01T00:00:00Z", "addr": {"zip": "1"}}"#,
        "\n\n",
        r#"{"id": 2.5, "name": null, "at": "2024-02-01T10:00:00+01:00", "tags": ["x"]}"#,
        "\n"
    );
    let run = burler(&["schema", "infer"], input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let schema: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        schema,
        json!({"type": "object", "properties": {
            "id": {"type": "number"},
            "name": {"type": ["null", "string"]},
            "at": {"type": "string", "format": "date-time"},
            "addr": {"type": ["null", "object"], "properties": {"zip": {"type": "string"}}},
            "tags": {"type": ["null", "array"], "items": {"type": "string"}}}})
    );
}

#[test]
fn infer_from_singer_messages() {
    let input = [
        json!({"type": "SCHEMA", "stream": "users", "schema": {}, "key_properties": ["id"]}),
        json!({"type": "RECORD", "stream": "users", "record": {"id": 1, "born": "1990-01-02"}}),
        json!({"type": "RECORD", "stream": "orders", "record": {"total": "9.5"}}),
        json!({"type": "RECORD", "stream": "users", "record": {"id": 2}}),
        json!({"type": "STATE", "value": {"bookmarks": {}}}),
    ]
    .iter()
    .map(|m| format!("{m}\n"))
    .collect::<String>();
    let run = burler(&["schema", "infer", "--stream", "users"], &input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let schema: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        schema,
        json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "born": {"type": ["null", "string"], "format": "date"}}})
    );
    let ambiguous = burler(&["schema", "infer"], &input);
    assert_one_line_failure(&ambiguous);
    assert!(
        ambiguous.stderr.contains("users, orders"),
        "{}",
        ambiguous.stderr
    );
    let unknown = burler(&["schema", "infer", "--stream", "nope"], &input);
    assert_one_line_failure(&unknown);
}

#[test]
fn infer_rejects_bad_json_with_its_line_number() {
    let run = burler(&["schema", "infer"], "{\"a\": 1}\n{oops\n");
    assert_one_line_failure(&run);
    assert!(
        run.stderr.starts_with("burler: stdin line 2: not JSON"),
        "{}",
        run.stderr
    );
}

#[test]
fn resolve_refuses_a_schema_that_is_not_an_object() {
    let dir = tempfile::tempdir().unwrap();
    for (text, found) in [
        ("[1, 2]", "an array"),
        ("\"string\"", "a string"),
        ("true", "a boolean"),
        ("null", "null"),
    ] {
        let file = dir.path().join("schema.json");
        std::fs::write(&file, text).unwrap();
        let run = burler(&["schema", "resolve", file.to_str().unwrap()], "");
        assert_one_line_failure(&run);
        assert_eq!(
            run.stderr,
            format!(
                "burler: {}: a schema must be a JSON object, found {found}\n",
                file.display()
            )
        );
    }
}
