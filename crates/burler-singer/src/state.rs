//! State: per-stream bookmarks and `currently_syncing`, in the conventional singer-python shape,
//! accepting singer-sdk's additions (`partitions`, `progress_markers`) and unknown keys without loss.

use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ProtocolError, read_json_file};

/// singer-sdk's key for the progress of an unsorted stream.
const PROGRESS_MARKERS: &str = "progress_markers";

/// A tap's state: `{"currently_syncing": ..., "bookmarks": {...}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct State {
    /// Per-stream bookmarks.
    #[serde(default)]
    pub bookmarks: IndexMap<String, StreamBookmark>,
    /// The stream being synced when the state was written (`null` when none).
    #[serde(default)]
    pub currently_syncing: Option<String>,
    /// Other top-level keys, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The bookmark of one stream.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StreamBookmark {
    /// The replication key the value belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_key: Option<String>,
    /// The bookmark value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_key_value: Option<Value>,
    /// The table version of an unfinished FULL_TABLE sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// singer-sdk's per-partition bookmarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<Vec<Value>>,
    /// Other keys (`progress_markers`, custom positions), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl State {
    /// Reads a state value; `{}` is fine, wrong shapes are named.
    pub fn from_value(v: Value) -> Result<State, ProtocolError> {
        // A whole STATE message (`{"type": "STATE", "value": {...}}`) saved as the state file is
        // an easy mistake: its value is the state.
        let v = match v {
            Value::Object(mut obj)
                if obj.get("type").and_then(Value::as_str) == Some("STATE")
                    && obj.get("value").is_some_and(Value::is_object) =>
            {
                tracing::warn!("state: a whole STATE message was given; using its \"value\"");
                obj.remove("value").unwrap_or_default()
            }
            other => other,
        };
        let Value::Object(obj) = &v else {
            return Err(ProtocolError::shape("state", "must be a JSON object"));
        };
        match obj.get("bookmarks") {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => {
                return Err(ProtocolError::shape(
                    "state",
                    "\"bookmarks\" must be an object",
                ));
            }
        }
        if let Some(Value::Object(bookmarks)) = obj.get("bookmarks") {
            for (stream, b) in bookmarks {
                if !b.is_object() {
                    return Err(ProtocolError::shape(
                        "state",
                        format!("bookmark of stream {stream:?} must be an object"),
                    ));
                }
                if let Some(version) = b.get("version")
                    && !version.is_null()
                    && !version.is_i64()
                {
                    return Err(ProtocolError::shape(
                        "state",
                        format!("\"version\" of stream {stream:?} must be an integer"),
                    ));
                }
                if let Some(p) = b.get("partitions")
                    && !p.is_array()
                    && !p.is_null()
                {
                    return Err(ProtocolError::shape(
                        "state",
                        format!("\"partitions\" of stream {stream:?} must be a list"),
                    ));
                }
            }
        }
        match obj.get("currently_syncing") {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(_) => {
                return Err(ProtocolError::shape(
                    "state",
                    "\"currently_syncing\" must be a string or null",
                ));
            }
        }
        let mut v = v;
        if let Some(obj) = v.as_object_mut()
            && obj.get("bookmarks").is_some_and(Value::is_null)
        {
            obj.remove("bookmarks");
        }
        serde_json::from_value(v)
            .map_err(|e| ProtocolError::shape("state", format!("wrong shape: {e}")))
    }

    /// Reads a state file; errors name the file.
    pub fn from_path(path: &Path) -> Result<State, ProtocolError> {
        let value = read_json_file("state", path)?;
        State::from_value(value).map_err(|e| e.in_file(path))
    }

    /// The state as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The bookmark of `stream`.
    pub fn bookmark(&self, stream: &str) -> Option<&StreamBookmark> {
        self.bookmarks.get(stream)
    }

    /// The bookmark of `stream`, created when missing.
    pub fn bookmark_mut(&mut self, stream: &str) -> &mut StreamBookmark {
        self.bookmarks.entry(stream.to_owned()).or_default()
    }

    /// `replication_key_value` of `stream`.
    pub fn replication_key_value(&self, stream: &str) -> Option<&Value> {
        self.bookmark(stream)?.replication_key_value.as_ref()
    }

    /// Sets `replication_key` and `replication_key_value` of `stream`.
    pub fn set_replication_key_value(&mut self, stream: &str, key: &str, value: Value) {
        let b = self.bookmark_mut(stream);
        b.replication_key = Some(key.to_owned());
        b.replication_key_value = Some(value);
    }

    /// Sets the bookmark of `stream`: its value and, when given, the replication key it is for.
    pub fn set_bookmark(&mut self, stream: &str, key: Option<&str>, value: Value) {
        let b = self.bookmark_mut(stream);
        if let Some(key) = key {
            b.replication_key = Some(key.to_owned());
        }
        b.replication_key_value = Some(value);
    }

    /// Sets the bookmark of one partition of `stream` (singer-sdk's shape: `context`,
    /// `replication_key`, `replication_key_value`).
    pub fn set_partition_bookmark(
        &mut self,
        stream: &str,
        context: &Value,
        key: Option<&str>,
        value: Value,
    ) {
        if let Some(key) = key {
            self.set_partition_value(stream, context, "replication_key", Value::from(key));
        }
        self.set_partition_value(stream, context, "replication_key_value", value);
    }

    /// Removes every partition bookmark of `stream`.
    pub fn clear_partitions(&mut self, stream: &str) {
        if let Some(b) = self.bookmarks.get_mut(stream) {
            b.partitions = None;
        }
    }

    /// The table version of `stream`.
    pub fn version(&self, stream: &str) -> Option<i64> {
        self.bookmark(stream)?.version
    }

    /// Sets the table version of `stream`.
    pub fn set_version(&mut self, stream: &str, version: i64) {
        self.bookmark_mut(stream).version = Some(version);
    }

    /// Clears the table version of `stream`.
    pub fn clear_version(&mut self, stream: &str) {
        if let Some(b) = self.bookmarks.get_mut(stream) {
            b.version = None;
        }
    }

    /// The stream being synced.
    pub fn currently_syncing(&self) -> Option<&str> {
        self.currently_syncing.as_deref()
    }

    /// Sets (or clears) the stream being synced.
    pub fn set_currently_syncing(&mut self, stream: Option<&str>) {
        self.currently_syncing = stream.map(str::to_owned);
    }

    /// The bookmark of one partition of `stream` (singer-sdk's `partitions: [{"context": ..}]`).
    pub fn partition(&self, stream: &str, context: &Value) -> Option<&Map<String, Value>> {
        self.bookmark(stream)?
            .partitions
            .as_ref()?
            .iter()
            .filter_map(Value::as_object)
            .find(|p| p.get("context") == Some(context))
    }

    /// The `replication_key_value` of one partition of `stream`.
    pub fn partition_value(&self, stream: &str, context: &Value) -> Option<&Value> {
        self.partition(stream, context)?
            .get("replication_key_value")
    }

    /// Sets a key of one partition of `stream`, creating the partition.
    pub fn set_partition_value(&mut self, stream: &str, context: &Value, key: &str, value: Value) {
        let partitions = self
            .bookmark_mut(stream)
            .partitions
            .get_or_insert_with(Vec::new);
        let found = partitions
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .find(|p| p.get("context") == Some(context));
        match found {
            Some(p) => {
                p.insert(key.to_owned(), value);
            }
            None => {
                let mut p = Map::new();
                p.insert("context".into(), context.clone());
                p.insert(key.to_owned(), value);
                partitions.push(Value::Object(p));
            }
        }
    }

    /// Sets singer-sdk's `progress_markers` of `stream` (of one partition, when `context` is
    /// given): how far an unsorted stream has read, which is not a bookmark (the stream may still
    /// send older records) and is promoted to one only when the sync completes.
    ///
    /// ```
    /// use burler_singer::State;
    /// use serde_json::json;
    /// let mut state = State::default();
    /// state.set_progress_markers("events", None, Some("updated_at"), json!("2024-05-01T00:00:00Z"));
    /// assert_eq!(state.to_value()["bookmarks"]["events"]["progress_markers"], json!({
    ///     "Note": "Progress is not resumable if interrupted.",
    ///     "replication_key": "updated_at",
    ///     "replication_key_value": "2024-05-01T00:00:00Z"}));
    /// assert!(state.clear_progress_markers("events", None));
    /// assert_eq!(state.to_value()["bookmarks"]["events"], json!({}));
    /// ```
    pub fn set_progress_markers(
        &mut self,
        stream: &str,
        context: Option<&Value>,
        key: Option<&str>,
        value: Value,
    ) {
        let mut markers = Map::new();
        markers.insert(
            "Note".into(),
            Value::from("Progress is not resumable if interrupted."),
        );
        if let Some(key) = key {
            markers.insert("replication_key".into(), Value::from(key));
        }
        markers.insert("replication_key_value".into(), value);
        let markers = Value::Object(markers);
        match context {
            Some(context) => self.set_partition_value(stream, context, PROGRESS_MARKERS, markers),
            None => {
                self.bookmark_mut(stream)
                    .extra
                    .insert(PROGRESS_MARKERS.into(), markers);
            }
        }
    }

    /// Removes the `progress_markers` of `stream` (or of one partition); `true` when there were.
    pub fn clear_progress_markers(&mut self, stream: &str, context: Option<&Value>) -> bool {
        let Some(bookmark) = self.bookmarks.get_mut(stream) else {
            return false;
        };
        let Some(context) = context else {
            return bookmark.extra.remove(PROGRESS_MARKERS).is_some();
        };
        bookmark
            .partitions
            .iter_mut()
            .flatten()
            .filter_map(Value::as_object_mut)
            .find(|p| p.get("context") == Some(context))
            .is_some_and(|p| p.remove(PROGRESS_MARKERS).is_some())
    }

    /// Any key of `stream`'s bookmark (known keys included).
    pub fn get_bookmark_value(&self, stream: &str, key: &str) -> Option<&Value> {
        let b = self.bookmark(stream)?;
        match key {
            "replication_key_value" => b.replication_key_value.as_ref(),
            _ => b.extra.get(key),
        }
    }

    /// Sets any key of `stream`'s bookmark.
    pub fn set_bookmark_value(&mut self, stream: &str, key: &str, value: Value) {
        let b = self.bookmark_mut(stream);
        match key {
            "replication_key_value" => b.replication_key_value = Some(value),
            "replication_key" => b.replication_key = value.as_str().map(str::to_owned),
            "version" => b.version = value.as_i64(),
            _ => {
                b.extra.insert(key.to_owned(), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_and_conventional_states_parse() {
        assert_eq!(State::from_value(json!({})).unwrap(), State::default());
        let v = json!({"currently_syncing": "users", "bookmarks": {"users": {"replication_key": "updated_at",
            "replication_key_value": "2024-01-02T00:00:00Z", "version": 1700000000000_i64}}, "custom": [1]});
        let s = State::from_value(v.clone()).unwrap();
        assert_eq!(s.currently_syncing(), Some("users"));
        assert_eq!(s.version("users"), Some(1_700_000_000_000));
        assert_eq!(
            s.replication_key_value("users"),
            Some(&json!("2024-01-02T00:00:00Z"))
        );
        assert_eq!(s.to_value(), v);
    }

    #[test]
    fn wrong_shapes_are_named() {
        let cases = [
            (json!([1]), "must be a JSON object"),
            (json!({"bookmarks": [1]}), "\"bookmarks\" must be an object"),
            (
                json!({"bookmarks": {"a": 1}}),
                "bookmark of stream \"a\" must be an object",
            ),
            (
                json!({"currently_syncing": 5}),
                "\"currently_syncing\" must be a string or null",
            ),
            (
                json!({"bookmarks": {"a": {"version": "x"}}}),
                "\"version\" of stream \"a\"",
            ),
        ];
        for (v, expected) in cases {
            let e = State::from_value(v).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
        let e = State::from_path(Path::new("/nonexistent/s.json"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("state /nonexistent/s.json:"), "{e}");
    }

    #[test]
    fn partitions_are_keyed_by_context() {
        let mut s = State::default();
        let a = json!({"account": 1});
        let b = json!({"account": 2});
        s.set_partition_value("c", &a, "replication_key_value", json!("x"));
        s.set_partition_value("c", &b, "replication_key_value", json!("y"));
        s.set_partition_value("c", &a, "replication_key_value", json!("z"));
        assert_eq!(s.partition_value("c", &a), Some(&json!("z")));
        assert_eq!(s.partition_value("c", &b), Some(&json!("y")));
        assert_eq!(s.partition_value("c", &json!({"account": 3})), None);
        assert_eq!(
            s.bookmark("c").unwrap().partitions.as_ref().unwrap().len(),
            2
        );
    }

    #[test]
    fn accessors_write_what_they_read() {
        let mut s = State::default();
        s.set_replication_key_value("a", "id", json!(5));
        s.set_version("a", 9);
        s.set_bookmark_value("a", "lsn", json!(77));
        s.set_currently_syncing(Some("a"));
        assert_eq!(s.get_bookmark_value("a", "lsn"), Some(&json!(77)));
        s.clear_version("a");
        s.set_currently_syncing(None);
        assert_eq!(
            s.to_value(),
            json!({"bookmarks": {"a": {"replication_key": "id", "replication_key_value": 5, "lsn": 77}}, "currently_syncing": null})
        );
    }
}
