//! tap-shop against the fixture API: the test kit's standard suite (discovery, a full sync
//! checked message by message, the resume-from-any-cut check, a second run from the final
//! state), every record read, and a wrong token failing each stream with one line.

mod fixture;

use std::process::Command;

use burler_testkit::TapSuite;
use serde_json::{Value, json};

const TAP: &str = env!("CARGO_BIN_EXE_tap-shop");

fn config(base_url: &str, token: &str) -> Value {
    json!({"base_url": base_url, "api_token": token, "start_date": "2024-01-01T00:00:00Z",
           "requests_per_second": 0})
}

#[test]
fn passes_the_standard_suite() {
    let base_url = fixture::spawn("test-token");
    let report = TapSuite::binary(TAP, config(&base_url, "test-token")).run();
    println!("{report}");
    report.assert_passes();
    let records = |stream: &str| {
        report
            .records
            .iter()
            .find(|(s, _)| s == stream)
            .map(|r| r.1)
    };
    assert_eq!(records("customers"), Some(fixture::CUSTOMERS as u64));
    assert_eq!(records("orders"), Some(fixture::ORDERS as u64));
    assert_eq!(
        records("order_lines"),
        Some(fixture::order_line_count() as u64)
    );
}

#[test]
fn a_wrong_token_fails_each_stream_with_one_line() {
    let base_url = fixture::spawn("right-token");
    let dir = std::env::temp_dir().join(format!("tap-shop-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    std::fs::write(&path, config(&base_url, "wrong-token").to_string()).unwrap();
    let out = Command::new(TAP)
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let critical: Vec<&str> = stderr.lines().filter(|l| l.contains("CRITICAL")).collect();
    assert_eq!(critical.len(), 2, "customers and orders fail: {stderr}");
    assert!(critical.iter().all(|l| l.contains("401")), "{stderr}");
    assert!(
        !stderr.contains("wrong-token"),
        "the token is never printed: {stderr}"
    );
}
