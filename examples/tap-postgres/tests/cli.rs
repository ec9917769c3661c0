//! tap-postgres as a binary: `--about` names its settings (secrets flagged) without a database,
//! and a server that cannot be reached is one `CRITICAL` line naming it, without the password.
//! (Syncs against a real server are burler-sql's `tests/postgres.rs`.)

use assert_cmd::Command;
use serde_json::{Value, json};

fn tap() -> Command {
    Command::cargo_bin("tap-postgres").expect("the tap-postgres binary is built")
}

#[test]
fn about_lists_the_settings_and_flags_the_secrets() {
    let out = tap()
        .args(["--about", "--format", "json"])
        .assert()
        .success();
    let about: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(about["name"], "tap-postgres");
    let text = about.to_string();
    for key in [
        "url",
        "host",
        "filter_schemas",
        "replication_slot",
        "publication",
        "decimal",
    ] {
        assert!(text.contains(&format!("\"{key}\"")), "{key} in {text}");
    }
    assert!(text.contains("secret"), "{text}");
}

#[test]
fn an_unreachable_server_is_one_critical_line_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    // Port 9 on the loopback: nothing listens there.
    let settings = json!({"host": "127.0.0.1", "port": 9, "user": "u", "password": "hunter2", "database": "shop"});
    std::fs::write(&config, settings.to_string()).unwrap();
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
        critical[0].contains("postgres://u@127.0.0.1:9/shop"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
