//! `burler check` end to end, against real tap processes.
//!
//! The taps `burler check` judges must be executables. Binaries of other packages (tap-files) are
//! not built for this package's tests, and building them from a test is slow and fights over the
//! cargo lock, so this test binary doubles as the fixture taps: run with `BURLER_FIXTURE_TAP=<kind>`
//! in its environment, `main` behaves as that tap (a burler tap, a hand-written broken tap, a tap
//! that hangs) instead of running the tests. `burler check` passes its environment on to the tap,
//! so each test runs `burler check -- <this test binary>` with the variable set. That is why this
//! test has `harness = false`: a libtest `main` would print to stdout, which a tap must not.
//! tap-files itself is checked by `examples/tap-files/tests/suite.rs` and `.ci/interop/check.sh`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Output};

use serde_json::{Value, json};

const FIXTURE_VAR: &str = "BURLER_FIXTURE_TAP";

fn main() -> ExitCode {
    if let Ok(kind) = std::env::var(FIXTURE_VAR) {
        return fixture::run(&kind);
    }
    let tests: &[(&str, fn())] = &[
        ("a_burler_tap_passes", a_burler_tap_passes),
        (
            "json_report_is_machine_readable",
            json_report_is_machine_readable,
        ),
        (
            "a_given_catalog_and_state_are_used",
            a_given_catalog_and_state_are_used,
        ),
        (
            "a_broken_tap_fails_with_a_clear_report",
            a_broken_tap_fails_with_a_clear_report,
        ),
        (
            "a_hanging_tap_is_stopped_at_the_timeout",
            a_hanging_tap_is_stopped_at_the_timeout,
        ),
        (
            "a_missing_tap_command_is_a_usage_error",
            a_missing_tap_command_is_a_usage_error,
        ),
        ("a_zero_timeout_is_refused", a_zero_timeout_is_refused),
        (
            "a_slow_bookmark_fails_the_minimum_rate",
            a_slow_bookmark_fails_the_minimum_rate,
        ),
        (
            "a_tree_committing_parents_before_children_fails_to_resume",
            a_tree_committing_parents_before_children_fails_to_resume,
        ),
        (
            "a_tree_committing_after_children_resumes_anywhere",
            a_tree_committing_after_children_resumes_anywhere,
        ),
        (
            "every_report_validates_against_the_documented_schema",
            every_report_validates_against_the_documented_schema,
        ),
    ];
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut failed = Vec::new();
    let mut ran = 0;
    for (name, test) in tests {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        ran += 1;
        let ok = catch_unwind(AssertUnwindSafe(test)).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        ran - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs `burler check` on the fixture tap `kind` with `args` before the `--`.
fn check(kind: &str, args: &[&str]) -> Output {
    let me = std::env::current_exe().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_burler"));
    cmd.arg("check")
        .args(args)
        .arg("--")
        .arg(me)
        .env(FIXTURE_VAR, kind);
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Files(tempfile::tempdir().unwrap())
    }

    fn json(&self, name: &str, v: &Value) -> String {
        let p: PathBuf = self.0.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_string_lossy().into_owned()
    }
}

fn line_of<'a>(report: &'a str, check: &str) -> &'a str {
    report
        .lines()
        .find(|l| {
            ["PASS", "WARN", "FAIL"]
                .iter()
                .any(|s| l.starts_with(&format!("{s} {check}: ")))
        })
        .unwrap_or_else(|| panic!("no line for {check:?} in:\n{report}"))
}

fn a_burler_tap_passes() {
    let f = Files::new();
    let out = check("good", &["--config", &f.json("config.json", &json!({}))]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}\n{}", text(&out.stderr));
    for name in [
        "discover",
        "catalog metadata",
        "sync",
        "message order",
        "records match their schema",
        "key properties present and unique",
        "replication key present",
        "state messages parse",
        "state shape understood",
        "resume from any cut",
        "metric lines",
        "bookmarks advance",
        "observed schema matches declared",
        "second run: no record older than the bookmark",
        "second run: no more records than the first",
        "--properties with --catalog",
    ] {
        assert!(
            line_of(&report, name).starts_with("PASS "),
            "{name}:\n{report}"
        );
    }
    assert!(
        report.trim_end().ends_with("0 warnings, 0 failed"),
        "{report}"
    );
    assert!(
        line_of(&report, "metric lines").contains("record_count"),
        "{report}"
    );
}

fn json_report_is_machine_readable() {
    let f = Files::new();
    let out = check(
        "good",
        &["--json", "--config", &f.json("config.json", &json!({}))],
    );
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], true);
    assert_eq!(report["summary"]["failed"], 0);
    let events = report["bookmarks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["stream"] == "events")
        .unwrap();
    assert_eq!(events["after"], "2024-01-01T00:10:00Z");
    assert_eq!(events["unit"], "seconds");
    assert!(events["rate_per_second"].as_f64().unwrap() > 0.0);
}

fn a_given_catalog_and_state_are_used() {
    let f = Files::new();
    let config = f.json("config.json", &json!({}));
    let catalog = fixture::catalog_selecting_only("events");
    let state = json!({"bookmarks": {"events": {"replication_key": "updated_at",
        "replication_key_value": "2024-01-01T00:05:00Z"}}});
    let out = check(
        "good",
        &[
            "--config",
            &config,
            "--catalog",
            &f.json("catalog.json", &catalog),
            "--state",
            &f.json("state.json", &state),
        ],
    );
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(
        line_of(&report, "every selected stream syncs").starts_with("PASS"),
        "{report}"
    );
    assert!(report.contains("events: 6 records"), "{report}");
    assert!(
        !report.contains("users: "),
        "users was not selected:\n{report}"
    );
    assert!(
        report.contains("\"2024-01-01T00:05:00Z\" → \"2024-01-01T00:10:00Z\""),
        "{report}"
    );
}

fn a_broken_tap_fails_with_a_clear_report() {
    let f = Files::new();
    let out = check("broken", &["--config", &f.json("config.json", &json!({}))]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    for (name, says) in [
        (
            "catalog metadata",
            "non-standard metadata key \"x-private\"",
        ),
        ("message order", "line 1: RECORD of items before its SCHEMA"),
        (
            "records match their schema",
            "/id: \"three\" is not of type \"integer\"",
        ),
        ("key properties present and unique", "duplicate key 2"),
        ("bookmarks advance", "older than every record"),
        (
            "observed schema matches declared",
            "seen but not declared: colour",
        ),
        (
            "stdout holds only Singer messages",
            "line 6: expected ident at line 1 column 2: not json",
        ),
        (
            "second run: no record older than the bookmark",
            "at \"2019-06-01\" is older than the bookmark \"2020-01-01\"",
        ),
        (
            "second run: no more records than the first",
            "items: 4 then 5",
        ),
    ] {
        let line = line_of(&report, name);
        assert!(line.starts_with("FAIL "), "{name} should fail:\n{report}");
        assert!(
            report.contains(says),
            "{name} should say {says:?}:\n{report}"
        );
    }
    assert!(
        report.contains("WARN metric lines"),
        "a malformed metric line warns:\n{report}"
    );
    assert!(
        report
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .ends_with("failed"),
        "{report}"
    );
}

fn a_hanging_tap_is_stopped_at_the_timeout() {
    let f = Files::new();
    let start = std::time::Instant::now();
    let out = check(
        "hang",
        &[
            "--timeout",
            "1",
            "--config",
            &f.json("config.json", &json!({})),
        ],
    );
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        line_of(&report, "discover").contains("timed out after 1 s"),
        "{report}"
    );
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

fn a_missing_tap_command_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_burler"))
        .args(["check", "--config", "c.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("TAP COMMAND"),
        "{}",
        text(&out.stderr)
    );
}

fn a_zero_timeout_is_refused() {
    for (value, why) in [
        ("0", "must be at least 1 second"),
        ("1.5", "must be a whole number of seconds"),
    ] {
        let out = check("good", &["--config", "c.json", "--timeout", value]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with(&format!(
                "error: invalid value '{value}' for '--timeout <SECONDS>': {why}"
            )),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "no check ran");
    }
}

fn a_slow_bookmark_fails_the_minimum_rate() {
    let f = Files::new();
    let out = check(
        "good",
        &[
            "--min-bookmark-rate",
            "1e15",
            "--config",
            &f.json("config.json", &json!({})),
        ],
    );
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        line_of(&report, "bookmarks advance").starts_with("FAIL"),
        "{report}"
    );
    assert!(report.contains("below the minimum 1.000e15/s"), "{report}");
}

fn a_tree_committing_parents_before_children_fails_to_resume() {
    let f = Files::new();
    let out = check(
        "tree-bug",
        &["--config", &f.json("config.json", &json!({}))],
    );
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let line = line_of(&report, "resume from any cut");
    assert!(
        line.starts_with("FAIL ") && line.contains("lose records of order_lines"),
        "{report}"
    );
    let detail = report
        .lines()
        .find(|l| l.trim_start().starts_with("order_lines: cut after line "))
        .unwrap_or_else(|| panic!("no failing cut named:\n{report}"));
    assert!(
        detail.contains("resumed from the STATE of line")
            && detail.contains("keys missing, e.g. {\"id\":")
            && detail.contains("state {\"bookmarks\":{\"orders\""),
        "{detail}"
    );
    // Everything else about the tap is fine: only the resume check fails.
    assert_eq!(
        report.matches("\nFAIL ").count() + usize::from(report.starts_with("FAIL")),
        1,
        "{report}"
    );
}

fn a_tree_committing_after_children_resumes_anywhere() {
    let f = Files::new();
    let config = f.json("config.json", &json!({}));
    let out = check("tree-good", &["--config", &config]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}");
    let line = line_of(&report, "resume from any cut");
    assert!(
        line.starts_with("PASS ") && line.contains("every key"),
        "{report}"
    );
    let cuts = |line: &str| -> usize {
        let (_, rest) = line.split_once("resume from any cut: ").unwrap();
        rest.split(' ').next().unwrap().parse().unwrap()
    };
    assert!(cuts(line) >= 20, "{line}");
    let out = check("tree-good", &["--cuts", "3", "--config", &config]);
    let report = text(&out.stdout);
    assert!(
        (3..=4).contains(&cuts(line_of(&report, "resume from any cut"))),
        "{report}"
    );
    let out = check("tree-bug", &["--skip-resume", "--config", &config]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(!report.contains("resume from any cut"), "{report}");
}

fn every_report_validates_against_the_documented_schema() {
    let schema: Value = serde_json::from_str(include_str!("../report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let f = Files::new();
    let config = f.json("config.json", &json!({}));
    for (kind, extra) in [
        ("good", &[][..]),
        ("broken", &[][..]),
        ("tree-bug", &[][..]),
        ("tree-good", &["--skip-resume"][..]),
        ("hang", &["--timeout", "1"][..]),
    ] {
        let mut args = vec!["--json", "--config", &config];
        args.extend(extra);
        let out = check(kind, &args);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{kind}: not JSON ({e}): {}", text(&out.stdout)));
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{kind}: {errors:#?}");
        assert_eq!(out.status.success(), report["passed"] == true, "{kind}");
    }
    let mut drifted: Value =
        serde_json::from_slice(&check("good", &["--json", "--config", &config]).stdout).unwrap();
    drifted["checks"][0]["name"] = json!("a check nobody documented");
    assert!(!validator.is_valid(&drifted), "the schema pins check names");
}

/// The taps this binary becomes when `BURLER_FIXTURE_TAP` is set.
mod fixture {
    use super::*;
    use burler::prelude::*;
    use burler::singer::Catalog;

    pub fn run(kind: &str) -> ExitCode {
        match kind {
            "good" => good_tap().run(),
            "broken" => broken_tap(),
            "tree-good" => tree_tap(false),
            "tree-bug" => tree_tap(true),
            "hang" => {
                std::thread::sleep(std::time::Duration::from_secs(60));
                ExitCode::SUCCESS
            }
            other => {
                eprintln!("unknown fixture tap {other}");
                ExitCode::from(2)
            }
        }
    }

    fn event_schema() -> Value {
        json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "updated_at": {"type": "string", "format": "date-time"},
            "name": {"type": ["null", "string"]}}})
    }

    /// Ten events a minute apart; a real source returns those at or after the start point.
    fn events() -> Stream<Value, Value, ()> {
        Stream::new("events")
            .schema(event_schema())
            .key(["id"])
            .incremental("updated_at")
            .sync(|ctx: SyncContext<Value>| async move {
                let start = ctx
                    .replication_start()
                    .and_then(|v| v.as_str().map(str::to_owned));
                for i in 1..=10 {
                    let at = format!("2024-01-01T00:{i:02}:00Z");
                    if start.as_deref().is_none_or(|s| at.as_str() >= s) {
                        ctx.emit(json!({"id": i, "updated_at": at, "name": format!("event {i}")}))?;
                    }
                }
                Ok(())
            })
    }

    fn users() -> Stream<Value, Value, ()> {
        Stream::new("users")
            .schema(json!({"type": "object", "properties": {"id": {"type": "integer"}, "email": {"type": "string"}}}))
            .key(["id"])
            .full_table()
            .sync(|ctx: SyncContext<Value>| async move {
                for i in 1..=3 {
                    ctx.emit(json!({"id": i, "email": format!("u{i}@example.com")}))?;
                }
                Ok(())
            })
    }

    pub fn good_tap() -> Tap {
        Tap::new("tap-fixture").stream(events()).stream(users())
    }

    /// The discovered catalog of the good tap with only `stream` selected.
    pub fn catalog_selecting_only(stream: &str) -> Value {
        let buf = burler::CaptureBuffer::new();
        let f = Files::new();
        let config = f.json("c.json", &json!({}));
        let out = good_tap().run_with(
            ["tap", "--config", &config, "--discover"],
            Box::new(buf.clone()),
        );
        assert_eq!(out.exit_code, 0);
        let mut catalog = Catalog::from_json_str(&buf.text()).unwrap();
        for s in &mut catalog.streams {
            s.metadata.set(
                &burler::singer::Breadcrumb::root(),
                "selected",
                s.tap_stream_id == stream,
            );
        }
        serde_json::to_value(&catalog).unwrap()
    }

    /// A hand-written tap with every classic fault: custom metadata, RECORD before SCHEMA, records
    /// that break the schema, a duplicate key, a stray non-JSON line, a bookmark that never moves
    /// past the start, and a malformed metric line.
    fn broken_tap() -> ExitCode {
        let args: Vec<String> = std::env::args().collect();
        if args.iter().any(|a| a == "--discover") {
            println!(
                "{}",
                json!({"streams": [{"tap_stream_id": "items", "stream": "items",
                "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "at": {"type": "string"}}},
                "key_properties": ["id"], "replication_key": "at", "replication_method": "INCREMENTAL",
                "metadata": [{"breadcrumb": [], "metadata": {"valid-replication-keys": ["at"], "x-private": 1}}]}]})
            );
            return ExitCode::SUCCESS;
        }
        let lines = [
            json!({"type": "RECORD", "stream": "items", "record": {"id": 1, "at": "2024-01-01"}}).to_string(),
            json!({"type": "SCHEMA", "stream": "items", "key_properties": ["id"], "bookmark_properties": ["at"],
                   "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "at": {"type": "string"}}}}).to_string(),
            json!({"type": "RECORD", "stream": "items", "record": {"id": 2, "at": "2024-01-02"}}).to_string(),
            json!({"type": "RECORD", "stream": "items", "record": {"id": 2, "at": "2024-01-02", "colour": "red"}}).to_string(),
            json!({"type": "RECORD", "stream": "items", "record": {"id": "three", "at": "2024-01-03"}}).to_string(),
            "not json".to_owned(),
            json!({"type": "STATE", "value": {"bookmarks": {"items": {"replication_key_value": "2020-01-01"}}}}).to_string(),
        ];
        for l in lines {
            println!("{l}");
        }
        if args.iter().any(|a| a == "--state") {
            // Ignores the state: re-sends everything, and something older than the bookmark.
            println!(
                "{}",
                json!({"type": "RECORD", "stream": "items", "record": {"id": 9, "at": "2019-06-01"}})
            );
        }
        eprintln!(
            "INFO METRIC: {{\"type\": \"counter\", \"metric\": \"record_count\", \"value\": 4, \"tags\": {{\"endpoint\": \"items\"}}}}"
        );
        eprintln!("INFO METRIC: {{not a metric");
        ExitCode::SUCCESS
    }

    /// A hand-written parent → child tap: `orders` (INCREMENTAL on `updated_at`) and
    /// `order_lines` (child of orders, two per order). Correct, it writes each order, its lines,
    /// then the STATE covering them. With `bug`, it commits the orders' bookmark after the orders
    /// and writes the lines only after all orders (as the framework did before its engine
    /// rewrite): a run resumed from such a STATE never asks for those lines.
    fn tree_tap(bug: bool) -> ExitCode {
        let args: Vec<String> = std::env::args().collect();
        let entry = |id: &str, extra: Value| {
            let mut root = json!({"inclusion": "available", "table-key-properties": ["id"]});
            root.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"tap_stream_id": id, "stream": id, "key_properties": ["id"],
                "schema": {"type": "object", "properties": {"id": {"type": "integer"},
                    "updated_at": {"type": "string", "format": "date-time"}}},
                "metadata": [{"breadcrumb": [], "metadata": root},
                    {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}},
                    {"breadcrumb": ["properties", "updated_at"], "metadata": {"inclusion": "automatic"}}]})
        };
        if args.iter().any(|a| a == "--discover") {
            let orders = entry(
                "orders",
                json!({"valid-replication-keys": ["updated_at"],
                "forced-replication-method": "INCREMENTAL", "replication-key": "updated_at"}),
            );
            let lines = entry(
                "order_lines",
                json!({"parent-tap-stream-id": "orders",
                "forced-replication-method": "FULL_TABLE"}),
            );
            println!("{}", json!({"streams": [orders, lines]}));
            return ExitCode::SUCCESS;
        }
        let since = args
            .iter()
            .position(|a| a == "--state")
            .and_then(|i| std::fs::read_to_string(&args[i + 1]).ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|s| {
                s["bookmarks"]["orders"]["replication_key_value"]
                    .as_str()
                    .map(str::to_owned)
            });
        let at = |hour: u32| format!("2024-01-01T{hour:02}:00:00Z");
        let schema = |s: &str| json!({"type": "SCHEMA", "stream": s, "key_properties": ["id"], "schema": entry(s, json!({}))["schema"]});
        let record = |s: &str, id: u32, hour: u32| json!({"type": "RECORD", "stream": s, "record": {"id": id, "updated_at": at(hour)}});
        let state = |hour: u32| json!({"type": "STATE", "value": {"bookmarks": {"orders": {"replication_key": "updated_at", "replication_key_value": at(hour)}}}});
        let orders: Vec<u32> = (1..=10)
            .filter(|h| since.as_deref().is_none_or(|s| at(*h).as_str() > s))
            .collect();
        let mut out = vec![schema("orders"), schema("order_lines")];
        let lines = |o: u32| {
            [
                record("order_lines", o * 10, o),
                record("order_lines", o * 10 + 1, o),
            ]
        };
        for &o in &orders {
            out.push(record("orders", o, o));
            if !bug {
                out.extend(lines(o));
            }
            if !bug || o % 5 == 0 {
                out.push(state(o));
            }
        }
        if bug {
            out.extend(orders.iter().flat_map(|&o| lines(o)));
        }
        for m in out {
            println!("{m}");
        }
        ExitCode::SUCCESS
    }
}
