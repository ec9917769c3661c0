//! Configuration: loading `--config` files, merging them, and checking them against the tap's spec.
//!
//! A spec is a JSON Schema, from one of three sources: a typed serde struct (its schemars schema), a
//! sample config file (its keys become required keys, its values' JSON types their types), or none.
//! Authors may add validation functions on top. A failed check names every bad or missing key in one
//! message, and never prints a value: config files hold secrets.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::Error;

/// Reads every `--config` file and merges them; keys of later files override earlier ones.
pub(crate) fn load_merged(paths: &[PathBuf]) -> Result<Map<String, Value>, Error> {
    let mut merged = Map::new();
    for path in paths {
        for (key, value) in read_json_object("config", path)? {
            merged.insert(key, value);
        }
    }
    Ok(merged)
}

/// Reads a file that must hold one JSON object.
pub(crate) fn read_json_object(
    what: &'static str,
    path: &Path,
) -> Result<Map<String, Value>, Error> {
    match read_json(what, path)? {
        Value::Object(map) => Ok(map),
        other => Err(Error::BadFile {
            what,
            path: path.to_owned(),
            problem: format!("must be a JSON object, found {}", json_type_name(&other)),
        }),
    }
}

/// Reads a file that must hold JSON.
pub(crate) fn read_json(what: &'static str, path: &Path) -> Result<Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        what,
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::BadFile {
        what,
        path: path.to_owned(),
        problem: format!("not valid JSON: {e}"),
    })
}

/// Describes the JSON type of a value, for messages.
pub(crate) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Builds a spec schema from a sample config: every key is required and keeps its value's type.
pub(crate) fn schema_from_sample(sample: &Map<String, Value>) -> Value {
    let properties: Map<String, Value> = sample
        .iter()
        .map(|(key, value)| {
            let ty = match json_type_name(value) {
                // An integer in a sample is a number: 10 and 10.5 are both fine for a user.
                "integer" => "number",
                other => other,
            };
            let mut prop = Map::new();
            if ty != "null" {
                prop.insert("type".into(), Value::from(ty));
            }
            (key.clone(), Value::Object(prop))
        })
        .collect();
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": sample.keys().cloned().collect::<Vec<_>>(),
    })
}

/// Checks `config` against `schema` and returns one message per problem (empty when valid).
///
/// Handles what config specs use: `required`, `type` (single or list), `enum`, `format: date-time`,
/// nested `properties`, and `items`. Messages name keys and types, never values.
pub(crate) fn check_against_schema(schema: &Value, config: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_node(schema, config, "", &mut problems);
    problems
}

fn check_node(schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    let shown = if path.is_empty() { "config" } else { path };
    if let Some(types) = schema.get("type")
        && !type_matches(types, value)
    {
        problems.push(format!(
            "key `{shown}` must be {}, found {}",
            describe_types(types),
            json_type_name(value)
        ));
        return;
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        problems.push(format!(
            "key `{shown}` must be one of {}",
            Value::Array(allowed.clone())
        ));
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && let Value::String(s) = value
        && crate::bookmark::parse_datetime(s).is_none()
    {
        problems.push(format!("key `{shown}` must be an RFC 3339 date-time"));
    }
    if let Value::Object(map) = value {
        check_object(schema, map, path, problems);
    }
    if let (Some(items), Value::Array(list)) = (schema.get("items"), value) {
        for (i, item) in list.iter().enumerate() {
            check_node(items, item, &format!("{shown}[{i}]"), problems);
        }
    }
}

fn check_object(
    schema: &Map<String, Value>,
    map: &Map<String, Value>,
    path: &str,
    problems: &mut Vec<String>,
) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(Value::Array(required)) = schema.get("required") {
        for key in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(key) {
                problems.push(format!("missing required key `{}`", join(key)));
            }
        }
    }
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (key, sub) in props {
            if let Some(v) = map.get(key) {
                check_node(sub, v, &join(key), problems);
            }
        }
    }
}

fn type_matches(types: &Value, value: &Value) -> bool {
    let one = |t: &str| match t {
        "integer" => value.as_i64().is_some() || value.as_u64().is_some(),
        "number" => value.is_number(),
        other => other == json_type_name(value) || (other == "number" && value.is_number()),
    };
    match types {
        Value::String(t) => one(t),
        Value::Array(list) => list.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

fn describe_types(types: &Value) -> String {
    let article = |t: &str| {
        let a = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{a} {t}")
    };
    match types {
        Value::String(t) => article(t),
        Value::Array(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(article)
            .collect::<Vec<_>>()
            .join(" or "),
        other => other.to_string(),
    }
}

/// Replaces quoted text in a message (serde quotes the offending value) so no config value, secret
/// or not, reaches a log or an error line.
pub(crate) fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if quoted {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// Names of the config keys marked secret in a spec schema (`"secret": true` or `"writeOnly": true`).
pub(crate) fn secret_keys(schema: &Value) -> Vec<String> {
    let Some(Value::Object(props)) = schema.get("properties") else {
        return Vec::new();
    };
    props
        .iter()
        .filter(|(_, p)| {
            p.get("secret").and_then(Value::as_bool) == Some(true)
                || p.get("writeOnly").and_then(Value::as_bool) == Some(true)
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Marks `keys` secret in a spec schema, as singer-sdk does (`secret` and `writeOnly`).
pub(crate) fn mark_secret(schema: &mut Value, keys: &[String]) {
    let Some(Value::Object(props)) = schema.get_mut("properties") else {
        return;
    };
    for key in keys {
        if let Some(Value::Object(p)) = props.get_mut(key) {
            p.insert("secret".into(), Value::Bool(true));
            p.insert("writeOnly".into(), Value::Bool(true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_problem_is_named_and_no_value_is_printed() {
        let schema = json!({
            "type": "object",
            "required": ["api_key", "start_date", "limit"],
            "properties": {
                "api_key": {"type": "string"},
                "start_date": {"type": "string", "format": "date-time"},
                "limit": {"type": "integer"},
                "mode": {"enum": ["a", "b"]},
                "nested": {"type": "object", "required": ["x"], "properties": {"x": {"type": "boolean"}}}
            }
        });
        let config =
            json!({"api_key": 12345, "start_date": "yesterday-ish", "mode": "c", "nested": {}});
        let problems = check_against_schema(&schema, &config);
        assert_eq!(
            problems,
            vec![
                "missing required key `limit`",
                "key `api_key` must be a string, found integer",
                "key `start_date` must be an RFC 3339 date-time",
                "key `mode` must be one of [\"a\",\"b\"]",
                "missing required key `nested.x`",
            ]
        );
        assert!(!problems.join(" ").contains("12345"));
    }

    #[test]
    fn nullable_and_number_types_accept_matching_values() {
        let schema =
            json!({"properties": {"a": {"type": ["null", "string"]}, "n": {"type": "number"}}});
        assert!(check_against_schema(&schema, &json!({"a": null, "n": 3})).is_empty());
        assert_eq!(check_against_schema(&schema, &json!({"n": "3"})).len(), 1);
    }

    #[test]
    fn sample_keys_become_required() {
        let sample = json!({"token": "x", "records": 10, "flag": true});
        let schema = schema_from_sample(sample.as_object().unwrap());
        let problems = check_against_schema(&schema, &json!({"records": 2.5, "flag": "yes"}));
        assert_eq!(
            problems,
            vec![
                "missing required key `token`",
                "key `flag` must be a boolean, found string"
            ]
        );
    }

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "hunter2", expected u32 at line 1"#),
            r#"invalid type: string "…", expected u32 at line 1"#
        );
    }

    #[test]
    fn secrets_are_found_and_marked() {
        let mut schema = json!({"properties": {"a": {"type": "string", "writeOnly": true}, "b": {"type": "string"}}});
        assert_eq!(secret_keys(&schema), vec!["a"]);
        mark_secret(&mut schema, &["b".into()]);
        assert_eq!(secret_keys(&schema), vec!["a", "b"]);
    }
}
