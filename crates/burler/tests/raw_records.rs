//! Records passed through as the source sent them (`Box<RawValue>`), through the real runner:
//! written verbatim, the replication key read from the text, and every path that needs the
//! record's fields (catalog selection, stream maps, sub-streams, the bookmark filter, hooks)
//! seeing the same record as a `Value` stream would.

mod common;

use burler::CaptureBuffer;
use burler::prelude::*;
use burler::serde_json::value::RawValue;
use common::*;
use serde_json::{Map, Value, json};

type Raw = Box<RawValue>;

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}}
    }})
}

/// Record `id` as a source would send it: spaces after separators, the key after a nested object.
fn text(id: u64) -> String {
    format!(
        r#"{{"id": {id}, "address": {{"city": "c{id}", "updated_at": "nested"}}, "email": "p{id}@example.com", "updated_at": "2024-01-01T00:{id:02}:00Z"}}"#
    )
}

fn raw(id: u64) -> Raw {
    RawValue::from_string(text(id)).unwrap()
}

/// `users` (INCREMENTAL on updated_at) as raw records, with a child `visits` per user.
fn raw_tap(n: u64) -> Tap<Value, ()> {
    let visits = Stream::new("visits")
        .schema(json!({"type": "object", "properties": {
            "user_id": {"type": "integer"}, "n": {"type": "integer"}}}))
        .key(["user_id", "n"])
        .sync(|ctx: SyncContext<Value>| async move {
            let user = ctx.partition().and_then(|p| p["id"].as_u64()).unwrap_or(0);
            ctx.emit(json!({"user_id": user, "n": 1}))?;
            Ok(())
        });
    Tap::new("tap-raw").stream(
        Stream::new("users")
            .schema(schema())
            .key(["id"])
            .incremental("updated_at")
            .sync(move |ctx: SyncContext<Raw>| async move {
                ctx.emit_all((1..=n).map(raw))?;
                Ok(())
            })
            .substream(visits),
    )
}

fn ids(records: &[&Value]) -> Vec<u64> {
    records.iter().filter_map(|r| r["id"].as_u64()).collect()
}

#[test]
fn raw_records_are_written_as_sent_and_advance_the_bookmark() {
    let f = Files::new();
    let buf = CaptureBuffer::new();
    let outcome = raw_tap(3).run_with(
        ["tap-raw", "--config", &f.empty_config()],
        Box::new(buf.clone()),
    );
    assert_eq!(outcome.exit_code, 0, "{:?}", outcome.error);
    let lines = buf.text();
    let first = lines
        .lines()
        .find(|l| l.contains(r#""type":"RECORD","stream":"users""#))
        .unwrap();
    assert!(
        first.contains(&text(1)),
        "the record's text as sent: {first}"
    );
    let msgs = parse(&lines);
    let users = records(&msgs, "users");
    assert_eq!(*users[1], serde_json::from_str::<Value>(&text(2)).unwrap());
    assert_eq!(
        last_state(&msgs)["bookmarks"]["users"]["replication_key_value"],
        "2024-01-01T00:03:00Z",
        "the top-level updated_at, not the nested one"
    );
    let visits: Vec<u64> = records(&msgs, "visits")
        .iter()
        .filter_map(|r| r["user_id"].as_u64())
        .collect();
    assert_eq!(
        visits,
        [1, 2, 3],
        "each child context has its raw parent's key"
    );
}

#[test]
fn a_deselected_field_leaves_a_raw_record() {
    let f = Files::new();
    let catalog = json!({"streams": [{"tap_stream_id": "users", "stream": "users", "schema": schema(),
        "metadata": [{"breadcrumb": [], "metadata": {"selected": true}},
                     {"breadcrumb": ["properties", "email"], "metadata": {"selected": false}}]}]});
    let cat = f.json("catalog.json", &catalog);
    let (out, msgs) = run(
        raw_tap(2),
        &["--config", &f.empty_config(), "--catalog", &cat],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let users = records(&msgs, "users");
    assert_eq!(ids(&users), [1, 2]);
    assert!(users.iter().all(|r| r.get("email").is_none()), "{users:?}");
    assert_eq!(users[0]["address"]["city"], "c1");
    assert_eq!(
        last_state(&msgs)["bookmarks"]["users"]["replication_key_value"],
        "2024-01-01T00:02:00Z"
    );
}

#[test]
fn a_stream_map_reads_the_fields_of_a_raw_record() {
    let f = Files::new();
    let config = f.config(json!({"stream_maps": {"users": {
        "email": null,
        "city": "record['address']['city']",
        "__filter__": "record['id'] != 2"
    }}}));
    let (out, msgs) = run(raw_tap(3), &["--config", &config]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let users = records(&msgs, "users");
    assert_eq!(ids(&users), [1, 3]);
    assert_eq!(users[1]["city"], "c3");
    assert!(users[1].get("email").is_none());
}

#[test]
fn raw_records_older_than_the_bookmark_are_filtered() {
    let f = Files::new();
    let state = f.json(
        "state.json",
        &json!({"bookmarks": {"users": {"replication_key": "updated_at",
            "replication_key_value": "2024-01-01T00:03:00Z"}}}),
    );
    let tap = Tap::new("tap-raw").stream(
        Stream::new("users")
            .schema(schema())
            .key(["id"])
            .incremental("updated_at")
            .filter_older_than_bookmark()
            .sync(|ctx: SyncContext<Raw>| async move {
                ctx.emit_all((1..=5).map(raw))?;
                Ok(())
            }),
    );
    let (out, msgs) = run(tap, &["--config", &f.empty_config(), "--state", &state]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(ids(&records(&msgs, "users")), [3, 4, 5]);
}

#[test]
fn a_hook_sees_the_fields_of_a_raw_record() {
    let f = Files::new();
    let tap = Tap::new("tap-raw").stream(
        Stream::new("users")
            .schema(schema())
            .post_transform(|mut r: Map<String, Value>| {
                r.insert("seen_id".into(), r["id"].clone());
                Some(r)
            })
            .sync(|ctx: SyncContext<Raw>| async move {
                ctx.emit_all((1..=2).map(raw))?;
                Ok(())
            }),
    );
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(records(&msgs, "users")[1]["seen_id"], 2);
}
