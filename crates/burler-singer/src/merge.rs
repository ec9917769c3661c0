//! Merging the states of processes that split one sync between them (a tap run as `N` workers,
//! each syncing some of the partitions), into the one state every worker starts the next run
//! from.
//!
//! States are singer-sdk's shape: `bookmarks.<stream>` holds the stream's own keys
//! (`replication_key_value`, a table `version`, custom keys) and `partitions`, a list of
//! `{"context": {...}, ...}` entries. The merge goes entry by entry — a stream's own keys are one
//! entry, each partition (by its context, key order aside) another:
//!
//! - with a base (the state the workers started from, which should always be given): an entry
//!   no worker changed stays as in the base; one a single worker changed (or removed) is taken
//!   from it; one several workers changed alike is taken; one they changed differently is taken
//!   from the worker with the greatest `replication_key_value` (bookmark order: numbers as
//!   numbers, date-times as instants), and is a conflict when that does not decide it;
//! - without it, the same over the workers that hold the entry (an entry is never removed).
//!
//! Entry by entry, and not "the newest state wins", because each worker moves only its own
//! partitions' bookmarks and copies the others' from the state it started from: any whole-state
//! choice would undo another worker's progress. `currently_syncing` is the first one set (a
//! worker that stopped mid-stream resumes it first); other top-level keys follow the entry rule.
//!
//! ```
//! use burler_singer::merge::merge_states;
//! use serde_json::{Map, Value, json};
//! let obj = |v: Value| -> Map<String, Value> { serde_json::from_value(v).unwrap() };
//! let part = |a: u64, day: &str| json!({"context": {"account": a}, "replication_key_value": day});
//! let base = obj(json!({"bookmarks": {"usage": {"partitions": [part(1, "01"), part(2, "01")]}}}));
//! let w1 = obj(json!({"bookmarks": {"usage": {"partitions": [part(1, "05"), part(2, "01")]}}}));
//! let w2 = obj(json!({"bookmarks": {"usage": {"partitions": [part(1, "01"), part(2, "07")]}}}));
//! let merged = merge_states(Some(&base), &[("w1", &w1), ("w2", &w2)]).unwrap();
//! assert_eq!(
//!     merged["bookmarks"]["usage"]["partitions"],
//!     json!([part(1, "05"), part(2, "07")])
//! );
//! ```

use serde_json::{Map, Value};

use crate::bookmark::compare_json;

/// Why states could not be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeConflict {
    /// Workers changed one entry of the state differently and the bookmark order does not decide.
    #[error(
        "{entry}: {files} changed it differently and no replication_key_value orders them{hint}"
    )]
    Differ {
        /// Where in the state, e.g. `bookmarks.orders` or
        /// `bookmarks.usage.partitions[{"account":1}]`.
        entry: String,
        /// The names of the states that disagree, comma-separated.
        files: String,
        /// A hint to pass the base state when it was not given.
        hint: &'static str,
    },
    /// A state is not in the shape the merge reads (bookmarks objects, partitions lists of
    /// objects with a `context` object).
    #[error("{file}: {entry}: {why}")]
    Shape {
        /// The name of the state.
        file: String,
        /// Where in the state.
        entry: String,
        /// What is expected there.
        why: &'static str,
    },
}

/// Checks that `state` has the shape the merge reads, so a malformed entry is refused instead of
/// being dropped from the merged state.
fn check_shape(file: &str, state: &Map<String, Value>) -> Result<(), MergeConflict> {
    let bad = |entry: String, why| MergeConflict::Shape {
        file: file.to_owned(),
        entry,
        why,
    };
    let Some(bookmarks) = state.get("bookmarks") else {
        return Ok(());
    };
    let Value::Object(bookmarks) = bookmarks else {
        return Err(bad("bookmarks".into(), "expected an object of streams"));
    };
    for (stream, bookmark) in bookmarks {
        let entry = format!("bookmarks.{stream}");
        let Value::Object(bookmark) = bookmark else {
            return Err(bad(entry, "expected an object"));
        };
        let Some(parts) = bookmark.get("partitions") else {
            continue;
        };
        let Value::Array(parts) = parts else {
            return Err(bad(format!("{entry}.partitions"), "expected a list"));
        };
        if !parts
            .iter()
            .all(|p| p.get("context").is_some_and(Value::is_object))
        {
            return Err(bad(
                format!("{entry}.partitions"),
                "expected entries with a `context` object",
            ));
        }
    }
    Ok(())
}

/// Merges the workers' final states, each named (a file name, for the error), over `base`, the
/// state they all started from (see the module docs).
pub fn merge_states(
    base: Option<&Map<String, Value>>,
    workers: &[(&str, &Map<String, Value>)],
) -> Result<Map<String, Value>, MergeConflict> {
    let named_base = base.map(|b| ("the base state", b));
    for (file, state) in named_base.iter().chain(workers) {
        check_shape(file, state)?;
    }
    let mut out = Map::new();
    for key in keys_in_order(base, workers.iter().map(|(_, s)| *s)) {
        let value = match key.as_str() {
            "bookmarks" => Some(Value::Object(merge_bookmarks(base, workers)?)),
            "currently_syncing" => workers
                .iter()
                .find_map(|(_, s)| s.get(&key).filter(|v| !v.is_null()).cloned())
                .or(Some(Value::Null)),
            _ => {
                let candidates = workers.iter().map(|(f, s)| (*f, s.get(&key))).collect();
                pick(
                    &key,
                    base.and_then(|b| b.get(&key)),
                    base.is_some(),
                    candidates,
                )?
            }
        };
        if let Some(v) = value {
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// The keys of every map, each once, in the order they first appear (base first).
fn keys_in_order<'a>(
    base: Option<&'a Map<String, Value>>,
    maps: impl Iterator<Item = &'a Map<String, Value>>,
) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for map in base.into_iter().chain(maps) {
        for k in map.keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// A stream's bookmark split into its own keys (`None` when it has none) and its partitions.
type Split = (Option<Value>, Vec<Value>);

/// Splits a stream's bookmark (see [`Split`]).
fn split(bookmark: Option<&Value>) -> Split {
    let Some(Value::Object(map)) = bookmark else {
        return (None, Vec::new());
    };
    let mut own = map.clone();
    let parts = match own.remove("partitions") {
        Some(Value::Array(parts)) => parts,
        _ => Vec::new(),
    };
    ((!own.is_empty()).then_some(Value::Object(own)), parts)
}

fn merge_bookmarks(
    base: Option<&Map<String, Value>>,
    workers: &[(&str, &Map<String, Value>)],
) -> Result<Map<String, Value>, MergeConflict> {
    let bookmarks_of =
        |s: &Map<String, Value>| s.get("bookmarks").and_then(Value::as_object).cloned();
    let base_marks = base.and_then(bookmarks_of);
    let marks: Vec<(&str, Map<String, Value>)> = workers
        .iter()
        .map(|(f, s)| (*f, bookmarks_of(s).unwrap_or_default()))
        .collect();
    let mut out = Map::new();
    for stream in keys_in_order(base_marks.as_ref(), marks.iter().map(|(_, m)| m)) {
        let base_bookmark = split(base_marks.as_ref().and_then(|m| m.get(&stream)));
        let split_marks: Vec<(&str, Split)> = marks
            .iter()
            .map(|(f, m)| (*f, split(m.get(&stream))))
            .collect();
        let entry = format!("bookmarks.{stream}");
        let own: Vec<(&str, Option<&Value>)> = split_marks
            .iter()
            .map(|(f, (o, _))| (*f, o.as_ref()))
            .collect();
        let own = pick(&entry, base_bookmark.0.as_ref(), base.is_some(), own)?;
        let parts = merge_partitions(&entry, &base_bookmark.1, base.is_some(), &split_marks)?;
        let mut bookmark = match own {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        if !parts.is_empty() {
            bookmark.insert("partitions".into(), Value::Array(parts));
        }
        if !bookmark.is_empty() {
            out.insert(stream, Value::Object(bookmark));
        }
    }
    Ok(out)
}

/// Merges one stream's partition entries by context.
fn merge_partitions(
    entry: &str,
    base: &[Value],
    has_base: bool,
    workers: &[(&str, Split)],
) -> Result<Vec<Value>, MergeConflict> {
    let context_of = |p: &Value| p.get("context").cloned().unwrap_or(Value::Null);
    let mut contexts: Vec<Value> = Vec::new();
    for p in base
        .iter()
        .chain(workers.iter().flat_map(|(_, (_, parts))| parts))
    {
        let c = context_of(p);
        if !contexts.contains(&c) {
            contexts.push(c);
        }
    }
    let find = |parts: &'_ [Value], c: &Value| parts.iter().find(|p| context_of(p) == *c).cloned();
    let mut out = Vec::new();
    for c in contexts {
        let held: Vec<Option<Value>> = workers
            .iter()
            .map(|(_, (_, parts))| find(parts, &c))
            .collect();
        let candidates = workers
            .iter()
            .zip(&held)
            .map(|((f, _), p)| (*f, p.as_ref()))
            .collect();
        let at = format!("{entry}.partitions[{c}]");
        if let Some(p) = pick(&at, find(base, &c).as_ref(), has_base, candidates)? {
            out.push(p);
        }
    }
    Ok(out)
}

/// The merged value of one entry (see the module docs); `None`: the entry is gone.
fn pick(
    entry: &str,
    base: Option<&Value>,
    has_base: bool,
    candidates: Vec<(&str, Option<&Value>)>,
) -> Result<Option<Value>, MergeConflict> {
    let changed: Vec<(&str, Option<&Value>)> = candidates
        .into_iter()
        .filter(|(_, v)| if has_base { *v != base } else { v.is_some() })
        .collect();
    let mut distinct: Vec<Option<&Value>> = Vec::new();
    for (_, v) in &changed {
        if !distinct.contains(v) {
            distinct.push(*v);
        }
    }
    match distinct[..] {
        [] => return Ok(base.cloned()),
        [one] => return Ok(one.cloned()),
        _ => {}
    }
    if let Some(latest) = latest(&distinct) {
        return Ok(Some(latest.clone()));
    }
    let files: Vec<&str> = changed.iter().map(|(f, _)| *f).collect();
    Err(MergeConflict::Differ {
        entry: entry.to_owned(),
        files: files.join(", "),
        hint: if has_base {
            ""
        } else {
            " (pass --base with the state the workers started from)"
        },
    })
}

/// The one value with the greatest `replication_key_value`, when every value has one and they
/// order (a tie between different values does not decide).
fn latest<'a>(values: &[Option<&'a Value>]) -> Option<&'a Value> {
    let keyed: Vec<(&Value, &Value)> = values
        .iter()
        .map(|v| v.and_then(|v| Some((v, v.get("replication_key_value")?))))
        .collect::<Option<_>>()?;
    let mut best = keyed[0];
    let mut tied = false;
    for &(value, key) in &keyed[1..] {
        match compare_json(key, best.1)? {
            std::cmp::Ordering::Greater => (best, tied) = ((value, key), false),
            std::cmp::Ordering::Equal => tied = true,
            std::cmp::Ordering::Less => {}
        }
    }
    (!tied).then_some(best.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn usage(parts: Value) -> Map<String, Value> {
        map(json!({"bookmarks": {"usage": {"partitions": parts}}, "currently_syncing": null}))
    }

    fn part(account: u64, at: &str) -> Value {
        json!({"context": {"account": account}, "replication_key": "day", "replication_key_value": at})
    }

    #[test]
    fn each_worker_brings_its_partitions_and_untouched_ones_stay() {
        let base = usage(json!([
            part(1, "2024-01-01"),
            part(2, "2024-01-01"),
            part(3, "2024-01-01")
        ]));
        let w1 = usage(json!([
            part(1, "2024-02-01"),
            part(2, "2024-01-01"),
            part(3, "2024-01-01")
        ]));
        // Worker 2 knows partition 4 (new this run) and wrote the context's keys in another order.
        let w2 = usage(json!([part(2, "2024-01-01"), part(1, "2024-01-01"),
            {"replication_key_value": "2024-02-03", "context": {"account": 3}, "replication_key": "day"},
            part(4, "2024-02-04")]));
        let merged = merge_states(Some(&base), &[("w1", &w1), ("w2", &w2)]).unwrap();
        let parts = merged["bookmarks"]["usage"]["partitions"]
            .as_array()
            .unwrap();
        let at = |a: u64| {
            parts.iter().find(|p| p["context"]["account"] == a).unwrap()["replication_key_value"]
                .clone()
        };
        assert_eq!(parts.len(), 4);
        assert_eq!(
            (at(1), at(2), at(3), at(4)),
            (
                json!("2024-02-01"),
                json!("2024-01-01"),
                json!("2024-02-03"),
                json!("2024-02-04")
            )
        );
        assert_eq!(merged["currently_syncing"], Value::Null);
    }

    #[test]
    fn the_greatest_bookmark_wins_where_workers_differ_and_a_stream_entry_follows_the_rule() {
        let w1 = map(
            json!({"bookmarks": {"orders": {"replication_key_value": 10}, "plans": {"version": 7}}}),
        );
        let w2 = map(
            json!({"bookmarks": {"orders": {"replication_key_value": 9}}, "currently_syncing": "orders"}),
        );
        let merged = merge_states(None, &[("w1", &w1), ("w2", &w2)]).unwrap();
        assert_eq!(merged["bookmarks"]["orders"]["replication_key_value"], 10);
        assert_eq!(
            merged["bookmarks"]["plans"]["version"], 7,
            "held by one worker only"
        );
        assert_eq!(
            merged["currently_syncing"], "orders",
            "a stopped worker resumes first"
        );
    }

    #[test]
    fn a_removal_by_the_one_worker_that_changed_it_is_kept_with_a_base() {
        let base = map(json!({"bookmarks": {"plans": {"version": 7}}}));
        let done = map(json!({"bookmarks": {}}));
        let other = base.clone();
        let merged = merge_states(Some(&base), &[("w1", &done), ("w2", &other)]).unwrap();
        assert!(merged["bookmarks"].get("plans").is_none(), "{merged:?}");
        let merged = merge_states(None, &[("w1", &done), ("w2", &other)]).unwrap();
        assert_eq!(
            merged["bookmarks"]["plans"]["version"], 7,
            "without a base nothing is removed"
        );
    }

    #[test]
    fn entries_that_differ_without_an_order_are_a_conflict_naming_the_files() {
        let w1 = map(json!({"bookmarks": {"s": {"cursor": "abc"}}}));
        let w2 = map(json!({"bookmarks": {"s": {"cursor": "xyz"}}}));
        let e = merge_states(None, &[("a.json", &w1), ("b.json", &w2)])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "bookmarks.s: a.json, b.json changed it differently and no replication_key_value orders them (pass --base with the state the workers started from)"
        );
        let tie1 = map(json!({"bookmarks": {"s": {"replication_key_value": 3, "x": 1}}}));
        let tie2 = map(json!({"bookmarks": {"s": {"replication_key_value": 3, "x": 2}}}));
        assert!(
            merge_states(None, &[("a", &tie1), ("b", &tie2)]).is_err(),
            "a tie does not decide"
        );
    }

    #[test]
    fn a_malformed_state_is_refused_naming_the_entry() {
        let good = usage(json!([part(1, "2024-01-01")]));
        let cases = [
            (
                json!({"bookmarks": []}),
                "w2: bookmarks: expected an object of streams",
            ),
            (
                json!({"bookmarks": {"s": 1}}),
                "w2: bookmarks.s: expected an object",
            ),
            (
                json!({"bookmarks": {"s": {"partitions": {}}}}),
                "w2: bookmarks.s.partitions: expected a list",
            ),
            (
                json!({"bookmarks": {"s": {"partitions": [{"replication_key_value": 1}]}}}),
                "w2: bookmarks.s.partitions: expected entries with a `context` object",
            ),
        ];
        for (bad, want) in cases {
            let bad = map(bad);
            let e = merge_states(None, &[("w1", &good), ("w2", &bad)]).unwrap_err();
            assert_eq!(e.to_string(), want);
        }
        let e = merge_states(Some(&map(json!({"bookmarks": 1}))), &[("w1", &good)]).unwrap_err();
        assert!(e.to_string().starts_with("the base state: "), "{e}");
    }
}
