//! Fault injection: a run killed at a random point, then resumed from the last STATE it wrote,
//! loses no record, and no STATE ever covers a record that was not written before it.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use burler::prelude::*;
use common::*;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const N: u64 = 150;

/// A sorted source honouring the start point; fails after `crash_after` records when set.
fn source(every: u64, crash_after: Option<usize>) -> Tap {
    let data = Arc::new(events(N, 4));
    Tap::new("t").stream(
        Stream::new("events")
            .schema(event_schema())
            .key(["id"])
            .incremental("updated_at")
            .bookmark_strategy(BookmarkStrategy::Records(every))
            .sync(move |ctx: SyncContext<Value>| {
                let data = data.clone();
                async move {
                    let start = ctx
                        .replication_start()
                        .and_then(|v| v.as_str().map(str::to_owned));
                    let mut n = 0;
                    for r in data.iter() {
                        if start
                            .as_deref()
                            .is_none_or(|s| r["updated_at"].as_str().unwrap() >= s)
                        {
                            if crash_after == Some(n) {
                                return Err("killed".into());
                            }
                            ctx.emit(r.clone())?;
                            n += 1;
                        }
                    }
                    Ok(())
                }
            }),
    )
}

fn ids(msgs: &[Value]) -> BTreeSet<u64> {
    records(msgs, "events")
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect()
}

/// Checks the invariant on a message prefix: each STATE's bookmark is covered by records written
/// before it, i.e. every source record older than the bookmark is already out.
fn assert_states_cover_only_written_records(prefix: &[Value]) {
    let all = events(N, 4);
    let mut written = BTreeSet::new();
    for m in prefix {
        match m["type"].as_str() {
            Some("RECORD") => {
                written.insert(m["record"]["id"].as_u64().unwrap());
            }
            Some("STATE") => {
                let Some(bm) = m["value"]["bookmarks"]["events"]["replication_key_value"].as_str()
                else {
                    continue;
                };
                for r in &all {
                    if r["updated_at"].as_str().unwrap() < bm {
                        assert!(
                            written.contains(&r["id"].as_u64().unwrap()),
                            "STATE {bm} passed unwritten record {r}"
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

fn resume_and_check(f: &Files, prefix: &[Value], every: u64) {
    assert_states_cover_only_written_records(prefix);
    let state = prefix
        .iter()
        .rev()
        .find(|m| m["type"] == "STATE")
        .map(|m| m["value"].clone())
        .unwrap_or(json!({}));
    let st = f.json("state.json", &state);
    let (out, second) = run(
        source(every, None),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 0);
    let union: BTreeSet<u64> = ids(prefix).union(&ids(&second)).copied().collect();
    assert_eq!(
        union.len() as u64,
        N,
        "records lost after resuming from {state}"
    );
}

#[test]
fn killed_at_any_output_line_then_resumed_loses_nothing() {
    let f = Files::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xB0B);
    for _ in 0..40 {
        let every = rng.random_range(1..=20);
        let (_, full) = run(source(every, None), &["--config", &f.empty_config()]);
        let cut = rng.random_range(0..full.len());
        resume_and_check(&f, &full[..cut], every);
    }
}

#[test]
fn a_stream_failing_after_k_records_then_resumed_loses_nothing() {
    let f = Files::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xFA17);
    for _ in 0..25 {
        let every = rng.random_range(1..=20);
        let k = rng.random_range(0..N as usize);
        let (out, first) = run(source(every, Some(k)), &["--config", &f.empty_config()]);
        assert_eq!(out.exit_code, 1);
        assert_eq!(
            ids(&first).len(),
            k,
            "every record emitted before the failure is written"
        );
        resume_and_check(&f, &first, every);
    }
}
