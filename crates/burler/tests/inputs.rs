//! Catalog and state inputs a user can get wrong: bookmarks of the wrong type or for another key,
//! a whole STATE message as the state file, FULL_TABLE asked by the catalog, a catalog schema
//! without some fields, and a replication key that is not valid.

mod common;

use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"}}})
}

/// Ten orders, day `i` of January 2024; the sync starts where the context says.
fn orders() -> Tap {
    Tap::new("t").stream(
        Stream::new("orders")
            .schema(schema())
            .key(["id"])
            .incremental("updated_at")
            .sync(|ctx: SyncContext<Value>| async move {
                let from = ctx.replication_start_datetime();
                for day in 1..=10 {
                    let at = format!("2024-01-{day:02}T00:00:00Z");
                    let ts: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
                    if from.is_none_or(|f| ts >= f) {
                        ctx.emit(json!({"id": day, "email": "a@b", "updated_at": at}))?;
                    }
                }
                Ok(())
            }),
    )
}

fn catalog(f: &Files, stream_metadata: Value, schema: Value) -> String {
    f.json(
        "catalog.json",
        &json!({"streams": [{"tap_stream_id": "orders", "stream": "orders", "schema": schema,
            "metadata": [{"breadcrumb": [], "metadata": stream_metadata}]}]}),
    )
}

fn ids(msgs: &[Value]) -> Vec<i64> {
    records(msgs, "orders")
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_bookmark_that_is_not_a_date_time_ends_the_run_before_any_record() {
    let f = Files::new();
    for value in [json!("not a date"), json!(5)] {
        let state = f.json(
            "state.json",
            &json!({"bookmarks": {"orders": {"replication_key": "updated_at", "replication_key_value": value}}}),
        );
        let (out, msgs) = run(
            orders(),
            &["--config", &f.empty_config(), "--state", &state],
        );
        assert_eq!(out.exit_code, 1);
        let error = out.error.unwrap();
        assert!(
            error.contains("orders") && error.contains("not a date-time"),
            "{error}"
        );
        assert!(msgs.is_empty(), "{msgs:?}");
    }
}

#[test]
fn a_bookmark_kept_for_another_key_is_ignored_and_replaced() {
    let f = Files::new();
    let state = f.json(
        "state.json",
        &json!({"bookmarks": {"orders": {"replication_key": "id", "replication_key_value": 9}}}),
    );
    let (out, msgs) = run(
        orders(),
        &["--config", &f.empty_config(), "--state", &state],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(ids(&msgs).len(), 10);
    let bookmark = &last_state(&msgs)["bookmarks"]["orders"];
    assert_eq!(bookmark["replication_key"], "updated_at");
    assert_eq!(bookmark["replication_key_value"], "2024-01-10T00:00:00Z");
}

#[test]
fn a_whole_state_message_as_the_state_file_resumes_from_its_value() {
    let f = Files::new();
    let state = f.json(
        "state.json",
        &json!({"type": "STATE", "value": {"bookmarks": {"orders": {
            "replication_key": "updated_at", "replication_key_value": "2024-01-08T00:00:00Z"}}}}),
    );
    let (out, msgs) = run(
        orders(),
        &["--config", &f.empty_config(), "--state", &state],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(ids(&msgs), vec![8, 9, 10]);
    let last = last_state(&msgs);
    assert!(
        last.get("type").is_none() && last.get("value").is_none(),
        "{last}"
    );
}

#[test]
fn full_table_asked_by_the_catalog_ignores_start_date_and_bookmark() {
    let f = Files::new();
    let cat = catalog(
        &f,
        json!({"selected": true, "replication-method": "FULL_TABLE"}),
        schema(),
    );
    let config = f.config(json!({"start_date": "2024-01-09T00:00:00Z"}));
    let state = f.json(
        "state.json",
        &json!({"bookmarks": {"orders": {"replication_key": "updated_at", "replication_key_value": "2024-01-10T00:00:00Z"}}}),
    );
    let (out, msgs) = run(
        orders(),
        &["--config", &config, "--catalog", &cat, "--state", &state],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(ids(&msgs).len(), 10, "a full table is the whole table");
    assert!(!of_type(&msgs, "ACTIVATE_VERSION").is_empty());
}

#[test]
fn fields_missing_from_the_catalog_schema_are_left_out_of_records() {
    let f = Files::new();
    let mut narrow = schema();
    narrow["properties"]
        .as_object_mut()
        .unwrap()
        .remove("email");
    narrow["properties"].as_object_mut().unwrap().remove("id");
    let cat = catalog(&f, json!({"selected": true}), narrow);
    let (out, msgs) = run(
        orders(),
        &["--config", &f.empty_config(), "--catalog", &cat],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let first = records(&msgs, "orders")[0];
    assert_eq!(
        first,
        &json!({"id": 1, "updated_at": "2024-01-01T00:00:00Z"}),
        "email dropped, the key property kept"
    );
}

#[test]
fn a_replication_key_that_is_not_valid_falls_back_to_the_declared_one() {
    let f = Files::new();
    let cat = catalog(
        &f,
        json!({"selected": true, "replication-key": "id", "replication-method": "INCREMENTAL"}),
        schema(),
    );
    let (out, msgs) = run(
        orders(),
        &["--config", &f.empty_config(), "--catalog", &cat],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let bookmark = &last_state(&msgs)["bookmarks"]["orders"];
    assert_eq!(bookmark["replication_key"], "updated_at");
    assert_eq!(bookmark["replication_key_value"], "2024-01-10T00:00:00Z");
}

#[test]
fn config_values_are_checked_by_every_keyword_and_never_printed() {
    #[burler::config]
    #[allow(dead_code)]
    struct Config {
        /// Requests per second.
        requests_per_second: u32,
        /// Where to start.
        start_date: Option<StartDate>,
        /// Only lower-case hosts.
        #[schemars(regex(pattern = r"^[a-z.]+$"))]
        host: String,
    }
    let f = Files::new();
    let tap = Tap::new("t").config::<Config>().stream(
        Stream::new("s")
            .schema(schema())
            .sync(|_: SyncContext<Value, Config>| async { Ok(()) }),
    );
    let cfg = f.config(
        json!({"requests_per_second": -3, "start_date": "2024-01-01", "host": "EVIL_HOST"}),
    );
    let (out, msgs) = run(tap, &["--config", &cfg]);
    assert_eq!(out.exit_code, 1);
    assert!(
        msgs.is_empty(),
        "nothing is written before the config is good"
    );
    let e = out.error.unwrap();
    for want in [
        "key `requests_per_second` must be at least 0",
        "key `start_date` must be an RFC 3339 date-time with an offset, e.g. 2024-01-01T00:00:00Z",
        "key `host` must match the pattern ^[a-z.]+$",
    ] {
        assert!(e.contains(want), "{want} not in {e}");
    }
    assert!(
        !e.contains("-3") && !e.contains("EVIL_HOST"),
        "a value was printed: {e}"
    );
}
