//! The published JSON Schema (`manifest.schema.json`) is the one generated from the format's
//! types, and it accepts the example manifests. Regenerate it with
//! `cargo run -p burler-cli -- manifest schema > crates/burler-manifest/manifest.schema.json`.

use serde_json::Value;

#[test]
fn published_schema_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/manifest.schema.json");
    let published: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        published,
        burler_manifest::json_schema(),
        "manifest.schema.json is stale: run `cargo run -p burler-cli -- manifest schema > crates/burler-manifest/manifest.schema.json`"
    );
}
