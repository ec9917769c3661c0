//! The README's tap passes the test kit's standard suite (resume check included) on the orders
//! of examples/tap-files/data.

use burler::serde_json::json;
use burler_testkit::TapSuite;

#[test]
fn the_readme_tap_passes_the_standard_suite() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../tap-files/data");
    let config = json!({"data_dir": data, "start_date": "2024-01-01T00:00:00Z"});
    let report = TapSuite::binary(env!("CARGO_BIN_EXE_tap-orders"), config).run();
    report.assert_passes();
}

#[test]
fn the_readme_shows_this_tap_word_for_word() {
    let readme = include_str!("../../../README.md");
    let source = include_str!("../src/main.rs");
    let body = source.split_once("\n\n").map_or(source, |(_, rest)| rest);
    assert!(readme.contains(body), "README's tap differs from examples/tap-orders/src/main.rs");
}
