//! Knowing which JSON values in a schema are themselves schemas, so that rewrites never touch a
//! property that happens to be called `title` or `definitions`, nor data such as `enum` values.

use serde_json::{Map, Value};

/// What a keyword's value holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    /// A schema, or an array of schemas (`items`, `anyOf`, unknown keywords).
    Schema,
    /// A map from names to schemas (`properties`, `definitions`, ...).
    Map,
    /// Plain data (`enum`, `const`, `default`, ...), never rewritten.
    Data,
}

/// The role of the value of keyword `key` in a schema object.
pub(crate) fn role(key: &str) -> Role {
    match key {
        "properties" | "patternProperties" | "definitions" | "$defs" | "dependencies"
        | "dependentSchemas" => Role::Map,
        "enum" | "const" | "default" | "examples" | "example" | "required" | "type" | "format"
        | "description" | "title" | "pattern" | "$comment" => Role::Data,
        _ => Role::Schema,
    }
}

/// Calls `f` on every schema object below and including `node` (parents before children).
pub(crate) fn visit_schemas_mut(node: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match node {
        Value::Object(obj) => {
            f(obj);
            for (key, value) in obj.iter_mut() {
                match role(key) {
                    Role::Schema => visit_schemas_mut(value, f),
                    Role::Map => {
                        if let Value::Object(map) = value {
                            for child in map.values_mut() {
                                visit_schemas_mut(child, f);
                            }
                        }
                    }
                    Role::Data => {}
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                visit_schemas_mut(item, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn property_names_and_data_are_not_visited_as_schemas() {
        let mut s = json!({"title": "t", "properties": {"title": {"type": "string", "title": "x"}},
            "enum": [{"title": "data"}], "items": [{"title": "i"}]});
        let mut seen = 0;
        visit_schemas_mut(&mut s, &mut |o| {
            seen += 1;
            o.remove("title");
        });
        assert_eq!(seen, 3);
        assert_eq!(
            s,
            json!({"properties": {"title": {"type": "string"}}, "enum": [{"title": "data"}], "items": [{}]})
        );
    }
}
