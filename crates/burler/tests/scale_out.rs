//! `--partitions`: workers that split a sync between them sync every partition exactly once,
//! keep only their partitions' bookmarks, activate no table version of a split stream, and do not
//! move a shared child bookmark no one of them read for every parent; their states merged
//! (`burler_singer::merge`, what `burler state merge` runs) resume every partition, also after
//! one worker was cut mid-partition.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use burler::prelude::*;
use burler_singer::merge::merge_states;
use common::*;
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"}, "updated_at": {"type": "string", "format": "date-time"}}})
}

fn at(minute: u64) -> String {
    format!("2024-01-01T00:{minute:02}:00Z")
}

/// `usage`: INCREMENTAL, one partition per account, each with a shared INCREMENTAL child
/// `events`; `snapshots`: FULL_TABLE, one partition per account; `plans`: FULL_TABLE without
/// partitions.
fn tap(accounts: u64) -> Tap {
    let list = move |_ctx: SyncContext<Value>| async move {
        Ok((1..=accounts).map(|a| json!({"account": a})).collect())
    };
    let per_account = |ctx: &SyncContext<Value>, n: u64| -> Vec<Value> {
        let a = ctx.partition().unwrap()["account"].as_u64().unwrap();
        (1..=n)
            .map(|i| json!({"id": format!("{a}.{i}"), "updated_at": at(i)}))
            .collect()
    };
    let events = Stream::new("events")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(|ctx: SyncContext<Value>| async move {
            let parent = ctx.partition().unwrap()["id"].as_str().unwrap().to_owned();
            ctx.emit(json!({"id": format!("{parent}.e"), "updated_at": at(1)}))?;
            Ok(())
        });
    let usage = Stream::new("usage")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .partitions(list)
        .sync(move |ctx: SyncContext<Value>| async move {
            let records = per_account(&ctx, 3);
            ctx.emit_all(records)?;
            Ok(())
        })
        .substream(events);
    let snapshots = Stream::new("snapshots")
        .schema(schema())
        .key(["id"])
        .partitions(list)
        .sync(move |ctx: SyncContext<Value>| async move {
            ctx.emit_all(per_account(&ctx, 2))?;
            Ok(())
        });
    let plans = Stream::new("plans").schema(schema()).key(["id"]).sync(
        |ctx: SyncContext<Value>| async move {
            ctx.emit(json!({"id": "basic"}))?;
            Ok(())
        },
    );
    Tap::new("t").stream(usage).stream(snapshots).stream(plans)
}

/// `(stream, id)` of every RECORD, with how often it came.
fn counted(runs: &[&[Value]]) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for msgs in runs {
        for m in msgs.iter().filter(|m| m["type"] == "RECORD") {
            let key = (
                m["stream"].as_str().unwrap().to_owned(),
                m["record"]["id"].as_str().unwrap().to_owned(),
            );
            *out.entry(key).or_default() += 1;
        }
    }
    out
}

fn accounts_in_state(state: &Value, stream: &str) -> BTreeSet<u64> {
    state["bookmarks"][stream]["partitions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["context"]["account"].as_u64().unwrap())
        .collect()
}

#[test]
fn three_workers_sync_every_partition_exactly_once() {
    let f = Files::new();
    let cfg = f.empty_config();
    let (_, whole) = run(tap(12), &["--config", &cfg]);
    let mut outputs = Vec::new();
    for k in 1..=3 {
        let sel = format!("{k}/3");
        let (out, msgs) = run(tap(12), &["--config", &cfg, "--partitions", &sel]);
        assert_eq!(out.exit_code, 0, "worker {sel}: {:?}", out.error);
        outputs.push(msgs);
    }
    let views: Vec<&[Value]> = outputs.iter().map(Vec::as_slice).collect();
    let split = counted(&views);
    assert_eq!(
        split.keys().collect::<Vec<_>>(),
        counted(&[&whole]).keys().collect::<Vec<_>>()
    );
    assert!(
        split.values().all(|n| *n == 1),
        "a record synced twice: {split:?}"
    );
    // Each worker's state holds its own accounts; together they hold all of them once.
    let mut seen = BTreeSet::new();
    for msgs in &outputs {
        let mine = accounts_in_state(&last_state(msgs), "usage");
        assert!(mine.is_disjoint(&seen), "{mine:?} kept by two workers");
        seen.extend(mine);
        // The split streams get no table version; `plans` (one worker) keeps its own.
        let activated: BTreeSet<&str> = of_type(msgs, "ACTIVATE_VERSION")
            .iter()
            .map(|m| m["stream"].as_str().unwrap())
            .collect();
        assert!(!activated.contains("snapshots"), "{activated:?}");
        let has_plans = !records(msgs, "plans").is_empty();
        assert_eq!(activated.contains("plans"), has_plans);
        // No worker read `events` for every parent: its shared bookmark stays put.
        assert!(last_state(msgs)["bookmarks"].get("events").is_none());
    }
    assert_eq!(seen, (1..=12).collect());
    let plans_workers = outputs.iter().filter(|m| !records(m, "plans").is_empty());
    assert_eq!(plans_workers.count(), 1);
}

#[test]
fn a_list_syncs_exactly_the_partitions_named() {
    let f = Files::new();
    let list = f.json("parts.json", &json!([{"account": 2}, {"account": 5}]));
    let (out, msgs) = run(
        tap(6),
        &[
            "--config",
            &f.empty_config(),
            "--partitions",
            &format!("@{list}"),
        ],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let usage: BTreeSet<String> = records(&msgs, "usage")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = ["2.1", "2.2", "2.3", "5.1", "5.2", "5.3"]
        .map(String::from)
        .into();
    assert_eq!(usage, want);
    assert_eq!(
        records(&msgs, "events").len(),
        6,
        "children follow their parents"
    );
    assert!(
        records(&msgs, "plans").is_empty(),
        "no null in the list: no unpartitioned stream"
    );
    let inline = r#"[null]"#;
    let (_, msgs) = run(
        tap(6),
        &["--config", &f.empty_config(), "--partitions", inline],
    );
    assert_eq!(records(&msgs, "plans").len(), 1);
    assert!(records(&msgs, "usage").is_empty());
}

#[test]
fn a_bad_selector_is_a_usage_error_before_any_message() {
    let f = Files::new();
    let (out, msgs) = run(
        tap(2),
        &["--config", &f.empty_config(), "--partitions", "4/3"],
    );
    assert_eq!(out.exit_code, 2);
    assert!(msgs.is_empty());
    assert!(out.report.is_none(), "nothing ran");
}

/// `usage`: INCREMENTAL, one partition per account (1..=`accounts`), each with records at minutes
/// 1..=`minutes`, read from its bookmark on (inclusive), a STATE every 2 records; `plans`:
/// INCREMENTAL without partitions. With `cut = Some((account, n))` that account's sync fails
/// after `n` records.
fn growing(accounts: u64, minutes: u64, cut: Option<(u64, u64)>) -> Tap {
    let usage = Stream::new("usage")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .bookmark_strategy(BookmarkStrategy::Records(2))
        .partitions(move |_ctx: SyncContext<Value>| async move {
            Ok((1..=accounts).map(|a| json!({"account": a})).collect())
        })
        .sync(move |ctx: SyncContext<Value>| async move {
            let a = ctx.partition().unwrap()["account"].as_u64().unwrap();
            let start = ctx
                .replication_start()
                .and_then(|v| v.as_str().map(str::to_owned));
            let mut emitted = 0;
            for i in 1..=minutes {
                if start.as_deref().is_some_and(|s| at(i).as_str() < s) {
                    continue;
                }
                if cut == Some((a, emitted)) {
                    return Err(format!("account {a}: connection reset").into());
                }
                ctx.emit(json!({"id": format!("{a}.{i}"), "updated_at": at(i)}))?;
                emitted += 1;
            }
            Ok(())
        });
    let plans = Stream::new("plans")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(move |ctx: SyncContext<Value>| async move {
            let start = ctx
                .replication_start()
                .and_then(|v| v.as_str().map(str::to_owned));
            for i in 1..=minutes {
                if start.as_deref().is_none_or(|s| s <= at(i).as_str()) {
                    ctx.emit(json!({"id": format!("plan.{i}"), "updated_at": at(i)}))?;
                }
            }
            Ok(())
        });
    Tap::new("t").stream(usage).stream(plans)
}

/// Runs `tap()` as workers 1..=3 of 3 from `state` (a file or none); each worker's exit code,
/// messages and last state.
fn workers(
    f: &Files,
    tap: impl Fn(u64) -> Tap,
    state: Option<&str>,
) -> Vec<(u8, Vec<Value>, Value)> {
    let cfg = f.empty_config();
    (1..=3)
        .map(|k| {
            let sel = format!("{k}/3");
            let mut args = vec!["--config", cfg.as_str(), "--partitions", sel.as_str()];
            if let Some(state) = state {
                args.extend(["--state", state]);
            }
            let (out, msgs) = run(tap(k), &args);
            let state = last_state(&msgs);
            (out.exit_code, msgs, state)
        })
        .collect()
}

/// The workers' states merged over `base`, as `burler state merge --base` does.
fn merged(base: &Value, states: &[&Value]) -> Value {
    let object = |v: &Value| v.as_object().cloned().unwrap();
    let states: Vec<_> = states.iter().map(|s| object(s)).collect();
    let named: Vec<(&str, &serde_json::Map<String, Value>)> =
        states.iter().map(|s| ("worker", s)).collect();
    Value::Object(merge_states(Some(&object(base)), &named).unwrap())
}

/// `account -> replication_key_value` of the `usage` partitions in `state`.
fn usage_bookmarks(state: &Value) -> BTreeMap<u64, Value> {
    state["bookmarks"]["usage"]["partitions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let account = p["context"]["account"].as_u64().unwrap();
            (account, p["replication_key_value"].clone())
        })
        .collect()
}

/// The bookmarks of `a` and `b` are the same, whatever order the partitions are listed in (the
/// merge keeps the base's order and appends the partitions new to it).
fn assert_same_bookmarks(a: &Value, b: &Value) {
    assert_eq!(usage_bookmarks(a), usage_bookmarks(b));
    let rest = |s: &Value| {
        let mut marks = s["bookmarks"].as_object().cloned().unwrap();
        marks.remove("usage");
        marks
    };
    assert_eq!(rest(a), rest(b));
    assert_eq!(
        a["bookmarks"]["usage"]["partitions"]
            .as_array()
            .map(Vec::len),
        b["bookmarks"]["usage"]["partitions"]
            .as_array()
            .map(Vec::len)
    );
}

#[test]
fn the_merged_state_resumes_every_partition_with_only_the_new_records() {
    let f = Files::new();
    let empty = json!({});
    // Round 1: 12 accounts of 4 records each, split between 3 workers.
    let round1 = workers(&f, |_| growing(12, 4, None), None);
    assert!(round1.iter().all(|(code, ..)| *code == 0));
    let states: Vec<&Value> = round1.iter().map(|(_, _, s)| s).collect();
    let state1 = merged(&empty, &states);
    let all_at_4: BTreeMap<u64, Value> = (1..=12).map(|a| (a, json!(at(4)))).collect();
    assert_eq!(usage_bookmarks(&state1), all_at_4);
    assert_eq!(state1["bookmarks"]["plans"]["replication_key_value"], at(4));
    // Round 2: two new records per account. The workers from the merged state send what one
    // unsplit run from it sends, each once: the new records and the one at each bookmark.
    let file1 = f.json("state1.json", &state1);
    let (out, whole) = run(
        growing(12, 6, None),
        &["--config", &f.empty_config(), "--state", &file1],
    );
    assert_eq!(out.exit_code, 0);
    let round2 = workers(&f, |_| growing(12, 6, None), Some(&file1));
    assert!(round2.iter().all(|(code, ..)| *code == 0));
    let views: Vec<&[Value]> = round2.iter().map(|(_, m, _)| m.as_slice()).collect();
    let split = counted(&views);
    assert!(
        split.values().all(|n| *n == 1),
        "a record synced twice: {split:?}"
    );
    let want = counted(&[&whole]);
    assert_eq!(
        split.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    let usage_ids: BTreeSet<&str> = split
        .keys()
        .filter(|(s, _)| s == "usage")
        .map(|(_, id)| id.rsplit('.').next().unwrap())
        .collect();
    assert_eq!(
        usage_ids,
        ["4", "5", "6"].into(),
        "only from the bookmarks on"
    );
    assert_eq!(split.len(), 12 * 3 + 3);
    // The merged state of round 2 is the state of the unsplit run.
    let states: Vec<&Value> = round2.iter().map(|(_, _, s)| s).collect();
    let state2 = merged(&state1, &states);
    assert_same_bookmarks(&state2, &last_state(&whole));
}

#[test]
fn a_worker_cut_mid_partition_resumes_its_partitions_alone() {
    let f = Files::new();
    let empty = json!({});
    let (_, whole) = run(growing(12, 6, None), &["--config", &f.empty_config()]);
    // Account 5 breaks after 3 of its 6 records: the worker holding it exits 1.
    let round = workers(&f, |_| growing(12, 6, Some((5, 3))), None);
    let cut: Vec<usize> = (0..3).filter(|k| round[*k].0 != 0).collect();
    assert_eq!(cut.len(), 1, "exactly one worker holds account 5");
    let cut = cut[0];
    let states: Vec<&Value> = round.iter().map(|(_, _, s)| s).collect();
    let state = merged(&empty, &states);
    let bookmarks = usage_bookmarks(&state);
    assert_eq!(
        bookmarks.get(&5),
        Some(&json!(at(2))),
        "its last checkpoint (every 2 records)"
    );
    assert_eq!(bookmarks.len(), 12);
    // Only the cut worker runs again, from the merged state (the others are done).
    let file = f.json("state.json", &state);
    let sel = format!("{}/3", cut + 1);
    let (out, again) = run(
        growing(12, 6, None),
        &[
            "--config",
            &f.empty_config(),
            "--state",
            &file,
            "--partitions",
            &sel,
        ],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let account5: Vec<&str> = records(&again, "usage")
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .filter(|id| id.starts_with("5."))
        .collect();
    assert_eq!(
        account5,
        ["5.2", "5.3", "5.4", "5.5", "5.6"],
        "from its bookmark on"
    );
    // Every record of one unsplit run arrived, and the merged state is that run's.
    let mut views: Vec<&[Value]> = round.iter().map(|(_, m, _)| m.as_slice()).collect();
    views.push(&again);
    let arrived = counted(&views);
    for key in counted(&[&whole]).keys() {
        assert!(arrived.contains_key(key), "{key:?} never arrived");
    }
    let resumed = merged(&state, &[&last_state(&again)]);
    assert_same_bookmarks(&resumed, &last_state(&whole));
}
