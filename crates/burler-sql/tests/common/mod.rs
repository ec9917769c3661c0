//! Helpers of the integration tests: run a `SqlTap` in-process on files in a temporary directory,
//! read its messages back, cut its output after a number of bytes (an interrupted run), and edit
//! a discovered catalog the way a user (or Meltano) would; a test-kit runner of a `SqlTap`.

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use burler_sql::{Dialect, SourceConfig, SqlTap};
use burler_testkit::runner::{RunInput, TapOutput, TapRunner};
use serde_json::{Value, json};

/// Files of one test.
pub struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Self {
        Files {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn write(&self, name: &str, value: &Value) -> String {
        let path: PathBuf = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        path.display().to_string()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// What one run printed.
#[derive(Debug)]
pub struct Output {
    pub code: u8,
    pub lines: Vec<Value>,
    pub error: Option<String>,
}

impl Output {
    /// Messages of `kind` (RECORD, STATE, SCHEMA, ACTIVATE_VERSION) of `stream` (any for STATE).
    pub fn messages(&self, kind: &str, stream: &str) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|m| m["type"] == kind && (kind == "STATE" || m["stream"] == stream))
            .collect()
    }

    pub fn records(&self, stream: &str) -> Vec<Value> {
        self.messages("RECORD", stream)
            .into_iter()
            .map(|m| m["record"].clone())
            .collect()
    }

    /// The `id` of every record of `stream`, in order.
    pub fn ids(&self, stream: &str) -> Vec<i64> {
        self.records(stream)
            .iter()
            .map(|r| r["id"].as_i64().expect("an integer id"))
            .collect()
    }

    pub fn last_state(&self) -> Value {
        self.messages("STATE", "")
            .last()
            .map(|m| m["value"].clone())
            .unwrap_or(Value::Null)
    }

    pub fn catalog(&self) -> Value {
        assert_eq!(self.lines.len(), 1, "discovery prints one catalog");
        self.lines[0].clone()
    }

    /// The catalog entry of `stream`.
    pub fn entry(&self, stream: &str) -> Value {
        self.lines[0]["streams"]
            .as_array()
            .and_then(|s| s.iter().find(|e| e["tap_stream_id"] == stream))
            .cloned()
            .unwrap_or_else(|| panic!("stream {stream} discovered"))
    }
}

/// A sink that takes whole writes until `limit` bytes, then fails like a closed pipe.
#[derive(Clone)]
struct CutSink {
    taken: Arc<Mutex<Vec<u8>>>,
    limit: usize,
}

impl Write for CutSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut taken = self.taken.lock().unwrap();
        if taken.len() + buf.len() > self.limit {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "cut"));
        }
        taken.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `tap` with `args` (no program name), keeping at most `limit` bytes of its output.
pub fn run_limited<D: Dialect, C: SourceConfig<D>>(
    tap: SqlTap<D, C>,
    args: &[&str],
    limit: usize,
) -> Output {
    let sink = CutSink {
        taken: Arc::default(),
        limit,
    };
    let argv: Vec<String> = std::iter::once("tap".to_owned())
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    let outcome = tap.run_with(argv, Box::new(sink.clone()));
    let text = String::from_utf8(sink.taken.lock().unwrap().clone()).expect("UTF-8 output");
    let lines = if args.contains(&"--discover") {
        vec![serde_json::from_str(&text).unwrap_or(Value::Null)]
    } else {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    Output {
        code: outcome.exit_code,
        lines,
        error: outcome.error,
    }
}

/// Runs `tap` with `args` (no program name).
pub fn run<D: Dialect, C: SourceConfig<D>>(tap: SqlTap<D, C>, args: &[&str]) -> Output {
    run_limited(tap, args, usize::MAX)
}

/// A `SqlTap` run in-process for the test kit's checks (`ResumeCheck`): `make` builds it anew
/// for each run.
pub struct SqlRunner<F>(pub F);

impl<D: Dialect, C: SourceConfig<D>, F: Fn() -> SqlTap<D, C>> TapRunner for SqlRunner<F> {
    fn describe(&self) -> String {
        "burler-sql test tap".into()
    }

    fn run(&self, input: &RunInput) -> TapOutput {
        let start = std::time::Instant::now();
        let sink = CutSink {
            taken: Arc::default(),
            limit: usize::MAX,
        };
        let mut args = vec![std::ffi::OsString::from("tap")];
        args.extend(input.args());
        let outcome = (self.0)().run_with(args, Box::new(sink.clone()));
        let stdout = sink.taken.lock().unwrap().clone();
        TapOutput {
            exit_code: Some(i32::from(outcome.exit_code)),
            stdout,
            stderr: outcome.error.unwrap_or_default(),
            duration: start.elapsed(),
            ..TapOutput::default()
        }
    }

    fn captures_stderr(&self) -> bool {
        false
    }
}

/// Root metadata of a catalog entry, mutably.
fn root_metadata(entry: &mut Value) -> &mut Value {
    let list = entry["metadata"].as_array_mut().expect("metadata list");
    let root = list
        .iter_mut()
        .find(|m| m["breadcrumb"] == json!([]))
        .expect("root metadata");
    &mut root["metadata"]
}

/// Selects only `streams` of `catalog`, each with its `(stream, method, key)`.
pub fn choose(catalog: &mut Value, streams: &[(&str, &str, Option<&str>)]) {
    for entry in catalog["streams"].as_array_mut().unwrap() {
        let id = entry["tap_stream_id"].as_str().unwrap().to_owned();
        let chosen = streams.iter().find(|(s, _, _)| *s == id);
        let root = root_metadata(entry);
        root["selected"] = json!(chosen.is_some());
        if let Some((_, method, key)) = chosen {
            root["replication-method"] = json!(method);
            if let Some(k) = key {
                root["replication-key"] = json!(k);
            }
        }
    }
}

/// Deselects `field` of `stream`.
pub fn deselect(catalog: &mut Value, stream: &str, field: &str) {
    let entry = catalog["streams"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["tap_stream_id"] == stream)
        .expect("the stream");
    let list = entry["metadata"].as_array_mut().unwrap();
    let node = list
        .iter_mut()
        .find(|m| m["breadcrumb"] == json!(["properties", field]))
        .expect("the field's metadata");
    node["metadata"]["selected"] = json!(false);
}
