//! End-to-end tests of the tap-files binary: the Singer command line as a user runs it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path
}

fn config(dir: &Path) -> PathBuf {
    write_json(
        dir,
        "config.json",
        &json!({"data_dir": data_dir(), "start_date": "2024-01-01T00:00:00Z"}),
    )
}

fn tap() -> Command {
    Command::cargo_bin("tap-files").unwrap()
}

fn messages(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn of_type<'a>(msgs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    msgs.iter().filter(|m| m["type"] == ty).collect()
}

fn records<'a>(msgs: &'a [Value], stream: &str) -> Vec<&'a Value> {
    msgs.iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| &m["record"])
        .collect()
}

fn last_state(msgs: &[Value]) -> Value {
    of_type(msgs, "STATE")
        .last()
        .expect("a STATE")
        .get("value")
        .unwrap()
        .clone()
}

#[test]
fn discover_select_sync_then_incremental_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = tap()
        .arg("--config")
        .arg(&cfg)
        .arg("--discover")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut catalog: Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = catalog["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 3);
    let orders = streams
        .iter()
        .find(|s| s["tap_stream_id"] == "orders")
        .unwrap();
    assert_eq!(orders["replication_key"], "updated_at");
    let root = &orders["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["breadcrumb"] == json!([]))
        .unwrap()["metadata"];
    assert_eq!(root["valid-replication-keys"], json!(["updated_at"]));
    assert_eq!(root["table-key-properties"], json!(["id"]));
    assert!(root.get("selected").is_none(), "discovery must not select");

    // Select only orders, and deselect its `note` field.
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let is_orders = stream["tap_stream_id"] == "orders";
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(is_orders);
            }
            if m["breadcrumb"] == json!(["properties", "note"]) {
                m["metadata"]["selected"] = json!(false);
            }
        }
    }
    let cat = write_json(dir.path(), "catalog.json", &catalog);
    let out = tap()
        .arg("--config")
        .arg(&cfg)
        .arg("--catalog")
        .arg(&cat)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msgs = messages(&out.stdout);
    let schema = msgs.iter().find(|m| m["type"] == "SCHEMA").unwrap();
    assert_eq!(schema["stream"], "orders");
    assert!(
        schema["schema"]["properties"].get("note").is_none(),
        "deselected field left the SCHEMA"
    );
    let first_record = msgs.iter().position(|m| m["type"] == "RECORD").unwrap();
    assert!(msgs.iter().position(|m| m["type"] == "SCHEMA").unwrap() < first_record);
    let first = records(&msgs, "orders");
    assert_eq!(first.len(), 60);
    assert!(records(&msgs, "customers").is_empty());
    assert!(
        first.iter().all(|r| r.get("note").is_none()),
        "deselected field left the RECORDs"
    );
    let state = last_state(&msgs);
    assert_eq!(
        state["bookmarks"]["orders"]["replication_key_value"],
        "2024-01-16T08:00:00Z"
    );
    assert_eq!(state["currently_syncing"], Value::Null);

    // Second run from that state: only orders at or after the bookmark.
    let st = write_json(dir.path(), "state.json", &state);
    let out = tap()
        .arg("--config")
        .arg(&cfg)
        .arg("--catalog")
        .arg(&cat)
        .arg("--state")
        .arg(&st)
        .output()
        .unwrap();
    assert!(out.status.success());
    let msgs = messages(&out.stdout);
    let second = records(&msgs, "orders");
    assert_eq!(second.len(), 1, "only the boundary record is read again");
    assert_eq!(second[0]["updated_at"], "2024-01-16T08:00:00Z");
}

#[test]
fn full_table_stream_carries_versions_and_activates_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = tap()
        .arg("--config")
        .arg(config(dir.path()))
        .output()
        .unwrap();
    assert!(out.status.success());
    let msgs = messages(&out.stdout);
    let activations: Vec<&Value> = of_type(&msgs, "ACTIVATE_VERSION");
    assert_eq!(activations.len(), 2, "first-ever sync: at start and at end");
    let version = activations[0]["version"].as_i64().unwrap();
    let customers: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == "customers")
        .collect();
    assert_eq!(customers.len(), 20);
    assert!(customers.iter().all(|m| m["version"] == version));
    let state = last_state(&msgs);
    assert!(
        state["bookmarks"]["customers"].get("version").is_none(),
        "version cleared after a complete sync"
    );
}

#[test]
fn event_files_are_partitions_with_their_own_bookmarks() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = tap().arg("--config").arg(&cfg).output().unwrap();
    assert!(out.status.success());
    let msgs = messages(&out.stdout);
    assert_eq!(records(&msgs, "events").len(), 20);
    let state = last_state(&msgs);
    let parts = state["bookmarks"]["events"]["partitions"]
        .as_array()
        .unwrap();
    let of = |file: &str| {
        parts.iter().find(|p| p["context"]["file"] == file).unwrap()["replication_key_value"]
            .clone()
    };
    assert_eq!(of("web.jsonl"), "2024-02-01T12:24:00Z");
    assert_eq!(of("mobile.jsonl"), "2024-02-01T11:19:00Z");
    let st = write_json(dir.path(), "state.json", &state);
    let out = tap()
        .arg("--config")
        .arg(&cfg)
        .arg("--state")
        .arg(&st)
        .output()
        .unwrap();
    let msgs = messages(&out.stdout);
    let again: Vec<&str> = records(&msgs, "events")
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        again,
        vec!["mobile-8", "web-12"],
        "each file resumes at its own bookmark"
    );
}

#[test]
fn partition_bookmarks_are_logged_before_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = tap().arg("--config").arg(&cfg).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let both = r#"["2024-02-01T11:19:00Z","2024-02-01T12:24:00Z"]"#;
    for line in [
        "INFO Starting sync of stream events from bookmark none".to_owned(),
        "INFO stream events: 2 partition(s)".to_owned(),
        format!("; bookmark none -> {both}"),
    ] {
        assert!(stderr.contains(&line), "`{line}` not in {stderr}");
    }
    let state = write_json(
        dir.path(),
        "state.json",
        &last_state(&messages(&out.stdout)),
    );
    let out = tap()
        .arg("--config")
        .arg(&cfg)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let resumed = format!("INFO Starting sync of stream events from bookmark {both}");
    assert!(stderr.contains(&resumed), "`{resumed}` not in {stderr}");
}

#[test]
fn out_file_holds_the_last_state() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("state-out.json");
    let out = tap()
        .arg("--config")
        .arg(config(dir.path()))
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let written: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(written, last_state(&messages(&out.stdout)));
}

#[test]
fn about_in_json_and_markdown() {
    let out = tap()
        .args(["--about", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let about: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(about["name"], "tap-files");
    assert_eq!(
        about["capabilities"],
        json!([
            "catalog",
            "discover",
            "state",
            "properties",
            "about",
            "stream-maps",
            "schema-flattening",
            "batch",
            "test"
        ])
    );
    // The capabilities' settings, as singer-sdk lists them.
    for setting in ["stream_maps", "flattening_enabled", "batch_config"] {
        assert!(
            about["settings"]["properties"].get(setting).is_some(),
            "{setting}"
        );
    }
    assert_eq!(
        about["settings"]["properties"]["data_dir"]["type"],
        "string"
    );
    assert_eq!(about["settings"]["required"], json!(["data_dir"]));
    let out = tap()
        .args(["--about", "--format", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# tap-files"));
    assert!(md.contains("| `data_dir` | yes | string |"), "{md}");
}

#[test]
fn both_properties_and_catalog_use_the_catalog_and_warn() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let only_customers = json!({"streams": []});
    let props = write_json(dir.path(), "props.json", &only_customers);
    let out = tap()
        .arg("--config")
        .arg(&cfg)
        .arg("--discover")
        .output()
        .unwrap();
    let cat = write_json(
        dir.path(),
        "catalog.json",
        &serde_json::from_slice::<Value>(&out.stdout).unwrap(),
    );
    let out = tap()
        .arg("--config")
        .arg(&cfg)
        .arg("--properties")
        .arg(&props)
        .arg("--catalog")
        .arg(&cat)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("using --catalog"));
    assert_eq!(records(&messages(&out.stdout), "orders").len(), 60);
}

/// Runs the tap with `args` and asserts a clean failure: non-zero exit, one CRITICAL line that
/// contains every `expected` fragment, no panic, no RECORD.
fn assert_clean_failure(args: &[&std::ffi::OsStr], expected: &[&str]) {
    let out = tap().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked at"), "{stderr}");
    let critical: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("CRITICAL"))
        .collect();
    assert_eq!(critical.len(), 1, "{stderr}");
    for fragment in expected {
        assert!(
            critical[0].contains(fragment),
            "`{}` lacks `{fragment}`",
            critical[0]
        );
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"RECORD\""));
}

#[test]
fn bad_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = config(d);
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let missing = d.join("missing.json");
    let not_json = write("not-json.json", "{\"data_dir\": ");
    let empty = write("empty.json", "{}");
    let wrong_type = write("wrong.json", "{\"data_dir\": 42, \"start_date\": \"soon\"}");
    let bad_state = write("bad-state.json", "[1, 2");
    let odd_state = write("odd-state.json", "{\"bookmarks\": [1, 2]}");
    let bad_catalog = write("bad-catalog.json", "{\"streams\": [");
    let unknown_stream = write(
        "unknown.json",
        r#"{"streams":[{"tap_stream_id":"invoices","stream":"invoices","schema":{},"metadata":[]}]}"#,
    );
    let os = |p: &PathBuf| p.as_os_str().to_owned();
    let c = std::ffi::OsString::from("--config");
    let cases: Vec<(Vec<std::ffi::OsString>, Vec<&str>)> = vec![
        (
            vec![c.clone(), os(&missing)],
            vec!["config", "missing.json"],
        ),
        (
            vec![c.clone(), os(&not_json)],
            vec!["not-json.json", "not valid JSON"],
        ),
        (
            vec![c.clone(), os(&empty)],
            vec!["empty.json", "missing required key `data_dir`"],
        ),
        (
            vec![c.clone(), os(&wrong_type)],
            vec!["wrong.json", "`data_dir` must be a string", "`start_date`"],
        ),
        (
            vec![c.clone(), os(&good), "--state".into(), os(&bad_state)],
            vec!["bad-state.json"],
        ),
        (
            vec![c.clone(), os(&good), "--state".into(), os(&odd_state)],
            vec!["odd-state.json", "bookmarks"],
        ),
        (
            vec![c.clone(), os(&good), "--catalog".into(), os(&bad_catalog)],
            vec!["bad-catalog.json"],
        ),
        (
            vec![
                c.clone(),
                os(&good),
                "--catalog".into(),
                os(&unknown_stream),
            ],
            vec!["unknown.json", "invoices"],
        ),
        (vec![c.clone(), os(&d.to_path_buf())], vec!["config"]),
    ];
    for (args, expected) in cases {
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        assert_clean_failure(&refs, &expected);
    }
}

#[test]
fn an_unreadable_data_dir_fails_the_stream_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_json(
        dir.path(),
        "c.json",
        &json!({"data_dir": dir.path().join("nowhere")}),
    );
    let out = tap().arg("--config").arg(&cfg).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("CRITICAL orders:") && l.contains("orders.jsonl")),
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.starts_with("CRITICAL customers:")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}
