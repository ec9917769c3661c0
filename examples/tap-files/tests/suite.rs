//! The standard burler-testkit suite on the tap-files binary: discovery, catalog metadata, a sync of
//! every stream checked message by message, bookmarks, and a second run from the final state.

use std::path::Path;

use burler_testkit::TapSuite;
use serde_json::json;

#[test]
fn tap_files_passes_the_standard_suite() {
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let report = TapSuite::binary(
        env!("CARGO_BIN_EXE_tap-files"),
        json!({"data_dir": data_dir}),
    )
    .min_bookmark_rate(60.0)
    .run();
    println!("{report}");
    report.assert_passes();
    assert!(
        report
            .bookmark("orders")
            .is_some_and(|b| b.rate_per_second.is_some())
    );
}
