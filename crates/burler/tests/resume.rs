//! The state promise, checked on generated trees: for any tree of parents, children and
//! partitions, any replication methods, cadences, emit calls and number of partitions (or child
//! syncs) running at once, cutting the output at any line and resuming from the last STATE before
//! the cut loses no record of any stream.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use burler::prelude::*;
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

/// How a generated stream emits its records.
#[derive(Debug, Clone, Copy)]
enum Emit {
    Stream,
    Loop,
    All,
}

/// One level of a generated tree.
#[derive(Debug, Clone)]
struct Level {
    records: u64,
    incremental: bool,
    per_parent: bool,
    every: u64,
    emit: Emit,
}

/// A generated tap: a chain of levels (level 0 is the root), optionally with partitions.
#[derive(Debug, Clone)]
struct Shape {
    levels: Vec<Level>,
    partitions: u64,
    interleave: usize,
    /// `max_concurrent_partitions` of every level.
    concurrent: usize,
}

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"}, "updated_at": {"type": "string", "format": "date-time"}}})
}

fn at(minute: u64) -> String {
    format!(
        "2024-01-{:02}T{:02}:{:02}:00Z",
        1 + minute / 1440,
        minute / 60 % 24,
        minute % 60
    )
}

/// The records of one level under one parent (or partition): ids prefixed by the parent's,
/// timestamps increasing, filtered at the sync's start as a real API does.
fn records_of(ctx: &SyncContext<Value>, level: &Level) -> Vec<Value> {
    let prefix = ctx
        .partition()
        .and_then(|p| p["id"].as_str().or(p["part"].as_str()))
        .unwrap_or("r")
        .to_owned();
    let start = ctx
        .replication_start()
        .and_then(|b| b.as_str().map(str::to_owned));
    (1..=level.records)
        .map(|i| json!({"id": format!("{prefix}.{i}"), "updated_at": at(i)}))
        .filter(|r| {
            start
                .as_deref()
                .is_none_or(|s| r["updated_at"].as_str().unwrap() >= s)
        })
        .collect()
}

async fn emit_level(ctx: SyncContext<Value>, level: Level) -> SyncResult {
    let records = records_of(&ctx, &level);
    match level.emit {
        Emit::Stream => {
            let items = records.into_iter().map(Ok::<_, BoxError>);
            ctx.emit_stream(futures::stream::iter(items)).await?;
        }
        Emit::Loop => {
            for r in records {
                ctx.emit(r)?;
            }
        }
        Emit::All => ctx.emit_all(records)?,
    }
    Ok(())
}

fn stream_of(shape: &Shape, depth: usize) -> Stream<Value, Value, ()> {
    let level = shape.levels[depth].clone();
    let mut s = Stream::new(format!("level{depth}"))
        .schema(schema())
        .key(["id"])
        .bookmark_strategy(BookmarkStrategy::Records(level.every))
        .interleave(std::time::Duration::from_secs(3600), shape.interleave)
        .max_concurrent_partitions(shape.concurrent);
    if level.incremental {
        s = s.incremental("updated_at");
    }
    if level.per_parent && depth > 0 {
        s = s.state_partitioning_keys(["id"]);
    }
    let s = s.sync(move |ctx: SyncContext<Value>| emit_level(ctx, level.clone()));
    match shape.levels.get(depth + 1) {
        Some(_) => s.substream(stream_of(shape, depth + 1)),
        None => s,
    }
}

fn tap_of(shape: &Shape) -> Tap {
    let root = stream_of(shape, 0);
    let parts = shape.partitions;
    let root = if parts > 0 {
        root.partitions(move |_ctx: SyncContext<Value>| async move {
            Ok((1..=parts)
                .map(|p| json!({"part": format!("p{p}")}))
                .collect())
        })
    } else {
        root
    };
    Tap::new("tap-tree").stream(root)
}

/// `(stream, id)` of every RECORD.
fn keys(msgs: &[Value]) -> BTreeSet<(String, String)> {
    msgs.iter()
        .filter(|m| m["type"] == "RECORD")
        .map(|m| {
            let stream = m["stream"].as_str().unwrap_or_default().to_owned();
            (
                stream,
                m["record"]["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Cuts the full run's output after `cut` lines, resumes from the last STATE before the cut, and
/// returns the keys the two runs missed.
fn missed_after_cut(shape: &Shape, full: &[Value], cut: usize) -> BTreeSet<(String, String)> {
    let f = Files::new();
    let prefix = &full[..cut.min(full.len())];
    let state = of_type(prefix, "STATE").last().map(|m| m["value"].clone());
    let mut args = vec!["--config".to_owned(), f.empty_config()];
    if let Some(state) = state {
        args.extend(["--state".to_owned(), f.json("state.json", &state)]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, again) = run(tap_of(shape), &args);
    assert_eq!(out.exit_code, 0, "resumed run failed: {:?}", out.error);
    let got: BTreeSet<_> = keys(prefix).union(&keys(&again)).cloned().collect();
    keys(full).difference(&got).cloned().collect()
}

fn level() -> impl Strategy<Value = Level> {
    (
        1u64..6,
        any::<bool>(),
        any::<bool>(),
        1u64..5,
        prop_oneof![Just(Emit::Stream), Just(Emit::Loop), Just(Emit::All)],
    )
        .prop_map(|(records, incremental, per_parent, every, emit)| Level {
            records,
            incremental,
            per_parent,
            every,
            emit,
        })
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::collection::vec(level(), 1..4),
        0u64..5,
        1usize..4,
        1usize..4,
    )
        .prop_map(|(levels, partitions, interleave, concurrent)| Shape {
            levels,
            partitions,
            interleave,
            concurrent,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_cut_anywhere_then_a_resume_loses_no_record(shape in shape(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 4)) {
        let f = Files::new();
        let (out, full) = run(tap_of(&shape), &["--config", &f.empty_config()]);
        prop_assert_eq!(out.exit_code, 0, "{:?}", out.error);
        for cut in cuts {
            let cut = cut.index(full.len() + 1);
            let missed = missed_after_cut(&shape, &full, cut);
            prop_assert!(missed.is_empty(), "cut at line {} of {}: lost {:?}", cut, full.len(), missed);
        }
    }
}

/// An incremental level emitting `records` records with `emit`, committing every `every`.
fn incremental(records: u64, every: u64, emit: Emit) -> Level {
    Level {
        records,
        incremental: true,
        per_parent: false,
        every,
        emit,
    }
}

/// Runs `shape` once (it must write `expected` distinct records), then cuts it at every line and
/// resumes: no cut may lose a record.
fn assert_every_cut_resumes(shape: &Shape, expected: usize) {
    let f = Files::new();
    let (out, full) = run(tap_of(shape), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(keys(&full).len(), expected);
    for cut in 0..=full.len() {
        let missed = missed_after_cut(shape, &full, cut);
        assert!(missed.is_empty(), "cut at line {cut}: lost {missed:?}");
    }
}

#[test]
fn every_cut_of_a_deep_tree_with_partitions_resumes_without_loss() {
    let shape = Shape {
        levels: vec![
            incremental(4, 1, Emit::Stream),
            incremental(3, 2, Emit::Loop),
            incremental(3, 1, Emit::All),
        ],
        partitions: 2,
        interleave: 2,
        concurrent: 1,
    };
    assert_every_cut_resumes(&shape, 2 * (4 + 4 * 3 + 4 * 3 * 3));
}

#[test]
fn every_cut_of_a_tree_with_parallel_partitions_and_child_syncs_resumes_without_loss() {
    let shape = Shape {
        levels: vec![
            incremental(4, 1, Emit::Stream),
            incremental(3, 2, Emit::Loop),
        ],
        partitions: 4,
        interleave: 2,
        concurrent: 3,
    };
    assert_every_cut_resumes(&shape, 4 * (4 + 4 * 3));
}

#[test]
fn the_queue_of_child_contexts_stays_bounded_with_plain_emit() {
    let seen_pending = Arc::new(std::sync::Mutex::new(Vec::new()));
    let observed = seen_pending.clone();
    let child =
        Stream::new("child")
            .schema(schema())
            .key(["id"])
            .sync(move |ctx: SyncContext<Value>| {
                let observed = observed.clone();
                async move {
                    let parent = ctx.partition().unwrap()["id"].as_str().unwrap().to_owned();
                    observed.lock().unwrap().push(parent.clone());
                    ctx.emit(json!({"id": format!("{parent}.c")}))?;
                    Ok(())
                }
            });
    let parents_emitted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = parents_emitted.clone();
    let max_ahead = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ahead = max_ahead.clone();
    let seen = seen_pending.clone();
    let parent = Stream::new("parent")
        .schema(schema())
        .key(["id"])
        .interleave(std::time::Duration::from_secs(3600), 10)
        .sync(move |ctx: SyncContext<Value>| {
            let (counter, ahead, seen) = (counter.clone(), ahead.clone(), seen.clone());
            async move {
                for i in 0..1_000 {
                    ctx.emit(json!({"id": format!("p{i}")}))?;
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    let done = seen.lock().unwrap().len();
                    ahead.fetch_max(n - done, std::sync::atomic::Ordering::SeqCst);
                }
                Ok(())
            }
        })
        .substream(child);
    let f = Files::new();
    let (out, msgs) = run(
        Tap::new("t").stream(parent),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(records(&msgs, "child").len(), 1_000);
    let most = max_ahead.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        most <= 10,
        "at most one queue of parents ahead of their children: {most}"
    );
}
