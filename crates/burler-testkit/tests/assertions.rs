//! Each assertion of the kit, made to fail by a small in-process tap built with the burler API.

use std::sync::Arc;

use burler::prelude::*;
use burler_testkit::runner::{InProcessTap, RunInput, TapRunner};
use burler_testkit::{SortOrder, Status, TapSuite, ensure_ordering, ordered};
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
        "price": {"type": ["null", "number"]}}})
}

/// `n` records a minute apart from 2024-01-01T00:00.
fn data(n: u32) -> Vec<Value> {
    (1..=n)
        .map(|i| json!({"id": i, "updated_at": format!("2024-01-01T{:02}:{:02}:00Z", i / 60, i % 60), "price": 1.5}))
        .collect()
}

/// An incremental stream over `records` that honours the start point, like a real source.
fn incremental(records: Vec<Value>) -> Stream<Value, Value, ()> {
    let records = Arc::new(records);
    Stream::new("events")
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .sync(move |ctx: SyncContext<Value>| {
            let records = records.clone();
            async move {
                let start = ctx
                    .replication_start()
                    .and_then(|v| v.as_str().map(str::to_owned));
                for r in records.iter() {
                    if start
                        .as_deref()
                        .is_none_or(|s| r["updated_at"].as_str().unwrap_or_default() >= s)
                    {
                        ctx.emit(r.clone())?;
                    }
                }
                Ok(())
            }
        })
}

fn check<'a>(report: &'a burler_testkit::Report, name: &str) -> &'a burler_testkit::Check {
    report
        .check(name)
        .unwrap_or_else(|| panic!("no check {name:?} in\n{report}"))
}

#[test]
fn a_well_behaved_tap_passes_every_check() {
    let report = TapSuite::new(
        || Tap::new("tap-good").stream(incremental(data(30))),
        json!({}),
    )
    .run();
    report.assert_passes();
    assert_eq!(report.count(Status::Warn), 0, "{report}");
    let b = report.bookmark("events").unwrap();
    assert_eq!(b.after, Some(json!("2024-01-01T00:30:00Z")));
    assert_eq!((b.span, b.unit), (Some(29.0 * 60.0), Some("seconds")));
    assert!(b.rate_per_second.unwrap() > 0.0);
    assert_eq!(report.records, [("events".to_owned(), 30)]);
}

#[test]
fn a_bookmark_stuck_before_the_records_fails() {
    let tap = || {
        Tap::new("tap-stuck")
            .stream(incremental(data(10)).bookmark(|_r: &Value| "2023-01-01T00:00:00Z"))
    };
    let report = TapSuite::new(tap, json!({})).run();
    assert!(!report.passed());
    let c = check(&report, "bookmarks advance");
    assert_eq!(c.status, Status::Fail, "{report}");
    assert!(
        c.details[0].contains("older than every record written"),
        "{report}"
    );
}

#[test]
fn a_bookmark_that_does_not_move_from_the_state_fails() {
    let start = "2024-01-01T00:02:00Z";
    let tap = move || {
        Tap::new("tap-stuck").stream(incremental(data(10)).bookmark(move |_r: &Value| start))
    };
    let state = json!({"bookmarks": {"events": {"replication_key": "updated_at", "replication_key_value": start}}});
    let report = TapSuite::new(tap, json!({})).state(state).run();
    let c = check(&report, "bookmarks advance");
    assert_eq!(c.status, Status::Fail, "{report}");
    assert!(
        c.details[0].contains("did not advance although records up to \"2024-01-01T00:10:00Z\""),
        "{report}"
    );
}

#[test]
fn a_bookmark_slower_than_the_author_minimum_fails_or_warns() {
    let tap = || Tap::new("tap-slow").stream(incremental(data(3)));
    let failing = TapSuite::new(tap, json!({})).min_bookmark_rate(1e15).run();
    let c = check(&failing, "bookmarks advance");
    assert_eq!(c.status, Status::Fail, "{failing}");
    assert!(
        c.details[0].contains("below the minimum 1.000e15/s"),
        "{failing}"
    );
    let warning = TapSuite::new(tap, json!({})).warn_bookmark_rate(1e15).run();
    assert_eq!(
        check(&warning, "bookmarks advance").status,
        Status::Warn,
        "{warning}"
    );
    warning.assert_passes();
    let other_stream = TapSuite::new(tap, json!({}))
        .bookmark_rate_for("orders", 1e15, Status::Fail)
        .run();
    assert_eq!(
        check(&other_stream, "bookmarks advance").status,
        Status::Pass,
        "{other_stream}"
    );
}

/// A paginated "API" that breaks its promised sort order on the second page.
fn api_pages() -> Vec<Vec<Value>> {
    vec![
        data(3),
        vec![json!({"id": 4, "updated_at": "2024-01-01T00:01:30Z", "price": null})],
    ]
}

#[test]
fn ensure_ordering_names_the_records_that_break_the_order() {
    let all: Vec<Value> = api_pages().into_iter().flatten().collect();
    let err = ensure_ordering(all, "updated_at", SortOrder::Asc).unwrap_err();
    assert_eq!(
        err.to_string(),
        "records out of Asc order on \"updated_at\": record 2 has \"2024-01-01T00:03:00Z\", \
         the next one (record 3) has \"2024-01-01T00:01:30Z\""
    );
    assert!(ensure_ordering(api_pages().remove(0), "updated_at", SortOrder::Asc).is_ok());
}

#[test]
fn a_sync_that_wraps_its_source_in_ordered_fails_on_an_unsorted_source() {
    let tap = || {
        Tap::new("tap-unsorted").stream(
            Stream::new("events")
                .schema(schema())
                .key(["id"])
                .incremental("updated_at")
                .sync(|ctx: SyncContext<Value>| async move {
                    for record in ordered(
                        api_pages().into_iter().flatten(),
                        "updated_at",
                        SortOrder::Asc,
                    ) {
                        ctx.emit(record?)?;
                    }
                    Ok(())
                }),
        )
    };
    let report = TapSuite::new(tap, json!({})).run();
    let sync = check(&report, "sync");
    assert_eq!(sync.status, Status::Fail, "{report}");
    assert!(
        sync.details.iter().any(|d| d.contains("out of Asc order")),
        "{report}"
    );
}

#[test]
fn a_drifting_schema_is_reported() {
    let drifting = vec![
        json!({"id": 1, "updated_at": "2024-01-01T00:01:00Z", "price": "1.50"}),
        json!({"id": 2, "updated_at": "2024-01-01T00:02:00Z", "price": 2}),
    ];
    let report = TapSuite::new(
        move || Tap::new("tap-drift").stream(incremental(drifting.clone())),
        json!({}),
    )
    .run();
    let c = check(&report, "observed schema matches declared");
    assert_eq!(c.status, Status::Fail, "{report}");
    assert_eq!(
        c.details,
        ["events: types wider than declared: price: declared [null, number], seen [string]"]
    );
    assert_eq!(
        check(&report, "records match their schema").status,
        Status::Fail,
        "{report}"
    );

    let sparse = vec![json!({"id": 1, "updated_at": "2024-01-01T00:01:00Z"})];
    let report = TapSuite::new(
        move || Tap::new("tap-sparse").stream(incremental(sparse.clone())),
        json!({}),
    )
    .run();
    let c = check(&report, "observed schema matches declared");
    assert_eq!(c.status, Status::Warn, "{report}");
    assert_eq!(c.details, ["events: declared but never seen: price"]);
    report.assert_passes();
}

#[test]
fn unpublishable_metadata_fails_the_catalog_check() {
    let tap = || {
        Tap::new("tap-bad-keys").stream(
            Stream::new("events")
                .schema(schema())
                .key(["uuid"])
                .incremental("modified")
                .sync(|ctx: SyncContext<Value>| async move {
                    ctx.emit(json!({"id": 1, "updated_at": "2024-01-01T00:00:00Z"}))?;
                    Ok(())
                }),
        )
    };
    let report = TapSuite::new(tap, json!({})).run();
    let c = check(&report, "catalog metadata");
    assert_eq!(c.status, Status::Fail, "{report}");
    let all = c.details.join("\n");
    assert!(
        all.contains("key property \"uuid\" is not a field of the schema"),
        "{all}"
    );
    assert!(
        all.contains("valid replication key \"modified\" is not a field of the schema"),
        "{all}"
    );
}

#[test]
fn a_second_run_that_re_sends_old_records_fails() {
    let tap = || {
        Tap::new("tap-forgetful").stream(
            Stream::new("events")
                .schema(schema())
                .key(["id"])
                .incremental("updated_at")
                .sync(|ctx: SyncContext<Value>| async move {
                    // Ignores the bookmark and sends everything again, oldest last.
                    let mut all = data(5);
                    if ctx.replication_start().is_some() {
                        all.push(
                            json!({"id": 99, "updated_at": "2023-06-01T00:00:00Z", "price": null}),
                        );
                    }
                    ctx.emit_all(all)?;
                    Ok(())
                }),
        )
    };
    let report = TapSuite::new(tap, json!({})).run();
    let older = check(&report, "second run: no record older than the bookmark");
    assert_eq!(older.status, Status::Fail, "{report}");
    assert_eq!(
        older.summary, "5 problems",
        "records 1-4 and the 2023 one are older:\n{report}"
    );
    let last = older.details.last().unwrap();
    assert!(
        last.contains(
            "\"2023-06-01T00:00:00Z\" is older than the bookmark \"2024-01-01T00:05:00Z\""
        ),
        "{report}"
    );
    let more = check(&report, "second run: no more records than the first");
    assert_eq!(more.status, Status::Fail, "{report}");
    assert_eq!(more.details, ["events: 5 then 6"]);
}

#[test]
fn passing_properties_and_catalog_together_does_not_crash() {
    let runner = InProcessTap::new(|| Tap::new("tap-both").stream(incremental(data(2))));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, "{}").unwrap();
    let discovered = runner.run(&RunInput::discover(&config));
    assert!(discovered.succeeded());
    let catalog = dir.path().join("catalog.json");
    std::fs::write(&catalog, &discovered.stdout).unwrap();
    let out = runner.run(
        &RunInput::sync(&config)
            .properties(&catalog)
            .catalog(&catalog),
    );
    assert_eq!(out.exit_code, Some(0), "{}", out.stderr);
    let (messages, bad) = out.messages();
    assert!(bad.is_empty());
    assert_eq!(
        messages
            .iter()
            .filter(|m| matches!(m, burler_singer::Message::Record(_)))
            .count(),
        2
    );
    let report = TapSuite::new(
        || Tap::new("tap-both").stream(incremental(data(2))),
        json!({}),
    )
    .run();
    assert_eq!(
        check(&report, "--properties with --catalog").status,
        Status::Pass,
        "{report}"
    );
}
