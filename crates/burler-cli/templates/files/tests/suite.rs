//! {{tap_name}} on the sample files of `data/`: the test kit's standard suite (discovery, a full
//! sync checked message by message, the resume-from-any-cut check, a second run from the final
//! state), every line read, and a broken line failing its stream with the file and line.

use std::process::Command;

use burler_testkit::TapSuite;
use serde_json::json;

const TAP: &str = env!("CARGO_BIN_EXE_{{tap_name}}");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data");

fn lines(file: &str) -> u64 {
    let text = std::fs::read_to_string(format!("{DATA}/{file}")).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).count() as u64
}

#[test]
fn passes_the_standard_suite() {
    let config = json!({"data_dir": DATA, "start_date": "2024-01-01T00:00:00Z"});
    let report = TapSuite::binary(TAP, config).run();
    println!("{report}");
    report.assert_passes();
    let records = |stream: &str| {
        report
            .records
            .iter()
            .find(|(s, _)| s == stream)
            .map(|r| r.1)
    };
    assert_eq!(records("orders"), Some(lines("orders.jsonl")));
    assert_eq!(
        records("customers"),
        Some(lines("customers.csv") - 1),
        "all but the header"
    );
}

#[test]
fn a_broken_line_fails_its_stream_naming_file_and_line() {
    let dir = std::env::temp_dir().join(format!("{{tap_name}}-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(format!("{DATA}/customers.csv"), dir.join("customers.csv")).unwrap();
    let orders = std::fs::read_to_string(format!("{DATA}/orders.jsonl")).unwrap();
    std::fs::write(
        dir.join("orders.jsonl"),
        format!("{orders}{{\"id\": \"x\"}}\n"),
    )
    .unwrap();
    let config = dir.join("config.json");
    std::fs::write(&config, json!({"data_dir": dir}).to_string()).unwrap();
    let out = Command::new(TAP)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let broken = format!("orders.jsonl line {}", lines("orders.jsonl") + 1);
    let critical: Vec<&str> = stderr.lines().filter(|l| l.contains("CRITICAL")).collect();
    assert_eq!(critical.len(), 1, "{stderr}");
    assert!(critical[0].contains(&broken), "{stderr}");
}
