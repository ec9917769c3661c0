//! tap-sqlite end to end, as a binary: the demo database created from nothing, discovery with the
//! standard database metadata, a first sync, an incremental second sync from its STATE, the
//! standard burler-testkit suite, and one clear line for a missing database.

use std::path::Path;

use assert_cmd::Command;
use burler_testkit::TapSuite;
use serde_json::{Value, json};

fn tap() -> Command {
    Command::cargo_bin("tap-sqlite").expect("the tap-sqlite binary is built")
}

fn write_config(dir: &Path) -> std::path::PathBuf {
    let config = json!({"database": dir.join("shop.db"), "demo": true, "start_date": "2024-01-01T00:00:00Z"});
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

fn lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect()
}

fn records<'a>(messages: &'a [Value], stream: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| &m["record"])
        .collect()
}

#[test]
fn discovery_creates_the_demo_database_and_lists_its_tables_with_sql_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let out = tap()
        .arg("--config")
        .arg(&config)
        .arg("--discover")
        .assert()
        .success();
    assert!(dir.path().join("shop.db").is_file());
    let catalog: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let streams = catalog["streams"].as_array().unwrap();
    let ids: Vec<&str> = streams
        .iter()
        .map(|s| s["tap_stream_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["customers", "orders", "products"]);
    let orders = &streams[1];
    let root = &orders["metadata"][0]["metadata"];
    assert_eq!(root["database-name"], "shop");
    assert_eq!(root["schema-name"], "main");
    assert_eq!(root["is-view"], false);
    assert_eq!(root["row-count"], 60);
    assert_eq!(root["table-key-properties"], json!(["id"]));
    assert!(
        root["valid-replication-keys"]
            .as_array()
            .unwrap()
            .contains(&json!("updated_at"))
    );
    assert!(root.get("forced-replication-method").is_none(), "{root}");
    assert_eq!(orders["replication_method"], "INCREMENTAL");
    assert_eq!(
        orders["schema"]["properties"]["total"],
        json!({"type": "number"})
    );
}

#[test]
fn a_second_sync_from_the_state_reads_only_orders_at_or_after_the_bookmark() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let state = dir.path().join("state.json");
    let first = tap()
        .arg("--config")
        .arg(&config)
        .arg("-o")
        .arg(&state)
        .assert()
        .success();
    let run1 = lines(&first.get_output().stdout);
    assert_eq!(records(&run1, "customers").len(), 20);
    assert_eq!(records(&run1, "products").len(), 10);
    assert_eq!(records(&run1, "orders").len(), 60);
    let order = records(&run1, "orders")[0];
    assert_eq!(order["updated_at"], "2024-01-01T01:37:00Z");
    assert_eq!(order["items"], json!([{"sku": "SKU-002", "quantity": 2}]));
    let product = records(&run1, "products")[2];
    assert_eq!(
        (product["sku"].as_str(), product["active"].as_bool()),
        (Some("SKU-003"), Some(false))
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let bookmark = saved["bookmarks"]["orders"]["replication_key_value"].clone();
    assert_eq!(bookmark, "2024-01-03T00:30:00Z");
    let second = tap()
        .arg("--config")
        .arg(&config)
        .arg("--state")
        .arg(&state)
        .assert()
        .success();
    let run2 = lines(&second.get_output().stdout);
    let again = records(&run2, "orders");
    assert_eq!(
        again.len(),
        2,
        "the two orders sharing the bookmark's timestamp, nothing else"
    );
    assert!(again.iter().all(|o| o["updated_at"] == bookmark));
    assert_eq!(
        records(&run2, "customers").len(),
        20,
        "FULL_TABLE streams are whole every run"
    );
}

#[test]
fn tap_sqlite_passes_the_standard_suite() {
    let dir = tempfile::tempdir().unwrap();
    let config = json!({"database": dir.path().join("shop.db"), "demo": true, "start_date": "2024-01-01T00:00:00Z"});
    let report = TapSuite::binary(env!("CARGO_BIN_EXE_tap-sqlite"), config).run();
    println!("{report}");
    report.assert_passes();
}

#[test]
fn a_missing_database_is_one_critical_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"database": dir.path().join("nope.db")}).to_string(),
    )
    .unwrap();
    let out = tap()
        .arg("--config")
        .arg(&config)
        .arg("--discover")
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let critical: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("CRITICAL"))
        .collect();
    assert_eq!(critical.len(), 1, "{stderr}");
    assert!(
        critical[0].contains("nope.db") && critical[0].contains("no such file"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("nope.db").exists(),
        "the tap never creates a database it was not asked to"
    );
}
