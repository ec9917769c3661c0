//! `about::settings()` against what singer-sdk prints (`tests/data/settings.json`, generated from
//! singer-sdk's `helpers/capabilities.py`), with burler's two documented differences applied to
//! singer-sdk's side: no `faker_config`, and the declared-schema object form of a property map.

use serde_json::{Value, json};

#[test]
fn settings_are_singer_sdks_with_the_documented_differences() {
    let path = format!("{}/tests/data/settings.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("settings.json");
    let mut want: Value = serde_json::from_str(&text).expect("settings.json parses");
    let properties = want["properties"].as_object_mut().expect("properties");
    assert!(
        properties.shift_remove("faker_config").is_some(),
        "singer-sdk has faker_config"
    );
    let property_map = &mut properties["stream_maps"]["additionalProperties"]["anyOf"][2]["additionalProperties"]
        ["anyOf"];
    property_map.as_array_mut().expect("anyOf").push(json!({
        "type": "object",
        "properties": {
            "expression": {"type": "string", "description": "The expression computing the property."},
            "schema": {"type": "object", "description": "The property's JSON Schema, instead of the one guessed from the expression."}
        },
        "required": ["expression"],
        "additionalProperties": false
    }));
    let got = Value::Object(burler_maps::about::settings());
    // Key order included: --about lists settings in this order.
    assert_eq!(got.to_string(), want["properties"].to_string());
}

#[test]
fn capabilities_are_singer_sdks_names() {
    assert_eq!(
        burler_maps::about::CAPABILITIES,
        ["stream-maps", "schema-flattening"]
    );
}
