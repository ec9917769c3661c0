//! The emit family: one sync function feeding several streams, selection of fed streams, hooks.

mod common;

use burler::prelude::*;
use common::*;
use serde_json::{Map, Value, json};

fn simple_schema() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "integer"}, "repo": {"type": "integer"}, "secret": {"type": "string"}}})
}

fn graph_tap() -> Tap {
    Tap::new("t")
        .stream(
            Stream::new("repos")
                .schema(simple_schema())
                .key(["id"])
                .emits_to(["issues"])
                .sync(|ctx: SyncContext<Value>| async move {
                    for repo in 1..=2 {
                        ctx.emit(json!({"id": repo}))?;
                        for issue in 1..=3 {
                            ctx.emit_to("issues", &json!({"id": repo * 10 + issue, "repo": repo}))?;
                        }
                    }
                    Ok(())
                }),
        )
        .stream(
            Stream::<Value, Value, ()>::new("issues")
                .schema(simple_schema())
                .key(["id"]),
        )
}

fn catalog_selecting(f: &Files, tap_selected: &[&str]) -> String {
    let (_, _) = (tap_selected, ());
    let streams: Vec<Value> = ["repos", "issues"]
        .iter()
        .map(|s| {
            json!({"tap_stream_id": s, "stream": s, "schema": simple_schema(), "key_properties": ["id"],
                   "metadata": [{"breadcrumb": [], "metadata": {"selected": tap_selected.contains(s)}}]})
        })
        .collect();
    f.json("catalog.json", &json!({"streams": streams}))
}

#[test]
fn one_function_feeds_two_streams_with_schemas_first() {
    let f = Files::new();
    let (out, msgs) = run(graph_tap(), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0);
    assert_eq!(records(&msgs, "repos").len(), 2);
    assert_eq!(records(&msgs, "issues").len(), 6);
    let schema_at = |s: &str| {
        msgs.iter()
            .position(|m| m["type"] == "SCHEMA" && m["stream"] == s)
            .unwrap()
    };
    let first_issue = msgs
        .iter()
        .position(|m| m["type"] == "RECORD" && m["stream"] == "issues")
        .unwrap();
    assert!(schema_at("issues") < first_issue);
    assert!(schema_at("repos") < first_issue);
}

#[test]
fn records_for_an_unselected_stream_are_dropped_and_counted() {
    let f = Files::new();
    let cat = catalog_selecting(&f, &["repos"]);
    let (out, msgs) = run(
        graph_tap(),
        &["--config", &f.empty_config(), "--catalog", &cat],
    );
    assert_eq!(out.exit_code, 0);
    assert!(records(&msgs, "issues").is_empty());
    assert!(
        !msgs
            .iter()
            .any(|m| m["type"] == "SCHEMA" && m["stream"] == "issues")
    );
    let report = out.report.unwrap();
    let repos = report.streams.iter().find(|s| s.stream == "repos").unwrap();
    assert_eq!(repos.stats.emitted, 2);
    let issues = report
        .streams
        .iter()
        .find(|s| s.stream == "issues")
        .unwrap();
    assert_eq!((issues.stats.emitted, issues.stats.dropped), (0, 6));
}

#[test]
fn selecting_only_the_fed_stream_still_runs_its_feeder_silently() {
    let f = Files::new();
    let cat = catalog_selecting(&f, &["issues"]);
    let (out, msgs) = run(
        graph_tap(),
        &["--config", &f.empty_config(), "--catalog", &cat],
    );
    assert_eq!(out.exit_code, 0);
    assert_eq!(records(&msgs, "issues").len(), 6);
    assert!(records(&msgs, "repos").is_empty());
    assert!(
        !msgs
            .iter()
            .any(|m| m["type"] == "SCHEMA" && m["stream"] == "repos")
    );
}

#[test]
fn emitting_to_an_unknown_or_undeclared_stream_fails_the_stream() {
    let f = Files::new();
    for (target, expected) in [("nope", "unknown stream `nope`"), ("other", "not declared")] {
        let tap = Tap::new("t")
            .stream(Stream::new("a").schema(simple_schema()).sync(
                move |ctx: SyncContext<Value>| async move {
                    ctx.emit_to(target, &json!({"id": 1}))?;
                    Ok(())
                },
            ))
            .stream(
                Stream::new("other")
                    .schema(simple_schema())
                    .sync(|_ctx: SyncContext<Value>| async { Ok(()) }),
            );
        let (out, _) = run(tap, &["--config", &f.empty_config()]);
        assert_eq!(out.exit_code, 1);
        let report = out.report.unwrap();
        let err = report
            .streams
            .iter()
            .find(|s| s.stream == "a")
            .unwrap()
            .error
            .clone()
            .unwrap();
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn hooks_run_after_selection_per_stream_then_tap_wide_and_can_drop() {
    let f = Files::new();
    let catalog = json!({"streams": [{"tap_stream_id": "a", "stream": "a", "schema": simple_schema(),
        "metadata": [{"breadcrumb": [], "metadata": {"selected": true}},
                     {"breadcrumb": ["properties", "secret"], "metadata": {"selected": false}}]}]});
    let cat = f.json("catalog.json", &catalog);
    let tap = Tap::new("t")
        .stream(
            Stream::new("a")
                .schema(simple_schema())
                .post_transform(|mut r: Map<String, Value>| {
                    assert!(!r.contains_key("secret"), "hook saw a deselected field");
                    if r["id"] == 2 {
                        return None;
                    }
                    r.insert("stream_hook".into(), json!(true));
                    Some(r)
                })
                .sync(|ctx: SyncContext<Value>| async move {
                    ctx.emit_all((1..=3).map(|i| json!({"id": i, "secret": "s3cr3t"})))?;
                    Ok(())
                }),
        )
        .post_transform(|mut r| {
            r.insert("tap_hook".into(), json!(r.contains_key("stream_hook")));
            Some(r)
        });
    let (out, msgs) = run(tap, &["--config", &f.empty_config(), "--catalog", &cat]);
    assert_eq!(out.exit_code, 0);
    let recs = records(&msgs, "a");
    assert_eq!(recs.len(), 2);
    assert!(
        recs.iter()
            .all(|r| r["tap_hook"] == true && r.get("secret").is_none())
    );
    assert_eq!(out.report.unwrap().streams[0].stats.dropped, 1);
}

#[test]
fn emit_stream_drains_an_async_stream() {
    let f = Files::new();
    let tap = Tap::new("t").stream(Stream::new("a").schema(simple_schema()).sync(
        |ctx: SyncContext<Value>| async move {
            let items =
                futures::stream::iter((1..=4).map(|i| Ok::<_, std::io::Error>(json!({"id": i}))));
            let n = ctx.emit_stream(items).await?;
            assert_eq!(n, 4);
            Ok(())
        },
    ));
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0);
    assert_eq!(records(&msgs, "a").len(), 4);
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Account {
    id: u64,
    secret: String,
    owner: Owner,
    updated_at: String,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Owner {
    login: String,
    email: String,
}

fn accounts() -> Tap {
    Tap::new("t").stream(
        Stream::new("accounts")
            .schema_from_type()
            .key(["id"])
            .incremental("updated_at")
            .sync(|ctx: SyncContext<Account>| async move {
                for id in 1..=3 {
                    ctx.emit(Account {
                        id,
                        secret: "s3cr3t".into(),
                        owner: Owner {
                            login: format!("u{id}"),
                            email: "e@x".into(),
                        },
                        updated_at: format!("2024-01-0{id}T00:00:00Z"),
                    })?;
                }
                Ok(())
            }),
    )
}

/// A catalog for `accounts` deselecting the fields at `breadcrumbs`.
fn deselecting(f: &Files, breadcrumbs: &[Value]) -> String {
    let mut metadata = vec![json!({"breadcrumb": [], "metadata": {"selected": true}})];
    metadata.extend(
        breadcrumbs
            .iter()
            .map(|b| json!({"breadcrumb": b, "metadata": {"selected": false}})),
    );
    let schema = serde_json::to_value(burler::schema::for_type::<Account>()).unwrap();
    f.json(
        "catalog.json",
        &json!({"streams": [{"tap_stream_id": "accounts", "stream": "accounts",
            "schema": schema, "metadata": metadata}]}),
    )
}

#[test]
fn typed_records_leave_out_deselected_fields_top_level_and_nested() {
    let f = Files::new();
    let cases = [
        (
            vec![json!(["properties", "secret"])],
            json!({"login": "u3", "email": "e@x"}),
            false,
        ),
        (
            vec![json!(["properties", "owner", "properties", "email"])],
            json!({"login": "u3"}),
            true,
        ),
        // The replication key is automatic: a deselection is ignored (with a warning).
        (
            vec![
                json!(["properties", "updated_at"]),
                json!(["properties", "owner"]),
            ],
            Value::Null,
            true,
        ),
    ];
    for (deselected, owner, has_secret) in cases {
        let cat = deselecting(&f, &deselected);
        let (out, msgs) = run(
            accounts(),
            &["--config", &f.empty_config(), "--catalog", &cat],
        );
        assert_eq!(out.exit_code, 0, "{:?}", out.error);
        let recs = records(&msgs, "accounts");
        assert_eq!(recs.len(), 3);
        let last = recs[2];
        assert_eq!(last.get("secret").is_some(), has_secret, "{last}");
        assert_eq!(
            last.get("owner").cloned().unwrap_or(Value::Null),
            owner,
            "{last}"
        );
        assert_eq!(last["updated_at"], "2024-01-03T00:00:00Z");
        let state = last_state(&msgs);
        assert_eq!(
            state["bookmarks"]["accounts"]["replication_key_value"],
            "2024-01-03T00:00:00Z"
        );
        let schema = &of_type(&msgs, "SCHEMA")[0]["schema"]["properties"];
        assert_eq!(schema.get("secret").is_some(), has_secret, "{schema}");
    }
}
