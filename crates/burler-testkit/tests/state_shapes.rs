//! The suite judges taps whatever state shape they keep: one hand-written tap per shape
//! (singer-python's `write_bookmark`, singer-sdk's partitions, progress markers and signpost,
//! PipelineWise's), each passing with its bookmarks read; a shape the checks cannot read warns
//! and never fails; `currently_syncing` left set at the end warns.

mod common;

use burler_testkit::{Report, Status, TapSuite};
use common::{ScriptedTap, Written, records, schema_message, singer_python_entry, state_message};
use serde_json::{Value, json};

fn check<'a>(report: &'a Report, name: &str) -> &'a burler_testkit::Check {
    report
        .check(name)
        .unwrap_or_else(|| panic!("no check {name:?} in\n{report}"))
}

fn no_failure(report: &Report) {
    assert_eq!(report.count(Status::Fail), 0, "{report}");
}

/// The bookmark of `stream` a singer-python tap reads back with `singer.get_bookmark`.
fn python_bookmark<'a>(state: Option<&'a Value>, stream: &str, key: &str) -> Option<&'a str> {
    state?.get("bookmarks")?.get(stream)?.get(key)?.as_str()
}

/// The tap: two INCREMENTAL streams, state written with `singer.write_bookmark` (the
/// replication key's name as the bookmark key) and `currently_syncing` set while a stream syncs.
fn singer_python_tap(state: Option<&Value>) -> Written {
    let mut out = Vec::new();
    let mut bookmarks = state
        .and_then(|s| s.get("bookmarks").cloned())
        .unwrap_or_else(|| json!({}));
    for (stream, n) in [("users", 10), ("orders", 15)] {
        out.push(state_message(
            json!({"currently_syncing": stream, "bookmarks": bookmarks.clone()}),
        ));
        out.push(schema_message(stream, "updated_at"));
        let since = python_bookmark(state, stream, "updated_at");
        let written = records(stream, "updated_at", n, since);
        if let Some(last) = written.last() {
            bookmarks[stream] = json!({"updated_at": last["record"]["updated_at"]});
        }
        out.extend(written);
        out.push(state_message(
            json!({"currently_syncing": stream, "bookmarks": bookmarks.clone()}),
        ));
    }
    out.push(state_message(
        json!({"currently_syncing": null, "bookmarks": bookmarks}),
    ));
    Written::messages(out)
}

#[test]
fn a_singer_python_tap_passes_with_its_bookmarks_read() {
    let tap = ScriptedTap {
        name: "tap-singer-python",
        catalog: json!({"streams": [singer_python_entry("users", "updated_at"),
            singer_python_entry("orders", "updated_at")]}),
        sync: singer_python_tap,
    };
    let report = TapSuite::with_runner(tap, json!({})).run();
    no_failure(&report);
    let advance = check(&report, "bookmarks advance");
    assert_eq!(advance.status, Status::Pass, "{report}");
    assert!(
        advance.details[0].starts_with("users: none → \"2024-01-01T10:00:00Z\" (10 records)"),
        "{report}"
    );
    assert_eq!(
        report.bookmark("orders").unwrap().after,
        Some(json!("2024-01-01T15:00:00Z"))
    );
    let shape = check(&report, "state shape understood");
    assert_eq!(shape.status, Status::Pass, "{report}");
    assert!(
        shape.details.contains(
            &"users: singer-python at bookmarks.users.updated_at = \"2024-01-01T10:00:00Z\""
                .to_owned()
        ),
        "{report}"
    );
    assert_eq!(
        check(&report, "second run: no record older than the bookmark").status,
        Status::Pass,
        "{report}"
    );
}

/// A singer-sdk child stream: one bookmark per parent context under `partitions`.
fn sdk_partitions_tap(state: Option<&Value>) -> Written {
    let mut out = vec![schema_message("events", "at")];
    let mut partitions = Vec::new();
    for org in 1..=3 {
        let since = state
            .and_then(|s| s["bookmarks"]["events"]["partitions"].as_array())
            .and_then(|ps| ps.iter().find(|p| p["context"]["org"] == org))
            .and_then(|p| p["replication_key_value"].as_str());
        let mut written = records("events", "at", 4 + org, since);
        for (i, r) in written.iter_mut().enumerate() {
            r["record"]["id"] = json!(org * 100 + i as u32);
        }
        let last = written.last().map(|r| r["record"]["at"].clone());
        out.extend(written);
        partitions.push(json!({"context": {"org": org}, "replication_key": "at",
            "replication_key_value": last}));
        out.push(state_message(
            json!({"bookmarks": {"events": {"partitions": partitions.clone()}}}),
        ));
    }
    Written::messages(out)
}

#[test]
fn singer_sdk_partitions_are_read_as_a_range() {
    let mut entry = singer_python_entry("events", "at");
    entry["replication_key"] = json!("at");
    let tap = ScriptedTap {
        name: "tap-sdk-partitions",
        catalog: json!({"streams": [entry]}),
        sync: sdk_partitions_tap,
    };
    let report = TapSuite::with_runner(tap, json!({})).run();
    no_failure(&report);
    let b = report.bookmark("events").unwrap();
    assert_eq!(b.after, Some(json!("2024-01-01T07:00:00Z")), "{report}");
    assert!(
        check(&report, "state shape understood")
            .details
            .iter()
            .any(|d| d.starts_with("events: singer-sdk partitions at")
                && d.contains("3 partitions, \"2024-01-01T05:00:00Z\" … \"2024-01-01T07:00:00Z\"")),
        "{report}"
    );
}

/// A singer-sdk stream whose order is not trusted: progress markers while it runs, finalized into
/// `replication_key_value` at the end, with the signpost the SDK writes.
fn sdk_progress_tap(state: Option<&Value>) -> Written {
    let since = state.and_then(|s| s["bookmarks"]["events"]["replication_key_value"].as_str());
    let mut out = vec![schema_message("events", "at")];
    let mut written = records("events", "at", 8, since);
    written.reverse();
    let max = written.first().map(|r| r["record"]["at"].clone());
    for r in written {
        let at = r["record"]["at"].clone();
        out.push(r);
        out.push(state_message(json!({"bookmarks": {"events": {
            "replication_key_signpost": "2030-01-01T00:00:00Z",
            "starting_replication_value": since,
            "progress_markers": {"Note": "Progress is not resumable if interrupted.",
                "replication_key": "at", "replication_key_value": at}}}})));
    }
    out.push(state_message(json!({"bookmarks": {"events": {
        "replication_key": "at", "replication_key_value": max,
        "replication_key_signpost": "2030-01-01T00:00:00Z",
        "starting_replication_value": since}}})));
    Written::messages(out)
}

#[test]
fn singer_sdk_progress_markers_and_signposts_are_understood() {
    let tap = ScriptedTap {
        name: "tap-sdk-unsorted",
        catalog: json!({"streams": [singer_python_entry("events", "at")]}),
        sync: sdk_progress_tap,
    };
    let report = TapSuite::with_runner(tap, json!({})).run();
    no_failure(&report);
    assert_eq!(
        report.bookmark("events").unwrap().after,
        Some(json!("2024-01-01T08:00:00Z"))
    );
    assert!(
        check(&report, "state shape understood").details[0]
            .starts_with("events: singer-sdk at bookmarks.events.replication_key_value"),
        "{report}"
    );
}

/// A PipelineWise tap (as pipelinewise-tap-postgres writes its state): stream ids
/// `<schema>-<table>` (messages are named by them, not by the catalog's `stream`), `version` and
/// `last_replication_method` beside the value.
fn pipelinewise_tap(state: Option<&Value>) -> Written {
    let bookmark = state.map(|s| &s["bookmarks"]["public-users"]);
    let since = bookmark.and_then(|b| b["replication_key_value"].as_str());
    let version = bookmark
        .and_then(|b| b["version"].as_i64())
        .unwrap_or(1_700_000_000_000);
    let mut out = vec![state_message(json!({"currently_syncing": "public-users",
        "bookmarks": {"public-users": {"last_replication_method": "INCREMENTAL",
            "replication_key": "updated_at", "version": version}}}))];
    out.push(schema_message("public-users", "updated_at"));
    let written = records("public-users", "updated_at", 6, since);
    let last = written.last().map(|r| r["record"]["updated_at"].clone());
    out.extend(written.into_iter().map(|mut r| {
        r["version"] = json!(version);
        r
    }));
    out.push(state_message(json!({"currently_syncing": null,
        "bookmarks": {"public-users": {"last_replication_method": "INCREMENTAL",
            "replication_key": "updated_at", "version": version,
            "replication_key_value": last.or_else(|| since.map(Value::from))}}})));
    Written::messages(out)
}

#[test]
fn a_pipelinewise_state_is_read_by_tap_stream_id() {
    let mut entry = singer_python_entry("public-users", "updated_at");
    entry["stream"] = json!("users");
    entry["metadata"][0]["metadata"]["replication-method"] = json!("INCREMENTAL");
    entry["metadata"][0]["metadata"]["replication-key"] = json!("updated_at");
    let tap = ScriptedTap {
        name: "tap-pipelinewise",
        catalog: json!({"streams": [entry]}),
        sync: pipelinewise_tap,
    };
    let report = TapSuite::with_runner(tap, json!({})).run();
    no_failure(&report);
    assert_eq!(
        check(&report, "every selected stream syncs").details,
        ["public-users: 6 records"],
        "{report}"
    );
    assert_eq!(
        report.bookmark("public-users").unwrap().after,
        Some(json!("2024-01-01T06:00:00Z"))
    );
    assert!(
        check(&report, "state shape understood").details[0].starts_with(
            "public-users: PipelineWise at bookmarks.public-users.replication_key_value"
        ),
        "{report}"
    );
}

#[test]
fn a_shape_the_checks_cannot_read_warns_and_never_fails() {
    let tap = ScriptedTap {
        name: "tap-cursor",
        catalog: json!({"streams": [singer_python_entry("users", "updated_at")]}),
        sync: |_state: Option<&Value>| {
            let mut out = vec![schema_message("users", "updated_at")];
            out.extend(records("users", "updated_at", 5, None));
            out.push(state_message(
                json!({"bookmarks": {"users": {"cursor": "b64:abc"}}, "offsets": [1]}),
            ));
            Written::messages(out)
        },
    };
    let report = TapSuite::with_runner(tap, json!({}))
        .skip_second_run()
        .run();
    no_failure(&report);
    let advance = check(&report, "bookmarks advance");
    assert_eq!(advance.status, Status::Warn, "{report}");
    assert!(
        advance.details[0].contains("not judged")
            && advance.details[0].contains("bookmarks.users holds cursor"),
        "{report}"
    );
    assert_eq!(
        check(&report, "state shape understood").status,
        Status::Warn,
        "{report}"
    );
}

#[test]
fn currently_syncing_left_set_or_naming_no_stream_warns() {
    let tap = ScriptedTap {
        name: "tap-unfinished",
        catalog: json!({"streams": [singer_python_entry("users", "updated_at")]}),
        sync: |_state: Option<&Value>| {
            let mut out = vec![
                state_message(json!({"currently_syncing": "user"})),
                schema_message("users", "updated_at"),
            ];
            out.extend(records("users", "updated_at", 3, None));
            out.push(state_message(json!({"currently_syncing": "users",
                "bookmarks": {"users": {"updated_at": "2024-01-01T03:00:00Z"}}})));
            Written::messages(out)
        },
    };
    let report = TapSuite::with_runner(tap, json!({}))
        .skip_second_run()
        .run();
    no_failure(&report);
    let shape = check(&report, "state shape understood");
    assert_eq!(shape.status, Status::Warn, "{report}");
    let details = shape.details.join("\n");
    assert!(
        details.contains("still names \"users\" as currently_syncing"),
        "{report}"
    );
    assert!(
        details.contains("line 1: currently_syncing \"user\" is not a stream of the catalog"),
        "{report}"
    );
    assert_eq!(
        check(&report, "bookmarks advance").status,
        Status::Pass,
        "{report}"
    );
}
