//! Stream schemas in Singer's dialect: derived from Rust types (schemars), read from files, and with
//! local `$ref`s resolved, since targets do not resolve them.

use std::path::Path;

use serde_json::{Map, Value};

/// Why a schema could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The schema file could not be read.
    #[error("schema {}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The schema file is not JSON.
    #[error("schema {}: not valid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: std::path::PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A `$ref` points nowhere.
    #[error("unresolvable $ref {reference:?} at {at}")]
    MissingRef {
        /// The reference.
        reference: String,
        /// Where it was found (JSON pointer).
        at: String,
    },
    /// A `$ref` refers to itself through its own expansion.
    #[error("recursive $ref {reference:?} at {at}: a Singer schema must be finite")]
    Cycle {
        /// The reference.
        reference: String,
        /// Where it was found (JSON pointer).
        at: String,
    },
}

/// The Singer-friendly JSON Schema of a Rust type: nullable as `["null", T]`, `format: date-time`
/// for chrono date-times, no `$ref`, `$schema` or `title`.
pub fn for_type<T: schemars::JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let raw = serde_json::to_value(&schema).unwrap_or(Value::Null);
    let resolved = resolve(&raw).unwrap_or(raw);
    singerize(resolved)
}

/// Reads a schema file and resolves its local `$ref`s.
pub fn load_file(path: &Path) -> Result<Value, SchemaError> {
    let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
        path: path.to_owned(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|source| SchemaError::Json {
        path: path.to_owned(),
        source,
    })?;
    resolve(&value)
}

/// Replaces every local `$ref` (`#/definitions/x`, `#/$defs/x`, any JSON pointer) by its target and
/// drops the definitions. A recursive reference is an error naming where it was found.
pub fn resolve(schema: &Value) -> Result<Value, SchemaError> {
    let mut out = expand(schema, schema, "#", &mut Vec::new())?;
    if let Value::Object(obj) = &mut out {
        obj.remove("definitions");
        obj.remove("$defs");
    }
    Ok(out)
}

fn expand(
    node: &Value,
    root: &Value,
    at: &str,
    stack: &mut Vec<String>,
) -> Result<Value, SchemaError> {
    match node {
        Value::Object(obj) => {
            if let Some(Value::String(reference)) = obj.get("$ref") {
                if stack.contains(reference) {
                    return Err(SchemaError::Cycle {
                        reference: reference.clone(),
                        at: at.to_owned(),
                    });
                }
                let target = reference
                    .strip_prefix('#')
                    .and_then(|pointer| root.pointer(&pointer.replace("%24", "$")))
                    .ok_or_else(|| SchemaError::MissingRef {
                        reference: reference.clone(),
                        at: at.to_owned(),
                    })?;
                stack.push(reference.clone());
                let mut expanded = expand(target, root, at, stack)?;
                stack.pop();
                // Keywords beside the $ref (e.g. a description) are kept.
                if let Value::Object(target_obj) = &mut expanded {
                    for (k, v) in obj.iter().filter(|(k, _)| *k != "$ref") {
                        target_obj.insert(k.clone(), expand(v, root, at, stack)?);
                    }
                }
                return Ok(expanded);
            }
            let mut out = Map::with_capacity(obj.len());
            for (k, v) in obj {
                if k == "definitions" || k == "$defs" {
                    continue;
                }
                out.insert(k.clone(), expand(v, root, &format!("{at}/{k}"), stack)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| expand(v, root, &format!("{at}/{i}"), stack))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Rewrites schemars output into what Singer targets expect.
fn singerize(node: Value) -> Value {
    match node {
        Value::Object(obj) => {
            let mut out = Map::with_capacity(obj.len());
            for (k, v) in obj {
                match k.as_str() {
                    "$schema" | "title" => {}
                    "format" if is_integer_format(&v) => {}
                    _ => {
                        out.insert(k, singerize(v));
                    }
                }
            }
            null_first(&mut out);
            collapse_nullable_any_of(&mut out);
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(singerize).collect()),
        other => other,
    }
}

fn is_integer_format(v: &Value) -> bool {
    matches!(
        v.as_str(),
        Some(
            "int"
                | "int8"
                | "int16"
                | "int32"
                | "int64"
                | "uint"
                | "uint8"
                | "uint16"
                | "uint32"
                | "uint64"
                | "double"
                | "float"
        )
    )
}

/// `"type": ["string", "null"]` → `["null", "string"]`.
fn null_first(obj: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = obj.get_mut("type")
        && let Some(pos) = types.iter().position(|t| t == "null")
    {
        let null = types.remove(pos);
        types.insert(0, null);
    }
}

/// `anyOf: [X, {"type": "null"}]` → X with `"null"` added to its type.
fn collapse_nullable_any_of(obj: &mut Map<String, Value>) {
    let Some(Value::Array(branches)) = obj.get("anyOf") else {
        return;
    };
    if branches.len() != 2 {
        return;
    }
    let is_null = |b: &Value| b.get("type") == Some(&Value::from("null"));
    let Some(other) = branches.iter().find(|b| !is_null(b)).cloned() else {
        return;
    };
    if !branches.iter().any(is_null) {
        return;
    }
    let Value::Object(mut inner) = other else {
        return;
    };
    let Some(ty) = inner.remove("type") else {
        return;
    };
    let mut types = vec![Value::from("null")];
    match ty {
        Value::Array(ts) => types.extend(ts.into_iter().filter(|t| t != "null")),
        t => types.push(t),
    }
    obj.remove("anyOf");
    obj.insert("type".into(), Value::Array(types));
    for (k, v) in inner {
        obj.entry(k).or_insert(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(dead_code)]
    #[derive(schemars::JsonSchema)]
    struct Inner {
        city: Option<String>,
    }

    #[allow(dead_code)]
    #[derive(schemars::JsonSchema)]
    struct Outer {
        id: u64,
        when: chrono::DateTime<chrono::Utc>,
        maybe_when: Option<chrono::DateTime<chrono::Utc>>,
        inner: Inner,
        maybe_inner: Option<Inner>,
        tags: Vec<String>,
    }

    #[test]
    fn rust_types_become_singer_schemas() {
        let s = for_type::<Outer>();
        let text = s.to_string();
        assert!(
            !text.contains("$ref") && !text.contains("$schema") && !text.contains("title"),
            "{text}"
        );
        let p = &s["properties"];
        assert_eq!(p["id"], json!({"type": "integer", "minimum": 0}));
        assert_eq!(p["when"], json!({"type": "string", "format": "date-time"}));
        assert_eq!(
            p["maybe_when"],
            json!({"type": ["null", "string"], "format": "date-time"})
        );
        assert_eq!(
            p["inner"]["properties"]["city"]["type"],
            json!(["null", "string"])
        );
        assert_eq!(p["maybe_inner"]["type"], json!(["null", "object"]));
        assert_eq!(p["tags"]["items"], json!({"type": "string"}));
    }

    #[test]
    fn local_refs_resolve_and_cycles_are_named() {
        let s = json!({"definitions": {"a": {"type": "string"}}, "$defs": {"b~1c": {"type": "integer"}},
            "properties": {"x": {"$ref": "#/definitions/a", "description": "kept"}, "y": {"$ref": "#/$defs/b~01c"}}});
        let r = resolve(&s).unwrap();
        assert_eq!(
            r,
            json!({"properties": {"x": {"type": "string", "description": "kept"}, "y": {"type": "integer"}}})
        );
        let cyclic = json!({"definitions": {"n": {"properties": {"next": {"$ref": "#/definitions/n"}}}},
            "properties": {"root": {"$ref": "#/definitions/n"}}});
        let e = resolve(&cyclic).unwrap_err().to_string();
        assert!(e.contains("recursive $ref \"#/definitions/n\""), "{e}");
        let missing = json!({"properties": {"x": {"$ref": "#/definitions/zzz"}}});
        assert!(
            resolve(&missing)
                .unwrap_err()
                .to_string()
                .contains("#/properties/x")
        );
    }
}
