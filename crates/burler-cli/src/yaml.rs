//! A JSON value written as block-style YAML, the way Meltano Hub's `*.yml` files and
//! `meltano.yml` are laid out (lists as `- ` items at their key's indent). Strings that YAML
//! could read as something else (numbers, booleans, `null`, text with `: ` or `#`, …) are
//! written double-quoted with JSON escapes, which YAML reads the same way.

use serde_json::Value;

/// `value` as YAML, ending with a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => write_list(items, 0, false, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn write_map(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        write_entry(key, value, indent, out);
    }
}

/// `key: value` at the current position (the indent is already written).
fn write_entry(key: &str, value: &Value, indent: usize, out: &mut String) {
    out.push_str(&scalar_text(&Value::String(key.to_owned())));
    out.push(':');
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_list(items, indent, false, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// Items as `- ` lines; with `inline_first` the first one continues the current line (a list
/// in a list: `- - a`).
fn write_list(items: &[Value], indent: usize, inline_first: bool, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => {
                for (n, (key, value)) in map.iter().enumerate() {
                    if n > 0 {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    write_entry(key, value, indent + 2, out);
                }
            }
            Value::Array(inner) if !inner.is_empty() => write_list(inner, indent + 2, true, out),
            scalar => {
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

/// A scalar (or an empty collection) as YAML text.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) if is_plain(text) => text.clone(),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

/// Whether a string can be written unquoted and still read back as the same string.
fn is_plain(text: &str) -> bool {
    const RESERVED: [&str; 11] = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", "",
    ];
    let starts_ok = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/' || c == '.');
    starts_ok
        && !text.ends_with(' ')
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./+@ ".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_maps_and_lists_in_hub_layout() {
        let value = json!({
            "capabilities": ["about", "state"],
            "name": "tap-shop",
            "settings": [
                {"description": "Bearer token: never logged.", "kind": "password", "name": "api_token",
                 "sensitive": true},
                {"kind": "options", "name": "mode", "options": [{"label": "Fast", "value": "fast"}]}
            ],
            "settings_group_validation": [["api_token"]],
            "config": {"start_date": "2024-01-01T00:00:00Z", "limit": 50, "flags": {}}
        });
        let expected = "capabilities:\n- about\n- state\nname: tap-shop\nsettings:\n\
- description: \"Bearer token: never logged.\"\n  kind: password\n  name: api_token\n  sensitive: true\n\
- kind: options\n  name: mode\n  options:\n  - label: Fast\n    value: fast\n\
settings_group_validation:\n- - api_token\n\
config:\n  start_date: \"2024-01-01T00:00:00Z\"\n  limit: 50\n  flags: {}\n";
        assert_eq!(to_string(&value), expected);
    }

    #[test]
    fn strings_yaml_would_misread_are_quoted() {
        for text in [
            "yes", "No", "null", "42", "1.5", "-x", "a: b", "# c", "", "é", "x ", " x",
        ] {
            assert_eq!(
                scalar_text(&json!(text)),
                serde_json::to_string(text).unwrap()
            );
        }
        for text in [
            "tap-shop",
            "date_iso8601",
            "/usr/bin/tap",
            "a.b",
            "Start Date",
        ] {
            assert_eq!(scalar_text(&json!(text)), text);
        }
    }
}
