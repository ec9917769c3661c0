//! `burler state merge` as a user runs it: the workers' state files (plain, a STATE message line,
//! or Meltano's `singer_state` wrapper) joined over the base, refusals in one line.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{Value, json};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn burler(args: &[&str]) -> Run {
    let out = cargo_bin_cmd!("burler").args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn part(file: &str, at: &str) -> Value {
    json!({"context": {"file": file}, "replication_key": "at", "replication_key_value": at})
}

fn events(parts: Value) -> Value {
    json!({"bookmarks": {"events": {"partitions": parts}, "orders": {"replication_key_value": "2024-01-01"}}, "currently_syncing": null})
}

/// Writes `files` (name, text) into a new directory; the directory and the paths.
fn files(files: &[(&str, String)]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_owned()
        })
        .collect();
    (dir, paths)
}

#[test]
fn merge_joins_each_workers_partitions_over_the_base() {
    let base = events(json!([part("a", "1"), part("b", "1"), part("c", "1")]));
    let w1 = events(json!([part("a", "5"), part("b", "1"), part("c", "1")]));
    // Worker 2's last STATE line as the tap wrote it, and a partition new this run.
    let w2 = json!({"type": "STATE", "value": events(json!([part("a", "1"), part("b", "1"), part("c", "7"), part("d", "2")]))});
    // Worker 3 also synced `orders` (no partitions: one worker has it).
    let mut w3 = events(json!([part("a", "1"), part("b", "3"), part("c", "1")]));
    w3["bookmarks"]["orders"]["replication_key_value"] = json!("2024-02-01");
    let (_dir, paths) = files(&[
        ("base.json", base.to_string()),
        ("w1.json", w1.to_string()),
        ("w2.json", w2.to_string()),
        ("w3.json", w3.to_string()),
    ]);
    let run = burler(&[
        "state", "merge", "--base", &paths[0], &paths[1], &paths[2], &paths[3],
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "one JSON line");
    let merged: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        merged,
        json!({"bookmarks": {
            "events": {"partitions": [part("a", "5"), part("b", "3"), part("c", "7"), part("d", "2")]},
            "orders": {"replication_key_value": "2024-02-01"}},
            "currently_syncing": null})
    );
}

#[test]
fn meltano_states_come_back_wrapped() {
    let wrap = |v: Value| json!({"singer_state": v}).to_string();
    let (_dir, paths) = files(&[
        (
            "base.json",
            wrap(events(json!([part("a", "1"), part("b", "1")]))),
        ),
        (
            "w1.json",
            wrap(events(json!([part("a", "4"), part("b", "1")]))),
        ),
        (
            "w2.json",
            wrap(events(json!([part("a", "1"), part("b", "6")]))),
        ),
    ]);
    let run = burler(&["state", "merge", "--base", &paths[0], &paths[1], &paths[2]]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let merged: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        merged["singer_state"]["bookmarks"]["events"]["partitions"],
        json!([part("a", "4"), part("b", "6")])
    );
}

#[test]
fn conflicting_or_malformed_states_are_refused_with_one_line() {
    let (_dir, paths) = files(&[
        (
            "a.json",
            json!({"bookmarks": {"s": {"cursor": "abc"}}}).to_string(),
        ),
        (
            "b.json",
            json!({"bookmarks": {"s": {"cursor": "xyz"}}}).to_string(),
        ),
        ("list.json", "[]".into()),
        ("broken.json", "{".into()),
        (
            "parts.json",
            json!({"bookmarks": {"s": {"partitions": 3}}}).to_string(),
        ),
    ]);
    let cases: [(&[&str], String); 5] = [
        (
            &[&paths[0], &paths[1]],
            format!(
                "burler: bookmarks.s: {}, {} changed it differently and no replication_key_value orders them (pass --base with the state the workers started from)",
                paths[0], paths[1]
            ),
        ),
        (
            &[&paths[2]],
            format!(
                "burler: {}: not a Singer state: expected a JSON object",
                paths[2]
            ),
        ),
        (
            &[&paths[0], &paths[3]],
            format!(
                "burler: {}: not a Singer state: EOF while parsing an object at line 1 column 1",
                paths[3]
            ),
        ),
        (
            &[&paths[4]],
            format!(
                "burler: {}: bookmarks.s.partitions: expected a list",
                paths[4]
            ),
        ),
        (
            &[&paths[0], "no-such-file.json"],
            "burler: no-such-file.json: No such file or directory (os error 2)".into(),
        ),
    ];
    for (args, want) in cases {
        let mut full = vec!["state", "merge"];
        full.extend_from_slice(args);
        let run = burler(&full);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert_eq!(run.stderr, format!("{want}\n"), "{args:?}");
    }
    // No state at all is a usage error.
    let run = burler(&["state", "merge"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}
