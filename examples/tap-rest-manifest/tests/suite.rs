//! tap-rest-manifest through the standard suite: discovery, a full sync checked message by
//! message, a second run from its state, and the resume-anywhere check (cut the output anywhere,
//! resume from the last STATE, lose no record).

use burler_testkit::TapSuite;
use serde_json::json;

#[test]
fn passes_the_standard_suite_with_resume_anywhere() {
    let config = json!({"api_token": "demo-token", "start_date": "2024-01-01T00:00:00Z",
        "requests_per_second": 1000});
    let report = TapSuite::binary(env!("CARGO_BIN_EXE_tap-rest-manifest"), config).run();
    report.assert_passes();
    assert!(
        report.checks.iter().any(|c| c.name.contains("resume")),
        "{report:?}"
    );
}
