//! Hand-written fixture taps for the kit's own tests: a [`ScriptedTap`] answers `--discover` with
//! a fixed catalog and a sync with the messages a closure writes from the `--state` it was given,
//! so a test can reproduce exactly what a singer-python, singer-sdk or PipelineWise tap (or a
//! faulty one) writes, independent of the burler framework.

#![allow(dead_code)] // each test file uses a part

use std::time::Duration;

use burler_testkit::runner::{RunInput, TapOutput, TapRunner};
use serde_json::Value;

/// What a sync writes: stdout lines and the exit code.
pub struct Written {
    pub lines: Vec<String>,
    pub exit_code: i32,
}

impl Written {
    /// Messages, one line each, exit 0.
    pub fn messages(messages: Vec<Value>) -> Self {
        Written {
            lines: messages.iter().map(Value::to_string).collect(),
            exit_code: 0,
        }
    }
}

/// A tap written as a closure from the start state (`None` without `--state`) to its output.
pub struct ScriptedTap<F> {
    pub name: &'static str,
    pub catalog: Value,
    pub sync: F,
}

impl<F: Fn(Option<&Value>) -> Written> TapRunner for ScriptedTap<F> {
    fn describe(&self) -> String {
        self.name.to_owned()
    }

    fn run(&self, input: &RunInput) -> TapOutput {
        let written = if input.discover {
            Written {
                lines: vec![self.catalog.to_string()],
                exit_code: 0,
            }
        } else {
            let state = input
                .state
                .as_ref()
                .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap());
            (self.sync)(state.as_ref())
        };
        let mut stdout = written.lines.join("\n").into_bytes();
        stdout.push(b'\n');
        TapOutput {
            exit_code: Some(written.exit_code),
            stdout,
            duration: Duration::from_millis(10),
            ..TapOutput::default()
        }
    }

    fn captures_stderr(&self) -> bool {
        false
    }
}

/// A catalog stream as singer-python's `get_standard_metadata` discovers it: keys and replication
/// in metadata only, `inclusion: automatic` on the key and replication key.
pub fn singer_python_entry(id: &str, replication_key: &str) -> Value {
    serde_json::json!({
        "tap_stream_id": id, "stream": id,
        "schema": {"type": "object", "properties": {
            "id": {"type": "integer"},
            replication_key: {"type": "string", "format": "date-time"},
            "name": {"type": ["null", "string"]}}},
        "metadata": [
            {"breadcrumb": [], "metadata": {"inclusion": "available", "table-key-properties": ["id"],
                "valid-replication-keys": [replication_key], "forced-replication-method": "INCREMENTAL"}},
            {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}},
            {"breadcrumb": ["properties", replication_key], "metadata": {"inclusion": "automatic"}},
            {"breadcrumb": ["properties", "name"], "metadata": {"inclusion": "available"}}]
    })
}

/// The SCHEMA message of a stream of [`singer_python_entry`].
pub fn schema_message(stream: &str, replication_key: &str) -> Value {
    let entry = singer_python_entry(stream, replication_key);
    serde_json::json!({"type": "SCHEMA", "stream": stream, "schema": entry["schema"],
        "key_properties": ["id"], "bookmark_properties": [replication_key]})
}

/// `n` RECORD messages of `stream`, an hour apart from 2024-01-01T00:00Z, those at or after
/// `since` only (as a source filtered by the bookmark returns them).
pub fn records(stream: &str, key: &str, n: u32, since: Option<&str>) -> Vec<Value> {
    (1..=n)
        .map(|i| (i, format!("2024-01-01T{:02}:00:00Z", i)))
        .filter(|(_, at)| since.is_none_or(|s| at.as_str() >= s))
        .map(|(i, at)| {
            serde_json::json!({"type": "RECORD", "stream": stream,
            "record": {"id": i, key: at, "name": format!("{stream} {i}")}})
        })
        .collect()
}

/// A STATE message.
pub fn state_message(value: Value) -> Value {
    serde_json::json!({"type": "STATE", "value": value})
}
