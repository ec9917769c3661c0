//! The JSON Schema of a computed property, as singer-sdk guesses it from the expression's text
//! (`CustomStreamMap._eval_type`, then `Property.to_dict`, which makes it nullable): a cast at
//! the start says the type, a quoted literal is a string, otherwise the property keeps the type
//! it had (or copies the one of the property it names), else string.

use serde_json::{Value, json};

/// The schema singer-sdk writes for a property computed by `expression`; `existing` is the
/// schema of the property it replaces (or of the property the expression names), `record` the
/// stream schema (for an expression that is just `record`).
pub(crate) fn property_schema(expression: &str, existing: Option<&Value>, record: &Value) -> Value {
    nullable(inferred(expression, existing, record))
}

fn inferred(expression: &str, existing: Option<&Value>, record: &Value) -> Value {
    let starts = |prefix: &str| expression.starts_with(prefix);
    if expression == "record" {
        return record.clone();
    }
    if starts("float(") || starts("double(") {
        return json!({"type": ["number"]});
    }
    if starts("int(") {
        return json!({"type": ["integer"]});
    }
    if starts("str(") || starts("string(") || starts("json.dumps(") {
        return json!({"type": ["string"]});
    }
    if starts("bool(") {
        return json!({"type": ["boolean"]});
    }
    if starts("datetime.date.") || starts("datetime.date(") || expression.ends_with(".date()") {
        return json!({"type": ["string"], "format": "date"});
    }
    if starts("datetime.datetime.") || starts("datetime.datetime(") || starts("timestamp(") {
        return json!({"type": ["string"], "format": "date-time"});
    }
    if expression.len() >= 2 && starts("'") && expression.ends_with('\'') {
        return json!({"type": ["string"]});
    }
    existing
        .cloned()
        .unwrap_or_else(|| json!({"type": ["string"]}))
}

/// singer-sdk's `append_type(schema, "null")`, quirks included: a `null` *string* is appended to
/// an `anyOf` list, a `{"type": "null"}` branch to a `oneOf`.
fn nullable(mut schema: Value) -> Value {
    let Some(obj) = schema.as_object_mut() else {
        return schema;
    };
    if let Some(any_of) = obj.get_mut("anyOf") {
        match any_of {
            Value::Array(items) if !items.iter().any(|i| i == "null") => items.push("null".into()),
            Value::Array(_) => {}
            other if other != "null" => *other = json!([other.take(), "null"]),
            _ => {}
        }
    } else if let Some(Value::Array(one_of)) = obj.get_mut("oneOf") {
        one_of.push(json!({"type": "null"}));
    } else if let Some(ty) = obj.get_mut("type") {
        let mut types = match ty.take() {
            Value::Array(items) => items,
            single => vec![single],
        };
        if !types.iter().any(|t| t == "null") {
            types.push("null".into());
        }
        *ty = Value::Array(types);
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_and_literals_say_the_type() {
        let record = json!({"type": "object"});
        let cases = [
            ("int(record['n'])", json!({"type": ["integer", "null"]})),
            ("float(x)", json!({"type": ["number", "null"]})),
            ("str(1)", json!({"type": ["string", "null"]})),
            ("bool(x)", json!({"type": ["boolean", "null"]})),
            (
                "datetime.date.today()",
                json!({"type": ["string", "null"], "format": "date"}),
            ),
            (
                "x.date()",
                json!({"type": ["string", "null"], "format": "date"}),
            ),
            (
                "datetime.datetime.now()",
                json!({"type": ["string", "null"], "format": "date-time"}),
            ),
            ("'abc'", json!({"type": ["string", "null"]})),
            ("record", json!({"type": ["object", "null"]})),
        ];
        for (expression, want) in cases {
            assert_eq!(
                property_schema(expression, None, &record),
                want,
                "{expression}"
            );
        }
    }

    #[test]
    fn otherwise_the_existing_type_is_kept_made_nullable() {
        let existing = json!({"type": "integer", "minimum": 0});
        assert_eq!(
            property_schema("n + 1", Some(&existing), &json!({})),
            json!({"type": ["integer", "null"], "minimum": 0})
        );
        assert_eq!(
            property_schema(
                "x",
                Some(&json!({"anyOf": [{"type": "string"}]})),
                &json!({})
            ),
            json!({"anyOf": [{"type": "string"}, "null"]})
        );
        assert_eq!(
            property_schema("x", None, &json!({})),
            json!({"type": ["string", "null"]})
        );
    }
}
