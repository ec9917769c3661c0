//! INCREMENTAL replication through the real runner: where a sync starts, what is emitted, and when
//! and to what the bookmark is committed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

/// A stream over `data` that, like a real source, returns records at or after the start point.
fn source(name: &str, data: Vec<Value>, honour_start: bool) -> Stream<Value, Value, ()> {
    let data = Arc::new(data);
    Stream::new(name)
        .schema(event_schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(move |ctx: SyncContext<Value>| {
            let data = data.clone();
            async move {
                let start = ctx
                    .replication_start()
                    .and_then(|v| v.as_str().map(str::to_owned));
                for r in data.iter() {
                    let at = r["updated_at"].as_str().unwrap_or_default();
                    if !honour_start || start.as_deref().is_none_or(|s| at >= s) {
                        ctx.emit(r.clone())?;
                    }
                }
                Ok(())
            }
        })
}

fn state_at(stream: &str, value: &str) -> Value {
    json!({"bookmarks": {stream: {"replication_key": "updated_at", "replication_key_value": value}}})
}

#[test]
fn resumes_from_the_state_bookmark_inclusively() {
    let f = Files::new();
    let data = events(20, 0);
    let bookmark = data[9]["updated_at"].as_str().unwrap().to_owned();
    let st = f.json("state.json", &state_at("events", &bookmark));
    let (out, msgs) = run(
        Tap::new("t").stream(source("events", data.clone(), true)),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 0);
    let recs = records(&msgs, "events");
    assert_eq!(recs.len(), 11, "record equal to the bookmark is read again");
    assert_eq!(recs[0]["updated_at"], bookmark.as_str());
    assert_eq!(
        last_state(&msgs)["bookmarks"]["events"]["replication_key_value"],
        data[19]["updated_at"]
    );
}

#[test]
fn start_date_is_the_start_when_there_is_no_bookmark() {
    let f = Files::new();
    let cfg = f.config(json!({"start_date": "2024-01-01T00:15:00Z"}));
    let (out, msgs) = run(
        Tap::new("t").stream(source("events", events(20, 0), true)),
        &["--config", &cfg],
    );
    assert_eq!(out.exit_code, 0);
    let recs = records(&msgs, "events");
    assert_eq!(recs.len(), 6);
    assert_eq!(recs[0]["updated_at"], "2024-01-01T00:15:00Z");
}

#[test]
fn late_records_are_emitted_by_default_and_filtered_when_asked() {
    let f = Files::new();
    let data = events(20, 0);
    let st = f.json(
        "state.json",
        &state_at("events", data[9]["updated_at"].as_str().unwrap()),
    );
    let args = ["--config", &f.empty_config(), "--state", &st];
    let (_, msgs) = run(
        Tap::new("t").stream(source("events", data.clone(), false)),
        &args,
    );
    assert_eq!(
        records(&msgs, "events").len(),
        20,
        "at-least-once: nothing dropped by default"
    );

    let (out, msgs) = run(
        Tap::new("t").stream(source("events", data, false).filter_older_than_bookmark()),
        &args,
    );
    assert_eq!(records(&msgs, "events").len(), 11);
    let report = out.report.unwrap();
    assert_eq!(report.streams[0].stats.filtered, 9);
    assert_eq!(report.streams[0].stats.emitted, 11);
}

#[test]
fn committed_bookmark_never_passes_the_sync_start() {
    let f = Files::new();
    let future = vec![json!({"id": 1, "updated_at": "2999-01-01T00:00:00Z"})];
    let before = chrono::Utc::now();
    let (_, msgs) = run(
        Tap::new("t").stream(source("events", future, false)),
        &["--config", &f.empty_config()],
    );
    let after = chrono::Utc::now();
    let committed = last_state(&msgs)["bookmarks"]["events"]["replication_key_value"].clone();
    let committed = chrono::DateTime::parse_from_rfc3339(committed.as_str().unwrap()).unwrap();
    assert!(
        committed <= after && committed >= before - chrono::Duration::seconds(1),
        "{committed}"
    );
}

#[test]
fn every_n_commits_only_bookmarks_of_written_records() {
    let f = Files::new();
    let (_, msgs) = run(
        Tap::new("t").stream(
            source("events", events(23, 4), false).bookmark_strategy(BookmarkStrategy::Records(5)),
        ),
        &["--config", &f.empty_config()],
    );
    let mut max_written: Option<String> = None;
    let mut commits = 0;
    for m in &msgs {
        match m["type"].as_str() {
            Some("RECORD") => {
                let at = m["record"]["updated_at"].as_str().unwrap().to_owned();
                if max_written.as_ref().is_none_or(|w| at > *w) {
                    max_written = Some(at);
                }
            }
            Some("STATE") => {
                if let Some(v) = m["value"]["bookmarks"]["events"]["replication_key_value"].as_str()
                {
                    commits += 1;
                    assert_eq!(
                        Some(v),
                        max_written.as_deref(),
                        "STATE ahead of its records"
                    );
                }
            }
            _ => {}
        }
    }
    assert!(
        commits >= 4,
        "expected a commit every 5 records, saw {commits}"
    );
}

#[test]
fn unsorted_sources_commit_only_the_max_at_the_end() {
    let f = Files::new();
    let mut data = events(20, 0);
    data.reverse();
    let (_, msgs) = run(
        Tap::new("t").stream(
            source("events", data, false)
                .unsorted()
                .bookmark_strategy(BookmarkStrategy::Records(3)),
        ),
        &["--config", &f.empty_config()],
    );
    let with_bookmark: Vec<&Value> = of_type(&msgs, "STATE")
        .into_iter()
        .filter(|s| {
            s["value"]["bookmarks"]["events"]
                .get("replication_key_value")
                .is_some()
        })
        .collect();
    let last_record = msgs.iter().rposition(|m| m["type"] == "RECORD").unwrap();
    let first_commit = msgs.iter().position(|m| {
        m["type"] == "STATE"
            && m["value"]["bookmarks"]["events"]
                .get("replication_key_value")
                .is_some()
    });
    assert!(
        first_commit.unwrap() > last_record,
        "an unsorted stream committed mid-sync"
    );
    assert_eq!(
        with_bookmark.last().unwrap()["value"]["bookmarks"]["events"]["replication_key_value"],
        "2024-01-01T00:20:00Z"
    );
}

#[test]
fn the_bookmark_never_moves_backwards() {
    let f = Files::new();
    let data = events(20, 0);
    let st = f.json(
        "state.json",
        &state_at("events", data[14]["updated_at"].as_str().unwrap()),
    );
    let old: Vec<Value> = data[..10].to_vec();
    let (_, msgs) = run(
        Tap::new("t").stream(source("events", old, false)),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(
        last_state(&msgs)["bookmarks"]["events"]["replication_key_value"],
        data[14]["updated_at"]
    );
}

#[test]
fn a_bookmark_function_replaces_the_replication_key() {
    let f = Files::new();
    let stream = source("events", events(7, 0), false).bookmark(|r: &Value| r["id"].clone());
    let (_, msgs) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config()],
    );
    assert_eq!(
        last_state(&msgs)["bookmarks"]["events"]["replication_key_value"],
        7
    );
}

#[test]
fn interval_strategy_commits_on_time() {
    let f = Files::new();
    let stream = source("events", events(5, 0), false)
        .bookmark_strategy(BookmarkStrategy::Interval(Duration::ZERO));
    let (_, msgs) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config()],
    );
    let commits = of_type(&msgs, "STATE")
        .iter()
        .filter(|s| {
            s["value"]["bookmarks"]["events"]
                .get("replication_key_value")
                .is_some()
        })
        .count();
    assert!(
        commits >= 5,
        "a zero interval commits after every record, saw {commits}"
    );
}

#[test]
fn end_of_sync_strategy_commits_once() {
    let f = Files::new();
    let stream =
        source("events", events(50, 0), false).bookmark_strategy(BookmarkStrategy::EndOfSync);
    let (_, msgs) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config()],
    );
    let values: Vec<Value> = of_type(&msgs, "STATE")
        .iter()
        .filter_map(|s| {
            s["value"]["bookmarks"]["events"]
                .get("replication_key_value")
                .cloned()
        })
        .collect();
    assert_eq!(values.first(), values.last());
    assert_eq!(values[0], "2024-01-01T00:50:00Z");
}
