//! The runner as a process: CRITICAL lines, exit codes, metric lines and the report on stderr.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

/// The `three_streams` example, which `cargo test` builds next to this test binary.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples")
        .join(format!("three_streams{}", std::env::consts::EXE_SUFFIX))
}

fn run(config: Value, extra: &[&str]) -> (i32, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.json");
    std::fs::write(&cfg, config.to_string()).unwrap();
    let out = Command::new(example())
        .arg("--config")
        .arg(&cfg)
        .args(extra)
        .env("BURLER_LOG", "info")
        .output()
        .expect("the three_streams example is built by cargo test");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    )
}

#[test]
fn two_failing_streams_and_one_good_end_with_two_critical_lines() {
    let (code, stdout, stderr, _dir) = run(json!({"fail": ["a", "c"]}), &[]);
    assert_eq!(code, 1);
    let good = stdout
        .lines()
        .filter(|l| l.contains(r#""type":"RECORD","stream":"b""#))
        .count();
    assert_eq!(good, 10, "the good stream's records are all out");
    let critical: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("CRITICAL"))
        .collect();
    assert_eq!(
        critical,
        vec![
            "CRITICAL a: source for a returned HTTP 503",
            "CRITICAL c: source for c returned HTTP 503"
        ]
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn metric_lines_and_the_report_go_to_stderr_only() {
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");
    let (code, stdout, stderr, _d) =
        run(json!({}), &["--report-json", report_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.lines().all(|l| l.starts_with("{\"type\":")),
        "stdout carries only messages"
    );
    assert!(stderr.contains(
        r#"INFO METRIC: {"type": "counter", "metric": "record_count", "value": 10, "tags": {"endpoint": "b"}}"#
    ));
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(r#"INFO METRIC: {"type": "timer", "metric": "job_duration""#))
    );
    assert!(stderr.contains("INFO Starting tap-three 1.2.3"), "{stderr}");
    assert!(
        stderr.lines().any(|l| l.starts_with("stream  status")),
        "report table on stderr"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["streams"].as_array().unwrap().len(), 3);
    assert_eq!(report["streams"][1]["emitted"], 10);
}

#[test]
fn fail_fast_flag_stops_after_the_first_failure() {
    let (code, stdout, stderr, _d) = run(json!({"fail": ["a"]}), &["--fail-fast"]);
    assert_eq!(code, 1);
    assert!(!stdout.contains(r#""stream":"b""#));
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("CRITICAL")).count(),
        1
    );
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let out = Command::new(example())
        .arg("--zzz-unheard-of")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let out = Command::new(example()).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "tap-three 1.2.3\n");
}

#[test]
fn a_closed_output_ends_the_run_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.json");
    std::fs::write(&cfg, "{}").unwrap();
    // The target went away before reading anything: the pipe's read end is closed.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(example())
        .arg("--config")
        .arg(&cfg)
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    let critical: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("CRITICAL"))
        .collect();
    assert_eq!(
        critical,
        vec!["CRITICAL output closed by its reader (broken pipe): the target stopped reading"]
    );
    assert_eq!(
        stderr.matches("Starting sync of stream").count(),
        1,
        "no stream starts after the pipe broke"
    );
    assert!(!stderr.contains("panicked"));
}

/// Runs the example with `args` alone (no config added); exit code, stdout, stderr.
fn run_args(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(example()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn conflicting_modes_and_options_are_refused_with_one_line() {
    let cases: [(&[&str], &str); 12] = [
        (&["--discover", "--about"], "'--discover'"),
        (&["--discover", "--test"], "'--discover'"),
        (&["--verify", "--test=schema"], "'--verify'"),
        (&["--verify", "--discover"], "'--verify'"),
        (&["--about", "--catalog", "c.json"], "'--about'"),
        (&["--discover", "--fail-fast"], "'--discover'"),
        (&["--discover", "--report-json", "r.json"], "'--discover'"),
        (&["--verify", "-o", "out.json"], "'--verify'"),
        (&["--version", "--discover"], "'--version'"),
        (&["--discover", "--partitions", "1/2"], "'--discover'"),
        (&["--about", "--partitions", "1/2"], "'--about'"),
        (&["--verify", "--partitions", "1/2"], "'--verify'"),
    ];
    for (args, first) in cases {
        let mut full = vec!["--config", "c.json"];
        full.extend_from_slice(args);
        let (code, stdout, stderr) = run_args(&full);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        assert!(
            lines[0].starts_with(&format!("error: the argument {first}"))
                && lines[0].contains("cannot be used with"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn discovery_takes_the_state_and_catalog_meltano_passes_it() {
    // Meltano's discovery runs `--config C --catalog P --state S --discover` once a previous run
    // left those files.
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let (config, state) = (file("c.json", "{}"), file("s.json", r#"{"bookmarks": {}}"#));
    let (code, catalog, stderr) = run_args(&["--config", &config, "--discover"]);
    assert_eq!(code, 0, "{stderr}");
    let catalog = file("cat.json", &catalog);
    let args = [
        "--config",
        &config,
        "--catalog",
        &catalog,
        "--state",
        &state,
        "--discover",
    ];
    let (code, stdout, stderr) = run_args(&args);
    assert_eq!(code, 0, "{stderr}");
    let streams = serde_json::from_str::<Value>(&stdout).unwrap()["streams"].clone();
    assert_eq!(streams.as_array().map(Vec::len), Some(3));
}

#[test]
fn usage_errors_are_shown_whole_on_stderr_with_exit_2() {
    let (code, stdout, stderr) = run_args(&["--about", "--format", "xml"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: invalid value 'xml' for '--format <FORMAT>'\n  [possible values: json, markdown]\n"
    );
    let (code, _, stderr) = run_args(&["--config"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: a value is required for '--config <FILE>' but none was supplied\n"
    );
    let (code, _, stderr) = run_args(&["--confg", "c.json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: unexpected argument '--confg' found\n")
            && stderr.contains("tip: a similar argument exists: '--config'"),
        "{stderr}"
    );
    assert!(!stderr.contains("Usage:"), "{stderr}");
}

#[test]
fn an_unwritable_out_file_is_one_critical_line_before_any_stream() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("missing").join("state.json");
    let (code, stdout, stderr, _d) = run(json!({}), &["-o", nowhere.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "no message before the check: {stdout}");
    let critical: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("CRITICAL"))
        .collect();
    assert_eq!(
        critical,
        [format!(
            "CRITICAL --out-file {}: cannot be written: No such file or directory (os error 2)",
            nowhere.display()
        )]
    );
    assert!(!stderr.contains("Starting sync"), "{stderr}");
}

#[test]
fn a_bad_config_catalog_and_state_give_one_critical_line_naming_each() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let (config, catalog, state) = (
        file("c.json", "[]"),
        file("cat.json", "{"),
        file("s.json", r#"{"bookmarks": 1}"#),
    );
    let (code, stdout, stderr) = run_args(&[
        "--config",
        &config,
        "--catalog",
        &catalog,
        "--state",
        &state,
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    let critical: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("CRITICAL"))
        .collect();
    assert_eq!(critical.len(), 1, "{stderr}");
    for part in [
        format!("config {config}: must be a JSON object"),
        format!("catalog {catalog}: not valid JSON"),
        format!("state {state}: \"bookmarks\" must be an object"),
    ] {
        assert!(critical[0].contains(&part), "{part} not in {}", critical[0]);
    }
}

/// Runs the example with `args` and `BURLER_PARTITIONS` set to `env`; exit code, stdout, stderr.
fn run_with_partitions_env(env: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(example())
        .args(args)
        .env("BURLER_PARTITIONS", env)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_partition_selector_is_one_critical_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.json");
    std::fs::write(&cfg, "{}").unwrap();
    let cfg = cfg.to_str().unwrap();
    let critical = |stderr: &str| -> Vec<String> {
        let lines = stderr.lines().filter(|l| l.starts_with("CRITICAL"));
        lines.map(str::to_owned).collect()
    };
    let (code, stdout, stderr) = run_args(&["--config", cfg, "--partitions", "4/3"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        critical(&stderr),
        [
            "CRITICAL --partitions 4/3: expected K/N (worker K of N, 1 <= K <= N, e.g. 3/8), a JSON list of partition contexts, or @FILE holding one"
        ]
    );
    assert!(!stderr.contains("Starting sync"), "{stderr}");
    let (code, stdout, stderr) = run_with_partitions_env("three", &["--config", cfg]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    let lines = critical(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("CRITICAL BURLER_PARTITIONS=three: expected K/N"),
        "{stderr}"
    );
}

#[test]
fn the_partitions_variable_is_read_by_a_sync_only() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.json");
    std::fs::write(&cfg, "{}").unwrap();
    let cfg = cfg.to_str().unwrap();
    // An orchestrator sets it for every command of a worker: discovery and --about still work,
    // whatever it holds.
    for args in [&["--config", cfg, "--discover"][..], &["--about"][..]] {
        let (code, stdout, stderr) = run_with_partitions_env("not a selector", args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stdout.starts_with('{'), "{args:?}: {stdout}");
    }
    // Two workers by the variable: each stream (none has partitions) from exactly one of them.
    let mut holders = std::collections::BTreeMap::<String, Vec<u8>>::new();
    for k in 1..=2u8 {
        let (code, stdout, stderr) = run_with_partitions_env(&format!("{k}/2"), &["--config", cfg]);
        assert_eq!(code, 0, "{stderr}");
        for line in stdout.lines() {
            let m: Value = serde_json::from_str(line).unwrap();
            if m["type"] == "RECORD" {
                let stream = m["stream"].as_str().unwrap().to_owned();
                let workers = holders.entry(stream).or_default();
                if !workers.contains(&k) {
                    workers.push(k);
                }
            }
        }
    }
    let streams: Vec<&String> = holders.keys().collect();
    assert_eq!(streams, ["a", "b", "c"]);
    assert!(holders.values().all(|w| w.len() == 1), "{holders:?}");
    // The flag wins over the variable: a list naming no partition syncs nothing.
    let (code, stdout, _) =
        run_with_partitions_env("1/2", &["--config", cfg, "--partitions", "[]"]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("\"RECORD\""), "{stdout}");
}
