//! `burler run` and `burler manifest check` on the REST example's manifest, against the shop
//! fixture of examples/tap-rest, and on a broken manifest.
//!
//! Built with the default `framework` feature only (the command is not in a build without it).
#![cfg(feature = "framework")]

use assert_cmd::Command;
use serde_json::{Value, json};

const MANIFEST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/tap-rest-manifest/tap-rest.yaml"
);

fn burler() -> Command {
    Command::cargo_bin("burler").unwrap()
}

fn messages(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn run_syncs_a_manifest_as_a_singer_tap() {
    let base_url = tap_rest::fixture::spawn("tok").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let body = json!({"api_token": "tok", "base_url": base_url, "requests_per_second": 1000});
    std::fs::write(&config, body.to_string()).unwrap();
    let out = burler()
        .arg("run")
        .arg(MANIFEST)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msgs = messages(&out.stdout);
    let count = |stream: &str| {
        msgs.iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .count()
    };
    assert_eq!(
        (
            count("customers"),
            count("products"),
            count("orders"),
            count("order_lines")
        ),
        (40, 25, 120, 238)
    );
    let state = msgs.iter().rfind(|m| m["type"] == "STATE").unwrap();
    assert!(
        state["value"]["bookmarks"]["orders"]["replication_key_value"].is_string(),
        "{state}"
    );

    let discover = burler()
        .arg("run")
        .arg(MANIFEST)
        .arg("--config")
        .arg(&config)
        .arg("--discover")
        .output()
        .unwrap();
    let catalog: Value = serde_json::from_slice(&discover.stdout).unwrap();
    assert_eq!(catalog["streams"].as_array().unwrap().len(), 4);
    let about = burler()
        .args(["run", MANIFEST, "--about", "--format", "json"])
        .output()
        .unwrap();
    let about: Value = serde_json::from_slice(&about.stdout).unwrap();
    assert_eq!(about["name"], "tap-rest");
    assert!(
        about["settings"].to_string().contains("api_token"),
        "{about}"
    );
}

#[test]
fn a_bad_manifest_fails_before_any_request_with_every_problem_placed() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("bad.yaml");
    let text = "version: 1\nname: tap-bad\nbase_url: http://127.0.0.1:9\nstreams:\n  - name: a\n    path: a\n    records: \"$.data[\"\n    schema: {type: object}\n    primary_keys: [id]\n  - name: b\n    path: \"{{ parent.id \"\n    parent: {stream: nope}\n    schema: {type: object}\n";
    std::fs::write(&manifest, text).unwrap();
    let out = burler()
        .arg("manifest")
        .arg("check")
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    let file = manifest.display().to_string();
    assert!(
        report.contains(&format!("{file}:7:14: streams[0].records: bad JSONPath")),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "{file}:9:5: streams[0]: unknown key `primary_keys`"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("{file}:11:11: streams[1].path: bad template")),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "{file}:12:22: streams[1].parent.stream: unknown stream `nope`"
        )),
        "{report}"
    );
    assert!(report.contains("4 problems"), "{report}");

    let run = burler()
        .arg("run")
        .arg(&manifest)
        .arg("--discover")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.lines().all(|l| l.starts_with("CRITICAL ")) && stderr.lines().count() == 4,
        "{stderr}"
    );
    assert!(run.stdout.is_empty());

    let ok = burler()
        .args(["manifest", "check", MANIFEST])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("ok: burler manifest tap-rest, 4 streams")
    );
}
