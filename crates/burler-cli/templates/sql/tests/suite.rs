//! {{tap_name}} against the fixture database: the test kit's standard suite (discovery, a full
//! sync checked message by message, the resume-from-any-cut check, a second run from the final
//! state), every row read, and a missing database failing with one line.

mod fixture;

use std::process::Command;

use burler_testkit::TapSuite;
use serde_json::json;

const TAP: &str = env!("CARGO_BIN_EXE_{{tap_name}}");

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{{tap_name}}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn passes_the_standard_suite() {
    let dir = scratch_dir("suite");
    let database = dir.join("shop.db");
    fixture::create(&database).unwrap();
    let config = json!({"database": database, "start_date": "2024-01-01T00:00:00Z"});
    let report = TapSuite::binary(TAP, config).run();
    println!("{report}");
    std::fs::remove_dir_all(&dir).unwrap();
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
}

#[test]
fn a_missing_database_is_one_line() {
    let dir = scratch_dir("missing");
    let config = dir.join("config.json");
    let database = dir.join("absent.db");
    std::fs::write(&config, json!({"database": database}).to_string()).unwrap();
    let out = Command::new(TAP)
        .arg("--config")
        .arg(&config)
        .arg("--discover")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let critical: Vec<&str> = stderr.lines().filter(|l| l.contains("CRITICAL")).collect();
    assert_eq!(critical.len(), 1, "{stderr}");
    assert!(critical[0].contains("absent.db"), "{stderr}");
}
