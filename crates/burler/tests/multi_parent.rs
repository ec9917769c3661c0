//! Children with several parents (`child_of`), children synced once per distinct parent context,
//! and children synced without emitting their parents: ordering, the commit rule (no parent
//! bookmark covers a record whose children are not written), and resume after a cut anywhere.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"}, "ctx": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"}}})
}

fn at(minute: u64) -> String {
    format!("2024-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// What the child saw: per context (canonical text), the starts of its syncs.
type Seen = Arc<Mutex<HashMap<String, Vec<Option<Value>>>>>;

/// How the test tap is built.
#[derive(Clone, Default)]
struct Shape {
    /// Per parent stream: the child context value of each of its records, in order.
    parents: Vec<(&'static str, Vec<&'static str>)>,
    /// Parents are INCREMENTAL (STATE after every record) instead of FULL_TABLE.
    incremental_parents: bool,
    /// The child fails for this context.
    child_fails_for: Option<&'static str>,
    /// The parent whose sync sleeps before each record (its tree ends last).
    slow_parent: Option<&'static str>,
    /// Partitions of the first parent (its records split among them), run this many at once.
    partitioned: Option<usize>,
    seen: Seen,
}

/// A parent: one record per context in `contexts` (ids `<parent>.<n>`), giving the child
/// `{"repo": <context>}`.
fn parent(
    shape: &Shape,
    name: &'static str,
    contexts: Vec<&'static str>,
) -> Stream<Value, Value, ()> {
    let slow = shape.slow_parent == Some(name);
    let mut s = Stream::new(name)
        .schema(schema())
        .key(["id"])
        .child_context(|r: &Value| json!({"repo": r["ctx"]}))
        .sync(move |ctx: SyncContext<Value>| {
            let contexts = contexts.clone();
            async move { emit_parent(ctx, name, contexts, slow).await }
        });
    if shape.incremental_parents {
        s = s
            .incremental("updated_at")
            .bookmark_strategy(BookmarkStrategy::Records(1));
    }
    if let (Some(limit), true) = (shape.partitioned, shape.parents[0].0 == name) {
        s = s
            .max_concurrent_partitions(limit)
            .partitions(|_ctx: SyncContext<Value>| async {
                Ok((0..3).map(|p| json!({"part": p})).collect())
            });
    }
    s
}

async fn emit_parent(
    ctx: SyncContext<Value>,
    name: &str,
    contexts: Vec<&str>,
    slow: bool,
) -> SyncResult {
    let part = ctx.partition().and_then(|p| p["part"].as_u64());
    let start = ctx
        .replication_start()
        .and_then(|v| v.as_str().map(str::to_owned));
    for (i, c) in contexts.iter().enumerate() {
        let n = i as u64 + 1;
        if part.is_some_and(|p| n % 3 != p) {
            continue;
        }
        if start.as_deref().is_some_and(|s| at(n).as_str() < s) {
            continue;
        }
        if slow {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ctx.emit(json!({"id": format!("{name}.{n}"), "ctx": c, "updated_at": at(n)}))?;
    }
    Ok(())
}

/// The child `commits`, INCREMENTAL with one bookmark for all parents: two records per repo,
/// read from where the sync starts (as an API filtering by `since` does).
fn child(shape: &Shape) -> Stream<Value, Value, ()> {
    let names: Vec<&'static str> = shape.parents.iter().map(|(n, _)| *n).collect();
    let (seen, fails) = (shape.seen.clone(), shape.child_fails_for);
    let mut s = Stream::new("commits")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .max_concurrent_partitions(2)
        .sync(move |ctx: SyncContext<Value>| {
            let seen = seen.clone();
            async move {
                let repo = ctx.partition().unwrap()["repo"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                seen.lock()
                    .unwrap()
                    .entry(repo.clone())
                    .or_default()
                    .push(ctx.replication_start());
                tokio::time::sleep(Duration::from_millis(2)).await;
                if fails == Some(repo.as_str()) {
                    return Err(format!("repo {repo} is gone").into());
                }
                for i in 1..=2 {
                    let r = json!({"id": format!("{repo}.{i}"), "ctx": repo, "updated_at": at(i)});
                    ctx.emit(r)?;
                }
                Ok(())
            }
        });
    for name in names {
        s = s.child_of(name);
    }
    s
}

fn tap_of(shape: &Shape) -> Tap {
    let mut tap = Tap::new("tap-repos").max_concurrent_streams(2);
    for (name, contexts) in &shape.parents {
        tap = tap.stream(parent(shape, name, contexts.clone()));
    }
    tap.stream(child(shape))
}

fn two_parents() -> Shape {
    Shape {
        parents: vec![
            ("org_repos", vec!["a", "b", "a", "c"]),
            ("user_repos", vec!["b", "d", "c"]),
        ],
        ..Shape::default()
    }
}

fn ids(msgs: &[Value], stream: &str) -> BTreeSet<String> {
    records(msgs, stream)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_child_of_two_parents_runs_once_per_distinct_context_after_the_parent_record() {
    let shape = two_parents();
    let f = Files::new();
    let (out, msgs) = run(tap_of(&shape), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let syncs: HashMap<String, usize> = shape
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.len()))
        .collect();
    let once: HashMap<String, usize> = ["a", "b", "c", "d"].map(|r| (r.to_owned(), 1)).into();
    assert_eq!(syncs, once, "one sync per repo, whichever parents share it");
    assert_eq!(ids(&msgs, "commits").len(), 8);
    assert_eq!(records(&msgs, "org_repos").len(), 4);
    assert_eq!(records(&msgs, "user_repos").len(), 3);
    // Every child record comes after a parent record that gave its context.
    for (line, m) in msgs.iter().enumerate() {
        if m["type"] == "RECORD" && m["stream"] == "commits" {
            let repo = &m["record"]["ctx"];
            let parent_before = msgs[..line].iter().any(|p| {
                p["type"] == "RECORD" && p["stream"] != "commits" && &p["record"]["ctx"] == repo
            });
            assert!(
                parent_before,
                "line {line}: commits of {repo} before any parent record"
            );
        }
    }
}

#[test]
fn a_child_under_several_trees_gets_no_table_version_its_parents_keep_theirs() {
    let mut shape = two_parents();
    shape.parents[0].1 = vec!["a"];
    let tap = {
        let mut tap = Tap::new("t");
        for (name, contexts) in &shape.parents {
            tap = tap.stream(parent(&shape, name, contexts.clone()));
        }
        let full = Stream::new("files")
            .schema(schema())
            .key(["id"])
            .child_of("org_repos")
            .child_of("user_repos")
            .sync(|ctx: SyncContext<Value>| async move {
                let repo = ctx.partition().unwrap()["repo"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                ctx.emit(json!({"id": repo, "ctx": repo}))?;
                Ok(())
            });
        tap.stream(full)
    };
    let f = Files::new();
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let activated: BTreeSet<&str> = of_type(&msgs, "ACTIVATE_VERSION")
        .iter()
        .map(|m| m["stream"].as_str().unwrap())
        .collect();
    assert_eq!(activated, BTreeSet::from(["org_repos", "user_repos"]));
    assert!(
        records(&msgs, "files")
            .iter()
            .all(|r| r.get("version").is_none())
    );
    let file_lines = msgs
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == "files");
    assert!(file_lines.clone().all(|m| m.get("version").is_none()));
    assert_eq!(file_lines.count(), 4);
}

/// Checks every STATE: a parent's bookmark covers only records whose children are written.
fn assert_parents_wait_for_children(msgs: &[Value], shape: &Shape) {
    let mut written: HashMap<String, usize> = HashMap::new();
    for (line, m) in msgs.iter().enumerate() {
        if m["type"] == "RECORD" && m["stream"] == "commits" {
            *written
                .entry(m["record"]["ctx"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        if m["type"] != "STATE" {
            continue;
        }
        for (name, contexts) in &shape.parents {
            let bookmark = &m["value"]["bookmarks"][name];
            let mut claims: Vec<&str> = bookmark["partitions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["replication_key_value"].as_str())
                .collect();
            claims.extend(bookmark["replication_key_value"].as_str());
            let Some(claimed) = claims.into_iter().max() else {
                continue;
            };
            for (i, c) in contexts.iter().enumerate() {
                let covered = at(i as u64 + 1).as_str() <= claimed;
                let partition_claims_it = bookmark["replication_key_value"].is_string()
                    || bookmark["partitions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| {
                            p["context"]["part"].as_u64() == Some((i as u64 + 1) % 3)
                                && at(i as u64 + 1).as_str()
                                    <= p["replication_key_value"].as_str().unwrap()
                        });
                if covered && partition_claims_it && shape.child_fails_for != Some(c) {
                    let n = written.get(*c).copied().unwrap_or(0);
                    assert_eq!(
                        n, 2,
                        "line {line}: {name} at {claimed} before the commits of {c}"
                    );
                }
            }
        }
    }
}

#[test]
fn each_parent_commits_past_a_shared_context_only_once_its_children_are_written() {
    let mut shape = two_parents();
    shape.incremental_parents = true;
    let f = Files::new();
    let (out, msgs) = run(tap_of(&shape), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_parents_wait_for_children(&msgs, &shape);
    let state = last_state(&msgs);
    assert_eq!(
        state["bookmarks"]["org_repos"]["replication_key_value"],
        at(4)
    );
    assert_eq!(
        state["bookmarks"]["user_repos"]["replication_key_value"],
        at(3)
    );
}

#[test]
fn a_child_failing_for_a_shared_context_holds_every_parent_that_gave_it() {
    let mut shape = two_parents();
    shape.incremental_parents = true;
    shape.child_fails_for = Some("c");
    let f = Files::new();
    let (out, msgs) = run(tap_of(&shape), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    assert_eq!(
        shape.seen.lock().unwrap()["c"].len(),
        1,
        "synced once, failed once"
    );
    let failures = out.failures.join("\n");
    assert!(failures.contains(r#"commits[{"repo":"c"}]"#), "{failures}");
    assert_parents_wait_for_children(&msgs, &shape);
    let state = last_state(&msgs);
    // org_repos gave "c" at its 4th record, user_repos at its 3rd: each stays at or below it.
    let org = state["bookmarks"]["org_repos"]["replication_key_value"]
        .as_str()
        .unwrap();
    let user = state["bookmarks"]["user_repos"]["replication_key_value"]
        .as_str()
        .unwrap();
    assert!(
        org <= at(4).as_str() && user <= at(3).as_str(),
        "{org} {user}"
    );
    // The next run reads those parent records again, so "c" gets its commits.
    let st = f.json("state.json", &state);
    let mut fixed = two_parents();
    fixed.incremental_parents = true;
    let (out, again) = run(
        tap_of(&fixed),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert!(ids(&again, "commits").contains("c.1"));
}

#[test]
fn concurrent_partitions_sharing_a_context_wait_for_its_one_sync() {
    let mut shape = Shape {
        parents: vec![(
            "org_repos",
            vec!["a", "b", "a", "b", "a", "c", "b", "c", "a"],
        )],
        incremental_parents: true,
        partitioned: Some(3),
        ..Shape::default()
    };
    shape.slow_parent = None;
    let f = Files::new();
    let (out, msgs) = run(tap_of(&shape), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let seen = shape.seen.lock().unwrap().clone();
    assert!(seen.values().all(|starts| starts.len() == 1), "{seen:?}");
    assert_eq!(ids(&msgs, "commits").len(), 6);
    assert_parents_wait_for_children(&msgs, &shape);
}

#[test]
fn a_shared_child_bookmark_moves_only_after_every_tree_holding_it() {
    // categories' tree ends first; org_repos (slow) still syncs children after it.
    let shape = Shape {
        parents: vec![
            ("org_repos", vec!["a", "b", "c"]),
            ("user_repos", vec!["d"]),
        ],
        slow_parent: Some("org_repos"),
        ..Shape::default()
    };
    let f = Files::new();
    let cfg = f.config(json!({"start_date": "2024-01-01T00:00:00Z"}));
    let (out, msgs) = run(tap_of(&shape), &["--config", &cfg]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let seen = shape.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    for (repo, starts) in &seen {
        assert_eq!(starts, &vec![Some(json!("2024-01-01T00:00:00Z"))], "{repo}");
    }
    let advanced = last_state(&msgs)["bookmarks"]["commits"]["replication_key_value"].clone();
    assert!(advanced.as_str().is_some_and(|s| s > "2025"), "{advanced}");
    // The next run starts every child sync at that moment.
    let st = f.json("state.json", &last_state(&msgs));
    let again = Shape {
        seen: Seen::default(),
        ..shape.clone()
    };
    let (out, _) = run(tap_of(&again), &["--config", &cfg, "--state", &st]);
    assert_eq!(out.exit_code, 0);
    let seen = again.seen.lock().unwrap().clone();
    assert!(
        seen.values().all(|s| s == &vec![Some(advanced.clone())]),
        "{seen:?}"
    );
}

fn select_only(f: &Files, shape: &Shape, wanted: &[&str]) -> String {
    let buf = burler::CaptureBuffer::new();
    let args = ["t", "--config", &f.empty_config(), "--discover"];
    let out = tap_of(shape).run_with(args, Box::new(buf.clone()));
    assert_eq!(out.exit_code, 0);
    let mut catalog: Value = serde_json::from_str(&buf.text()).unwrap();
    for s in catalog["streams"].as_array_mut().unwrap() {
        let id = s["tap_stream_id"].as_str().unwrap().to_owned();
        for m in s["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(wanted.contains(&id.as_str()));
                if id == "commits" {
                    assert_eq!(m["metadata"]["parent-tap-stream-id"], "org_repos");
                }
            }
        }
    }
    f.json("catalog.json", &catalog)
}

#[test]
fn selecting_only_the_child_reads_its_parents_without_emitting_them() {
    let mut shape = two_parents();
    shape.incremental_parents = true;
    let f = Files::new();
    let cat = select_only(&f, &shape, &["commits"]);
    let (out, msgs) = run(
        tap_of(&shape),
        &["--config", &f.empty_config(), "--catalog", &cat],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(ids(&msgs, "commits").len(), 8);
    let streams: BTreeSet<&str> = msgs
        .iter()
        .filter(|m| m["type"] == "SCHEMA" || m["type"] == "RECORD")
        .map(|m| m["stream"].as_str().unwrap())
        .collect();
    assert_eq!(
        streams,
        BTreeSet::from(["commits"]),
        "parents are read, never written"
    );
    let state = last_state(&msgs);
    assert!(state["bookmarks"].get("org_repos").is_none(), "{state}");
    assert!(state["bookmarks"].get("user_repos").is_none(), "{state}");
}

/// Cuts the full run's output after `cut` lines, resumes from the last STATE before it; returns
/// the `(stream, id)` the two runs missed.
fn missed_after_cut(shape: &Shape, full: &[Value], cut: usize) -> BTreeSet<(String, String)> {
    let keys = |msgs: &[Value]| -> BTreeSet<(String, String)> {
        msgs.iter()
            .filter(|m| m["type"] == "RECORD")
            .map(|m| {
                (
                    m["stream"].as_str().unwrap().to_owned(),
                    m["record"]["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let f = Files::new();
    let prefix = &full[..cut];
    let mut args = vec!["--config".to_owned(), f.empty_config()];
    if let Some(state) = of_type(prefix, "STATE").last() {
        args.extend(["--state".to_owned(), f.json("state.json", &state["value"])]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again_shape = Shape {
        seen: Seen::default(),
        ..shape.clone()
    };
    let (out, again) = run(tap_of(&again_shape), &args);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let got: BTreeSet<_> = keys(prefix).union(&keys(&again)).cloned().collect();
    keys(full).difference(&got).cloned().collect()
}

#[test]
fn every_cut_of_a_multi_parent_tree_resumes_without_loss() {
    for partitioned in [None, Some(3)] {
        let shape = Shape {
            parents: vec![
                ("org_repos", vec!["a", "b", "a", "c", "e", "b"]),
                ("user_repos", vec!["b", "d", "c", "e"]),
            ],
            incremental_parents: true,
            partitioned,
            ..Shape::default()
        };
        let f = Files::new();
        let (out, full) = run(tap_of(&shape), &["--config", &f.empty_config()]);
        assert_eq!(out.exit_code, 0, "{:?}", out.error);
        assert_eq!(ids(&full, "commits").len(), 10);
        for cut in 0..=full.len() {
            let missed = missed_after_cut(&shape, &full, cut);
            assert!(
                missed.is_empty(),
                "{partitioned:?}: cut at line {cut}: lost {missed:?}"
            );
        }
    }
}

#[test]
fn child_of_must_name_a_stream_declared_before_it() {
    let f = Files::new();
    let lonely = Stream::new("c")
        .schema(schema())
        .child_of("nowhere")
        .sync(|_ctx: SyncContext<Value>| async { Ok(()) });
    let (out, _) = run(
        Tap::new("t").stream(lonely),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 1);
    let error = out.error.unwrap();
    assert!(
        error.contains(r#"stream `c`: child_of("nowhere"): there is no such stream"#),
        "{error}"
    );
    let early = Stream::new("c")
        .schema(schema())
        .child_of("p")
        .sync(|_ctx: SyncContext<Value>| async { Ok(()) });
    let p = Stream::new("p")
        .schema(schema())
        .sync(|_ctx: SyncContext<Value>| async { Ok(()) });
    let (out, _) = run(
        Tap::new("t").stream(early).stream(p),
        &["--config", &f.empty_config()],
    );
    assert!(
        out.error
            .unwrap()
            .contains("a parent must be declared before its child")
    );
}
