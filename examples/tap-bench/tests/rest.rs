//! tap-bench-rest as a user runs it, against its in-process API, with pipelining on: records in
//! page order, none lost or repeated, STATE never ahead of the records written, and a resumed
//! run from a mid-sync STATE that loses nothing. tap-bench-raw (the same tap passing records
//! through as the API sent them) writes the same messages.

use assert_cmd::Command;
use serde_json::{Value, json};

const RECORDS: u64 = 25_000;

fn run(dir: &tempfile::TempDir, settings: Value, state: Option<&Value>) -> Vec<Value> {
    run_bin("tap-bench-rest", dir, settings, state)
}

fn run_bin(
    bin: &str,
    dir: &tempfile::TempDir,
    settings: Value,
    state: Option<&Value>,
) -> Vec<Value> {
    let config = dir.path().join("config.json");
    let mut config_json = json!({"records": RECORDS, "page_size": 500});
    if let (Value::Object(base), Value::Object(extra)) = (&mut config_json, settings) {
        base.extend(extra);
    }
    std::fs::write(&config, config_json.to_string()).unwrap();
    let mut cmd = Command::cargo_bin(bin).unwrap();
    cmd.arg("--config").arg(&config);
    if let Some(state) = state {
        let path = dir.path().join("state.json");
        std::fs::write(&path, state.to_string()).unwrap();
        cmd.arg("--state").arg(&path);
    }
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ids(msgs: &[Value]) -> Vec<u64> {
    msgs.iter()
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"]["id"].as_u64().unwrap())
        .collect()
}

/// Every STATE's bookmark is at most the `updated_at` of the last record written before it (or
/// the bookmark the run started from).
fn assert_state_never_ahead(msgs: &[Value], start: Option<&str>) -> usize {
    let mut last_written: Option<String> = start.map(str::to_owned);
    let mut checked = 0;
    for msg in msgs {
        match msg["type"].as_str() {
            Some("RECORD") => {
                last_written = Some(msg["record"]["updated_at"].as_str().unwrap().to_owned());
            }
            Some("STATE") => {
                let bookmark = &msg["value"]["bookmarks"]["events"]["replication_key_value"];
                if let Some(bookmark) = bookmark.as_str() {
                    let written = last_written
                        .as_deref()
                        .expect("a bookmark before any record");
                    assert!(
                        bookmark <= written,
                        "STATE at {bookmark} after records up to {written}"
                    );
                    checked += 1;
                }
            }
            _ => {}
        }
    }
    checked
}

#[test]
fn pages_in_flight_write_every_record_once_in_order_with_state_behind_them() {
    let dir = tempfile::tempdir().unwrap();
    for settings in [
        json!({"in_flight": 4, "latency_ms": 2}),
        json!({"prefetch": 2}),
        json!({"prefetch": 0}),
    ] {
        let msgs = run(&dir, settings.clone(), None);
        assert_eq!(ids(&msgs), (1..=RECORDS).collect::<Vec<_>>(), "{settings}");
        assert!(
            assert_state_never_ahead(&msgs, None) >= 3,
            "STATE at 10k, 20k and the end"
        );
    }
}

#[test]
fn a_run_resumed_from_a_mid_sync_state_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(&dir, json!({"in_flight": 4}), None);
    let mid = first
        .iter()
        .filter(|m| m["type"] == "STATE")
        .map(|m| &m["value"])
        .find(|v| !v["bookmarks"]["events"]["replication_key_value"].is_null())
        .unwrap()
        .clone();
    let bookmark = mid["bookmarks"]["events"]["replication_key_value"]
        .as_str()
        .unwrap();
    let resume_at = first
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["record"]["updated_at"] == bookmark)
        .map(|m| m["record"]["id"].as_u64().unwrap())
        .next()
        .unwrap();
    assert_eq!(
        resume_at, 10_000,
        "the first STATE covers the first 10,000 records"
    );
    let second = run(&dir, json!({"in_flight": 4}), Some(&mid));
    assert_eq!(
        ids(&second),
        (resume_at..=RECORDS).collect::<Vec<_>>(),
        "from the bookmarked record (inclusive) to the end"
    );
    assert!(assert_state_never_ahead(&second, Some(bookmark)) >= 2);
}

#[test]
fn records_passed_through_give_the_same_messages_as_typed_records() {
    let dir = tempfile::tempdir().unwrap();
    let without_time = |msgs: Vec<Value>| -> Vec<Value> {
        msgs.into_iter()
            .map(|mut m| {
                if let Some(m) = m.as_object_mut() {
                    m.remove("time_extracted");
                }
                m
            })
            .collect()
    };
    for settings in [json!({"in_flight": 4}), json!({"prefetch": 0})] {
        let typed = without_time(run(&dir, settings.clone(), None));
        let raw = without_time(run_bin("tap-bench-raw", &dir, settings.clone(), None));
        assert_eq!(ids(&raw), (1..=RECORDS).collect::<Vec<_>>(), "{settings}");
        assert_eq!(raw.len(), typed.len(), "{settings}");
        assert!(
            raw == typed,
            "{settings}: the same SCHEMA, RECORD and STATE messages"
        );
    }
    let mid = json!({"bookmarks": {"events": {"replication_key": "updated_at",
        "replication_key_value": "2020-01-01T05:33:20Z"}}});
    let resumed = run_bin("tap-bench-raw", &dir, json!({"prefetch": 2}), Some(&mid));
    let first = ids(&resumed)[0];
    assert_eq!(
        resumed.iter().find(|m| m["type"] == "RECORD").unwrap()["record"]["updated_at"],
        "2020-01-01T05:33:20Z",
        "resumed at the bookmarked record (id {first})"
    );
    assert_eq!(*ids(&resumed).last().unwrap(), RECORDS);
    assert!(assert_state_never_ahead(&resumed, Some("2020-01-01T05:33:20Z")) >= 2);
}
