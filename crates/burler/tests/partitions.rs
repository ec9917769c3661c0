//! Parallel partitions and concurrent child syncs: whole lines, each partition's records in order,
//! every STATE covering only records already written, a failing partition leaving its siblings
//! and its own bookmark intact, and the limit respected.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"}, "part": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"}}})
}

fn at(minute: u64) -> String {
    format!("2024-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// Counts syncs running at once and keeps the most seen.
#[derive(Clone, Default)]
struct Gauge {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Gauge {
    fn enter(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// How the partitioned test stream behaves.
#[derive(Clone)]
struct Setup {
    partitions: u64,
    records: u64,
    limit: usize,
    /// This partition fails after emitting this many records.
    fails: Option<(u64, u64)>,
    gauge: Gauge,
}

/// A stream of `partitions` accounts, each emitting `records` records in pages with a short
/// sleep between pages (a latency-bound API), resuming from its own bookmark.
fn accounts(setup: Setup) -> Tap {
    let parts = setup.partitions;
    let stream = Stream::new("usage")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .bookmark_strategy(BookmarkStrategy::Records(7))
        .max_concurrent_partitions(setup.limit)
        .partitions(move |_ctx: SyncContext<Value>| async move {
            Ok((1..=parts)
                .map(|p| json!({"part": format!("p{p}")}))
                .collect())
        })
        .sync(move |ctx: SyncContext<Value>| {
            let setup = setup.clone();
            async move {
                setup.gauge.enter();
                let result = emit_account(&ctx, &setup).await;
                setup.gauge.leave();
                result
            }
        });
    Tap::new("t").stream(stream)
}

async fn emit_account(ctx: &SyncContext<Value>, setup: &Setup) -> SyncResult {
    let part = ctx.partition().unwrap()["part"]
        .as_str()
        .unwrap()
        .to_owned();
    let number: u64 = part[1..].parse().unwrap();
    let start = ctx
        .replication_start()
        .and_then(|v| v.as_str().map(str::to_owned));
    let mut emitted = 0;
    for i in 1..=setup.records {
        if i % 5 == 1 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let record = json!({"id": format!("{part}.{i}"), "part": part, "updated_at": at(i)});
        if start.as_deref().is_some_and(|s| at(i).as_str() < s) {
            continue;
        }
        if setup.fails == Some((number, emitted)) {
            return Err(format!("account {part} broke").into());
        }
        ctx.emit(record)?;
        emitted += 1;
    }
    Ok(())
}

fn setup(partitions: u64, limit: usize) -> Setup {
    Setup {
        partitions,
        records: 40,
        limit,
        fails: None,
        gauge: Gauge::default(),
    }
}

/// Each partition's `updated_at` values in output order.
fn per_partition(msgs: &[Value]) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in records(msgs, "usage") {
        out.entry(r["part"].as_str().unwrap().to_owned())
            .or_default()
            .push(r["updated_at"].as_str().unwrap().to_owned());
    }
    out
}

/// Checks that no STATE claims a partition's record before that record was written.
fn assert_states_follow_records(msgs: &[Value]) {
    let mut written: HashMap<String, String> = HashMap::new();
    for (line, m) in msgs.iter().enumerate() {
        if m["type"] == "RECORD" {
            let part = m["record"]["part"].as_str().unwrap().to_owned();
            let key = m["record"]["updated_at"].as_str().unwrap().to_owned();
            written.insert(part, key);
        }
        if m["type"] != "STATE" {
            continue;
        }
        let parts = m["value"]["bookmarks"]["usage"]["partitions"].as_array();
        for p in parts.into_iter().flatten() {
            let part = p["context"]["part"].as_str().unwrap();
            let claimed = p["replication_key_value"].as_str().unwrap();
            let done = written.get(part).map(String::as_str).unwrap_or("");
            assert!(
                claimed <= done,
                "line {line}: STATE claims {part} at {claimed}, written up to {done:?}"
            );
        }
    }
}

#[test]
fn parallel_partitions_keep_each_partition_in_order_and_states_behind_their_records() {
    let f = Files::new();
    let s = setup(6, 3);
    let (out, msgs) = run(accounts(s.clone()), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let most = s.gauge.most();
    assert!((2..=3).contains(&most), "{most} partitions at once");
    let parts = per_partition(&msgs);
    assert_eq!(parts.len(), 6);
    for (part, keys) in &parts {
        let want: Vec<String> = (1..=40).map(at).collect();
        assert_eq!(keys, &want, "partition {part} out of order or incomplete");
    }
    assert_states_follow_records(&msgs);
    let state = last_state(&msgs);
    let stored = state["bookmarks"]["usage"]["partitions"]
        .as_array()
        .unwrap();
    assert_eq!(stored.len(), 6);
    assert!(stored.iter().all(|p| p["replication_key_value"] == at(40)));
    let report = out.report.unwrap();
    assert_eq!(report.streams[0].stats.emitted, 240, "forks' counts add up");
    let schemas = of_type(&msgs, "SCHEMA");
    assert_eq!(schemas.len(), 1, "one SCHEMA however many writers");
}

#[test]
fn the_records_interleave_only_when_asked() {
    let f = Files::new();
    let s = setup(3, 1);
    let (out, msgs) = run(accounts(s.clone()), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0);
    assert_eq!(s.gauge.most(), 1);
    let order: Vec<&str> = records(&msgs, "usage")
        .iter()
        .map(|r| r["part"].as_str().unwrap())
        .collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted, "one partition after another by default");
}

#[test]
fn a_failing_partition_leaves_its_siblings_and_resumes_from_its_own_bookmark() {
    let f = Files::new();
    let mut s = setup(5, 4);
    s.fails = Some((2, 17));
    let (out, msgs) = run(accounts(s.clone()), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    assert!(
        out.failures
            .iter()
            .any(|l| l.contains("usage[{\"part\":\"p2\"}]")),
        "{:?}",
        out.failures
    );
    assert_states_follow_records(&msgs);
    let parts = per_partition(&msgs);
    for p in ["p1", "p3", "p4", "p5"] {
        assert_eq!(parts[p].len(), 40, "sibling {p} still ran whole");
    }
    let state = last_state(&msgs);
    let stored = state["bookmarks"]["usage"]["partitions"]
        .as_array()
        .unwrap();
    let p2 = stored
        .iter()
        .find(|p| p["context"]["part"] == "p2")
        .unwrap();
    assert_eq!(
        p2["replication_key_value"],
        at(14),
        "p2 committed its last checkpoint"
    );
    // A second run without the fault: p2 resumes at its bookmark, the others at theirs.
    let st = f.json("state.json", &state);
    let s = setup(5, 4);
    let (out, again) = run(
        accounts(s),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let resumed = per_partition(&again);
    assert_eq!(
        resumed["p2"].first().map(String::as_str),
        Some(at(14).as_str())
    );
    assert_eq!(resumed["p2"].len(), 27);
    assert_eq!(
        resumed["p1"],
        vec![at(40)],
        "a finished partition reads from its bookmark"
    );
}

#[test]
fn fail_fast_stops_the_other_partitions_without_claiming_their_records() {
    let f = Files::new();
    let mut s = setup(6, 3);
    s.records = 200;
    s.fails = Some((1, 3));
    let (out, msgs) = run(accounts(s), &["--config", &f.empty_config(), "--fail-fast"]);
    assert_eq!(out.exit_code, 1);
    assert_states_follow_records(&msgs);
    let parts = per_partition(&msgs);
    assert!(
        !parts.contains_key("p6"),
        "no partition starts after the failure: {:?}",
        parts.keys()
    );
}

/// A parent of `parents` records whose child sleeps per sync; children of up to `limit` parent
/// records run at once.
fn tree(parents: u64, limit: usize, gauge: Gauge) -> Tap {
    let child = Stream::new("child")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .max_concurrent_partitions(limit)
        .sync(move |ctx: SyncContext<Value>| {
            let gauge = gauge.clone();
            async move {
                gauge.enter();
                tokio::time::sleep(Duration::from_millis(5)).await;
                let parent = ctx.partition().unwrap()["id"].as_str().unwrap().to_owned();
                for i in 1..=3 {
                    let r =
                        json!({"id": format!("{parent}.{i}"), "part": parent, "updated_at": at(i)});
                    ctx.emit(r)?;
                }
                gauge.leave();
                Ok(())
            }
        });
    let parent = Stream::new("parent")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .bookmark_strategy(BookmarkStrategy::Records(4))
        .interleave(Duration::from_secs(3600), 6)
        .sync(move |ctx: SyncContext<Value>| async move {
            let records = (1..=parents).map(|i| {
                Ok::<_, BoxError>(json!({"id": format!("r{i}"), "part": "r", "updated_at": at(i)}))
            });
            ctx.emit_stream(futures::stream::iter(records)).await?;
            Ok(())
        })
        .substream(child);
    Tap::new("t").stream(parent)
}

#[test]
fn children_of_several_parent_records_run_at_once_and_the_parent_waits_for_them() {
    let f = Files::new();
    let gauge = Gauge::default();
    let (out, msgs) = run(tree(24, 4, gauge.clone()), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let most = gauge.most();
    assert!((2..=4).contains(&most), "{most} child syncs at once");
    assert_eq!(records(&msgs, "child").len(), 72);
    // The parent's bookmark covers a parent record only once its children are written.
    let mut children_done: HashMap<String, usize> = HashMap::new();
    for (line, m) in msgs.iter().enumerate() {
        if m["type"] == "RECORD" && m["stream"] == "child" {
            *children_done
                .entry(m["record"]["part"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        let claimed = m["value"]["bookmarks"]["parent"]["replication_key_value"].as_str();
        if let (true, Some(claimed)) = (m["type"] == "STATE", claimed) {
            for i in (1..=24).filter(|i| at(*i).as_str() <= claimed) {
                let n = children_done.get(&format!("r{i}")).copied().unwrap_or(0);
                assert_eq!(
                    n, 3,
                    "line {line}: parent at {claimed} before r{i}'s children"
                );
            }
        }
    }
    assert_eq!(
        last_state(&msgs)["bookmarks"]["parent"]["replication_key_value"],
        at(24)
    );
}
