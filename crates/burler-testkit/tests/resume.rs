//! The resume-anywhere check on hand-written taps (independent of the framework, so they keep
//! their behaviour whatever the engine does): a parent → child tree with partitions that commits
//! each parent's bookmark only after its children passes at every cut; the same tree committing
//! the parent's bookmark before the children are written (the bug this check exists for) fails,
//! naming the stream, the cut, the state and missing keys; misbehaving taps are reported, never a
//! panic.

mod common;

use burler_testkit::runner::{RunInput, TapRunner};
use burler_testkit::{ResumeCheck, Status, TapSuite};
use common::{ScriptedTap, Written, singer_python_entry, state_message};
use serde_json::{Value, json};

fn catalog() -> Value {
    let mut orders = singer_python_entry("orders", "updated_at");
    orders["replication_key"] = json!("updated_at");
    let mut lines = singer_python_entry("order_lines", "updated_at");
    let root = &mut lines["metadata"][0]["metadata"];
    root["parent-tap-stream-id"] = json!("orders");
    // Children have no bookmark of their own: their parent's covers them.
    root["forced-replication-method"] = json!("FULL_TABLE");
    root.as_object_mut()
        .unwrap()
        .remove("valid-replication-keys");
    let events = singer_python_entry("events", "updated_at");
    json!({"streams": [orders, lines, events]})
}

fn schema(stream: &str) -> Value {
    let entry = singer_python_entry(stream, "updated_at");
    json!({"type": "SCHEMA", "stream": stream, "schema": entry["schema"], "key_properties": ["id"]})
}

fn at(hour: u32) -> String {
    format!("2024-01-01T{hour:02}:00:00Z")
}

fn record(stream: &str, id: u32, hour: u32) -> Value {
    json!({"type": "RECORD", "stream": stream,
        "record": {"id": id, "updated_at": at(hour), "name": format!("{stream} {id}")}})
}

/// 12 orders an hour apart, order `i` with `i % 3 + 1` lines.
fn order_lines(order: u32) -> Vec<Value> {
    (0..order % 3 + 1)
        .map(|j| record("order_lines", order * 10 + j, order))
        .collect()
}

/// What the state says, and the state a tap keeps while it runs.
struct Progress {
    state: Value,
}

impl Progress {
    fn from(start: Option<&Value>) -> Self {
        let state = start.cloned().unwrap_or_else(|| json!({"bookmarks": {}}));
        Progress { state }
    }

    fn orders_since(&self) -> u32 {
        self.hour(&self.state["bookmarks"]["orders"]["replication_key_value"])
    }

    fn partition_since(&self, org: u32) -> u32 {
        let partitions = self.state["bookmarks"]["events"]["partitions"].as_array();
        let found = partitions.and_then(|ps| ps.iter().find(|p| p["context"]["org"] == org));
        found.map_or(0, |p| self.hour(&p["replication_key_value"]))
    }

    fn hour(&self, v: &Value) -> u32 {
        v.as_str()
            .and_then(|s| s.get(11..13))
            .and_then(|h| h.parse().ok())
            .unwrap_or(0)
    }

    fn commit_order(&mut self, hour: u32) -> Value {
        self.state["bookmarks"]["orders"] =
            json!({"replication_key": "updated_at", "replication_key_value": at(hour)});
        state_message(self.state.clone())
    }

    fn commit_partition(&mut self, org: u32, hour: u32) -> Value {
        let mut partitions = self.state["bookmarks"]["events"]["partitions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        partitions.retain(|p| p["context"]["org"] != org);
        partitions.push(
            json!({"context": {"org": org}, "replication_key": "updated_at",
            "replication_key_value": at(hour)}),
        );
        self.state["bookmarks"]["events"] = json!({"partitions": partitions});
        state_message(self.state.clone())
    }
}

/// The partitioned `events` stream: three orgs, five events each, a STATE every two.
fn events(progress: &mut Progress, out: &mut Vec<Value>) {
    out.push(schema("events"));
    for org in 1..=3 {
        let since = progress.partition_since(org);
        for hour in (1..=5).filter(|h| *h > since) {
            out.push(record("events", org * 100 + hour, hour));
            if hour % 2 == 0 || hour == 5 {
                out.push(progress.commit_partition(org, hour));
            }
        }
    }
}

/// The tree written correctly: each order, its lines, then the STATE that covers them.
fn good_tree(start: Option<&Value>) -> Written {
    let mut progress = Progress::from(start);
    let mut out = vec![schema("orders"), schema("order_lines")];
    let since = progress.orders_since();
    for order in (1..=12).filter(|o| *o > since) {
        out.push(record("orders", order, order));
        out.extend(order_lines(order));
        out.push(progress.commit_order(order));
    }
    events(&mut progress, &mut out);
    Written::messages(out)
}

/// The bug: parents first, a STATE every four parents committing their bookmark, and the
/// children only after all parents; a run resumed from such a STATE never asks for them.
fn buggy_tree(start: Option<&Value>) -> Written {
    let mut progress = Progress::from(start);
    let mut out = vec![schema("orders"), schema("order_lines")];
    let since = progress.orders_since();
    let orders: Vec<u32> = (1..=12).filter(|o| *o > since).collect();
    for &order in &orders {
        out.push(record("orders", order, order));
        if order % 4 == 0 {
            out.push(progress.commit_order(order));
        }
    }
    for &order in &orders {
        out.extend(order_lines(order));
    }
    events(&mut progress, &mut out);
    Written::messages(out)
}

fn tap<F>(sync: F) -> ScriptedTap<F> {
    ScriptedTap {
        name: "tap-tree",
        catalog: catalog(),
        sync,
    }
}

/// A config and the catalog, in files, and the input of a sync with them.
struct Inputs {
    _dir: tempfile::TempDir,
    input: RunInput,
}

fn inputs() -> Inputs {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, "{}").unwrap();
    let catalog_path = dir.path().join("catalog.json");
    std::fs::write(&catalog_path, catalog().to_string()).unwrap();
    let input = RunInput::sync(&config).catalog(&catalog_path);
    Inputs { _dir: dir, input }
}

#[test]
fn a_tree_that_commits_after_its_children_passes_at_every_cut() {
    let files = inputs();
    let report = ResumeCheck::new().run(&tap(good_tree), &files.input);
    report.assert_passes();
    assert!(report.cuts.len() >= 20, "{:?}", report.cuts.len());
    let inside: Vec<&str> = report
        .cuts
        .iter()
        .filter_map(|c| c.inside.as_deref())
        .collect();
    assert!(
        inside.contains(&"the records of order_lines, child of orders"),
        "{inside:?}"
    );
    assert!(
        inside.contains(&"the records of events, partitioned"),
        "{inside:?}"
    );
    assert!(report.resumed_runs > 5, "{}", report.resumed_runs);
    let every_line = ResumeCheck::new()
        .cuts(1000)
        .run(&tap(good_tree), &files.input);
    every_line.assert_passes();
    assert_eq!(every_line.cuts.len() as u64, every_line.lines - 1);
}

#[test]
fn a_parent_bookmark_committed_before_its_children_fails_with_the_lost_keys() {
    let files = inputs();
    let report = ResumeCheck::new().run(&tap(buggy_tree), &files.input);
    assert_eq!(report.status(), Status::Fail);
    let check = report.to_check();
    assert!(
        check.summary.contains("lose records of order_lines ("),
        "{}",
        check.summary
    );
    let failure = report
        .failures()
        .find(|c| c.inside.as_deref() == Some("the records of order_lines, child of orders"))
        .unwrap_or_else(|| panic!("no failing cut inside order_lines: {check:?}"));
    let lost = &failure.missing[0];
    assert_eq!(lost.stream, "order_lines");
    assert!(lost.missing > 0 && lost.of == 24, "{lost:?}");
    assert!(!lost.examples.is_empty() && lost.examples[0].get("id").is_some());
    let state = failure.state.as_ref().unwrap();
    assert_eq!(
        state["bookmarks"]["orders"]["replication_key_value"],
        "2024-01-01T12:00:00Z"
    );
    let line = &check.details[0];
    assert!(
        line.starts_with("order_lines: cut after line ")
            && line.contains("resumed from the STATE of line ")
            && line.contains("keys missing, e.g. {\"id\":")
            && line.contains("; state {\"bookmarks\""),
        "{line}"
    );
}

#[test]
fn the_suite_runs_it_by_default_and_can_be_told_otherwise() {
    let report = TapSuite::with_runner(tap(buggy_tree), json!({})).run();
    let check = report.check("resume from any cut").unwrap();
    assert_eq!(check.status, Status::Fail, "{report}");
    assert!(!report.passed());
    assert!(report.resume.as_ref().unwrap().cuts.len() >= 20);
    let good = TapSuite::with_runner(tap(good_tree), json!({}))
        .resume_cuts(5)
        .run();
    good.assert_passes();
    let resume = good.resume.as_ref().unwrap();
    assert!(
        (5..=7).contains(&resume.cuts.len()),
        "about 5 cuts: {}",
        resume.cuts.len()
    );
    let skipped = TapSuite::with_runner(tap(buggy_tree), json!({}))
        .skip_resume_check()
        .run();
    assert!(skipped.check("resume from any cut").is_none());
    assert!(skipped.resume.is_none());
    let explicit = TapSuite::with_runner(tap(buggy_tree), json!({}))
        .resume_check(ResumeCheck::new().cuts(0).cut_after([3]))
        .run();
    assert_eq!(explicit.resume.as_ref().unwrap().cuts.len(), 1);
}

#[test]
fn misbehaving_taps_are_reported_never_a_panic() {
    let files = inputs();
    // Crashes whenever it is given a state.
    let crashing = tap(|start: Option<&Value>| match start {
        Some(_) => Written {
            lines: vec!["Traceback: KeyError 'bookmarks'".into()],
            exit_code: 1,
        },
        None => good_tree(None),
    });
    let report = ResumeCheck::new().cuts(4).run(&crashing, &files.input);
    assert_eq!(report.status(), Status::Fail);
    let first = report.failures().next().unwrap();
    assert_eq!(
        first.run_error.as_deref(),
        Some("the resumed run ended with exit 1")
    );
    // The uninterrupted run fails: nothing to compare with.
    let failing = tap(|_: Option<&Value>| Written {
        lines: vec![],
        exit_code: 2,
    });
    let report = ResumeCheck::new().run(&failing, &files.input);
    assert_eq!(report.status(), Status::Warn);
    assert!(report.to_check().summary.contains("exit 2"));
    // Garbage, a RECORD before its SCHEMA, a state that is not an object, records without keys.
    let garbage = tap(|start: Option<&Value>| {
        let mut lines = vec![
            "not json".to_owned(),
            record("orders", 1, 1).to_string(),
            json!({"type": "STATE", "value": [1]}).to_string(),
            json!({"type": "RECORD", "stream": "nokey", "record": {"v": 1}}).to_string(),
            "{\"type\":\"RECORD\",\"stream\":\"orders\",\"record\":".to_owned(),
        ];
        if start.is_none() {
            lines.push(record("orders", 2, 2).to_string());
        }
        lines.push(schema("orders").to_string());
        Written {
            lines,
            exit_code: 0,
        }
    });
    let report = ResumeCheck::new().run(&garbage, &files.input);
    assert_eq!(report.status(), Status::Fail, "{:?}", report.to_check());
    let lost = &report.failures().next().unwrap().missing[0];
    assert_eq!((lost.stream.as_str(), lost.missing), ("orders", 1));
    assert_eq!(lost.examples, [json!({"id": 2})]);
    // A tap that writes nothing at all.
    let silent = tap(|_: Option<&Value>| Written {
        lines: vec![],
        exit_code: 0,
    });
    let report = ResumeCheck::new().run(&silent, &files.input);
    assert!(report.passed(), "{:?}", report.to_check());
    assert!(report.cuts.is_empty());
    assert!(silent.run(&files.input).succeeded());
}
