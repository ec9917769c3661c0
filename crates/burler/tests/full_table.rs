//! FULL_TABLE replication: table versions, ACTIVATE_VERSION, resuming an interrupted sync.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

fn table(fail: Arc<AtomicBool>) -> Stream<Value, Value, ()> {
    Stream::new("items")
        .schema(event_schema())
        .key(["id"])
        .full_table()
        .sync(move |ctx: SyncContext<Value>| {
            let fail = fail.clone();
            async move {
                for r in events(5, 0) {
                    ctx.emit(r)?;
                }
                if fail.load(Ordering::SeqCst) {
                    return Err("source went away".into());
                }
                Ok(())
            }
        })
}

fn versions(msgs: &[Value]) -> Vec<i64> {
    of_type(msgs, "ACTIVATE_VERSION")
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect()
}

#[test]
fn first_sync_activates_at_start_and_end_and_records_carry_the_version() {
    let f = Files::new();
    let (out, msgs) = run(
        Tap::new("t").stream(table(Arc::default())),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 0);
    let v = versions(&msgs);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0], v[1]);
    let first_record = msgs.iter().position(|m| m["type"] == "RECORD").unwrap();
    let first_activate = msgs
        .iter()
        .position(|m| m["type"] == "ACTIVATE_VERSION")
        .unwrap();
    let last_activate = msgs
        .iter()
        .rposition(|m| m["type"] == "ACTIVATE_VERSION")
        .unwrap();
    let last_record = msgs.iter().rposition(|m| m["type"] == "RECORD").unwrap();
    assert!(first_activate < first_record && last_activate > last_record);
    assert!(records(&msgs, "items").len() == 5);
    assert!(
        msgs.iter()
            .filter(|m| m["type"] == "RECORD")
            .all(|m| m["version"] == v[0])
    );
    let state = last_state(&msgs);
    assert!(state["bookmarks"]["items"].get("version").is_none());

    // Second run: a new version, activated only at the end.
    let st = f.json("state.json", &state);
    let (_, msgs) = run(
        Tap::new("t").stream(table(Arc::default())),
        &["--config", &f.empty_config(), "--state", &st],
    );
    let v2 = versions(&msgs);
    assert_eq!(v2.len(), 1);
    assert!(v2[0] >= v[0]);
}

#[test]
fn an_interrupted_sync_keeps_its_version_and_the_next_run_resumes_it() {
    let f = Files::new();
    let fail = Arc::new(AtomicBool::new(true));
    let (out, msgs) = run(
        Tap::new("t").stream(table(fail.clone())),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 1);
    let started = versions(&msgs);
    assert_eq!(
        started.len(),
        1,
        "only the first-ever activation; no activation after a failure"
    );
    let state = last_state(&msgs);
    assert_eq!(state["bookmarks"]["items"]["version"], started[0]);

    fail.store(false, Ordering::SeqCst);
    let st = f.json("state.json", &state);
    let (out, msgs) = run(
        Tap::new("t").stream(table(fail)),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 0);
    assert_eq!(
        versions(&msgs),
        vec![started[0]],
        "same version, activated at the end only"
    );
    assert!(
        msgs.iter()
            .filter(|m| m["type"] == "RECORD")
            .all(|m| m["version"] == started[0])
    );
}

#[test]
fn a_hand_driven_full_table_scope_versions_records_and_activates() {
    let f = Files::new();
    let stream = Stream::new("items")
        .schema(event_schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(|ctx: SyncContext<Value>| async move {
            ctx.emit(json!({"id": 0, "updated_at": "2024-01-01T00:00:00Z"}))?;
            let scope = ctx.begin_table_version()?;
            for r in events(3, 0) {
                ctx.emit(r)?;
            }
            scope.finish()?;
            Ok(())
        });
    let (out, msgs) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 0);
    let v = versions(&msgs);
    assert!(!v.is_empty());
    let recs: Vec<&Value> = msgs.iter().filter(|m| m["type"] == "RECORD").collect();
    assert!(recs[0].get("version").is_none());
    assert!(recs[1..].iter().all(|m| m["version"] == *v.last().unwrap()));
}
