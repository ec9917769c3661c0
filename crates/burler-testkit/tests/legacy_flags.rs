//! Older taps (PipelineWise's, some singer-io ones) read the catalog only from the legacy
//! `--properties` flag: `catalog_as_properties` passes it that way, to every sync the suite runs.

mod common;

use burler_testkit::runner::{RunInput, TapOutput, TapRunner};
use burler_testkit::{Status, TapSuite};
use common::{ScriptedTap, Written, records, schema_message, singer_python_entry, state_message};
use serde_json::{Value, json};

/// Syncs only when given `--properties` (with `--catalog` alone it writes nothing, as
/// pipelinewise-tap-s3-csv does).
struct PropertiesOnly<F>(ScriptedTap<F>);

impl<F: Fn(Option<&Value>) -> Written> TapRunner for PropertiesOnly<F> {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn run(&self, input: &RunInput) -> TapOutput {
        if !input.discover && input.properties.is_none() {
            return TapOutput {
                exit_code: Some(0),
                ..TapOutput::default()
            };
        }
        self.0.run(input)
    }

    fn captures_stderr(&self) -> bool {
        false
    }
}

fn tap() -> PropertiesOnly<impl Fn(Option<&Value>) -> Written> {
    PropertiesOnly(ScriptedTap {
        name: "tap-properties-only",
        catalog: json!({"streams": [singer_python_entry("users", "updated_at")]}),
        sync: |state: Option<&Value>| {
            let since = state.and_then(|s| s["bookmarks"]["users"]["updated_at"].as_str());
            let mut out = vec![schema_message("users", "updated_at")];
            out.extend(records("users", "updated_at", 4, since));
            out.push(state_message(
                json!({"bookmarks": {"users": {"updated_at": "2024-01-01T04:00:00Z"}}}),
            ));
            Written::messages(out)
        },
    })
}

#[test]
fn a_tap_that_reads_only_properties_is_judged_through_that_flag() {
    let with_catalog = TapSuite::with_runner(tap(), json!({})).run();
    let syncs = with_catalog.check("every selected stream syncs").unwrap();
    assert_eq!(syncs.status, Status::Fail, "{with_catalog}");
    let report = TapSuite::with_runner(tap(), json!({}))
        .catalog_as_properties()
        .run();
    assert_eq!(report.count(Status::Fail), 0, "{report}");
    assert_eq!(report.records, [("users".to_owned(), 4)]);
    assert_eq!(
        report
            .check("second run: no more records than the first")
            .unwrap()
            .details,
        ["users: 4 then 1"],
        "the second run got --properties too:\n{report}"
    );
    assert!(report.resume.as_ref().unwrap().cuts.len() >= 4, "{report}");
}
