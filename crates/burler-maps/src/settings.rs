//! The settings singer-sdk reads for stream maps and flattening (`stream_maps`,
//! `stream_map_config`, `flattening_*`), parsed from a tap's config into plain values, with the
//! same shape rules singer-sdk applies (and one error line naming the setting where it raises).

use serde_json::{Map, Value};

use crate::MapsError;

/// singer-sdk's spelling of "remove" besides JSON `null`.
pub(crate) const NULL_STRING: &str = "__NULL__";
const ELSE: &str = "__else__";
const FILTER: &str = "__filter__";
const SOURCE: &str = "__source__";
const ALIAS: &str = "__alias__";
const KEY_PROPERTIES: &str = "__key_properties__";
/// singer-sdk's default `flattening_separator`.
const DEFAULT_SEPARATOR: &str = "__";
/// singer-sdk's default `flattening_max_key_length`.
const DEFAULT_MAX_KEY_LENGTH: usize = 255;

/// Everything the config says about maps and flattening.
#[derive(Debug, Clone, Default)]
pub(crate) struct MapSettings {
    /// `stream_maps` entries in config order, `__else__` taken out.
    pub streams: Vec<StreamMapEntry>,
    /// Top-level `__else__: null`: streams no entry matches are dropped.
    pub drop_unmapped_streams: bool,
    /// `stream_map_config`, the `config` of expressions.
    pub map_config: Map<String, Value>,
    /// `None` when flattening is off or its depth is 0 (singer-sdk then does not flatten).
    pub flattening: Option<FlatteningOptions>,
}

/// One `stream_maps` entry.
#[derive(Debug, Clone)]
pub(crate) struct StreamMapEntry {
    /// The key: a stream name, a glob, or the name of a new stream (`__source__`).
    pub key: String,
    pub def: StreamDef,
}

/// What an entry does with the stream(s) it matches.
#[derive(Debug, Clone)]
pub(crate) enum StreamDef {
    /// `null` / `"__NULL__"`: no SCHEMA, no records.
    Remove,
    Map(MapDef),
}

/// An object entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct MapDef {
    pub source: Option<String>,
    pub alias: Option<String>,
    pub filter: Option<String>,
    /// `__key_properties__`; `Some(vec![])` for `null` or `[]`.
    pub key_properties: Option<Vec<String>>,
    /// `__else__: null`: only the listed properties (and the keys) are kept.
    pub else_null: bool,
    pub properties: Vec<(String, PropertyDef)>,
}

/// One property of an object entry.
#[derive(Debug, Clone)]
pub(crate) enum PropertyDef {
    /// `null` / `"__NULL__"`.
    Remove,
    /// An expression, with the JSON Schema the user declared for it (burler's object form).
    Compute {
        expression: String,
        schema: Option<Value>,
    },
}

/// `flattening_*`, as singer-sdk's `FlatteningOptions`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FlatteningOptions {
    pub max_depth: usize,
    pub separator: String,
    pub max_key_length: usize,
}

impl MapSettings {
    /// Reads the settings from a tap's config; absent keys mean "off".
    pub fn from_config(config: &Map<String, Value>) -> Result<Self, MapsError> {
        let map_config = match config.get("stream_map_config") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(MapsError::setting("stream_map_config", "must be an object")),
        };
        let mut settings = MapSettings {
            map_config,
            flattening: flattening_options(config)?,
            ..MapSettings::default()
        };
        let entries = match config.get("stream_maps") {
            None | Some(Value::Null) => return Ok(settings),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(MapsError::setting("stream_maps", "must be an object")),
        };
        for (key, def) in entries {
            if key == ELSE {
                if !is_null(def) {
                    return Err(MapsError::setting(
                        "stream_maps.__else__",
                        format!("only null or \"__NULL__\" is supported, not {def}"),
                    ));
                }
                settings.drop_unmapped_streams = true;
            } else if key.starts_with("__") {
                return Err(MapsError::setting(
                    format!("stream_maps.{key}"),
                    "not an option (names starting with __ are reserved)",
                ));
            } else {
                let def = stream_def(key, def)?;
                settings.streams.push(StreamMapEntry {
                    key: key.clone(),
                    def,
                });
            }
        }
        Ok(settings)
    }

    /// True when nothing is mapped and nothing is flattened.
    pub fn is_inactive(&self) -> bool {
        self.streams.is_empty() && !self.drop_unmapped_streams && self.flattening.is_none()
    }
}

/// `null` or singer-sdk's `"__NULL__"`.
pub(crate) fn is_null(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some(NULL_STRING)
}

fn stream_def(key: &str, def: &Value) -> Result<StreamDef, MapsError> {
    match def {
        v if is_null(v) => Ok(StreamDef::Remove),
        Value::Object(m) => map_def(key, m).map(StreamDef::Map),
        other => Err(MapsError::setting(
            format!("stream_maps.{key}"),
            format!("must be an object, null or \"__NULL__\", not {other}"),
        )),
    }
}

fn map_def(stream: &str, m: &Map<String, Value>) -> Result<MapDef, MapsError> {
    let mut def = MapDef::default();
    let setting = |k: &str| format!("stream_maps.{stream}.{k}");
    for (key, value) in m {
        match key.as_str() {
            SOURCE => def.source = Some(string_option(&setting(key), value)?),
            ALIAS => def.alias = Some(string_option(&setting(key), value)?),
            FILTER if value.is_null() => {}
            FILTER => def.filter = Some(string_option(&setting(key), value)?),
            KEY_PROPERTIES => def.key_properties = Some(key_list(&setting(key), value)?),
            ELSE if is_null(value) => def.else_null = true,
            ELSE => {
                return Err(MapsError::setting(
                    setting(key),
                    format!("only null or \"__NULL__\" is supported, not {value}"),
                ));
            }
            _ => def
                .properties
                .push((key.clone(), property_def(&setting(key), value)?)),
        }
    }
    if def.source.is_some() && def.alias.is_some() {
        return Err(MapsError::setting(
            setting(ALIAS),
            "a stream made with __source__ is named by its key; drop __alias__",
        ));
    }
    Ok(def)
}

fn string_option(setting: &str, v: &Value) -> Result<String, MapsError> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| MapsError::setting(setting, format!("must be a string, not {v}")))
}

fn key_list(setting: &str, v: &Value) -> Result<Vec<String>, MapsError> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(MapsError::setting(
                setting,
                format!("must be a list of property names or null, not {other}"),
            ));
        }
    };
    items
        .iter()
        .map(|item| {
            item.as_str().map(str::to_owned).ok_or_else(|| {
                MapsError::setting(setting, format!("{item} is not a property name"))
            })
        })
        .collect()
}

fn property_def(setting: &str, v: &Value) -> Result<PropertyDef, MapsError> {
    match v {
        v if is_null(v) => Ok(PropertyDef::Remove),
        Value::String(s) => Ok(PropertyDef::Compute {
            expression: s.clone(),
            schema: None,
        }),
        Value::Object(m) => declared_property(setting, m),
        other => Err(MapsError::setting(
            setting,
            format!("must be an expression (a string), null or \"__NULL__\", not {other}"),
        )),
    }
}

/// burler's object form: `{"expression": "...", "schema": {...}}`.
fn declared_property(setting: &str, m: &Map<String, Value>) -> Result<PropertyDef, MapsError> {
    let expression = match m.get("expression") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(MapsError::setting(
                setting,
                "an object property map needs \"expression\" (a string)",
            ));
        }
    };
    let schema = match m.get("schema") {
        None | Some(Value::Null) => None,
        Some(s @ Value::Object(_)) => Some(s.clone()),
        Some(other) => {
            return Err(MapsError::setting(
                setting,
                format!("\"schema\" must be a JSON Schema object, not {other}"),
            ));
        }
    };
    if let Some(extra) = m.keys().find(|k| *k != "expression" && *k != "schema") {
        return Err(MapsError::setting(
            setting,
            format!("unknown key {extra:?} (expected \"expression\" and \"schema\")"),
        ));
    }
    Ok(PropertyDef::Compute { expression, schema })
}

fn flattening_options(config: &Map<String, Value>) -> Result<Option<FlatteningOptions>, MapsError> {
    let enabled = match config.get("flattening_enabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(MapsError::setting(
                "flattening_enabled",
                format!("must be true or false, not {other}"),
            ));
        }
    };
    let max_depth = count_setting(config, "flattening_max_depth")?;
    let max_key_length = count_setting(config, "flattening_max_key_length")?;
    let separator = match config.get("flattening_separator") {
        None | Some(Value::Null) => DEFAULT_SEPARATOR.to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(MapsError::setting(
                "flattening_separator",
                format!("must be a string, not {other}"),
            ));
        }
    };
    if !enabled {
        return Ok(None);
    }
    let Some(max_depth) = max_depth else {
        return Err(MapsError::setting(
            "flattening_max_depth",
            "is required when flattening is enabled",
        ));
    };
    Ok((max_depth > 0).then(|| FlatteningOptions {
        max_depth,
        separator,
        max_key_length: max_key_length.unwrap_or(DEFAULT_MAX_KEY_LENGTH),
    }))
}

fn count_setting(config: &Map<String, Value>, key: &str) -> Result<Option<usize>, MapsError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| MapsError::setting(key, format!("must be a whole number ≥ 0, not {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(v: Value) -> Result<MapSettings, MapsError> {
        MapSettings::from_config(v.as_object().expect("test config is an object"))
    }

    #[test]
    fn absent_settings_are_inactive() {
        assert!(settings(json!({"api_key": "x"})).unwrap().is_inactive());
        assert!(
            settings(json!({"flattening_enabled": true, "flattening_max_depth": 0}))
                .unwrap()
                .is_inactive()
        );
    }

    #[test]
    fn entries_keep_config_order_and_else_is_taken_out() {
        let s = settings(json!({"stream_maps": {
            "b": {"x": "record['y']"}, "__else__": null, "a": "__NULL__"}}))
        .unwrap();
        let keys: Vec<_> = s.streams.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
        assert!(s.drop_unmapped_streams);
        assert!(matches!(s.streams[1].def, StreamDef::Remove));
    }

    #[test]
    fn shape_errors_name_the_setting() {
        let cases = [
            (json!({"stream_maps": []}), "stream_maps: must be an object"),
            (
                json!({"stream_maps": {"a": "x"}}),
                "stream_maps.a: must be an object",
            ),
            (
                json!({"stream_maps": {"__foo__": {}}}),
                "stream_maps.__foo__: not an option",
            ),
            (
                json!({"stream_maps": {"__else__": "x"}}),
                "stream_maps.__else__: only null",
            ),
            (
                json!({"stream_maps": {"a": {"p": 1}}}),
                "stream_maps.a.p: must be an expression",
            ),
            (
                json!({"stream_maps": {"a": {"__else__": "x"}}}),
                "stream_maps.a.__else__",
            ),
            (
                json!({"stream_maps": {"a": {"__key_properties__": [1]}}}),
                "stream_maps.a.__key_properties__: 1 is not",
            ),
            (
                json!({"flattening_enabled": true}),
                "flattening_max_depth: is required",
            ),
            (
                json!({"flattening_max_depth": -1}),
                "flattening_max_depth: must be a whole",
            ),
            (
                json!({"flattening_enabled": "yes"}),
                "flattening_enabled: must be true",
            ),
        ];
        for (config, expected) in cases {
            let err = settings(config.clone()).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{config}: {err}");
        }
    }

    #[test]
    fn key_properties_null_means_none_and_declared_schema_is_read() {
        let s = settings(json!({"stream_maps": {"a": {
            "__key_properties__": null,
            "n": {"expression": "1", "schema": {"type": "integer"}}}}}))
        .unwrap();
        let StreamDef::Map(def) = &s.streams[0].def else {
            panic!("a map entry")
        };
        assert_eq!(def.key_properties, Some(vec![]));
        assert!(matches!(
            &def.properties[0].1,
            PropertyDef::Compute {
                schema: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn flattening_defaults_follow_singer_sdk() {
        let s = settings(json!({"flattening_enabled": true, "flattening_max_depth": 2})).unwrap();
        assert_eq!(
            s.flattening,
            Some(FlatteningOptions {
                max_depth: 2,
                separator: "__".into(),
                max_key_length: 255
            })
        );
    }
}
