//! burler-sql against a real PostgreSQL server (started by `.ci/postgres.sh`, which exports
//! `BURLER_TEST_POSTGRES_URL` and loads `tests/fixtures/postgres.sql`): discovery and its
//! metadata, every type of the map, selection, FULL_TABLE (and LOG_BASED's initial sync) resumed
//! after a cut without loss, INCREMENTAL with duplicate timestamps at the bookmark, LOG_BASED
//! inserts, updates and deletes.
//!
//! Without the variable each test prints that it was skipped and passes, so `cargo test` works on
//! a machine without PostgreSQL; with `CI=true` a missing server fails every test instead.

mod common;

use std::io::Write;

use burler_sql::sqlx::{self, PgPool};
use burler_sql::{Postgres, SqlTap};
use common::{Files, Output, choose, deselect, run, run_limited};
use serde_json::{Value, json};

/// The server's URL, or `None` (skipped) when there is none and this is not CI.
fn server(test: &str) -> Option<String> {
    match std::env::var("BURLER_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "{test}: CI=true but BURLER_TEST_POSTGRES_URL is not set: `source .ci/postgres.sh` must run first"
            )
        }
        _ => {
            // Straight to the process's stderr: the harness captures `eprintln!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no PostgreSQL (BURLER_TEST_POSTGRES_URL is not set; `source .ci/postgres.sh` starts one)"
            );
            None
        }
    }
}

fn exec(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = PgPool::connect(url).await.expect("the test server answers");
        sqlx::raw_sql(sql)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        pool.close().await;
    });
}

/// A fresh schema `name` (dropped first) made by `sql`, and a config that discovers only it.
fn schema(url: &str, files: &Files, name: &str, sql: &str) -> String {
    exec(
        url,
        &format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}; SET search_path = {name}; {sql}"
        ),
    );
    files.write(
        "config.json",
        &json!({"url": url, "filter_schemas": [name]}),
    )
}

fn tap() -> SqlTap<Postgres> {
    SqlTap::<Postgres>::new("tap-postgres-test")
}

fn discover(config: &str) -> Output {
    let out = run(tap(), &["--config", config, "--discover"]);
    assert_eq!(out.code, 0, "{:?}", out.error);
    out
}

#[test]
fn discovery_lists_tables_and_views_with_the_standard_metadata() {
    let Some(url) = server("discovery") else {
        return;
    };
    let files = Files::new();
    let config = files.write(
        "config.json",
        &json!({"url": url, "filter_schemas": ["burler_fixtures"]}),
    );
    let out = discover(&config);
    let streams: Vec<String> = out.catalog()["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tap_stream_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        streams,
        ["burler_fixtures-kinds", "burler_fixtures-kinds_view"]
    );
    let kinds = out.entry("burler_fixtures-kinds");
    let md = kinds["metadata"].as_array().unwrap();
    let root = &md[0]["metadata"];
    let database = url.rsplit('/').next().unwrap().split('?').next().unwrap();
    assert_eq!(root["database-name"], database);
    assert_eq!(root["schema-name"], "burler_fixtures");
    assert_eq!(root["is-view"], false);
    assert_eq!(
        root["row-count"], 3,
        "the planner's estimate (the fixtures are analyzed)"
    );
    assert_eq!(root["table-key-properties"], json!(["id"]));
    assert_eq!(
        root["valid-replication-keys"],
        json!(["id", "d", "ts", "tstz"])
    );
    assert!(root.get("forced-replication-method").is_none());
    let field = |name: &str| {
        md.iter()
            .find(|m| m["breadcrumb"] == json!(["properties", name]))
            .unwrap()["metadata"]
            .clone()
    };
    assert_eq!(field("vc")["sql-datatype"], "character varying(10)");
    assert_eq!(field("tstz")["sql-datatype"], "timestamp with time zone");
    assert_eq!(field("mood")["sql-datatype"], "burler_fixtures.mood");
    assert_eq!(field("id")["inclusion"], "automatic");
    let view = out.entry("burler_fixtures-kinds_view");
    assert_eq!(view["metadata"][0]["metadata"]["is-view"], true);
    assert_eq!(
        view["metadata"][0]["metadata"]["table-key-properties"],
        json!([])
    );
}

#[test]
fn every_type_of_the_map_has_its_schema() {
    let Some(url) = server("types") else { return };
    let files = Files::new();
    let config = files.write(
        "config.json",
        &json!({"url": url, "filter_schemas": ["burler_fixtures"]}),
    );
    let props = discover(&config).entry("burler_fixtures-kinds")["schema"]["properties"].clone();
    let n = |t: &str| json!(["null", t]);
    assert_eq!(props["id"], json!({"type": "integer"}));
    assert_eq!(props["int"], json!({"type": "integer"}));
    assert_eq!(props["big"]["type"], n("integer"));
    assert_eq!(props["double_f"]["type"], n("number"));
    assert_eq!(props["num"]["type"], n("number"));
    assert_eq!(
        props["vc"],
        json!({"type": ["null", "string"], "maxLength": 10})
    );
    assert_eq!(props["flag"]["type"], n("boolean"));
    assert_eq!(
        props["d"],
        json!({"type": ["null", "string"], "format": "date"})
    );
    assert_eq!(
        props["ttz"],
        json!({"type": ["null", "string"], "format": "time"})
    );
    assert_eq!(
        props["ts"],
        json!({"type": ["null", "string"], "format": "date-time"})
    );
    assert_eq!(
        props["jb"]["type"],
        json!(["object", "array", "string", "number", "boolean", "null"])
    );
    assert_eq!(
        props["u"],
        json!({"type": ["null", "string"], "format": "uuid"})
    );
    assert_eq!(
        props["b"],
        json!({"type": ["null", "string"], "contentEncoding": "base64"})
    );
    assert_eq!(
        props["ints"],
        json!({"type": ["null", "array"], "items": {"type": ["null", "integer"]}})
    );
    assert_eq!(
        props["stamps"]["items"],
        json!({"type": ["null", "string"], "format": "date-time"})
    );
    assert_eq!(props["mood"]["type"], n("string"));
    assert_eq!(
        props["pos"]["type"],
        n("integer"),
        "a domain has its base type"
    );
    assert_eq!(props["iv"]["type"], n("string"));
    assert_eq!(props["inet_v"]["type"], n("string"));
}

#[test]
fn every_type_of_the_map_is_written_as_its_json() {
    let Some(url) = server("type values") else {
        return;
    };
    let files = Files::new();
    let config = files.write(
        "config.json",
        &json!({"url": url, "filter_schemas": ["burler_fixtures"]}),
    );
    let out = run(tap(), &["--config", &config]);
    assert_eq!(out.code, 0, "{:?}", out.error);
    let rows = out.records("burler_fixtures-kinds");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], first_kinds_row());
    let nulls = &rows[1];
    assert_eq!(nulls["int"], -1);
    assert_eq!(nulls["jb"], Value::Null, "a JSON null");
    assert!(
        nulls
            .as_object()
            .unwrap()
            .iter()
            .all(|(k, v)| ["id", "int"].contains(&k.as_str()) || v.is_null()),
        "{nulls}"
    );
    assert_eq!(rows[2], edge_kinds_row());
}

#[test]
fn numerics_are_exact_singer_decimal_strings_when_the_config_says_so() {
    let Some(url) = server("decimal strings") else {
        return;
    };
    let files = Files::new();
    let decimal = files.write(
        "decimal.json",
        &json!({"url": url, "filter_schemas": ["burler_fixtures"], "decimal": "string"}),
    );
    let out = run(tap(), &["--config", &decimal]);
    let rows = out.records("burler_fixtures-kinds");
    assert_eq!(
        rows[0]["num_free"], "12345678901234567890.000000001",
        "exact, as a singer.decimal string"
    );
    assert_eq!(
        out.messages("SCHEMA", "burler_fixtures-kinds")[0]["schema"]["properties"]["num"]["format"],
        "singer.decimal"
    );
}

/// Row 1 of `burler_fixtures.kinds`, as a record.
fn first_kinds_row() -> Value {
    json!({
        "id": 1, "small": -32768, "int": 2147483647, "big": 9223372036854775807_i64,
        "real_f": 1.5, "double_f": 0.1, "num": 12345678.1234, "num_free": 12345678901234567890.000000001,
        "txt": "text", "vc": "short", "ch": "ab ", "flag": true,
        "d": "2024-02-29", "t": "13:45:00.250", "ttz": "13:45:00+02:00",
        "ts": "2024-01-31T13:45:00.123456Z", "tstz": "2024-01-31T11:45:00Z",
        "j": {"a": [1, 2], "b": null}, "jb": {"a": 1, "b": {"c": "d"}},
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "b": "AAEC/w==",
        "ints": [1, null, 3], "texts": ["a b", "c,d", "q\"uote", null], "matrix": [[1, 2], [3, 4]],
        "stamps": ["2024-01-31T13:45:00Z", "2024-01-31T11:45:00.500Z"], "nums": [1.5, null],
        "mood": "happy", "pos": 7, "iv": "P1DT2H3M4S", "money_v": "$12.50", "inet_v": "192.168.0.1/24"
    })
}

/// Row 3 of `burler_fixtures.kinds` (edge values), as a record.
fn edge_kinds_row() -> Value {
    json!({
        "id": 3, "small": 0, "int": 0, "big": -9223372036854775808_i64,
        "real_f": null, "double_f": null, "num": -0.0001, "num_free": null,
        "txt": "multi\nline \\ \"quoted\" é 😀", "vc": "", "ch": "   ", "flag": false,
        "d": "0001-01-01", "t": "23:59:59.999999", "ttz": "00:00:00-03:30", "ts": null, "tstz": null,
        "j": [], "jb": "just a string", "u": "00000000-0000-0000-0000-000000000000", "b": "",
        "ints": [], "texts": [], "matrix": [], "stamps": [], "nums": [],
        "mood": "sad", "pos": 1, "iv": "P-1M", "money_v": "-$0.01", "inet_v": "::1/128"
    })
}

#[test]
fn only_selected_columns_are_read() {
    let Some(url) = server("selection") else {
        return;
    };
    let files = Files::new();
    let config = files.write(
        "config.json",
        &json!({"url": url, "filter_schemas": ["burler_fixtures"]}),
    );
    let mut catalog = discover(&config).catalog();
    choose(
        &mut catalog,
        &[("burler_fixtures-kinds", "FULL_TABLE", None)],
    );
    for field in ["txt", "b", "matrix", "id"] {
        deselect(&mut catalog, "burler_fixtures-kinds", field);
    }
    let catalog = files.write("catalog.json", &catalog);
    let out = run(tap(), &["--config", &config, "--catalog", &catalog]);
    assert_eq!(out.code, 0, "{:?}", out.error);
    let row = &out.records("burler_fixtures-kinds")[0];
    for gone in ["txt", "b", "matrix"] {
        assert!(row.get(gone).is_none(), "{gone} deselected: {row}");
    }
    assert_eq!(row["id"], 1, "the key is always read");
    assert_eq!(row["vc"], "short");
    assert!(out.records("burler_fixtures-kinds_view").is_empty());
}

/// The (region, n) key of a record.
fn region_key(r: &Value) -> (String, i64) {
    let region = r["region"].as_str().unwrap_or_default().to_owned();
    (region, r["n"].as_i64().unwrap_or_default())
}

#[test]
fn a_full_table_sync_cut_midway_resumes_after_the_last_composite_key_without_loss() {
    let Some(url) = server("full table resume") else {
        return;
    };
    let files = Files::new();
    let config = schema(&url, &files, "t_resume", "CREATE TABLE items (region text, n int, label text NOT NULL, PRIMARY KEY (region, n));
        INSERT INTO items SELECT r, n, 'item ' || n FROM unnest(ARRAY['eu', 'us']) r, generate_series(1, 250) n;");
    let tap = || tap().checkpoint_every(40);
    let whole = run(tap(), &["--config", &config]);
    assert_eq!(whole.records("t_resume-items").len(), 500);
    let size: usize = whole.lines.iter().map(|l| l.to_string().len() + 1).sum();
    let cut = run_limited(tap(), &["--config", &config], size / 2);
    assert_ne!(cut.code, 0);
    let delivered: Vec<(String, i64)> = cut
        .records("t_resume-items")
        .iter()
        .map(region_key)
        .collect();
    let state = cut.last_state();
    let at = &state["bookmarks"]["t_resume-items"]["resume_point"];
    let (Some(region), Some(n)) = (at[0].as_str(), at[1].as_i64()) else {
        panic!("a composite key checkpoint, in key order: {state}");
    };
    let after = (region.to_owned(), n);
    let state_file = files.write("state.json", &state);
    let resumed = run(tap(), &["--config", &config, "--state", &state_file]);
    assert_eq!(resumed.code, 0, "{:?}", resumed.error);
    let rest: Vec<(String, i64)> = resumed
        .records("t_resume-items")
        .iter()
        .map(region_key)
        .collect();
    assert!(
        rest.iter().all(|k| *k > after),
        "only rows after the checkpoint are read again"
    );
    let mut all: Vec<(String, i64)> = delivered.into_iter().chain(rest).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 500, "no row lost");
    let version = state["bookmarks"]["t_resume-items"]["version"].clone();
    assert!(
        resumed
            .messages("RECORD", "t_resume-items")
            .iter()
            .all(|m| m["version"] == version)
    );
    let activated: Vec<&Value> = resumed
        .messages("ACTIVATE_VERSION", "t_resume-items")
        .iter()
        .map(|m| &m["version"])
        .collect();
    assert_eq!(activated, [&version]);
}

#[test]
fn incremental_reads_rows_equal_to_the_bookmark_again_so_none_is_skipped() {
    let Some(url) = server("incremental") else {
        return;
    };
    let files = Files::new();
    let config = schema(&url, &files, "t_incremental", "CREATE TABLE events (id int PRIMARY KEY, at timestamptz NOT NULL, day date);
        INSERT INTO events VALUES (1, '2024-01-01 10:00:00+00', '2024-01-01'), (2, '2024-01-01 11:00:00.25+00', '2024-01-02'),
          (3, '2024-01-01 12:00:00.000001+00', '2024-01-02'), (4, '2024-01-01 12:00:00.000001+00', '2024-01-03');");
    let mut catalog = discover(&config).catalog();
    choose(
        &mut catalog,
        &[("t_incremental-events", "INCREMENTAL", Some("at"))],
    );
    let catalog_file = files.write("catalog.json", &catalog);
    let first = run(tap(), &["--config", &config, "--catalog", &catalog_file]);
    assert_eq!(first.ids("t_incremental-events"), [1, 2, 3, 4]);
    let state = first.last_state();
    assert_eq!(
        state["bookmarks"]["t_incremental-events"]["replication_key_value"],
        "2024-01-01T12:00:00.000001Z"
    );
    exec(
        &url,
        "INSERT INTO t_incremental.events VALUES (5, '2024-01-01 12:00:00.000001+00', '2024-01-03'), (6, '2024-01-02 08:00:00+00', '2024-01-04'), (0, '2023-12-31 00:00:00+00', '2023-12-31');",
    );
    let state_file = files.write("state.json", &state);
    let second = run(
        tap(),
        &[
            "--config",
            &config,
            "--catalog",
            &catalog_file,
            "--state",
            &state_file,
        ],
    );
    assert_eq!(second.code, 0, "{:?}", second.error);
    assert_eq!(
        second.ids("t_incremental-events"),
        [3, 4, 5, 6],
        "every row at the bookmark's microsecond, then newer ones"
    );
    choose(
        &mut catalog,
        &[("t_incremental-events", "INCREMENTAL", Some("day"))],
    );
    let by_day = files.write("by_day.json", &catalog);
    let dated = files.write("dated.json", &json!({"url": url, "filter_schemas": ["t_incremental"], "start_date": "2024-01-03T00:00:00Z"}));
    let out = run(tap(), &["--config", &dated, "--catalog", &by_day]);
    assert_eq!(
        out.ids("t_incremental-events"),
        [4, 5, 6],
        "a date key starts at start_date's day"
    );
}

fn log_config(files: &Files, url: &str, schema: &str) -> String {
    files.write(
        "config.json",
        &json!({"url": url, "filter_schemas": [schema],
        "replication_slot": format!("{schema}_slot"), "publication": format!("{schema}_pub")}),
    )
}

fn drop_log(url: &str, schema: &str) {
    exec(url, &format!(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '{schema}_slot';
         DROP PUBLICATION IF EXISTS {schema}_pub;"
    ));
}

/// Runs a sync with `config`, `catalog` and `state` (written as the file `name`).
fn sync_from(config: &str, catalog: &str, files: &Files, name: &str, state: &Value) -> Output {
    let state = files.write(name, state);
    run(
        tap(),
        &["--config", config, "--catalog", catalog, "--state", &state],
    )
}

/// Schema `s` with a table of 3 rows, synced LOG_BASED once (the initial full sync), checked;
/// returns the config, the catalog, the final state and its LSN bookmark.
fn first_log_run(url: &str, files: &Files, s: &str) -> (String, String, Value, u64) {
    drop_log(url, s);
    schema(url, files, s, "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(10, 2), tags text[]);
        CREATE TABLE other (id int PRIMARY KEY);
        INSERT INTO accounts VALUES (1, 'ada', 10.50, '{a}'), (2, 'grace', 20, NULL), (3, 'alan', 30, '{b,c}');");
    let config = log_config(files, url, s);
    let mut catalog = discover(&config).catalog();
    let props = &catalog["streams"][0]["schema"]["properties"];
    assert_eq!(
        props["_sdc_deleted_at"],
        json!({"type": ["null", "string"], "format": "date-time"})
    );
    choose(&mut catalog, &[("t_log-accounts", "LOG_BASED", None)]);
    let catalog = files.write("catalog.json", &catalog);
    let first = run(tap(), &["--config", &config, "--catalog", &catalog]);
    assert_eq!(first.code, 0, "{:?}", first.error);
    assert_eq!(
        first.ids("t_log-accounts"),
        [1, 2, 3],
        "the initial full sync"
    );
    let version = first.messages("RECORD", "t_log-accounts")[0]["version"].clone();
    assert!(version.is_i64());
    assert_eq!(
        first.messages("ACTIVATE_VERSION", "t_log-accounts").len(),
        2,
        "at the first-ever start and at the end"
    );
    let state = first.last_state();
    let bookmark = &state["bookmarks"]["t_log-accounts"];
    assert_eq!(bookmark["initial_full_table_complete"], true);
    assert_eq!(bookmark["replication_key"], "_sdc_lsn");
    let lsn1 = bookmark["replication_key_value"]
        .as_u64()
        .expect("an LSN bookmark");
    (config, catalog, state.clone(), lsn1)
}

/// The records of an insert (id 4), an update (id 2) and a delete (id 3), in commit order.
fn check_changes(changes: &[Value], lsn1: u64) {
    assert_eq!(
        changes.len(),
        3,
        "no full sync again, one record per change: {changes:?}"
    );
    assert_eq!(changes[0]["id"], 4);
    assert_eq!(changes[0]["owner"], "barbara");
    assert_eq!(changes[0]["_sdc_deleted_at"], Value::Null);
    assert_eq!(
        (changes[1]["id"].clone(), changes[1]["balance"].clone()),
        (json!(2), json!(25.25))
    );
    assert_eq!(changes[1]["tags"], json!(["x", "y z"]));
    assert_eq!(changes[2]["id"], 3);
    assert!(
        changes[2]["_sdc_deleted_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{}",
        changes[2]
    );
    assert!(
        changes[2].get("owner").is_none(),
        "a delete carries the key only"
    );
    let lsns: Vec<u64> = changes
        .iter()
        .map(|c| c["_sdc_lsn"].as_u64().unwrap())
        .collect();
    assert!(
        lsns.windows(2).all(|w| w[0] < w[1]) && lsns[0] >= lsn1,
        "{lsns:?} after {lsn1}"
    );
}

#[test]
fn log_based_sends_the_table_first_then_inserts_updates_and_deletes() {
    let Some(url) = server("log based") else {
        return;
    };
    let files = Files::new();
    let s = "t_log";
    let (config, catalog, state, lsn1) = first_log_run(&url, &files, s);

    exec(
        &url,
        "INSERT INTO t_log.accounts VALUES (4, 'barbara', 40, '{}');
        UPDATE t_log.accounts SET balance = 25.25, tags = '{x,\"y z\"}' WHERE id = 2;
        DELETE FROM t_log.accounts WHERE id = 3;
        INSERT INTO t_log.other VALUES (1);",
    );
    let second = sync_from(&config, &catalog, &files, "s1.json", &state);
    assert_eq!(second.code, 0, "{:?}", second.error);
    let changes = second.records("t_log-accounts");
    check_changes(&changes, lsn1);
    let lsns: Vec<u64> = changes
        .iter()
        .map(|c| c["_sdc_lsn"].as_u64().unwrap())
        .collect();
    assert!(
        second
            .messages("RECORD", "t_log-accounts")
            .iter()
            .all(|m| m.get("version").is_none())
    );
    let state2 = second.last_state();
    let lsn2 = state2["bookmarks"]["t_log-accounts"]["replication_key_value"]
        .as_u64()
        .unwrap();
    assert!(lsn2 > lsns[2]);

    // A retry from the same state (its target did not commit) gets the same changes: the slot
    // forgets only what a later run's state says was delivered.
    let again = sync_from(&config, &catalog, &files, "s1b.json", &state);
    assert_eq!(again.records("t_log-accounts"), changes);
    let third = sync_from(&config, &catalog, &files, "s2.json", &state2);
    assert_eq!(third.code, 0, "{:?}", third.error);
    assert!(
        third.records("t_log-accounts").is_empty(),
        "nothing changed since the bookmark"
    );
    drop_log(&url, s);
}

#[test]
fn a_cut_initial_log_based_sync_resumes_after_its_last_key_then_reads_the_log() {
    let Some(url) = server("log based initial sync resume") else {
        return;
    };
    let files = Files::new();
    let s = "t_log_resume";
    drop_log(&url, s);
    schema(
        &url,
        &files,
        s,
        "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);
        INSERT INTO accounts SELECT n, 'owner ' || n FROM generate_series(1, 300) n;",
    );
    let config = log_config(&files, &url, s);
    let mut catalog = discover(&config).catalog();
    choose(
        &mut catalog,
        &[("t_log_resume-accounts", "LOG_BASED", None)],
    );
    let catalog = files.write("catalog.json", &catalog);
    let tap = || tap().checkpoint_every(50);
    let args = ["--config", config.as_str(), "--catalog", catalog.as_str()];
    let cut = run_limited(tap(), &args, 300 * 40);
    assert_ne!(cut.code, 0, "the cut run fails");
    let state = cut.last_state();
    let bookmark = &state["bookmarks"]["t_log_resume-accounts"];
    let last = bookmark["resume_point"].as_i64().expect("a checkpoint");
    assert!((50..300).contains(&last) && last % 50 == 0, "{state}");
    assert!(bookmark.get("initial_full_table_complete").is_none());
    let version = bookmark["version"].clone();

    exec(
        &url,
        "INSERT INTO t_log_resume.accounts VALUES (301, 'late');",
    );
    let resumed = sync_from(&config, &catalog, &files, "s1.json", &state);
    assert_eq!(resumed.code, 0, "{:?}", resumed.error);
    let ids = resumed.ids("t_log_resume-accounts");
    let initial: Vec<i64> = (last + 1..=301).collect();
    assert_eq!(
        ids[..initial.len()],
        initial,
        "the initial sync goes on after its key"
    );
    let versioned: Vec<&Value> = resumed
        .messages("RECORD", "t_log_resume-accounts")
        .iter()
        .filter_map(|m| m.get("version"))
        .collect();
    assert!(versioned.len() == initial.len() && versioned.iter().all(|v| **v == version));
    let activations: Vec<&Value> = resumed
        .messages("ACTIVATE_VERSION", "t_log_resume-accounts")
        .iter()
        .map(|m| &m["version"])
        .collect();
    assert_eq!(activations, [&version], "once, when the table is done");
    let end = &resumed.last_state()["bookmarks"]["t_log_resume-accounts"];
    assert_eq!(end["initial_full_table_complete"], true);
    assert!(
        end.get("resume_point").is_none() && end.get("version").is_none(),
        "{end}"
    );
    drop_log(&url, s);
}

#[test]
fn log_based_without_a_slot_or_on_a_view_fails_the_stream_with_one_line() {
    let Some(url) = server("log based refused") else {
        return;
    };
    let files = Files::new();
    let config = files.write(
        "config.json",
        &json!({"url": url, "filter_schemas": ["burler_fixtures"]}),
    );
    let mut catalog = discover(&config).catalog();
    choose(
        &mut catalog,
        &[("burler_fixtures-kinds", "LOG_BASED", None)],
    );
    let out = run(
        tap(),
        &[
            "--config",
            &config,
            "--catalog",
            &files.write("catalog.json", &catalog),
        ],
    );
    assert_eq!(out.code, 1);
    assert!(out.records("burler_fixtures-kinds").is_empty());
}
