//! Schema flattening, ported from singer-sdk's `helpers/_flattening.py` so that SCHEMA and RECORD
//! come out the same: nested objects become `parent__child` properties down to the depth, deeper
//! objects and every array become JSON text, and long keys are abbreviated the same way.
//!
//! singer-sdk's quirks are kept on purpose (a target sees the same columns whichever SDK made the
//! tap): a property whose `anyOf`/`oneOf` starts with a type other than string, array or object is
//! left out of the flattened SCHEMA while its values stay in the RECORD; a property with no `type`
//! becomes a nullable string.
//! One is not: singer-sdk leaves `required` as it was, naming objects that were flattened away;
//! here it keeps only the properties of the flattened SCHEMA.

use serde_json::{Map, Value};

use crate::json_text::compact_ascii;
use crate::settings::FlatteningOptions;

/// Joins a key with its parents, abbreviating leading parts while the result is too long
/// (singer-sdk's `flatten_key`).
pub(crate) fn flatten_key<P: AsRef<str>>(
    key: &str,
    parents: &[P],
    opts: &FlatteningOptions,
) -> String {
    if is_kept_as_is(key, parents, opts) {
        return key.to_owned();
    }
    let mut parts: Vec<String> = parents.iter().map(|p| p.as_ref().to_owned()).collect();
    parts.push(key.to_owned());
    let mut reduced = 0;
    while joined_len(&parts, &opts.separator) >= opts.max_key_length && reduced < parts.len() {
        parts[reduced] = abbreviate(&parts[reduced]);
        reduced += 1;
    }
    parts.join(&opts.separator)
}

/// A top-level key shorter than the limit stays as it is.
fn is_kept_as_is<P>(key: &str, parents: &[P], opts: &FlatteningOptions) -> bool {
    parents.is_empty() && key.chars().count() < opts.max_key_length
}

fn joined_len(parts: &[String], separator: &str) -> usize {
    let seps = separator.chars().count() * parts.len().saturating_sub(1);
    parts.iter().map(|p| p.chars().count()).sum::<usize>() + seps
}

/// `inflection.camelize(part)` without its lowercase ASCII letters, lowercased; the first three
/// characters when that leaves one character or none.
fn abbreviate(part: &str) -> String {
    let reduced: String = camelize(part)
        .chars()
        .filter(|c| !c.is_ascii_lowercase())
        .collect();
    if reduced.chars().count() > 1 {
        reduced.to_lowercase()
    } else {
        part.chars().take(3).collect::<String>().to_lowercase()
    }
}

/// `inflection.camelize`: the first character and every character after `_` upper-cased, the
/// underscores before them dropped.
fn camelize(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    let mut chars = part.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if at_start || (c == '_' && chars.peek().is_some_and(|n| *n != '\n')) {
            let next = if at_start { Some(c) } else { chars.next() };
            out.extend(next.into_iter().flat_map(char::to_uppercase));
            at_start = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The flattened copy of a stream's schema; an error names a duplicated property.
pub(crate) fn flatten_schema(schema: &Value, opts: &FlatteningOptions) -> Result<Value, String> {
    let mut out = schema.clone();
    let mut items = Vec::new();
    flatten_node(schema, &mut Vec::new(), 0, opts, &mut items);
    let mut properties = Map::new();
    for (key, value) in items {
        if properties.contains_key(&key) {
            return Err(format!("duplicate column name produced in schema: {key}"));
        }
        properties.insert(key, value);
    }
    if let Some(obj) = out.as_object_mut() {
        // singer-sdk keeps `required` as it was: a required object that was flattened away
        // would then be missing from every record, and a validating target rejects them all.
        if let Some(Value::Array(required)) = obj.get_mut("required") {
            required.retain(|name| name.as_str().is_some_and(|n| properties.contains_key(n)));
        }
        obj.insert("properties".to_owned(), Value::Object(properties));
    }
    Ok(out)
}

fn flatten_node<'s>(
    node: &'s Value,
    parents: &mut Vec<&'s str>,
    level: usize,
    opts: &FlatteningOptions,
    items: &mut Vec<(String, Value)>,
) {
    let Some(properties) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, field) in properties {
        let key = flatten_key(name, parents, opts);
        match field.get("type") {
            Some(ty) => {
                let is_object = type_has(ty, "object");
                if is_object && field.get("properties").is_some() && level < opts.max_depth {
                    parents.push(name);
                    flatten_node(field, parents, level + 1, opts, items);
                    parents.pop();
                } else if type_has(ty, "array") || is_object {
                    // max_depth > 0 always holds here: depth 0 turns flattening off.
                    let ty = if type_has(ty, "null") {
                        serde_json::json!(["string", "null"])
                    } else {
                        Value::from("string")
                    };
                    items.push((key, serde_json::json!({ "type": ty })));
                } else {
                    items.push((key, field.clone()));
                }
            }
            None => {
                if let Some(flat) = composite_branch(field) {
                    items.push((key, flat));
                }
            }
        }
    }
}

/// A property without `type`: the nullable first branch of its first `anyOf`-like list when that
/// branch is a string, array or object; nothing for other first branches (as singer-sdk); a
/// nullable string for a property with no such list.
fn composite_branch(field: &Value) -> Option<Value> {
    let first_value = field.as_object().and_then(|m| m.values().next());
    let first = match first_value {
        Some(Value::Array(branches)) if !branches.is_empty() => &branches[0],
        _ => return Some(serde_json::json!({"type": ["null", "string"]})),
    };
    let Some(branch) = first.as_object().filter(|b| !b.is_empty()) else {
        return Some(serde_json::json!({"type": ["null", "string"]}));
    };
    let ty = branch.get("type").and_then(Value::as_str)?;
    if !matches!(ty, "string" | "array" | "object") {
        return None;
    }
    let mut branch = branch.clone();
    branch.insert("type".into(), serde_json::json!(["null", ty]));
    Some(Value::Object(branch))
}

/// Python's `name in schema["type"]`: membership in a list, a substring of a string.
fn type_has(ty: &Value, name: &str) -> bool {
    match ty {
        Value::String(s) => s.contains(name),
        Value::Array(items) => items.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

/// Flattens one record against the flattened schema's properties (singer-sdk's
/// `flatten_record`): nested objects are expanded while their flattened key is not itself a
/// property and the depth allows; objects and arrays left become JSON text.
pub(crate) fn flatten_record(
    record: Map<String, Value>,
    flat_schema: &Value,
    opts: &FlatteningOptions,
) -> Map<String, Value> {
    let properties = flat_schema.get("properties").and_then(Value::as_object);
    // At least one entry per field: sized once rather than grown (and rehashed) per insert.
    let mut out = Map::with_capacity(record.len() + 8);
    flatten_record_node(
        record,
        properties,
        flat_schema,
        &mut Vec::new(),
        0,
        opts,
        &mut out,
    );
    out
}

fn flatten_record_node(
    node: Map<String, Value>,
    properties: Option<&Map<String, Value>>,
    flat_schema: &Value,
    parents: &mut Vec<String>,
    level: usize,
    opts: &FlatteningOptions,
    out: &mut Map<String, Value>,
) {
    for (name, value) in node {
        // Most keys are top-level and short: they move over without a copy.
        let key = (!is_kept_as_is(&name, parents, opts)).then(|| flatten_key(&name, parents, opts));
        let key_text = key.as_deref().unwrap_or(&name);
        match value {
            Value::Object(child)
                if properties.is_some_and(|p| !p.contains_key(key_text))
                    && level < opts.max_depth =>
            {
                parents.push(name);
                flatten_record_node(
                    child,
                    properties,
                    flat_schema,
                    parents,
                    level + 1,
                    opts,
                    out,
                );
                parents.pop();
            }
            value => {
                let value =
                    if value.is_object() || value.is_array() || is_json_typed(&name, flat_schema) {
                        Value::String(compact_ascii(&value))
                    } else {
                        value
                    };
                out.insert(key.unwrap_or(name), value);
            }
        }
    }
}

/// singer-sdk's `_should_jsondump_value` for a scalar: the key looked up among the schema's own
/// keywords (not its properties), typed exactly `null`, `object` and `array`.
fn is_json_typed(name: &str, flat_schema: &Value) -> bool {
    let Some(Value::Array(types)) = flat_schema.get(name).and_then(|node| node.get("type")) else {
        return false;
    };
    let set: std::collections::BTreeSet<&str> = types.iter().filter_map(Value::as_str).collect();
    set == ["array", "null", "object"].into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(depth: usize, max_key_length: usize) -> FlatteningOptions {
        FlatteningOptions {
            max_depth: depth,
            separator: "__".into(),
            max_key_length,
        }
    }

    #[test]
    fn keys_join_and_abbreviate_like_singer_sdk() {
        assert_eq!(
            flatten_key("foo", &["bar", "baz"], &opts(1, 255)),
            "bar__baz__foo"
        );
        // 'customer_address__street_name' is 29 characters: the parents shrink first.
        assert_eq!(
            flatten_key("street_name", &["customer_address"], &opts(1, 20)),
            "ca__street_name"
        );
        assert_eq!(flatten_key("id", &["x"], &opts(1, 3)), "x__id");
        assert_eq!(camelize("foo_bar_baz"), "FooBarBaz");
        assert_eq!(abbreviate("a"), "a");
        assert_eq!(abbreviate("address"), "add");
    }

    #[test]
    fn depth_one_expands_one_level_and_stringifies_deeper_objects() {
        let schema = json!({"type": "object", "properties": {
            "id": {"type": "string"},
            "foo": {"type": ["object", "null"], "properties": {
                "bar": {"type": ["object", "null"], "properties": {"baz": {"type": "string"}}},
                "n": {"type": "integer"}}},
            "tags": {"type": "array", "items": {"type": "string"}}}});
        let flat = flatten_schema(&schema, &opts(1, 255)).unwrap();
        assert_eq!(
            flat["properties"],
            json!({"id": {"type": "string"}, "foo__bar": {"type": ["string", "null"]},
                   "foo__n": {"type": "integer"}, "tags": {"type": "string"}})
        );
        let record = json!({"id": "1", "foo": {"bar": {"baz": "é"}, "n": 2}, "tags": ["a"]});
        let flat_record = flatten_record(record.as_object().unwrap().clone(), &flat, &opts(1, 255));
        assert_eq!(
            Value::Object(flat_record),
            json!({"id": "1", "foo__bar": "{\"baz\":\"\\u00e9\"}", "foo__n": 2, "tags": "[\"a\"]"})
        );
    }

    #[test]
    fn composite_and_typeless_properties() {
        let schema = json!({"properties": {
            "s": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
            "i": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "free": {}}});
        let flat = flatten_schema(&schema, &opts(1, 255)).unwrap();
        assert_eq!(
            flat["properties"],
            json!({"s": {"type": ["null", "string"], "format": "date-time"},
                   "free": {"type": ["null", "string"]}})
        );
    }

    #[test]
    fn required_keeps_only_the_properties_left_after_flattening() {
        let schema = json!({"required": ["id", "address", "tags"], "properties": {
            "id": {"type": "integer"},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}},
            "tags": {"type": "array", "items": {"type": "string"}}}});
        let flat = flatten_schema(&schema, &opts(1, 255)).unwrap();
        assert_eq!(flat["required"], json!(["id", "tags"]));
        assert!(flat["properties"].get("address__city").is_some());
    }

    #[test]
    fn duplicate_flattened_names_are_an_error() {
        let schema = json!({"properties": {
            "a__b": {"type": "string"},
            "a": {"type": "object", "properties": {"b": {"type": "string"}}}}});
        assert_eq!(
            flatten_schema(&schema, &opts(1, 255)).unwrap_err(),
            "duplicate column name produced in schema: a__b"
        );
    }
}
