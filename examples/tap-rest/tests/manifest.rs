//! The compiled tap and its manifest twin (examples/tap-rest-manifest/tap-rest.yaml) against the
//! same shop API: the same SCHEMA, RECORD, STATE and ACTIVATE_VERSION messages, in the same order,
//! on a first sync and on an incremental run from its state (time_extracted and table versions
//! aside: they differ from run to run). The manifest's streams pass their records through as the
//! API sent them; the first sync is also compared with every page parsed into a tree.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tap-rest-manifest/tap-rest.yaml");

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path
}

/// Messages without what differs between any two runs.
fn normalised(stdout: &str) -> Vec<Value> {
    fn strip(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(k, _)| k != "time_extracted")
                    .map(|(k, v)| if k == "version" { (k, json!("V")) } else { (k, strip(v)) })
                    .collect(),
            ),
            other => other,
        }
    }
    stdout.lines().map(|l| strip(serde_json::from_str(l).unwrap())).collect()
}

fn compiled(args: &[&Path]) -> String {
    let mut cmd = Command::cargo_bin("tap-rest").unwrap();
    for (flag, path) in ["--config", "--state"].iter().zip(args) {
        cmd.arg(flag).arg(path);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn manifest(args: &[&Path]) -> String {
    manifest_run(burler_manifest::Manifest::load(MANIFEST).unwrap(), args)
}

/// The manifest with every page parsed into a tree (no stream passing records through).
fn manifest_tree(args: &[&Path]) -> String {
    let manifest = burler_manifest::Manifest::load(MANIFEST).unwrap();
    manifest_run(manifest.without_passthrough(), args)
}

fn manifest_run(manifest: burler_manifest::Manifest, args: &[&Path]) -> String {
    let mut argv = vec!["tap-rest".to_owned()];
    for (flag, path) in ["--config", "--state"].iter().zip(args) {
        argv.push((*flag).to_owned());
        argv.push(path.display().to_string());
    }
    let sink = burler::CaptureBuffer::new();
    let tap = manifest.into_tap();
    let outcome = tap.run_with(argv, Box::new(sink.clone()));
    assert_eq!(outcome.exit_code, 0);
    sink.text()
}

fn last_state(stdout: &str) -> Value {
    let state = stdout.lines().rev().map(|l| serde_json::from_str::<Value>(l).unwrap());
    state.into_iter().find(|m| m["type"] == "STATE").unwrap()["value"].clone()
}

#[test]
fn manifest_and_compiled_tap_write_the_same_messages() {
    let base_url = tap_rest::fixture::spawn("demo").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = json!({"api_token": "demo", "base_url": base_url, "start_date": "2024-01-01T00:00:00Z",
        "requests_per_second": 1000});
    let cfg = write_json(dir.path(), "config.json", &config);
    let (first_c, first_m) = (compiled(&[&cfg]), manifest(&[&cfg]));
    assert!(first_c.lines().count() > 400, "a full sync: {}", first_c.lines().count());
    assert_eq!(normalised(&first_m), normalised(&first_c));
    assert_eq!(normalised(&manifest_tree(&[&cfg])), normalised(&first_c));

    // A second run from the state of the first: only orders updated at or after the bookmark.
    let state = write_json(dir.path(), "state.json", &last_state(&first_c));
    let (second_c, second_m) = (compiled(&[&cfg, &state]), manifest(&[&cfg, &state]));
    assert!(second_c.lines().count() < first_c.lines().count());
    assert_eq!(normalised(&second_m), normalised(&second_c));
}

#[test]
fn every_stream_of_the_manifest_passes_its_records_through() {
    let manifest = burler_manifest::Manifest::load(MANIFEST).unwrap();
    assert_eq!(manifest.passthrough_streams(), manifest.stream_names());
}
