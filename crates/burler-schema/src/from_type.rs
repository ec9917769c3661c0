//! Singer-friendly JSON Schemas derived from Rust types with schemars: nullable as
//! `["null", T]`, chrono date-times as `format: date-time`, nested structs inlined, and no
//! `$schema`, `$defs`, `$ref` or `title`.

use serde_json::{Map, Value};

use crate::refs::Resolver;
use crate::walk::visit_schemas_mut;

/// How many times a recursive type is unrolled before its innermost occurrence becomes `{}`.
pub const RECURSION_DEPTH: usize = 3;

/// The Singer-friendly JSON Schema of a Rust type.
///
/// A recursive type (a tree) is unrolled [`RECURSION_DEPTH`] times, its innermost occurrence
/// allowing any value, since a Singer schema must be finite.
///
/// ```
/// #[derive(schemars::JsonSchema)]
/// struct Customer { id: u64, email: Option<String> }
///
/// let schema = burler_schema::for_type::<Customer>();
/// assert_eq!(schema["properties"]["email"]["type"], serde_json::json!(["null", "string"]));
/// ```
pub fn for_type<T: schemars::JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let raw = serde_json::to_value(&schema).unwrap_or(Value::Null);
    let mut resolved = Resolver::new()
        .max_recursion(RECURSION_DEPTH)
        .resolve(&raw, None)
        .unwrap_or(raw);
    singerize(&mut resolved);
    resolved
}

/// Rewrites schemars output into what Singer targets expect.
fn singerize(schema: &mut Value) {
    visit_schemas_mut(schema, &mut |obj| {
        obj.remove("$schema");
        obj.remove("title");
        if obj.get("format").is_some_and(is_numeric_format) {
            obj.remove("format");
        }
        inline_single_all_of(obj);
        collapse_nullable_any_of(obj);
        null_first(obj);
    });
}

/// `{"description": d, "allOf": [X]}` (schemars' form of a documented field of a struct type)
/// → X with `description` d: many targets do not read `allOf`. Keys written beside win.
fn inline_single_all_of(obj: &mut Map<String, Value>) {
    let Some(Value::Array(branches)) = obj.get("allOf") else {
        return;
    };
    let [Value::Object(_)] = branches.as_slice() else {
        return;
    };
    let Some(Value::Array(mut branches)) = obj.remove("allOf") else {
        return;
    };
    if let Some(Value::Object(inner)) = branches.pop() {
        for (k, v) in inner {
            obj.entry(k).or_insert(v);
        }
    }
}

/// schemars' numeric `format`s (`int64`, `double`, ...) mean nothing to Singer targets.
fn is_numeric_format(v: &Value) -> bool {
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
    if !branches.iter().any(is_null) {
        return;
    }
    let Some(Value::Object(inner)) = branches.iter().find(|b| !is_null(b)).cloned() else {
        return;
    };
    let mut inner = inner;
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
    if let Some(Value::Array(values)) = inner.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
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
    enum Status {
        Active,
        Closed,
    }

    /// A struct with fields named like schema keywords.
    #[allow(dead_code)]
    #[derive(schemars::JsonSchema)]
    struct Outer {
        id: u64,
        title: String,
        when: chrono::DateTime<chrono::Utc>,
        maybe_when: Option<chrono::DateTime<chrono::Utc>>,
        day: chrono::NaiveDate,
        inner: Inner,
        maybe_inner: Option<Inner>,
        tags: Vec<String>,
        ratio: f64,
        status: Option<Status>,
    }

    #[allow(dead_code)]
    #[derive(schemars::JsonSchema)]
    struct Tree {
        name: String,
        children: Vec<Tree>,
    }

    #[test]
    fn rust_types_become_singer_schemas() {
        let s = for_type::<Outer>();
        let text = s.to_string();
        for banned in [
            "$ref",
            "$schema",
            "$defs",
            "definitions",
            "\"title\":\"",
            "int64",
        ] {
            assert!(!text.contains(banned), "{banned} in {text}");
        }
        let p = &s["properties"];
        assert_eq!(p["id"], json!({"type": "integer", "minimum": 0}));
        assert_eq!(p["title"], json!({"type": "string"}));
        assert_eq!(p["when"], json!({"type": "string", "format": "date-time"}));
        assert_eq!(
            p["maybe_when"],
            json!({"type": ["null", "string"], "format": "date-time"})
        );
        assert_eq!(p["day"], json!({"type": "string", "format": "date"}));
        assert_eq!(
            p["inner"]["properties"]["city"]["type"],
            json!(["null", "string"])
        );
        assert_eq!(p["maybe_inner"]["type"], json!(["null", "object"]));
        assert_eq!(p["tags"]["items"], json!({"type": "string"}));
        assert_eq!(p["ratio"], json!({"type": "number"}));
        assert_eq!(p["status"]["type"], json!(["null", "string"]));
        assert_eq!(p["status"]["enum"], json!(["Active", "Closed", null]));
    }

    /// Documented struct-typed fields (schemars wraps each type in an all-of list).
    #[allow(dead_code)]
    #[derive(schemars::JsonSchema)]
    struct Documented {
        /// Where it is.
        place: Inner,
        /// Maybe where it is.
        maybe_place: Option<Inner>,
    }

    #[test]
    fn documented_struct_fields_are_inlined_not_all_of() {
        let s = for_type::<Documented>();
        assert!(!s.to_string().contains("allOf"), "{s}");
        let place = &s["properties"]["place"];
        assert_eq!(place["description"], "Where it is.");
        assert_eq!(place["type"], "object");
        assert_eq!(
            place["properties"]["city"]["type"],
            json!(["null", "string"])
        );
        let maybe = &s["properties"]["maybe_place"];
        assert_eq!(maybe["type"], json!(["null", "object"]), "{maybe}");
        assert_eq!(
            maybe["properties"]["city"]["type"],
            json!(["null", "string"])
        );
    }

    #[test]
    fn recursive_types_are_unrolled_a_few_times() {
        let s = for_type::<Tree>();
        let text = s.to_string();
        assert!(!text.contains("$ref"), "{text}");
        // The root counts as the first expansion.
        let mut level = &s;
        for _ in 1..RECURSION_DEPTH {
            level = &level["properties"]["children"]["items"];
            assert_eq!(level["properties"]["name"], json!({"type": "string"}));
        }
        assert_eq!(level["properties"]["children"]["items"], json!({}));
    }
}
