//! Helpers shared by the runner tests: run a tap in-process and read what it wrote.
#![allow(dead_code)]

use std::path::PathBuf;

use burler::{CaptureBuffer, RunOutcome, Tap};
use serde_json::{Value, json};

/// A directory with files for one test run.
pub struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Self {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn json(&self, name: &str, value: &Value) -> String {
        let path: PathBuf = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
        path.to_string_lossy().into_owned()
    }

    pub fn config(&self, value: Value) -> String {
        self.json("config.json", &value)
    }

    pub fn empty_config(&self) -> String {
        self.config(json!({}))
    }
}

/// Runs `tap` with `args` (program name added) and returns the outcome and the parsed messages.
pub fn run<C, K>(tap: Tap<C, K>, args: &[&str]) -> (RunOutcome, Vec<Value>)
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let buf = CaptureBuffer::new();
    let mut full = vec!["tap-test"];
    full.extend_from_slice(args);
    let outcome = tap.run_with(full, Box::new(buf.clone()));
    (outcome, parse(&buf.text()))
}

pub fn parse(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

pub fn records<'a>(msgs: &'a [Value], stream: &str) -> Vec<&'a Value> {
    msgs.iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| &m["record"])
        .collect()
}

pub fn of_type<'a>(msgs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    msgs.iter().filter(|m| m["type"] == ty).collect()
}

pub fn last_state(msgs: &[Value]) -> Value {
    of_type(msgs, "STATE")
        .last()
        .map(|m| m["value"].clone())
        .expect("a STATE message")
}

/// A schema with an integer `id` and a date-time `updated_at`.
pub fn event_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "updated_at": {"type": "string", "format": "date-time"},
            "name": {"type": ["null", "string"]}
        }
    })
}

/// `n` events, ids 1..=n, `updated_at` one minute apart from 2024-01-01, every `dup`-th sharing the
/// previous timestamp.
pub fn events(n: u64, dup: u64) -> Vec<Value> {
    let mut minute = 0;
    (1..=n)
        .map(|id| {
            if dup == 0 || id % dup != 0 {
                minute += 1;
            }
            json!({
                "id": id,
                "updated_at": format!("2024-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60),
                "name": format!("event {id}")
            })
        })
        .collect()
}
