//! tap-bench as a user runs it: the workload's messages, STATE every 10,000 records, and a resumed
//! run that starts at the bookmark.

use assert_cmd::Command;
use serde_json::{Value, json};

fn run(dir: &tempfile::TempDir, records: u64, state: Option<&Value>) -> Vec<Value> {
    let config = dir.path().join("config.json");
    std::fs::write(&config, json!({"records": records}).to_string()).unwrap();
    let mut cmd = Command::cargo_bin("tap-bench").unwrap();
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

fn of_type<'a>(msgs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    msgs.iter().filter(|m| m["type"] == ty).collect()
}

#[test]
fn emits_the_workload_with_state_every_ten_thousand_records() {
    let dir = tempfile::tempdir().unwrap();
    let msgs = run(&dir, 25_000, None);
    let first_not_state = msgs.iter().find(|m| m["type"] != "STATE").unwrap();
    assert_eq!(first_not_state["type"], "SCHEMA");
    let records = of_type(&msgs, "RECORD");
    assert_eq!(records.len(), 25_000);
    assert_eq!(records[0]["record"]["id"], 1);
    assert_eq!(records[24_999]["record"]["id"], 25_000);
    let first = &records[0]["record"];
    let fields: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields.len(), 12, "{fields:?}");
    // Bookmarks at 10,000 and 20,000 records, and at the end.
    let mut bookmarks: Vec<&Value> = of_type(&msgs, "STATE")
        .iter()
        .map(|s| &s["value"]["bookmarks"]["events"]["replication_key_value"])
        .filter(|v| !v.is_null())
        .collect();
    bookmarks.dedup();
    let at = |i: usize| &records[i - 1]["record"]["updated_at"];
    assert_eq!(bookmarks, vec![at(10_000), at(20_000), at(25_000)]);
}

#[test]
fn a_resumed_run_starts_at_the_bookmarked_record() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(&dir, 1_000, None);
    let state = &of_type(&first, "STATE").last().unwrap()["value"];
    let second = run(&dir, 1_000, Some(state));
    let ids: Vec<&Value> = of_type(&second, "RECORD")
        .iter()
        .map(|r| &r["record"]["id"])
        .collect();
    assert_eq!(
        ids,
        vec![&json!(1_000)],
        "only the record at the bookmark again"
    );
    let more = run(&dir, 1_500, Some(state));
    assert_eq!(of_type(&more, "RECORD").len(), 501);
}
