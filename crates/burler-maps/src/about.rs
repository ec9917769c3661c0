//! What `--about` says about stream maps and flattening: the capability names and the settings,
//! written as singer-sdk prints them (`helpers/capabilities.py`), so Meltano shows the same
//! settings for a burler tap as for a singer-sdk one.
//!
//! Two differences, both because burler does something else: no `faker_config` (burler has no
//! Faker), and a property of a stream map may also be burler's `{"expression", "schema"}`
//! object, which declares the property's JSON Schema.

use serde_json::{Map, Value, json};

/// The capabilities these settings give a tap, as `--about` lists them.
pub const CAPABILITIES: [&str; 2] = ["stream-maps", "schema-flattening"];

/// The settings, as `--about` lists them: setting name → JSON Schema (title, description).
///
/// ```
/// let settings = burler_maps::about::settings();
/// assert_eq!(
///     settings.keys().collect::<Vec<_>>(),
///     ["stream_maps", "stream_map_config", "flattening_enabled", "flattening_max_depth",
///      "flattening_max_key_length", "flattening_separator"]
/// );
/// ```
pub fn settings() -> Map<String, Value> {
    let mut settings = Map::new();
    settings.insert("stream_maps".into(), stream_maps());
    settings.insert(
        "stream_map_config".into(),
        json!({
            "type": ["object", "null"],
            "properties": {},
            "additionalProperties": true,
            "title": "User Stream Map Configuration",
            "description": "User-defined config values to be used within map expressions."
        }),
    );
    settings.extend(flattening());
    settings
}

/// `{"anyOf": [{"const": "__NULL__"}, {"type": "null"}, "null"]}`: singer-sdk's "remove" type,
/// its stray `"null"` string included.
fn remove() -> Value {
    json!([{"const": "__NULL__"}, {"type": "null"}, "null"])
}

fn stream_maps() -> Value {
    json!({
        "type": ["object", "null"],
        "properties": {
            "__else__": {
                "anyOf": remove(),
                "title": "Other streams",
                "description": "Currently, only setting this to `__NULL__` is supported. This will remove all other streams."
            }
        },
        "additionalProperties": {
            "anyOf": [{"const": "__NULL__"}, {"type": "null"}, stream_map()]
        },
        "title": "Stream Maps",
        "description": "Config object for stream maps capability. For more information check out [Stream Maps](https://sdk.meltano.com/en/latest/stream_maps.html)."
    })
}

fn stream_map() -> Value {
    let nullable_string = |title: Option<&str>, description: &str| {
        let mut v = json!({"type": ["string", "null"]});
        if let (Some(obj), Some(title)) = (v.as_object_mut(), title) {
            obj.insert("title".into(), title.into());
        }
        if let Some(obj) = v.as_object_mut() {
            obj.insert("description".into(), description.into());
        }
        v
    };
    json!({
        "type": "object",
        "properties": {
            "__alias__": nullable_string(Some("Stream Alias"), "Alias to use for the stream."),
            "__else__": {
                "anyOf": remove(),
                "title": "Other properties",
                "description": "Currently, only setting this to `__NULL__` is supported. This will remove all other properties from the stream."
            },
            "__filter__": nullable_string(Some("Filter"), "Filter out records from a stream. A string expression which must evaluate to `true` to include the record, or `false` to exclude it. Filter expressions should be wrapped in `bool()` to ensure proper type conversion."),
            "__key_properties__": {
                "type": ["array", "null"],
                "items": {"type": ["string"]},
                "title": "Key Properties",
                "description": "Primary key properties for the stream."
            },
            "__source__": nullable_string(None, "Create a new stream from this source stream.")
        },
        "additionalProperties": {
            "anyOf": [
                {"const": "__NULL__"},
                {"type": "null"},
                {"type": ["string"]},
                {
                    "type": "object",
                    "properties": {
                        "expression": {"type": "string", "description": "The expression computing the property."},
                        "schema": {"type": "object", "description": "The property's JSON Schema, instead of the one guessed from the expression."}
                    },
                    "required": ["expression"],
                    "additionalProperties": false
                }
            ]
        }
    })
}

fn flattening() -> Map<String, Value> {
    let setting = |ty: &str, title: &str, description: &str| json!({"type": [ty, "null"], "title": title, "description": description});
    let mut settings = Map::new();
    settings.insert(
        "flattening_enabled".into(),
        setting(
            "boolean",
            "Enable Schema Flattening",
            "'True' to enable schema flattening and automatically expand nested properties.",
        ),
    );
    settings.insert(
        "flattening_max_depth".into(),
        setting(
            "integer",
            "Max Flattening Depth",
            "The max depth to flatten schemas.",
        ),
    );
    settings.insert(
        "flattening_max_key_length".into(),
        setting(
            "integer",
            "Max Key Length",
            "The maximum length of a flattened key.",
        ),
    );
    settings.insert(
        "flattening_separator".into(),
        setting(
            "string",
            "Flattening Separator",
            "The separator to use when flattening keys.",
        ),
    );
    settings
}
