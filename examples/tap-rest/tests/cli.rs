//! End-to-end tests of the tap-rest binary against its embedded shop API.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tap_rest::fixture::{CUSTOMERS, ORDERS, PRODUCTS};

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path
}

fn tap() -> Command {
    Command::cargo_bin("tap-rest").unwrap()
}

fn messages(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn records<'a>(msgs: &'a [Value], stream: &str) -> Vec<&'a Value> {
    msgs.iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| &m["record"])
        .collect()
}

fn last_state(msgs: &[Value]) -> Value {
    msgs.iter().rfind(|m| m["type"] == "STATE").expect("a STATE")["value"].clone()
}

#[test]
fn discover_lists_four_streams() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_json(dir.path(), "config.json", &json!({"api_token": "demo"}));
    let out = tap().arg("--config").arg(&cfg).arg("--discover").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let catalog: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<&str> = catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stream"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["customers", "order_lines", "orders", "products"]);
}

#[test]
fn embedded_sync_then_incremental_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_json(
        dir.path(),
        "config.json",
        &json!({"api_token": "demo", "base_url": "embedded", "requests_per_second": 1000}),
    );
    let out = tap().arg("--config").arg(&cfg).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let msgs = messages(&out.stdout);
    assert_eq!(records(&msgs, "customers").len(), CUSTOMERS);
    assert_eq!(records(&msgs, "products").len(), PRODUCTS);
    let orders = records(&msgs, "orders");
    assert_eq!(orders.len(), ORDERS);
    let lines = records(&msgs, "order_lines");
    let expected: u64 = orders.iter().map(|o| o["line_count"].as_u64().unwrap()).sum();
    assert_eq!(lines.len() as u64, expected, "every order's lines, read through the sub-stream");
    let newest = orders.iter().map(|o| o["updated_at"].as_str().unwrap()).max().unwrap().to_owned();
    let state = last_state(&msgs);
    assert_eq!(state["bookmarks"]["orders"]["replication_key_value"], newest.as_str());
    assert!(
        stderr.contains(r#""metric": "http_request_duration""#)
            && stderr.contains(r#""endpoint": "orders""#),
        "{stderr}"
    );
    assert!(!stderr.contains("demo"), "the token never reaches the logs");

    let st = write_json(dir.path(), "state.json", &state);
    let out = tap().arg("--config").arg(&cfg).arg("--state").arg(&st).output().unwrap();
    assert!(out.status.success());
    let again = messages(&out.stdout);
    let second = records(&again, "orders");
    assert!(
        !second.is_empty() && second.len() < 5,
        "only orders at the bookmark are read again: {}",
        second.len()
    );
    assert!(second.iter().all(|o| o["updated_at"].as_str().unwrap() >= newest.as_str()));
}

#[test]
fn wrong_token_fails_each_stream_with_one_line_naming_the_url() {
    let base = tap_rest::fixture::spawn("right").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_json(
        dir.path(),
        "config.json",
        &json!({"api_token": "wrong", "base_url": base, "requests_per_second": 1000}),
    );
    let report = dir.path().join("report.json");
    let out = tap().arg("--config").arg(&cfg).arg("--report-json").arg(&report).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let critical: Vec<&str> = stderr.lines().filter(|l| l.contains("CRITICAL")).collect();
    assert_eq!(critical.len(), 3, "customers, products, orders: {stderr}");
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let status = |name: &str| {
        report["streams"].as_array().unwrap().iter().find(|s| s["stream"] == name).unwrap()
            ["status"]
            .clone()
    };
    assert_eq!(status("orders"), "failed");
    assert_eq!(status("order_lines"), "skipped", "a sub-stream of a failed parent never ran");
    assert!(
        !stderr.contains("refreshing"),
        "a fixed bearer token is not refreshed, and no line says so: {stderr}"
    );
    assert!(
        critical
            .iter()
            .any(|l| l.contains(&format!("GET {base}/customers?limit=50: HTTP 401 Unauthorized"))),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong"), "the token never reaches the logs: {stderr}");
}

#[test]
fn requests_per_second_0_means_no_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_json(
        dir.path(),
        "config.json",
        &json!({"api_token": "demo", "base_url": "embedded", "requests_per_second": 0}),
    );
    // Read as "0 requests a second", the run would never end: the timeout fails the test.
    let out = tap()
        .arg("--config")
        .arg(&cfg)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let msgs = messages(&out.stdout);
    assert_eq!(records(&msgs, "orders").len(), ORDERS);
    let about = tap().args(["--about", "--format", "json"]).output().unwrap();
    let about: Value = serde_json::from_slice(&about.stdout).unwrap();
    let setting = &about["settings"]["properties"]["requests_per_second"];
    assert!(
        setting["description"].as_str().unwrap().contains("0: no limit"),
        "documented where users read settings: {setting}"
    );
}
