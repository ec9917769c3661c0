//! Inputs a user gets wrong, each refused before the first message with one error that says what
//! to fix: a `start_date` of an untyped config that does not read as a date-time, output files that cannot be
//! written, several bad files at once (every one named), a `selected` that is not a boolean, and a
//! state file checked by `--verify`.

mod common;

use burler::prelude::*;
use burler::{CaptureBuffer, RunOutcome};
use common::*;
use serde_json::{Value, json};

const UNTYPED_EXPECTED: &str = "key `start_date` must be a date-time, e.g. 2024-01-01T00:00:00Z \
     (a date, e.g. 2024-01-01, or a time without an offset is read as UTC)";

fn orders() -> Stream<Value, Value, ()> {
    Stream::new("orders")
        .schema(event_schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(|ctx: SyncContext<Value>| async move {
            ctx.emit(json!({"id": 1, "updated_at": "2024-01-02T00:00:00Z"}))?;
            Ok(())
        })
}

fn tap() -> Tap {
    Tap::new("t").stream(orders())
}

fn catalog(f: &Files, name: &str, stream: &str, selected: Value) -> String {
    f.json(
        name,
        &json!({"streams": [{"tap_stream_id": stream, "stream": stream, "schema": event_schema(),
            "metadata": [{"breadcrumb": [], "metadata": {"selected": selected}}]}]}),
    )
}

fn write(f: &Files, name: &str, text: &str) -> String {
    let path = f.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Asserts the run ended before any message with one error holding every fragment.
fn refused(out: &RunOutcome, msgs: &[Value], fragments: &[&str]) {
    assert_eq!(out.exit_code, 1, "{:?}", out.error);
    assert!(msgs.is_empty(), "nothing is written: {msgs:?}");
    assert!(out.report.is_none(), "no stream started");
    assert_eq!(
        out.failures.len(),
        1,
        "one CRITICAL line: {:?}",
        out.failures
    );
    let e = out.error.as_deref().unwrap_or_default();
    for fragment in fragments {
        assert!(e.contains(fragment), "`{fragment}` not in `{e}`");
    }
}

#[test]
fn an_untyped_start_date_that_does_not_read_says_the_format_expected() {
    let sample = r#"{"start_date": "2024-01-01T00:00:00Z"}"#;
    let spec = json!({"type": "object", "properties": {"start_date": {"type": "string"}}});
    for value in [json!("last tuesday"), json!("2024-13-01"), json!(20240101)] {
        let f = Files::new();
        let cfg = f.config(json!({ "start_date": value }));
        for (how, tap) in [
            ("untyped", tap()),
            ("sample", tap().config_sample_json(sample)),
            ("schema", tap().config_schema(spec.clone())),
        ] {
            let (out, msgs) = run(tap, &["--config", &cfg]);
            refused(&out, &msgs, &[UNTYPED_EXPECTED]);
            let e = out.error.unwrap();
            assert!(
                !e.contains("20240101") && !e.contains("tuesday"),
                "{how}: the value is not printed: {e}"
            );
        }
    }
}

#[test]
fn an_untyped_start_date_without_an_offset_is_read_as_utc() {
    for (value, kept) in [
        ("2024-01-01", &[2, 3][..]),
        ("2024-01-01T12:00:00", &[3]),
        ("2024-01-01T12:00:00+02:00", &[2, 3]),
    ] {
        let f = Files::new();
        let cfg = f.config(json!({ "start_date": value }));
        let (out, msgs) = run(tap().stream(since_start_date()), &["--config", &cfg]);
        assert_eq!(out.exit_code, 0, "{value}: {:?}", out.error);
        let ids: Vec<i64> = records(&msgs, "events")
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, kept, "{value}");
    }
}

/// A stream emitting three events (2023-12-31 23:00, 2024-01-01 10:00 and 2024-01-02 00:00 UTC)
/// through `emit_newer`, so only those at or after the start date come out.
fn since_start_date() -> Stream<Value, Value, ()> {
    Stream::new("events")
        .schema(event_schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(|ctx: SyncContext<Value>| async move {
            let events = [
                json!({"id": 1, "updated_at": "2023-12-31T23:00:00Z"}),
                json!({"id": 2, "updated_at": "2024-01-01T10:00:00Z"}),
                json!({"id": 3, "updated_at": "2024-01-02T00:00:00Z"}),
            ];
            ctx.emit_newer(burler::futures::stream::iter(events.map(Ok::<_, BoxError>)))
                .await?;
            Ok(())
        })
}

#[test]
fn an_out_file_that_cannot_be_written_is_named_before_any_message() {
    let f = Files::new();
    let cfg = f.empty_config();
    let nowhere = f.dir.path().join("no-such-dir").join("state.json");
    let nowhere = nowhere.to_string_lossy().into_owned();
    let (out, msgs) = run(tap(), &["--config", &cfg, "-o", &nowhere]);
    refused(
        &out,
        &msgs,
        &[
            &format!("--out-file {nowhere}: cannot be written: "),
            "No such file",
        ],
    );
    let dir = f.dir.path().to_string_lossy().into_owned();
    let (out, msgs) = run(tap(), &["--config", &cfg, "--out-file", &dir]);
    refused(
        &out,
        &msgs,
        &[&format!(
            "--out-file {dir}: cannot be written: is a directory"
        )],
    );
    let (out, msgs) = run(tap(), &["--config", &cfg, "--report-json", &nowhere]);
    refused(
        &out,
        &msgs,
        &[&format!("--report-json {nowhere}: cannot be written")],
    );
    let fine = f.dir.path().join("state.json");
    let (out, _) = run(tap(), &["--config", &cfg, "-o", fine.to_str().unwrap()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let written: Value = serde_json::from_slice(&std::fs::read(&fine).unwrap()).unwrap();
    assert!(written["bookmarks"]["orders"].is_object(), "{written}");
    let left: Vec<_> = std::fs::read_dir(f.dir.path()).unwrap().flatten().collect();
    assert!(
        left.iter()
            .all(|e| !e.file_name().to_string_lossy().ends_with(".tmp")),
        "the probe leaves no file behind"
    );
}

#[test]
fn every_bad_input_file_is_named_in_one_error() {
    let f = Files::new();
    let config = write(&f, "config.json", "{\"api_key\": ");
    let catalog = write(&f, "catalog.json", "{\"streams\": 3}");
    let state = write(&f, "state.json", "[1, 2]");
    let nowhere = f.dir.path().join("gone").join("out.json");
    let nowhere = nowhere.to_string_lossy().into_owned();
    let args = [
        "--config",
        &config,
        "--catalog",
        &catalog,
        "--state",
        &state,
        "-o",
        &nowhere,
    ];
    let (out, msgs) = run(tap(), &args);
    refused(
        &out,
        &msgs,
        &[
            &format!("config {config}: not valid JSON"),
            &format!("catalog {catalog}: \"streams\" must be a list"),
            &format!("state {state}: must be a JSON object"),
            &format!("--out-file {nowhere}: cannot be written"),
        ],
    );
    // Once the files read, the catalog's streams and the state's bookmarks are checked together.
    let config = f.empty_config();
    let unknown = catalog_file_with_unknown_stream(&f);
    let state = f.json(
        "state.json",
        &json!({"bookmarks": {"orders": {"replication_key": "updated_at", "replication_key_value": 5}}}),
    );
    let (out, msgs) = run(
        tap(),
        &[
            "--config",
            &config,
            "--catalog",
            &unknown,
            "--state",
            &state,
        ],
    );
    refused(
        &out,
        &msgs,
        &[
            &format!("catalog {unknown}: stream(s) invoices not provided by this tap"),
            &format!("state {state}: stream orders: replication_key_value 5 is not a date-time"),
        ],
    );
}

/// A catalog with this tap's `orders` and an `invoices` it does not have.
fn catalog_file_with_unknown_stream(f: &Files) -> String {
    let entry = |stream: &str| {
        json!({"tap_stream_id": stream, "stream": stream, "schema": event_schema(),
            "metadata": [{"breadcrumb": [], "metadata": {"selected": true}}]})
    };
    f.json(
        "unknown.json",
        &json!({"streams": [entry("orders"), entry("invoices")]}),
    )
}

/// Runs `--verify` with `extra`; the exit code and the lines printed.
fn verify(f: &Files, extra: &[&str]) -> (u8, Vec<String>) {
    let buf = CaptureBuffer::new();
    let config = f.empty_config();
    let mut args = vec!["tap-test", "--config", &config, "--verify"];
    args.extend_from_slice(extra);
    let outcome = tap().run_with(args, Box::new(buf.clone()));
    (
        outcome.exit_code,
        buf.text().lines().map(str::to_owned).collect(),
    )
}

#[test]
fn a_selected_that_is_not_a_boolean_is_an_error_in_a_sync_and_in_verify() {
    let f = Files::new();
    let cat = catalog(&f, "catalog.json", "orders", json!("yes"));
    let (out, msgs) = run(tap(), &["--config", &f.empty_config(), "--catalog", &cat]);
    let problem = "stream orders: `selected` must be true or false, not \"yes\"";
    refused(&out, &msgs, &[&format!("catalog {cat}: {problem}")]);
    let (code, lines) = verify(&f, &["--catalog", &cat]);
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("error: --catalog: ") && l.contains(problem)),
        "{lines:?}"
    );
    let cat = catalog(&f, "catalog.json", "orders", json!(true));
    let (code, lines) = verify(&f, &["--catalog", &cat]);
    assert_eq!(code, 0, "{lines:?}");
}

#[test]
fn verify_checks_the_state_file() {
    let f = Files::new();
    let bookmarks = |b: Value| f.json("state.json", &json!({ "bookmarks": b }));
    let good = bookmarks(json!({"orders": {"replication_key": "updated_at",
        "replication_key_value": "2024-01-01T00:00:00Z"}}));
    assert_eq!(verify(&f, &["--state", &good]).0, 0);
    let unknown = bookmarks(json!({"invoices": {"replication_key_value": 3}}));
    let (code, lines) = verify(&f, &["--state", &unknown]);
    assert_eq!(
        code, 0,
        "an unknown stream's bookmark is a warning: {lines:?}"
    );
    assert_eq!(
        lines,
        [
            format!(
                "warning: --state {unknown}: bookmark of stream invoices, which this tap does not have: ignored"
            ),
            "verify: 1 stream(s), 0 error(s), 1 warning(s)".to_owned()
        ]
    );
    let wrong = bookmarks(json!({"orders": {"replication_key": "updated_at",
        "replication_key_value": "last tuesday"}}));
    let (code, lines) = verify(&f, &["--state", &wrong]);
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("error: --state {wrong}: stream orders: replication_key_value \"last tuesday\" is not a date-time")),
        "{lines:?}"
    );
    let shape = write(&f, "shape.json", "{\"bookmarks\": []}");
    let (code, lines) = verify(&f, &["--state", &shape]);
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines[0].starts_with("error: --state: state ") && lines[0].contains("bookmarks"),
        "{lines:?}"
    );
}
