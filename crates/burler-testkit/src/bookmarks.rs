//! Reading a stream's bookmark out of the state shapes real taps write, so the checks judge
//! singer-python, singer-sdk and PipelineWise taps alike:
//!
//! | shape | a stream's bookmark | written by |
//! |---|---|---|
//! | [`StateShape::SingerSdk`] | `{"replication_key": "updated_at", "replication_key_value": …}` (maybe `replication_key_signpost`, `starting_replication_value`) | singer-sdk, burler |
//! | [`StateShape::SingerSdkPartitions`] | `{"partitions": [{"context": {…}, "replication_key_value": …}, …]}` | singer-sdk (child or partitioned streams), burler |
//! | [`StateShape::SingerSdkProgress`] | `{"progress_markers": {"replication_key_value": …, "Note": …}}` | singer-sdk, mid-run on a stream whose order is not trusted |
//! | [`StateShape::SingerPython`] | `{"updated_at": …}`: the replication key's name as the key | singer-python's `write_bookmark` |
//! | [`StateShape::PipelineWise`] | `{"replication_key_value": …, "version": …, "last_replication_method": "INCREMENTAL"}` (`xmin`, `lsn`: positions of FULL_TABLE and LOG_BASED syncs) | PipelineWise taps |
//!
//! Where the bookmark sits is read per stream; a shape that is none of these is reported as
//! [`Bookmark::Unreadable`] with the keys it has, so a check can warn instead of failing the tap.
//! `currently_syncing` (top level, a stream id or `null`) is read by [`currently_syncing`].
//!
//! ```
//! use burler_testkit::bookmarks::{Bookmark, StateShape, read_bookmark};
//! use serde_json::json;
//! let state = json!({"bookmarks": {"users": {"updated_at": "2024-01-01T10:00:00Z"}}});
//! let Bookmark::Read(b) = read_bookmark(&state, "users", &["updated_at"]) else { panic!() };
//! assert_eq!(b.shape, StateShape::SingerPython);
//! assert_eq!(b.highest, json!("2024-01-01T10:00:00Z"));
//! ```

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::compare::compare_json;

/// The convention a stream's bookmark follows (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateShape {
    /// singer-sdk's `replication_key` / `replication_key_value`.
    SingerSdk,
    /// singer-sdk's per-partition bookmarks under `partitions`.
    SingerSdkPartitions,
    /// singer-sdk's `progress_markers` (an unsorted stream mid-run).
    SingerSdkProgress,
    /// singer-python's `bookmarks.<stream>.<replication key>`.
    SingerPython,
    /// PipelineWise's `replication_key_value` with `version` / `last_replication_method`.
    PipelineWise,
}

impl StateShape {
    /// A short name for reports (`singer-python`).
    pub fn as_str(self) -> &'static str {
        match self {
            StateShape::SingerSdk => "singer-sdk",
            StateShape::SingerSdkPartitions => "singer-sdk partitions",
            StateShape::SingerSdkProgress => "singer-sdk progress markers",
            StateShape::SingerPython => "singer-python",
            StateShape::PipelineWise => "PipelineWise",
        }
    }
}

impl fmt::Display for StateShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bookmark that was read.
#[derive(Debug, Clone, PartialEq)]
pub struct BookmarkReading {
    /// The shape it was read from.
    pub shape: StateShape,
    /// Where the value sits (`bookmarks.users.updated_at`).
    pub path: String,
    /// The smallest value (of the partitions; the value itself otherwise).
    pub lowest: Value,
    /// The largest value.
    pub highest: Value,
    /// How many partitions hold a value (0 without partitions).
    pub partitions: usize,
}

/// The bookmark of one stream in a state.
#[derive(Debug, Clone, PartialEq)]
pub enum Bookmark {
    /// The state has no bookmark value for the stream (no entry, an empty one, or only
    /// bookkeeping such as a table `version`).
    None,
    /// A value was read.
    Read(BookmarkReading),
    /// The stream has a bookmark entry in a shape these checks do not know; says what it holds.
    Unreadable(String),
}

impl Bookmark {
    /// The reading, when a value was read.
    pub fn reading(&self) -> Option<&BookmarkReading> {
        match self {
            Bookmark::Read(r) => Some(r),
            _ => None,
        }
    }
}

/// Keys of a bookmark entry that are bookkeeping, not an incremental bookmark value: table
/// versions, singer-sdk's signpost and start, PipelineWise's method, the position of a FULL_TABLE
/// sync that can resume (`xmin`) and of a LOG_BASED one (`lsn`, `log_file`/`log_pos`).
const BOOKKEEPING: &[&str] = &[
    "replication_key",
    "version",
    "last_replication_method",
    "replication_key_signpost",
    "starting_replication_value",
    "initial_full_table_complete",
    "xmin",
    "lsn",
    "log_file",
    "log_pos",
];

/// Reads the bookmark of `stream` (its `tap_stream_id`) in `state`. `keys` are the names a
/// singer-python tap may use as the bookmark's key: the stream's replication key, its valid
/// replication keys, its SCHEMA's `bookmark_properties`.
pub fn read_bookmark(state: &Value, stream: &str, keys: &[&str]) -> Bookmark {
    let bookmarks = match state.get("bookmarks") {
        None | Some(Value::Null) => return Bookmark::None,
        Some(Value::Object(b)) => b,
        Some(other) => {
            return Bookmark::Unreadable(format!(
                "\"bookmarks\" is {}, not an object",
                json_kind(other)
            ));
        }
    };
    let entry = match bookmarks.get(stream) {
        None | Some(Value::Null) => return Bookmark::None,
        Some(Value::Object(entry)) => entry,
        Some(other) => {
            return Bookmark::Unreadable(format!(
                "bookmarks.{stream} is {}, not an object",
                json_kind(other)
            ));
        }
    };
    let path = format!("bookmarks.{stream}");
    if let Some(value) = present(entry, "replication_key_value") {
        let pipelinewise =
            entry.contains_key("last_replication_method") || entry.contains_key("version");
        let shape = if pipelinewise {
            StateShape::PipelineWise
        } else {
            StateShape::SingerSdk
        };
        return single(shape, format!("{path}.replication_key_value"), value);
    }
    if let Some(partitions) = entry.get("partitions").and_then(Value::as_array) {
        return read_partitions(partitions, &path);
    }
    if let Some(value) = entry
        .get("progress_markers")
        .and_then(|p| p.as_object())
        .and_then(|p| present(p, "replication_key_value"))
    {
        let at = format!("{path}.progress_markers.replication_key_value");
        return single(StateShape::SingerSdkProgress, at, value);
    }
    if let Some((key, value)) = keys.iter().find_map(|k| present(entry, k).map(|v| (k, v))) {
        return single(StateShape::SingerPython, format!("{path}.{key}"), value);
    }
    unknown_keys(entry, &path, keys)
}

/// An entry with no value these shapes know: `None` when it holds only bookkeeping, else what
/// it holds.
fn unknown_keys(entry: &Map<String, Value>, path: &str, keys: &[&str]) -> Bookmark {
    let others: Vec<&str> = entry
        .keys()
        .map(String::as_str)
        .filter(|k| !BOOKKEEPING.contains(k))
        .collect();
    if others.is_empty() {
        return Bookmark::None;
    }
    let expected = if keys.is_empty() {
        "no replication key is declared to say which holds the value".to_owned()
    } else {
        format!("none of them is the replication key ({})", keys.join(", "))
    };
    Bookmark::Unreadable(format!("{path} holds {}: {expected}", others.join(", ")))
}

/// The value of `key` unless absent or null.
fn present<'a>(entry: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    entry.get(key).filter(|v| !v.is_null())
}

fn single(shape: StateShape, path: String, value: &Value) -> Bookmark {
    Bookmark::Read(BookmarkReading {
        shape,
        path,
        lowest: value.clone(),
        highest: value.clone(),
        partitions: 0,
    })
}

/// singer-sdk partitions: each holds `replication_key_value`, or progress markers mid-run.
fn read_partitions(partitions: &[Value], path: &str) -> Bookmark {
    let values: Vec<&Value> = partitions
        .iter()
        .filter_map(|p| {
            let p = p.as_object()?;
            present(p, "replication_key_value").or_else(|| {
                p.get("progress_markers")?
                    .as_object()
                    .and_then(|m| present(m, "replication_key_value"))
            })
        })
        .collect();
    let Some(first) = values.first() else {
        return if partitions.is_empty() {
            Bookmark::None
        } else {
            Bookmark::Unreadable(format!(
                "{path}.partitions: {} without a replication_key_value",
                crate::suite::plural(partitions.len(), "partition")
            ))
        };
    };
    let pick = |keep: Ordering| {
        values.iter().fold(*first, |best, v| {
            if compare_json(v, best) == Some(keep) {
                v
            } else {
                best
            }
        })
    };
    Bookmark::Read(BookmarkReading {
        shape: StateShape::SingerSdkPartitions,
        path: format!("{path}.partitions[*].replication_key_value"),
        lowest: pick(Ordering::Less).clone(),
        highest: pick(Ordering::Greater).clone(),
        partitions: values.len(),
    })
}

/// The streams of `state` whose bookmark holds singer-sdk `partitions`.
pub fn partitioned_streams(state: &Value) -> Vec<String> {
    let Some(bookmarks) = state.get("bookmarks").and_then(Value::as_object) else {
        return Vec::new();
    };
    bookmarks
        .iter()
        .filter(|(_, b)| b.get("partitions").is_some_and(Value::is_array))
        .map(|(name, _)| name.clone())
        .collect()
}

/// `currently_syncing` of a state: `Ok(None)` when absent or `null`, an error when it is neither
/// `null` nor a string.
pub fn currently_syncing(state: &Value) -> Result<Option<&str>, String> {
    match state.get("currently_syncing") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "\"currently_syncing\" is {}, not a stream id or null",
            json_kind(other)
        )),
    }
}

/// `a string`, `an array`, … for messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(state: Value, keys: &[&str]) -> Bookmark {
        read_bookmark(&state, "users", keys)
    }

    fn shape_and_range(b: Bookmark) -> (StateShape, Value, Value, String) {
        let Bookmark::Read(r) = b else {
            panic!("not read: {b:?}")
        };
        (r.shape, r.lowest, r.highest, r.path)
    }

    #[test]
    fn singer_sdk_bookmark_with_signpost() {
        let b = read(
            json!({"bookmarks": {"users": {"replication_key": "updated_at",
            "replication_key_value": "2024-01-02T00:00:00Z",
            "replication_key_signpost": "2024-06-01T00:00:00Z",
            "starting_replication_value": "2024-01-01T00:00:00Z"}}}),
            &[],
        );
        assert_eq!(
            shape_and_range(b),
            (
                StateShape::SingerSdk,
                json!("2024-01-02T00:00:00Z"),
                json!("2024-01-02T00:00:00Z"),
                "bookmarks.users.replication_key_value".to_owned()
            )
        );
    }

    #[test]
    fn singer_sdk_partitions_give_a_range_and_a_count() {
        let b = read(
            json!({"bookmarks": {"users": {"partitions": [
                {"context": {"org": 1}, "replication_key": "at", "replication_key_value": 30},
                {"context": {"org": 2}, "replication_key": "at", "replication_key_value": 10},
                {"context": {"org": 3}, "progress_markers": {"Note": "x", "replication_key_value": 20}},
                {"context": {"org": 4}}]}}}),
            &["at"],
        );
        let Bookmark::Read(r) = b else { panic!() };
        assert_eq!(
            (r.shape, r.lowest, r.highest, r.partitions),
            (StateShape::SingerSdkPartitions, json!(10), json!(30), 3)
        );
        assert!(matches!(
            read(json!({"bookmarks": {"users": {"partitions": [{"context": {}}]}}}), &[]),
            Bookmark::Unreadable(why) if why.contains("1 partition without a replication_key_value")
        ));
        assert_eq!(
            read(json!({"bookmarks": {"users": {"partitions": []}}}), &[]),
            Bookmark::None
        );
    }

    #[test]
    fn singer_sdk_progress_markers_mid_run() {
        let b = read(
            json!({"bookmarks": {"users": {"progress_markers": {
            "Note": "Progress is not resumable if interrupted.", "replication_key": "at",
            "replication_key_value": 5}}}}),
            &[],
        );
        assert_eq!(shape_and_range(b).0, StateShape::SingerSdkProgress);
    }

    #[test]
    fn singer_python_bookmark_under_the_replication_key() {
        let state = json!({"currently_syncing": null, "bookmarks": {
            "users": {"updated_at": "2024-01-01T10:00:00Z"},
            "orders": {"updated_at": "2024-01-01T15:00:00Z"}}});
        let (shape, lo, _, path) =
            shape_and_range(read(state.clone(), &["created_at", "updated_at"]));
        assert_eq!(
            (shape, lo, path.as_str()),
            (
                StateShape::SingerPython,
                json!("2024-01-01T10:00:00Z"),
                "bookmarks.users.updated_at"
            )
        );
        let unknown = read(state, &[]);
        assert!(
            matches!(&unknown, Bookmark::Unreadable(why) if why == "bookmarks.users holds updated_at: no replication key is declared to say which holds the value"),
            "{unknown:?}"
        );
    }

    #[test]
    fn pipelinewise_bookmark_with_version_and_method() {
        let state = json!({"currently_syncing": "users", "bookmarks": {"users": {
            "last_replication_method": "INCREMENTAL", "replication_key": "id",
            "version": 1_700_000_000_000_i64, "replication_key_value": 42}}});
        assert_eq!(
            shape_and_range(read(state, &[])).0,
            StateShape::PipelineWise
        );
    }

    #[test]
    fn bookkeeping_only_is_no_bookmark_and_unknown_shapes_are_named() {
        assert_eq!(read(json!({}), &[]), Bookmark::None);
        assert_eq!(read(json!({"bookmarks": {}}), &[]), Bookmark::None);
        assert_eq!(
            read(
                json!({"bookmarks": {"users": {"version": 1, "last_replication_method": "FULL_TABLE", "xmin": 740}}}),
                &[]
            ),
            Bookmark::None
        );
        for (state, says) in [
            (json!({"bookmarks": []}), "\"bookmarks\" is an array"),
            (
                json!({"bookmarks": {"users": "2024-01-01"}}),
                "bookmarks.users is a string",
            ),
            (
                json!({"bookmarks": {"users": {"cursor": 5, "version": 1}}}),
                "bookmarks.users holds cursor: none of them is the replication key (updated_at)",
            ),
        ] {
            let keys: &[&str] = if says.contains("updated_at") {
                &["updated_at"]
            } else {
                &[]
            };
            match read(state, keys) {
                Bookmark::Unreadable(why) => assert!(why.contains(says), "{why}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn currently_syncing_and_partitioned_streams() {
        assert_eq!(
            currently_syncing(&json!({"currently_syncing": "users"})),
            Ok(Some("users"))
        );
        assert_eq!(
            currently_syncing(&json!({"currently_syncing": null})),
            Ok(None)
        );
        assert_eq!(currently_syncing(&json!({})), Ok(None));
        assert!(currently_syncing(&json!({"currently_syncing": 3})).is_err());
        let state =
            json!({"bookmarks": {"a": {"partitions": []}, "b": {"replication_key_value": 1}}});
        assert_eq!(partitioned_streams(&state), ["a"]);
    }
}
