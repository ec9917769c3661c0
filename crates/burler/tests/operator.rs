//! What an operator turns on in any tap's config or command line, through the real runner: stream
//! maps and flattening, BATCH files, `--test`, progress markers of unsorted streams, and resumable
//! FULL_TABLE syncs.

mod common;

use std::io::Read;

use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

fn nested_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
        "address": {"type": "object", "properties": {
            "city": {"type": "string"},
            "geo": {"type": "object", "properties": {"lat": {"type": "number"}}}}}
    }})
}

fn people(n: u64) -> Vec<Value> {
    (1..=n)
        .map(|id| {
            json!({"id": id, "email": format!("p{id}@example.com"),
                   "updated_at": format!("2024-01-01T00:{:02}:00Z", id),
                   "address": {"city": format!("city {id}"), "geo": {"lat": id as f64 / 2.0}}})
        })
        .collect()
}

/// `users` (INCREMENTAL on updated_at) with a child `visits` per user.
fn users_tap(n: u64) -> Tap<Value, ()> {
    let visits = Stream::new("visits")
        .schema(json!({"type": "object", "properties": {
            "user_id": {"type": "integer"}, "n": {"type": "integer"}}}))
        .key(["user_id", "n"])
        .sync(|ctx: SyncContext<Value>| async move {
            let user = ctx.partition().and_then(|p| p["id"].as_u64()).unwrap_or(0);
            ctx.emit(json!({"user_id": user, "n": 1}))?;
            Ok(())
        });
    Tap::new("tap-people").stream(
        Stream::new("users")
            .schema(nested_schema())
            .key(["id"])
            .incremental("updated_at")
            .sync(move |ctx: SyncContext<Value>| async move {
                ctx.emit_all(people(n))?;
                Ok(())
            })
            .substream(visits),
    )
}

fn schema_of<'a>(msgs: &'a [Value], stream: &str) -> &'a Value {
    msgs.iter()
        .find(|m| m["type"] == "SCHEMA" && m["stream"] == stream)
        .unwrap_or_else(|| panic!("no SCHEMA of {stream}"))
}

fn property_names(schema: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = schema["schema"]["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}

#[test]
fn a_stream_map_aliases_adds_drops_filters_and_the_schema_and_children_follow() {
    let f = Files::new();
    let config = f.config(json!({
        "stream_map_config": {"salt": "s"},
        "stream_maps": {"users": {
            "__alias__": "people",
            "email": null,
            "email_hash": "md5(config['salt'] + record['email'])",
            "__filter__": "record['id'] % 2 == 0"
        }}
    }));
    let (out, msgs) = run(users_tap(6), &["--config", &config]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert!(records(&msgs, "users").is_empty());
    let kept = records(&msgs, "people");
    assert_eq!(
        kept.iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [2, 4, 6]
    );
    assert!(kept[0].get("email").is_none());
    // md5("s" + "p2@example.com"), by Python's hashlib
    assert_eq!(kept[0]["email_hash"], "49647fae0af0804ed9d97a71658d16ed");
    let schema = schema_of(&msgs, "people");
    assert_eq!(
        property_names(schema),
        ["address", "email_hash", "id", "updated_at"]
    );
    assert_eq!(schema["key_properties"], json!(["id"]));
    assert_eq!(schema["bookmark_properties"], json!(["updated_at"]));
    // singer-sdk syncs no children of a record the primary map filters out.
    let visits: Vec<u64> = records(&msgs, "visits")
        .iter()
        .map(|r| r["user_id"].as_u64().unwrap())
        .collect();
    assert_eq!(visits, [2, 4, 6]);
    // The bookmark follows the input records, filtered ones included, under the input's name.
    let state = last_state(&msgs);
    assert_eq!(
        state["bookmarks"]["users"]["replication_key_value"],
        "2024-01-01T00:06:00Z"
    );
}

#[test]
fn a_cloned_stream_and_a_removed_one_and_else_null_keep_only_what_is_listed() {
    let f = Files::new();
    let config = f.config(json!({"stream_maps": {
        "users": {"id": "id", "__else__": null},
        "user_emails": {"__source__": "users", "email": "email", "__else__": null},
        "visits": null
    }}));
    let (out, msgs) = run(users_tap(3), &["--config", &config]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(property_names(schema_of(&msgs, "users")), ["id"]);
    assert_eq!(
        property_names(schema_of(&msgs, "user_emails")),
        ["email", "id"]
    );
    assert_eq!(records(&msgs, "users")[0], &json!({"id": 1}));
    assert_eq!(
        records(&msgs, "user_emails")[2],
        &json!({"id": 3, "email": "p3@example.com"})
    );
    assert!(
        !msgs.iter().any(|m| m["stream"] == "visits"),
        "a removed stream sends nothing"
    );
}

#[test]
fn flattening_writes_parent_child_properties_to_the_depth_and_json_text_below() {
    let f = Files::new();
    let config = f.config(json!({"flattening_enabled": true, "flattening_max_depth": 1}));
    let (out, msgs) = run(users_tap(2), &["--config", &config]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(
        property_names(schema_of(&msgs, "users")),
        ["address__city", "address__geo", "email", "id", "updated_at"]
    );
    let first = records(&msgs, "users")[0];
    assert_eq!(first["address__city"], "city 1");
    assert_eq!(
        first["address__geo"], r#"{"lat":0.5}"#,
        "compact, as singer-sdk"
    );
    assert!(first.get("address").is_none());
}

#[test]
fn a_bad_expression_is_one_startup_error_naming_the_stream_and_key() {
    let f = Files::new();
    let config = f.config(json!({"stream_maps": {"users": {"x": "record['id'] +* 2"}}}));
    let (out, msgs) = run(users_tap(2), &["--config", &config]);
    assert_eq!(out.exit_code, 1);
    assert!(msgs.is_empty(), "nothing is written: {msgs:?}");
    let error = out.error.unwrap_or_default();
    assert!(error.contains("stream_maps.users.x"), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
}

fn read_batch_file(url: &str) -> Vec<Value> {
    let path = url.strip_prefix("file://").unwrap_or(url);
    let file = std::fs::File::open(path).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    parse(&text)
}

#[test]
fn batch_files_replace_records_and_every_state_follows_the_batch_of_its_records() {
    let f = Files::new();
    let root = format!("file://{}", f.dir.path().display());
    let config = f.config(json!({"batch_config": {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": root, "prefix": "t-"},
        "batch_size": 4}}));
    let (out, msgs) = run(users_tap(10), &["--config", &config]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert!(of_type(&msgs, "RECORD").is_empty());
    let mut users = Vec::new();
    let mut visits = Vec::new();
    let mut delivered = 0;
    for (i, m) in msgs.iter().enumerate() {
        match m["type"].as_str() {
            Some("BATCH") => {
                let rows: Vec<Value> = m["manifest"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|u| read_batch_file(u.as_str().unwrap()))
                    .collect();
                if m["stream"] == "users" {
                    delivered = rows.iter().filter_map(|r| r["id"].as_u64()).max().unwrap();
                    users.extend(rows);
                } else {
                    visits.extend(rows);
                }
            }
            Some("STATE") => {
                if let Some(Value::String(at)) =
                    m["value"]["bookmarks"]["users"].get("replication_key_value")
                {
                    let covered: u64 = at[14..16].parse().unwrap();
                    assert!(
                        covered <= delivered,
                        "STATE {i} covers user {covered}, BATCH files hold up to {delivered}"
                    );
                }
            }
            _ => {}
        }
    }
    assert_eq!(users.len(), 10);
    assert_eq!(visits.len(), 10);
    assert_eq!(users[0]["address"]["city"], "city 1");
    let batches = of_type(&msgs, "BATCH");
    assert!(
        batches.iter().filter(|m| m["stream"] == "users").count() >= 3,
        "batch_size 4 for 10 users"
    );
}

#[test]
fn parallel_partitions_batch_every_record_through_files_of_their_own() {
    let f = Files::new();
    let root = format!("file://{}", f.dir.path().display());
    let config = f.config(json!({"batch_config": {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": root}, "batch_size": 4}}));
    let tap = Tap::new("t").stream(
        Stream::new("events")
            .schema(event_schema())
            .key(["id"])
            .incremental("updated_at")
            .partitions(|_ctx: SyncContext<Value>| async move {
                Ok((0..4).map(|p| json!({"shard": p})).collect())
            })
            .max_concurrent_partitions(2)
            .sync(|ctx: SyncContext<Value>| async move {
                let shard = ctx
                    .partition()
                    .and_then(|p| p["shard"].as_u64())
                    .unwrap_or(0);
                for mut r in events(10, 0) {
                    r["id"] = json!(shard * 100 + r["id"].as_u64().unwrap_or(0));
                    ctx.emit(r)?;
                }
                Ok(())
            }),
    );
    let (out, msgs) = run(tap, &["--config", &config]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let mut ids: Vec<u64> = of_type(&msgs, "BATCH")
        .iter()
        .flat_map(|m| m["manifest"].as_array().unwrap().clone())
        .flat_map(|u| read_batch_file(u.as_str().unwrap()))
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    let expected: Vec<u64> = (0..4)
        .flat_map(|s| (1..=10).map(move |i| s * 100 + i))
        .collect();
    assert_eq!(ids, expected);
    let partitions = &last_state(&msgs)["bookmarks"]["events"]["partitions"];
    assert_eq!(partitions.as_array().map(Vec::len), Some(4), "{partitions}");
}

#[test]
fn a_bad_batch_config_is_a_startup_error() {
    let f = Files::new();
    let config = f.config(json!({"batch_config": {
        "encoding": {"format": "avro"}, "storage": {"root": "file:///tmp"}}}));
    let (out, msgs) = run(users_tap(2), &["--config", &config]);
    assert_eq!(out.exit_code, 1);
    assert!(msgs.is_empty());
    assert!(out.error.unwrap_or_default().contains("avro"));
}

#[test]
fn test_mode_writes_one_record_per_stream_no_state_and_no_activate_version() {
    let f = Files::new();
    let table = || {
        Stream::new("items")
            .schema(event_schema())
            .key(["id"])
            .full_table()
            .sync(|ctx: SyncContext<Value>| async move {
                for r in events(5, 0) {
                    ctx.emit(r)?;
                }
                Ok(())
            })
    };
    let tap = || users_tap(5).stream(table());
    let (out, msgs) = run(tap(), &["--config", &f.empty_config(), "--test"]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(records(&msgs, "users").len(), 1);
    assert_eq!(records(&msgs, "visits").len(), 1);
    assert_eq!(records(&msgs, "items").len(), 1);
    assert!(of_type(&msgs, "STATE").is_empty(), "{msgs:?}");
    assert!(of_type(&msgs, "ACTIVATE_VERSION").is_empty());

    let (out, msgs) = run(tap(), &["--config", &f.empty_config(), "--test=schema"]);
    assert_eq!(out.exit_code, 0);
    let types: Vec<&str> = msgs.iter().filter_map(|m| m["type"].as_str()).collect();
    assert_eq!(types, ["SCHEMA", "SCHEMA", "SCHEMA"]);

    let (out, _) = run(tap(), &["--config", &f.empty_config(), "--test=some"]);
    assert_eq!(out.exit_code, 2);
}

fn unsorted_tap(fail_after: Option<usize>) -> Tap<Value, ()> {
    Tap::new("t").stream(
        Stream::new("events")
            .schema(event_schema())
            .key(["id"])
            .incremental("updated_at")
            .unsorted()
            .bookmark_strategy(BookmarkStrategy::Records(3))
            .sync(move |ctx: SyncContext<Value>| async move {
                let mut rows = events(8, 0);
                rows.reverse();
                for (i, r) in rows.into_iter().enumerate() {
                    if fail_after == Some(i) {
                        return Err("source went away".into());
                    }
                    ctx.emit(r)?;
                }
                Ok(())
            }),
    )
}

#[test]
fn an_unsorted_stream_keeps_progress_markers_and_promotes_them_at_the_end() {
    let f = Files::new();
    let (out, msgs) = run(unsorted_tap(None), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0);
    let markers: Vec<&Value> = of_type(&msgs, "STATE")
        .iter()
        .filter_map(|m| m["value"]["bookmarks"]["events"].get("progress_markers"))
        .collect();
    assert!(!markers.is_empty(), "{msgs:?}");
    assert_eq!(
        markers[0],
        &json!({"Note": "Progress is not resumable if interrupted.",
                "replication_key": "updated_at",
                "replication_key_value": "2024-01-01T00:08:00Z"})
    );
    let state = last_state(&msgs);
    assert_eq!(
        state["bookmarks"]["events"],
        json!({"replication_key": "updated_at",
               "replication_key_value": "2024-01-01T00:08:00Z"})
    );

    // Cut short: the markers go, and the bookmark does not move (older records were left).
    let (out, msgs) = run(unsorted_tap(Some(5)), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    assert_eq!(last_state(&msgs)["bookmarks"]["events"], json!({}));
}

#[test]
fn a_singer_sdk_state_with_progress_markers_reads_as_its_bookmark() {
    let f = Files::new();
    let state = f.json(
        "state.json",
        &json!({"bookmarks": {"events": {
            "replication_key": "updated_at",
            "replication_key_value": "2024-01-01T00:05:00Z",
            "progress_markers": {"Note": "Progress is not resumable if interrupted.",
                                 "replication_key": "updated_at",
                                 "replication_key_value": "2024-01-01T00:07:00Z"}}}}),
    );
    let (out, msgs) = run(
        unsorted_tap(None),
        &["--config", &f.empty_config(), "--state", &state],
    );
    assert_eq!(out.exit_code, 0);
    assert!(
        last_state(&msgs)["bookmarks"]["events"]
            .get("progress_markers")
            .is_none()
    );
}

/// A FULL_TABLE stream read in pages of 3 by a cursor (the last id), checkpointing after each
/// page; it fails once after `fail_at` records when given.
fn paged_table(total: u64, fail_at: Option<u64>) -> Tap<Value, ()> {
    Tap::new("t").stream(
        Stream::new("rows")
            .schema(event_schema())
            .key(["id"])
            .full_table()
            .sync(move |ctx: SyncContext<Value>| async move {
                let mut after = ctx.resume_point().and_then(|v| v.as_u64()).unwrap_or(0);
                while after < total {
                    let page: Vec<Value> = events(total, 0)
                        .into_iter()
                        .filter(|r| r["id"].as_u64() > Some(after))
                        .take(3)
                        .collect();
                    for r in &page {
                        if fail_at.is_some_and(|n| r["id"].as_u64() > Some(n)) {
                            return Err("connection reset".into());
                        }
                        ctx.emit(r.clone())?;
                    }
                    after = page.last().and_then(|r| r["id"].as_u64()).unwrap_or(total);
                    ctx.checkpoint(after).await?;
                }
                Ok(())
            }),
    )
}

#[test]
fn a_cut_full_table_sync_resumes_after_its_checkpoint_under_the_same_version() {
    let f = Files::new();
    let (out, first) = run(paged_table(10, Some(7)), &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    let state = last_state(&first);
    assert_eq!(state["bookmarks"]["rows"]["resume_point"], 6);
    let version = state["bookmarks"]["rows"]["version"].as_i64().unwrap();
    let activations = of_type(&first, "ACTIVATE_VERSION");
    let first_record = first.iter().position(|m| m["type"] == "RECORD").unwrap();
    let last_activation = first
        .iter()
        .rposition(|m| m["type"] == "ACTIVATE_VERSION")
        .unwrap();
    assert_eq!(
        activations.len(),
        1,
        "only the first-ever one, before any row"
    );
    assert!(last_activation < first_record);

    let st = f.json("state.json", &state);
    let (out, second) = run(
        paged_table(10, None),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let ids: Vec<u64> = records(&second, "rows")
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [7, 8, 9, 10], "only the rows after the checkpoint");
    assert!(
        of_type(&second, "RECORD")
            .iter()
            .all(|m| m["version"] == version),
        "the same table version"
    );
    let activations = of_type(&second, "ACTIVATE_VERSION");
    assert_eq!(activations.len(), 1);
    assert_eq!(activations[0]["version"], version);
    let done = last_state(&second);
    assert_eq!(
        done["bookmarks"]["rows"],
        json!({}),
        "position and version leave"
    );

    // The next run reads the whole table again, as a new version.
    let st = f.json("state2.json", &done);
    let (_, third) = run(
        paged_table(10, None),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(records(&third, "rows").len(), 10);
}

#[test]
fn checkpoint_on_an_incremental_stream_is_an_error_naming_the_stream() {
    let f = Files::new();
    let tap = Tap::new("t").stream(
        Stream::new("events")
            .schema(event_schema())
            .key(["id"])
            .incremental("updated_at")
            .sync(|ctx: SyncContext<Value>| async move {
                ctx.checkpoint(3).await?;
                Ok(())
            }),
    );
    let (out, _) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    assert!(
        out.failures
            .iter()
            .any(|l| l.contains("events") && l.contains("FULL_TABLE")),
        "{:?}",
        out.failures
    );
}
