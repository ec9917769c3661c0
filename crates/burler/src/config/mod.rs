//! Configuration: loading `--config` files, merging them, and checking them against the tap's spec.
//!
//! A spec is a JSON Schema, from one of three sources: a typed serde struct (its schemars schema), a
//! sample config file (its keys become required keys, its values' JSON types their types), or none.
//! Authors may add validation functions on top. A failed check names every bad or missing key in one
//! message, and never prints a value: config files hold secrets.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::Error;

mod validate;

pub(crate) use validate::check_against_schema;

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
