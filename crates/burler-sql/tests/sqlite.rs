//! burler-sql against real SQLite databases made by each test: discovery and its metadata, every
//! type of the map, field selection, FULL_TABLE resumed after a cut without loss (one-column,
//! composite, partitioned and keyless tables; the test kit's resume check), INCREMENTAL with
//! duplicate timestamps at the bookmark, the filter and partition hooks, LOG_BASED refused.

mod common;

use burler_sql::sqlx::sqlite::SqliteConnectOptions;
use burler_sql::sqlx::{self, SqlitePool};
use burler_sql::{DecimalMode, Partition, SqlTap, Sqlite};
use burler_testkit::ResumeCheck;
use burler_testkit::runner::RunInput;
use common::{Files, SqlRunner, choose, deselect, run, run_limited};
use serde_json::{Value, json};

/// Runs `sql` against a new database file `db.sqlite` in `files`.
fn create(files: &Files, sql: &str) -> String {
    let path = files.path("db.sqlite");
    exec(&path, sql);
    files.write("config.json", &json!({"database": path}))
}

fn exec(path: &std::path::Path, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        pool.close().await;
    });
}

fn tap() -> SqlTap<Sqlite> {
    SqlTap::<Sqlite>::new("tap-test")
}

const KINDS: &str = "
CREATE TABLE kinds (id INTEGER PRIMARY KEY, i BIGINT NOT NULL, f REAL, d DECIMAL(10, 2), t TEXT,
  v VARCHAR(10), b BOOLEAN, dt DATE, tm TIME, ts DATETIME, tsz TIMESTAMP, j JSON, u UUID,
  blob BLOB, x MONEY);
INSERT INTO kinds VALUES (1, 9007199254740993, 1.5, 12.34, 'text', 'short', 1, '2024-02-29',
  '13:45:00.25', '2024-01-31 13:45:00', '2024-01-31T13:45:00+02:00', '{\"a\": [1, 2]}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', X'000102FF', 12.5);
INSERT INTO kinds VALUES (2, -1, NULL, NULL, NULL, NULL, 0, NULL, NULL, 1706708700, NULL, 'null',
  NULL, NULL, NULL);
CREATE VIEW kind_view AS SELECT id, t FROM kinds;
";

#[test]
fn discovery_writes_the_standard_database_metadata() {
    let files = Files::new();
    let config = create(&files, KINDS);
    let out = run(tap(), &["--config", &config, "--discover"]);
    assert_eq!(out.code, 0, "{:?}", out.error);
    let kinds = out.entry("kinds");
    let md = kinds["metadata"].as_array().unwrap();
    let root = &md[0]["metadata"];
    assert_eq!(root["database-name"], "db");
    assert_eq!(root["schema-name"], "main");
    assert_eq!(root["is-view"], false);
    assert_eq!(root["row-count"], 2);
    assert_eq!(root["table-key-properties"], json!(["id"]));
    assert_eq!(
        root["valid-replication-keys"],
        json!(["id", "dt", "ts", "tsz"])
    );
    assert!(root.get("forced-replication-method").is_none());
    let field = |name: &str| {
        md.iter()
            .find(|m| m["breadcrumb"] == json!(["properties", name]))
            .unwrap()["metadata"]
            .clone()
    };
    assert_eq!(field("v")["sql-datatype"], "VARCHAR(10)");
    assert_eq!(field("id")["inclusion"], "automatic");
    assert_eq!(field("t")["inclusion"], "available");
    let view = out.entry("kind_view");
    assert_eq!(view["metadata"][0]["metadata"]["is-view"], true);
    assert!(view["metadata"][0]["metadata"].get("row-count").is_none());
}

#[test]
fn every_type_of_the_map_has_its_schema_and_its_json() {
    let files = Files::new();
    let config = create(&files, KINDS);
    let out = run(tap(), &["--config", &config, "--discover"]);
    let props = out.entry("kinds")["schema"]["properties"].clone();
    let expected_schemas = json!({
        "id": {"type": "integer"},
        "i": {"type": "integer"},
        "f": {"type": ["null", "number"]},
        "d": {"type": ["null", "number"]},
        "t": {"type": ["null", "string"]},
        "v": {"type": ["null", "string"], "maxLength": 10},
        "b": {"type": ["null", "boolean"]},
        "dt": {"type": ["null", "string"], "format": "date"},
        "tm": {"type": ["null", "string"], "format": "time"},
        "ts": {"type": ["null", "string"], "format": "date-time"},
        "tsz": {"type": ["null", "string"], "format": "date-time"},
        "j": {"type": ["object", "array", "string", "number", "boolean", "null"]},
        "u": {"type": ["null", "string"], "format": "uuid"},
        "blob": {"type": ["null", "string"], "contentEncoding": "base64"},
        "x": {"type": ["null", "string"]}
    });
    assert_eq!(props, expected_schemas);
    let out = run(tap(), &["--config", &config]);
    assert_eq!(out.code, 0, "{:?}", out.error);
    let rows = out.records("kinds");
    assert_eq!(
        rows[0],
        json!({
            "id": 1, "i": 9007199254740993_i64, "f": 1.5, "d": 12.34, "t": "text", "v": "short",
            "b": true, "dt": "2024-02-29", "tm": "13:45:00.250", "ts": "2024-01-31T13:45:00Z",
            "tsz": "2024-01-31T11:45:00Z", "j": {"a": [1, 2]},
            "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "blob": "AAEC/w==", "x": "12.5"
        })
    );
    assert_eq!(
        rows[1]["ts"], "2024-01-31T13:45:00Z",
        "a number in a date-time column is Unix seconds"
    );
    assert_eq!(rows[1]["b"], false);
    assert_eq!(rows[1]["j"], Value::Null);
    assert_eq!(rows[1]["f"], Value::Null);
    let strings = run(
        SqlTap::<Sqlite>::new("t"),
        &[
            "--config",
            &files.write(
                "c2.json",
                &json!({"database": files.path("db.sqlite"), "decimal": "string"}),
            ),
            "--discover",
        ],
    );
    assert_eq!(
        strings.entry("kinds")["schema"]["properties"]["d"],
        json!({"type": ["null", "string"], "format": "singer.decimal"})
    );
    let _ = DecimalMode::String;
}

#[test]
fn only_selected_columns_are_read_and_keys_always() {
    let files = Files::new();
    let config = create(&files, KINDS);
    let mut catalog = run(tap(), &["--config", &config, "--discover"]).catalog();
    choose(&mut catalog, &[("kinds", "FULL_TABLE", None)]);
    deselect(&mut catalog, "kinds", "t");
    deselect(&mut catalog, "kinds", "blob");
    deselect(&mut catalog, "kinds", "id");
    let catalog = files.write("catalog.json", &catalog);
    let out = run(tap(), &["--config", &config, "--catalog", &catalog]);
    assert_eq!(out.code, 0, "{:?}", out.error);
    let rows = out.records("kinds");
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].get("t").is_none() && rows[0].get("blob").is_none(),
        "{}",
        rows[0]
    );
    assert_eq!(
        rows[0]["id"], 1,
        "a key column is read even when deselected"
    );
    assert!(out.records("kind_view").is_empty(), "not selected");
    let schema = &out.messages("SCHEMA", "kinds")[0]["schema"]["properties"];
    assert!(schema.get("t").is_none() && schema.get("i").is_some());
}

fn numbers(n: i64) -> String {
    let mut sql =
        String::from("BEGIN; CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\n");
    for id in 1..=n {
        sql += &format!("INSERT INTO items VALUES ({id}, 'item {id:04}');\n");
    }
    sql + "COMMIT;"
}

#[test]
fn a_full_table_sync_cut_midway_resumes_after_the_last_checkpoint_without_loss() {
    let files = Files::new();
    let config = create(&files, &numbers(500));
    let tap = || tap().checkpoint_every(50);
    let whole = run(tap(), &["--config", &config]);
    let size: usize = whole.lines.iter().map(|l| l.to_string().len() + 1).sum();
    // A run that dies after about 40% of its output: what it delivered, and its last STATE.
    let cut = run_limited(tap(), &["--config", &config], size * 2 / 5);
    assert_ne!(cut.code, 0, "the cut run fails");
    let delivered = cut.ids("items");
    let state = cut.last_state();
    let last = state["bookmarks"]["items"]["resume_point"]
        .as_i64()
        .expect("a checkpoint was committed");
    assert!((50..500).contains(&last) && last % 50 == 0, "{state}");
    assert!(delivered.len() as i64 >= last);
    let version = state["bookmarks"]["items"]["version"].as_i64().unwrap();
    let state_file = files.write("state.json", &state);
    let resumed = run(tap(), &["--config", &config, "--state", &state_file]);
    assert_eq!(resumed.code, 0, "{:?}", resumed.error);
    let rest = resumed.ids("items");
    assert_eq!(
        rest.first(),
        Some(&(last + 1)),
        "resumed right after the checkpointed key"
    );
    let mut all: Vec<i64> = delivered.iter().chain(&rest).copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all, (1..=500).collect::<Vec<_>>(), "no row lost");
    let versions: Vec<i64> = resumed
        .messages("RECORD", "items")
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert!(
        versions.iter().all(|v| *v == version),
        "the resumed sync keeps the table version"
    );
    let activations: Vec<i64> = resumed
        .messages("ACTIVATE_VERSION", "items")
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        activations,
        [version],
        "ACTIVATE_VERSION once, when the table is done"
    );
    let end = resumed.last_state();
    assert_eq!(
        end["bookmarks"]["items"],
        json!({}),
        "version and position leave"
    );
}

/// The versions of the records and the ACTIVATE_VERSION messages of `stream`.
fn versions(out: &common::Output, stream: &str) -> (Vec<i64>, Vec<i64>) {
    let of = |kind| -> Vec<i64> {
        out.messages(kind, stream)
            .iter()
            .map(|m| m["version"].as_i64().unwrap())
            .collect()
    };
    (of("RECORD"), of("ACTIVATE_VERSION"))
}

/// Splits `items` into ids 1-250 and 251-500.
fn halves(tap: SqlTap<Sqlite>) -> SqlTap<Sqlite> {
    tap.partitions(|_, _| {
        [("low", "id <= 250"), ("high", "id > 250")]
            .iter()
            .map(|(half, condition)| Partition {
                context: json!({"half": half}),
                condition: condition.to_string(),
            })
            .collect()
    })
}

#[test]
fn a_partitioned_full_table_sync_resumes_each_partition_after_its_own_key() {
    let files = Files::new();
    let config = create(&files, &numbers(500));
    let tap = || halves(tap().checkpoint_every(40));
    let whole = run(tap(), &["--config", &config]);
    assert_eq!(whole.ids("items"), (1..=500).collect::<Vec<_>>());
    let size: usize = whole.lines.iter().map(|l| l.to_string().len() + 1).sum();
    // Cut inside the second partition.
    let cut = run_limited(tap(), &["--config", &config], size * 3 / 4);
    assert_ne!(cut.code, 0);
    let state = cut.last_state();
    let partitions = &state["bookmarks"]["items"]["partitions"];
    assert_eq!(
        partitions[0],
        json!({"context": {"half": "low"}, "resume_point": 250}),
        "a finished partition keeps its last key: {state}"
    );
    assert_eq!(partitions[1]["context"], json!({"half": "high"}));
    let high = partitions[1]["resume_point"]
        .as_i64()
        .expect("a checkpoint");
    assert!((251..500).contains(&high), "{state}");
    let state_file = files.write("state.json", &state);
    let resumed = run(tap(), &["--config", &config, "--state", &state_file]);
    assert_eq!(resumed.code, 0, "{:?}", resumed.error);
    assert_eq!(
        resumed.ids("items"),
        (high + 1..=500).collect::<Vec<_>>(),
        "the finished partition reads nothing, the cut one goes on after its key"
    );
    let mut all = cut.ids("items");
    all.extend(resumed.ids("items"));
    all.sort_unstable();
    all.dedup();
    assert_eq!(all, (1..=500).collect::<Vec<_>>(), "no row lost");
    let version = state["bookmarks"]["items"]["version"].as_i64().unwrap();
    let (records, activations) = versions(&resumed, "items");
    assert!(records.iter().all(|v| *v == version));
    assert_eq!(activations, [version]);
    assert_eq!(resumed.last_state()["bookmarks"]["items"], json!({}));
}

const PAIRS: &str = "BEGIN; CREATE TABLE pairs (a TEXT, b INTEGER, PRIMARY KEY (a, b));
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
  INSERT INTO pairs SELECT CASE WHEN i % 3 = 0 THEN 'x' ELSE 'y' END, i FROM n;
COMMIT;";

const NOTES: &str = "BEGIN; CREATE TABLE notes (body TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
  INSERT INTO notes SELECT 'note ' || i FROM n;
COMMIT;";

/// The whole run, and one cut after about `fraction` of its output.
fn whole_and_cut(
    tap: impl Fn() -> SqlTap<Sqlite>,
    config: &str,
    fraction: f64,
) -> (common::Output, common::Output) {
    let whole = run(tap(), &["--config", config]);
    assert_eq!(whole.code, 0, "{:?}", whole.error);
    let size: usize = whole.lines.iter().map(|l| l.to_string().len() + 1).sum();
    let cut = run_limited(
        tap(),
        &["--config", config],
        (size as f64 * fraction) as usize,
    );
    assert_ne!(cut.code, 0, "the cut run fails");
    (whole, cut)
}

#[test]
fn a_composite_key_resumes_after_the_array_of_its_last_values() {
    let files = Files::new();
    let config = create(&files, PAIRS);
    let tap = || tap().checkpoint_every(25);
    let (whole, cut) = whole_and_cut(tap, &config, 0.6);
    let state = cut.last_state();
    let at = state["bookmarks"]["pairs"]["resume_point"].clone();
    let (Some(a), Some(b)) = (at[0].as_str(), at[1].as_i64()) else {
        panic!("a composite key checkpoint: {state}");
    };
    let state_file = files.write("state.json", &state);
    let resumed = run(tap(), &["--config", &config, "--state", &state_file]);
    assert_eq!(resumed.code, 0, "{:?}", resumed.error);
    let key = |r: &Value| {
        (
            r["a"].as_str().unwrap().to_owned(),
            r["b"].as_i64().unwrap(),
        )
    };
    let rest: Vec<(String, i64)> = resumed.records("pairs").iter().map(key).collect();
    let expected: Vec<(String, i64)> = whole
        .records("pairs")
        .iter()
        .map(key)
        .filter(|k| *k > (a.to_owned(), b))
        .collect();
    assert!(!expected.is_empty() && expected.len() < 120);
    assert_eq!(rest, expected, "every pair after ({a}, {b}), in key order");
    let version = state["bookmarks"]["pairs"]["version"].as_i64().unwrap();
    let (records, activations) = versions(&resumed, "pairs");
    assert!(records.iter().all(|v| *v == version));
    assert_eq!(activations, [version]);
}

#[test]
fn a_keyless_table_cut_midway_is_read_again_from_the_start_under_its_version() {
    let files = Files::new();
    let config = create(&files, NOTES);
    let tap = || tap().checkpoint_every(10);
    let (_, cut) = whole_and_cut(tap, &config, 0.5);
    let state = cut.last_state();
    assert!(
        state["bookmarks"]["notes"].get("resume_point").is_none(),
        "no key, no position: {state}"
    );
    let version = state["bookmarks"]["notes"]["version"].as_i64().unwrap();
    let state_file = files.write("state.json", &state);
    let resumed = run(tap(), &["--config", &config, "--state", &state_file]);
    assert_eq!(resumed.records("notes").len(), 60, "the whole table again");
    let (records, activations) = versions(&resumed, "notes");
    assert!(records.iter().all(|v| *v == version));
    assert_eq!(activations, [version]);
}

#[test]
fn a_cut_full_table_sync_loses_no_row_at_any_cut_point() {
    let files = Files::new();
    let config = create(&files, &(numbers(150) + PAIRS + NOTES));
    let runner = SqlRunner(|| tap().checkpoint_every(20));
    let report = ResumeCheck::new().run(&runner, &RunInput::sync(&config));
    report.assert_passes();
    assert!(report.resumed_runs >= 5, "{report:?}");
}

#[test]
fn a_resume_point_that_is_not_a_key_fails_the_stream_with_one_line() {
    let files = Files::new();
    let config = create(&files, &(PAIRS.to_owned() + NOTES));
    let state = files.write(
        "state.json",
        &json!({"bookmarks": {"pairs": {"version": 5, "resume_point": 7}}}),
    );
    let out = run(tap(), &["--config", &config, "--state", &state]);
    assert_eq!(out.code, 1);
    assert!(out.error.is_some());
    assert!(out.records("pairs").is_empty());
    assert_eq!(
        out.last_state()["bookmarks"]["pairs"]["resume_point"],
        7,
        "the state is kept for a fixed rerun"
    );
    assert_eq!(out.records("notes").len(), 60, "the other stream syncs");
}

const EVENTS: &str = "
CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, at DATETIME NOT NULL);
INSERT INTO events VALUES (1, 'a', '2024-01-01 10:00:00'), (2, 'b', '2024-01-01 11:00:00'),
  (3, 'c', '2024-01-01 12:00:00'), (4, 'd', '2024-01-01 12:00:00');
";

#[test]
fn incremental_reads_rows_equal_to_the_bookmark_again_so_none_is_skipped() {
    let files = Files::new();
    let config = create(&files, EVENTS);
    let mut catalog = run(tap(), &["--config", &config, "--discover"]).catalog();
    choose(&mut catalog, &[("events", "INCREMENTAL", Some("at"))]);
    let catalog = files.write("catalog.json", &catalog);
    let first = run(tap(), &["--config", &config, "--catalog", &catalog]);
    assert_eq!(first.ids("events"), [1, 2, 3, 4]);
    let state = first.last_state();
    assert_eq!(
        state["bookmarks"]["events"]["replication_key_value"],
        "2024-01-01T12:00:00Z"
    );
    // A row written later with the bookmark's very timestamp, and a newer one.
    exec(
        &files.path("db.sqlite"),
        "INSERT INTO events VALUES (5, 'e', '2024-01-01T12:00:00Z'), (6, 'f', '2024-01-02 08:00:00');",
    );
    let state_file = files.write("state.json", &state);
    let second = run(
        tap(),
        &[
            "--config",
            &config,
            "--catalog",
            &catalog,
            "--state",
            &state_file,
        ],
    );
    assert_eq!(second.code, 0, "{:?}", second.error);
    assert_eq!(
        second.ids("events"),
        [3, 4, 5, 6],
        "every row at the bookmark, then the newer one"
    );
    assert_eq!(
        second.last_state()["bookmarks"]["events"]["replication_key_value"],
        "2024-01-02T08:00:00Z"
    );
    let dated = files.write(
        "dated.json",
        &json!({"database": files.path("db.sqlite"), "start_date": "2024-01-01T11:00:00Z"}),
    );
    let from_start = run(tap(), &["--config", &dated, "--catalog", &catalog]);
    assert_eq!(
        from_start.ids("events"),
        [2, 3, 4, 5, 6],
        "no bookmark: from start_date, inclusive"
    );
}

#[test]
fn the_filter_narrows_and_partitions_split_with_a_bookmark_each() {
    let files = Files::new();
    let config = create(
        &files,
        &(EVENTS.to_owned() + "INSERT INTO events VALUES (7, 'x', '2024-01-03 00:00:00');"),
    );
    let hooked = || {
        tap()
            .filter(|t, _| (t.name == "events").then(|| "kind <> 'x'".to_owned()))
            .partitions(|_, _| {
                ["a", "c"]
                    .iter()
                    .map(|k| Partition {
                        context: json!({"kind": k}),
                        condition: format!("kind >= '{k}'"),
                    })
                    .collect()
            })
    };
    let mut catalog = run(hooked(), &["--config", &config, "--discover"]).catalog();
    choose(&mut catalog, &[("events", "INCREMENTAL", Some("at"))]);
    let catalog = files.write("catalog.json", &catalog);
    let out = run(hooked(), &["--config", &config, "--catalog", &catalog]);
    assert_eq!(out.code, 0, "{:?}", out.error);
    assert_eq!(
        out.ids("events"),
        [1, 2, 3, 4, 3, 4],
        "partition kind>=a, then kind>=c; x filtered out"
    );
    let partitions = out.last_state()["bookmarks"]["events"]["partitions"].clone();
    assert_eq!(partitions.as_array().map(Vec::len), Some(2), "{partitions}");
    assert_eq!(partitions[1]["context"], json!({"kind": "c"}));
    assert_eq!(
        partitions[1]["replication_key_value"],
        "2024-01-01T12:00:00Z"
    );
}

#[test]
fn log_based_on_sqlite_fails_the_stream_with_one_clear_line() {
    let files = Files::new();
    let config = create(&files, EVENTS);
    let mut catalog = run(tap(), &["--config", &config, "--discover"]).catalog();
    choose(&mut catalog, &[("events", "LOG_BASED", None)]);
    let catalog = files.write("catalog.json", &catalog);
    let out = run(tap(), &["--config", &config, "--catalog", &catalog]);
    assert_eq!(out.code, 1);
    assert!(out.error.is_some());
    assert!(out.records("events").is_empty());
}

#[test]
fn a_view_is_keyed_and_ordered_by_the_catalogs_view_key_properties() {
    let files = Files::new();
    let config = create(&files, KINDS);
    let mut catalog = run(tap(), &["--config", &config, "--discover"]).catalog();
    choose(&mut catalog, &[("kind_view", "FULL_TABLE", None)]);
    for entry in catalog["streams"].as_array_mut().unwrap() {
        if entry["tap_stream_id"] == "kind_view" {
            entry["metadata"][0]["metadata"]["view-key-properties"] = json!(["id"]);
        }
    }
    let catalog = files.write("catalog.json", &catalog);
    let out = run(tap(), &["--config", &config, "--catalog", &catalog]);
    assert_eq!(out.code, 0, "{:?}", out.error);
    assert_eq!(
        out.messages("SCHEMA", "kind_view")[0]["key_properties"],
        json!(["id"])
    );
    assert_eq!(out.ids("kind_view"), [1, 2]);
}
