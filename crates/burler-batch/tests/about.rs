//! `about::settings()` against what singer-sdk prints for `batch_config`
//! (`tests/data/settings.json`, generated from singer-sdk), plus the documented `batch_size`.

use serde_json::{Value, json};

#[test]
fn settings_are_singer_sdks_plus_batch_size() {
    let path = format!("{}/tests/data/settings.json", env!("CARGO_MANIFEST_DIR"));
    let mut want: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("settings.json"))
            .expect("parses");
    let properties = want["properties"]["batch_config"]["properties"]
        .as_object_mut()
        .expect("properties");
    properties.insert(
        "batch_size".into(),
        json!({"type": ["integer", "null"], "title": "Batch Size",
               "description": "Maximum number of records in a batch file (default 10000)."}),
    );
    let got = Value::Object(burler_batch::about::settings());
    assert_eq!(got.to_string(), want["properties"].to_string());
    assert_eq!(burler_batch::about::CAPABILITIES, ["batch"]);
}
