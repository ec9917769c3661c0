//! Sub-streams and sync patterns through the real runner: a three-level tree, selection of a child
//! alone, per-parent bookmarks, a crash mid-tree, interleaving, partitions, roll-up, windowing.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use burler::prelude::*;
use burler::{WindowOptions, sync_windows};
use common::*;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "parent": {"type": ["null", "integer"]},
        "updated_at": {"type": "string", "format": "date-time"}}})
}

fn at(minute: u64) -> String {
    format!("2024-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// Children of `parent`: `n` records with ids parent*10+1.., honouring the start bookmark.
fn children_of(ctx: &SyncContext<Value>, n: u64) -> Vec<Value> {
    let parent = ctx.partition().and_then(|p| p["id"].as_u64()).unwrap_or(0);
    let start = ctx
        .replication_start()
        .and_then(|b| b.as_str().map(str::to_owned));
    (1..=n)
        .map(|i| json!({"id": parent * 10 + i, "parent": parent, "updated_at": at(i)}))
        .filter(|r| {
            start
                .as_deref()
                .is_none_or(|s| r["updated_at"].as_str().unwrap() >= s)
        })
        .collect()
}

/// accounts (3) → campaigns (3 each) → ads (4 each); ads fail after `crash_after` ads when set.
fn tree(crash_after: Option<usize>) -> Tap {
    tree_with(crash_after, false)
}

/// [`tree`], with per-parent child bookmarks when `per_parent`.
fn tree_with(crash_after: Option<usize>, per_parent: bool) -> Tap {
    let emitted = Arc::new(Mutex::new(0usize));
    let ads = Stream::new("ads")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at");
    let ads = if per_parent {
        ads.state_partitioning_keys(Vec::<String>::new())
    } else {
        ads
    };
    let ads = ads.sync(move |ctx: SyncContext<Value>| {
        let emitted = emitted.clone();
        async move {
            for r in children_of(&ctx, 4) {
                let mut n = emitted.lock().unwrap();
                if crash_after == Some(*n) {
                    return Err("ads API went away".into());
                }
                *n += 1;
                ctx.emit(r)?;
            }
            Ok(())
        }
    });
    let campaigns = Stream::new("campaigns")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(|ctx: SyncContext<Value>| async move {
            let records = children_of(&ctx, 3);
            ctx.emit_stream(futures::stream::iter(
                records.into_iter().map(Ok::<_, BoxError>),
            ))
            .await?;
            Ok(())
        })
        .substream(ads);
    let campaigns = if per_parent {
        campaigns.state_partitioning_keys(["id"])
    } else {
        campaigns
    };
    let accounts = Stream::new("accounts")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(|ctx: SyncContext<Value>| async move {
            let records = (1..=3)
                .map(|i| Ok::<_, BoxError>(json!({"id": i, "parent": null, "updated_at": at(i)})));
            ctx.emit_stream(futures::stream::iter(records)).await?;
            Ok(())
        })
        .substream(campaigns);
    Tap::new("t").stream(accounts)
}

fn ids(msgs: &[Value], stream: &str) -> BTreeSet<u64> {
    records(msgs, stream)
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect()
}

fn select_only(f: &Files, tap: Tap, wanted: &[&str]) -> String {
    let (_, _) = (&tap, ());
    let mut catalog = discover(f, tap);
    for s in catalog["streams"].as_array_mut().unwrap() {
        let on = wanted.contains(&s["tap_stream_id"].as_str().unwrap());
        for m in s["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(on);
            }
        }
    }
    f.json("catalog.json", &catalog)
}

fn discover(f: &Files, tap: Tap) -> Value {
    let buf = burler::CaptureBuffer::new();
    let out = tap.run_with(
        ["t", "--config", &f.empty_config(), "--discover"],
        Box::new(buf.clone()),
    );
    assert_eq!(out.exit_code, 0);
    serde_json::from_str(&buf.text()).unwrap()
}

#[test]
fn a_three_level_tree_syncs_every_record_parents_first_with_bounded_state() {
    let f = Files::new();
    let (out, msgs) = run(tree(None), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(
        (
            ids(&msgs, "accounts").len(),
            ids(&msgs, "campaigns").len(),
            ids(&msgs, "ads").len()
        ),
        (3, 9, 36)
    );
    let schemas: Vec<&str> = of_type(&msgs, "SCHEMA")
        .iter()
        .map(|m| m["stream"].as_str().unwrap())
        .collect();
    assert_eq!(schemas, vec!["accounts", "campaigns", "ads"]);
    let state = last_state(&msgs);
    assert_eq!(state["currently_syncing"], Value::Null);
    assert_eq!(
        state["bookmarks"]["accounts"]["replication_key_value"],
        at(3)
    );
    for child in ["campaigns", "ads"] {
        let bookmark = &state["bookmarks"][child];
        assert!(
            bookmark.get("partitions").is_none(),
            "{child}: one bookmark, not one per parent"
        );
        let value = bookmark["replication_key_value"].as_str().unwrap();
        assert!(
            value > at(59).as_str(),
            "{child}: read for every parent up to the sync start"
        );
    }
    assert!(
        of_type(&msgs, "STATE").len() <= 4,
        "no STATE per child sync: {}",
        of_type(&msgs, "STATE").len()
    );

    // Second run: every account is read again; their children were all read by the first run
    // (which read the tree whole), so none is at or after their bookmark.
    let st = f.json("state.json", &state);
    let (_, again) = run(tree(None), &["--config", &f.empty_config(), "--state", &st]);
    assert_eq!(
        ids(&again, "accounts").len(),
        3,
        "this source ignores the bookmark"
    );
    assert!(ids(&again, "campaigns").is_empty() && ids(&again, "ads").is_empty());
}

#[test]
fn per_parent_bookmarks_are_the_authors_opt_in() {
    let f = Files::new();
    let (out, msgs) = run(tree_with(None, true), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let state = last_state(&msgs);
    let campaign_parts = state["bookmarks"]["campaigns"]["partitions"]
        .as_array()
        .unwrap();
    assert_eq!(campaign_parts.len(), 3);
    assert!(
        campaign_parts
            .iter()
            .any(|p| p["context"] == json!({"id": 2}) && p["replication_key_value"] == at(3))
    );
    let ad_parts = state["bookmarks"]["ads"]["partitions"].as_array().unwrap();
    assert_eq!(ad_parts.len(), 9);
    // Each partition starts from its own bookmark (inclusive): one campaign per account is read
    // again, and for each of those, one ad.
    let st = f.json("state.json", &state);
    let (_, again) = run(
        tree_with(None, true),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(ids(&again, "campaigns"), BTreeSet::from([13, 23, 33]));
    assert_eq!(ids(&again, "ads"), BTreeSet::from([134, 234, 334]));
}

#[test]
fn discovery_names_the_parent_of_each_child() {
    let f = Files::new();
    let catalog = discover(&f, tree(None));
    let parent_of = |s: &str| {
        catalog["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["tap_stream_id"] == s)
            .unwrap()["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["breadcrumb"] == json!([]))
            .unwrap()["metadata"]
            .get("parent-tap-stream-id")
            .cloned()
    };
    assert_eq!(parent_of("accounts"), None);
    assert_eq!(parent_of("campaigns"), Some(json!("accounts")));
    assert_eq!(parent_of("ads"), Some(json!("campaigns")));
}

#[test]
fn selecting_only_a_grandchild_drives_its_parents_silently() {
    let f = Files::new();
    let cat = select_only(&f, tree(None), &["ads"]);
    let (out, msgs) = run(
        tree(None),
        &["--config", &f.empty_config(), "--catalog", &cat],
    );
    assert_eq!(out.exit_code, 0);
    assert_eq!(ids(&msgs, "ads").len(), 36);
    assert!(records(&msgs, "accounts").is_empty() && records(&msgs, "campaigns").is_empty());
    let schemas: Vec<&str> = of_type(&msgs, "SCHEMA")
        .iter()
        .map(|m| m["stream"].as_str().unwrap())
        .collect();
    assert_eq!(schemas, vec!["ads"]);
}

#[test]
fn a_crash_mid_tree_resumed_from_the_last_state_loses_nothing() {
    let f = Files::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7EE);
    for _ in 0..12 {
        let k = rng.random_range(0..36);
        let (out, first) = run(tree(Some(k)), &["--config", &f.empty_config()]);
        assert_eq!(out.exit_code, 1, "a failing child fails the run");
        let report = out.report.unwrap();
        let ads = report.streams.iter().find(|r| r.stream == "ads").unwrap();
        assert_eq!(ads.status, "failed");
        let accounts = report
            .streams
            .iter()
            .find(|r| r.stream == "accounts")
            .unwrap();
        assert_eq!(
            accounts.status, "succeeded",
            "its siblings and parents still ran"
        );
        let state = of_type(&first, "STATE")
            .last()
            .map(|m| m["value"].clone())
            .unwrap_or(json!({}));
        let st = f.json("state.json", &state);
        let (out, second) = run(tree(None), &["--config", &f.empty_config(), "--state", &st]);
        assert_eq!(out.exit_code, 0);
        let all: BTreeSet<u64> = ids(&first, "ads")
            .union(&ids(&second, "ads"))
            .copied()
            .collect();
        assert_eq!(all.len(), 36, "ads lost after a crash at {k}");
    }
}

fn slow_parent(interleave: Duration) -> Tap {
    let child = Stream::new("child").schema(schema()).key(["id"]).sync(
        |ctx: SyncContext<Value>| async move {
            let parent = ctx.partition().unwrap()["id"].as_u64().unwrap();
            ctx.emit(json!({"id": parent, "parent": parent, "updated_at": at(1)}))?;
            Ok(())
        },
    );
    let parent = Stream::new("parent")
        .schema(schema())
        .key(["id"])
        .interleave(interleave, usize::MAX)
        .sync(|ctx: SyncContext<Value>| async move {
            let pages = futures::stream::unfold(0u64, |i| async move {
                if i == 20 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
                Some((
                    Ok::<_, BoxError>(json!({"id": i, "updated_at": at(i)})),
                    i + 1,
                ))
            });
            ctx.emit_stream(pages).await?;
            Ok(())
        })
        .substream(child);
    Tap::new("t").stream(parent)
}

#[test]
fn children_run_between_chunks_of_a_slow_parent() {
    let f = Files::new();
    let position = |msgs: &[Value], stream: &str, first: bool| {
        let mut it = msgs
            .iter()
            .enumerate()
            .filter(|(_, m)| m["type"] == "RECORD" && m["stream"] == stream);
        if first {
            it.next().unwrap().0
        } else {
            it.next_back().unwrap().0
        }
    };
    let (_, msgs) = run(
        slow_parent(Duration::from_millis(10)),
        &["--config", &f.empty_config()],
    );
    assert_eq!(records(&msgs, "child").len(), 20);
    assert!(
        position(&msgs, "child", true) < position(&msgs, "parent", false),
        "the child starved until the parent finished"
    );
    // The same check catches starvation: with a huge time box the child runs only at the end.
    let (_, msgs) = run(
        slow_parent(Duration::from_secs(3600)),
        &["--config", &f.empty_config()],
    );
    assert!(position(&msgs, "child", true) > position(&msgs, "parent", false));
}

fn partitioned() -> Tap {
    Tap::new("t").stream(
        Stream::new("usage")
            .schema(schema())
            .key(["id"])
            .incremental("updated_at")
            .partitions(|ctx: SyncContext<Value>| async move {
                Ok(ctx.config()["accounts"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default())
            })
            .sync(|ctx: SyncContext<Value>| async move {
                let account = ctx.partition().unwrap()["account"].as_u64().unwrap();
                let start = ctx
                    .replication_start()
                    .and_then(|b| b.as_str().map(str::to_owned));
                for i in 1..=account * 2 {
                    let r = json!({"id": account * 100 + i, "updated_at": at(i)});
                    if start
                        .as_deref()
                        .is_none_or(|s| r["updated_at"].as_str().unwrap() >= s)
                    {
                        ctx.emit(r)?;
                    }
                }
                Ok(())
            }),
    )
}

#[test]
fn each_partition_syncs_with_its_own_bookmark() {
    let f = Files::new();
    let cfg = f.config(json!({"accounts": [{"account": 1}, {"account": 2}]}));
    let (out, msgs) = run(partitioned(), &["--config", &cfg]);
    assert_eq!(out.exit_code, 0);
    assert_eq!(records(&msgs, "usage").len(), 6);
    let state = last_state(&msgs);
    let parts = state["bookmarks"]["usage"]["partitions"]
        .as_array()
        .unwrap();
    assert_eq!(
        parts[0],
        json!({"context": {"account": 1}, "replication_key": "updated_at", "replication_key_value": at(2)})
    );
    assert_eq!(parts[1]["replication_key_value"], at(4));
    let st = f.json("state.json", &state);
    let (_, again) = run(partitioned(), &["--config", &cfg, "--state", &st]);
    let ids: Vec<u64> = records(&again, "usage")
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![102, 204],
        "each partition resumed at its own bookmark"
    );
}

#[test]
fn roll_up_raises_the_parent_bookmark_to_the_slowest_child() {
    let f = Files::new();
    let child = Stream::new("child")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(|ctx: SyncContext<Value>| async move {
            let parent = ctx.partition().unwrap()["id"].as_u64().unwrap();
            // Parent 1's child only got to minute 5; parent 2's to minute 9.
            let minute = if parent == 1 { 5 } else { 9 };
            ctx.emit(json!({"id": parent, "updated_at": at(minute)}))?;
            Ok(())
        });
    let parent = Stream::new("parent")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .rollup_child_bookmarks()
        .sync(|ctx: SyncContext<Value>| async move {
            ctx.emit_all([
                json!({"id": 1, "updated_at": at(30)}),
                json!({"id": 2, "updated_at": at(40)}),
            ])?;
            Ok(())
        })
        .substream(child);
    let (out, msgs) = run(
        Tap::new("t").stream(parent),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 0);
    assert_eq!(
        last_state(&msgs)["bookmarks"]["parent"]["replication_key_value"],
        at(5)
    );
}

/// A parent with one record and a child that records where each of its syncs starts.
fn lookback_tap(per_parent: bool, seen: Arc<Mutex<Vec<Option<Value>>>>) -> Tap {
    let child = Stream::new("child")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .lookback(Duration::from_secs(600));
    let child = if per_parent {
        child.state_partitioning_keys(["id"])
    } else {
        child
    };
    let child = child.sync(move |ctx: SyncContext<Value>| {
        let s = seen.clone();
        async move {
            s.lock().unwrap().push(ctx.replication_start());
            Ok(())
        }
    });
    let parent = Stream::new("parent").schema(schema()).key(["id"]).sync(
        |ctx: SyncContext<Value>| async move {
            ctx.emit(json!({"id": 1}))?;
            Ok(())
        },
    );
    Tap::new("t").stream(parent.substream(child))
}

#[test]
fn a_child_lookback_starts_before_its_stored_bookmark() {
    let f = Files::new();
    let st = f.json("s.json", &json!({"bookmarks": {"child": {"partitions": [{"context": {"id": 1}, "replication_key_value": at(30)}]}}}));
    for per_parent in [true, false] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let tap = lookback_tap(per_parent, seen.clone());
        let (out, msgs) = run(tap, &["--config", &f.empty_config(), "--state", &st]);
        assert_eq!(out.exit_code, 0);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![Some(json!(at(20)))],
            "per parent: {per_parent}"
        );
        let child = &last_state(&msgs)["bookmarks"]["child"];
        if per_parent {
            assert_eq!(
                child["partitions"][0]["replication_key_value"],
                at(30),
                "the stored bookmark never goes back"
            );
        } else {
            // The whole parent was read: the per-parent value an older version left gives way to
            // one bookmark for every parent.
            assert!(child.get("partitions").is_none(), "{child}");
            assert!(child["replication_key_value"].as_str().unwrap() > at(59).as_str());
        }
    }
}

#[test]
fn date_windows_commit_a_bookmark_after_each_window() {
    let f = Files::new();
    let start = chrono::Utc::now() - chrono::Duration::hours(50);
    let cfg = f.config(json!({"start_date": start.to_rfc3339()}));
    let windows = Arc::new(Mutex::new(Vec::new()));
    let w = windows.clone();
    let stream = Stream::new("daily")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(move |ctx: SyncContext<Value>| {
            let w = w.clone();
            async move {
                let options = WindowOptions {
                    step: chrono::Duration::hours(24),
                    lookback: chrono::Duration::zero(),
                    default_start: chrono::Utc::now(),
                };
                sync_windows(&ctx, options, |window| {
                    w.lock().unwrap().push(window);
                    async { Ok(()) }
                })
                .await
            }
        });
    let (out, msgs) = run(Tap::new("t").stream(stream), &["--config", &cfg]);
    assert_eq!(out.exit_code, 0);
    let windows = windows.lock().unwrap();
    assert_eq!(windows.len(), 3);
    assert!(
        windows.windows(2).all(|p| p[0].end == p[1].start),
        "contiguous windows"
    );
    let committed: Vec<String> = of_type(&msgs, "STATE")
        .iter()
        .filter_map(|s| {
            s["value"]["bookmarks"]["daily"]["replication_key_value"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    let distinct: BTreeSet<&String> = committed.iter().collect();
    assert_eq!(distinct.len(), 3, "one bookmark per window: {committed:?}");
}

#[test]
fn full_request_incremental_emit_keeps_only_newer_records() {
    let f = Files::new();
    let stream = Stream::new("all")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(|ctx: SyncContext<Value>| async move {
            // An API that returns everything, page by page, as burler-http's record streams do.
            let everything =
                (1..=10).map(|i| Ok::<_, BoxError>(json!({"id": i, "updated_at": at(i)})));
            let n = ctx.emit_newer(futures::stream::iter(everything)).await?;
            assert_eq!(n, 4);
            Ok(())
        });
    let st = f.json(
        "s.json",
        &json!({"bookmarks": {"all": {"replication_key_value": at(7)}}}),
    );
    let (out, msgs) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(ids(&msgs, "all"), (7..=10).collect());
    assert_eq!(out.report.unwrap().streams[0].stats.filtered, 6);
    assert_eq!(
        last_state(&msgs)["bookmarks"]["all"]["replication_key_value"],
        at(10)
    );
}

/// parent (3 records, `method`) → child (2 records per parent, FULL_TABLE); the child fails for
/// the parents in `failing`, the parent fails after its records when `parent_fails`.
fn versioned_tree(parent_incremental: bool, failing: &'static [u64], parent_fails: bool) -> Tap {
    let child = Stream::new("child").schema(schema()).key(["id"]).sync(
        move |ctx: SyncContext<Value>| async move {
            let parent = ctx.partition().unwrap()["id"].as_u64().unwrap();
            if failing.contains(&parent) {
                return Err(format!("lines of {parent} are gone").into());
            }
            for i in 1..=2 {
                ctx.emit(json!({"id": parent * 10 + i, "parent": parent, "updated_at": at(i)}))?;
            }
            Ok(())
        },
    );
    let parent = Stream::new("parent").schema(schema()).key(["id"]);
    let parent = if parent_incremental {
        parent.incremental("updated_at")
    } else {
        parent
    };
    let parent = parent
        .sync(move |ctx: SyncContext<Value>| async move {
            let records = (1..=3).map(|i| json!({"id": i, "updated_at": at(i)}));
            ctx.emit_all(records)?;
            ctx.run_children().await?;
            if parent_fails {
                return Err("parent API went away".into());
            }
            Ok(())
        })
        .substream(child);
    Tap::new("t").stream(parent)
}

fn activations(msgs: &[Value], stream: &str) -> Vec<(usize, i64)> {
    msgs.iter()
        .enumerate()
        .filter(|(_, m)| m["type"] == "ACTIVATE_VERSION" && m["stream"] == stream)
        .map(|(i, m)| (i, m["version"].as_i64().unwrap()))
        .collect()
}

#[test]
fn children_of_a_full_table_parent_share_one_version_activated_after_the_parent() {
    let f = Files::new();
    let (out, msgs) = run(
        versioned_tree(false, &[], false),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let lines: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == "child")
        .collect();
    assert_eq!(lines.len(), 6);
    let version = lines[0]["version"]
        .as_i64()
        .expect("child records carry a version");
    assert!(
        lines.iter().all(|m| m["version"] == version),
        "one version per run"
    );
    let activated = activations(&msgs, "child");
    assert_eq!(activated.last().map(|a| a.1), Some(version));
    let last_parent = msgs
        .iter()
        .rposition(|m| m["type"] == "RECORD" && m["stream"] == "parent")
        .unwrap();
    let last_child = msgs
        .iter()
        .rposition(|m| m["type"] == "RECORD" && m["stream"] == "child")
        .unwrap();
    let (at_end, _) = *activated.last().unwrap();
    assert!(
        at_end > last_parent && at_end > last_child,
        "activated after the whole parent"
    );
}

#[test]
fn children_of_an_incremental_parent_never_send_activate_version() {
    let f = Files::new();
    let (out, msgs) = run(
        versioned_tree(true, &[], false),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert!(activations(&msgs, "child").is_empty());
    assert!(
        msgs.iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == "child")
            .all(|m| m.get("version").is_none())
    );
}

#[test]
fn a_failing_child_is_reported_per_parent_its_siblings_run_and_the_parent_holds_below_it() {
    let f = Files::new();
    let (out, msgs) = run(
        versioned_tree(true, &[2], false),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 1);
    assert_eq!(
        out.failures,
        vec![r#"child[{"id":2}]: lines of 2 are gone"#.to_owned()]
    );
    assert_eq!(
        ids(&msgs, "child"),
        BTreeSet::from([11, 12, 31, 32]),
        "siblings ran"
    );
    let report = out.report.unwrap();
    let status = |s: &str| {
        report
            .streams
            .iter()
            .find(|r| r.stream == s)
            .map(|r| r.status.clone())
    };
    assert_eq!(status("child").as_deref(), Some("failed"));
    assert_eq!(status("parent").as_deref(), Some("succeeded"));
    assert_eq!(
        last_state(&msgs)["bookmarks"]["parent"]["replication_key_value"],
        at(2),
        "held at the parent whose children failed, so the next run reads it again"
    );

    // Under a FULL_TABLE parent, the failed child keeps its version unactivated for the next run.
    let (out, msgs) = run(
        versioned_tree(false, &[2], false),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 1);
    let first_child = msgs
        .iter()
        .position(|m| m["type"] == "RECORD" && m["stream"] == "child")
        .unwrap();
    let activated = activations(&msgs, "child");
    assert!(
        activated.iter().all(|(i, _)| *i < first_child),
        "only the first-ever activation at the start, none at the end: {activated:?}"
    );
    assert!(last_state(&msgs)["bookmarks"]["child"]["version"].is_i64());
}

#[test]
fn children_of_a_failed_parent_that_never_ran_are_reported_skipped() {
    let f = Files::new();
    let fails_first = Stream::new("parent")
        .schema(schema())
        .key(["id"])
        .sync(|_: SyncContext<Value>| async { Err::<(), BoxError>("parent API went away".into()) })
        .substream(
            Stream::new("child")
                .schema(schema())
                .key(["id"])
                .sync(|_: SyncContext<Value>| async { Ok(()) }),
        );
    let (out, _) = run(
        Tap::new("t").stream(fails_first),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 1);
    let report = out.report.unwrap();
    let child = report.streams.iter().find(|r| r.stream == "child").unwrap();
    assert_eq!(child.status, "skipped");
    assert_eq!(
        out.failures,
        vec!["parent: parent API went away".to_owned()]
    );
}
