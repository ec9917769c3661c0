//! `--about`: what Meltano reads to know a tap (name, version, capabilities, settings).
//!
//! The settings are the config's JSON Schema, as singer-sdk prints them, so Meltano Hub's tools
//! and `burler meltano` read a setting's kind from it: `type` (`null` aside), `format`
//! (`date-time`: a date), `enum` (options), `secret`/`writeOnly` (sensitive). A setting given as
//! a choice of constants (`oneOf` of `const`s, as schemars writes a unit-variant enum) gets the
//! plain `type` and `enum` too, so readers that know only those still see its options.

use serde_json::{Value, json};

use crate::cli::AboutFormat;
use crate::definition::TapDef;

/// The capabilities every burler tap has: the Singer ones, and singer-sdk's that the operator
/// turns on in the config (`stream_maps`, `flattening_enabled`, `batch_config`) or on the
/// command line (`--test`).
pub const CAPABILITIES: [&str; 9] = [
    "catalog",
    "discover",
    "state",
    "properties",
    "about",
    "stream-maps",
    "schema-flattening",
    "batch",
    "test",
];

/// Renders `--about` in the given format, with a trailing newline.
pub(crate) fn render<C, K>(tap: &TapDef<C, K>, format: AboutFormat) -> String {
    let settings = settings_schema(tap);
    match format {
        AboutFormat::Json => {
            let about = json!({
                "name": tap.name,
                "description": tap.description,
                "version": tap.version,
                "sdk_name": "burler",
                "sdk_version": env!("CARGO_PKG_VERSION"),
                "capabilities": CAPABILITIES,
                "settings": settings,
            });
            let mut text = serde_json::to_string_pretty(&about).unwrap_or_default();
            text.push('\n');
            text
        }
        AboutFormat::Markdown => markdown(tap, &settings),
    }
}

/// The config spec with secrets marked, or an empty object schema, followed by the settings of
/// the capabilities (as singer-sdk lists them), where the tap's spec does not have them.
fn settings_schema<C, K>(tap: &TapDef<C, K>) -> Value {
    let mut schema = tap
        .config_schema
        .clone()
        .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    crate::config::mark_secret(&mut schema, &tap.secrets);
    if let Some(Value::Object(properties)) = schema
        .as_object_mut()
        .map(|s| s.entry("properties").or_insert_with(|| json!({})))
    {
        properties.values_mut().for_each(add_enum_of_consts);
        let capabilities = burler_maps::about::settings()
            .into_iter()
            .chain(burler_batch::about::settings());
        for (name, setting) in capabilities {
            properties.entry(name).or_insert(setting);
        }
    }
    schema
}

/// Adds `type` and `enum` to a setting that is a `oneOf`/`anyOf` of constants of one type.
fn add_enum_of_consts(setting: &mut Value) {
    let Some(obj) = setting.as_object_mut() else {
        return;
    };
    if obj.contains_key("enum") || obj.contains_key("type") {
        return;
    }
    let Some(choices) = ["oneOf", "anyOf"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_array))
    else {
        return;
    };
    let consts: Option<Vec<Value>> = choices.iter().map(|c| c.get("const").cloned()).collect();
    let Some(consts) = consts.filter(|c| !c.is_empty()) else {
        return;
    };
    let ty = json_type(&consts[0]);
    if consts.iter().all(|c| json_type(c) == ty) {
        obj.insert("type".into(), Value::String(ty.into()));
        obj.insert("enum".into(), Value::Array(consts));
    }
}

fn json_type(value: &Value) -> &'static str {
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

fn markdown<C, K>(tap: &TapDef<C, K>, settings: &Value) -> String {
    let mut out = format!("# {}\n\n", tap.name);
    if let Some(d) = &tap.description {
        out.push_str(&format!("{d}\n\n"));
    }
    out.push_str(&format!(
        "Version {}, built with burler {}.\n\n## Capabilities\n\n",
        tap.version,
        env!("CARGO_PKG_VERSION")
    ));
    for c in CAPABILITIES {
        out.push_str(&format!("* `{c}`\n"));
    }
    out.push_str("\n## Settings\n\n| Setting | Required | Type | Default | Secret | Description |\n|:--|:--:|:--|:--|:--:|:--|\n");
    let required: Vec<&str> = settings
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let secrets = crate::config::secret_keys(settings);
    if let Some(props) = settings.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let description = prop
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .replace('\n', " ");
            let default = prop
                .get("default")
                .map_or_else(String::new, |d| format!("`{d}`"));
            out.push_str(&format!(
                "| `{name}` | {} | {} | {default} | {} | {description} |\n",
                yes_no(required.contains(&name.as_str())),
                markdown_type(prop),
                yes_no(secrets.contains(name)),
            ));
        }
    }
    out
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// A setting's type for the table: its JSON types (`null` aside), and its choices if any.
fn markdown_type(prop: &Value) -> String {
    let ty = match prop.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    match prop.get("enum").and_then(Value::as_array) {
        Some(choices) => {
            let choices: Vec<String> = choices
                .iter()
                .map(|c| match c {
                    Value::String(text) => format!("`{text}`"),
                    other => format!("`{other}`"),
                })
                .collect();
            format!("{ty}: {}", choices.join(" \\| "))
        }
        None => ty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_of_constants_gets_a_type_and_an_enum() {
        let mut setting = json!({"oneOf": [{"const": "number"}, {"const": "string"}]});
        add_enum_of_consts(&mut setting);
        assert_eq!(setting["type"], "string");
        assert_eq!(setting["enum"], json!(["number", "string"]));
        assert_eq!(markdown_type(&setting), r"string: `number` \| `string`");
    }

    #[test]
    fn mixed_or_open_choices_are_left_alone() {
        for original in [
            json!({"oneOf": [{"const": 1}, {"const": "a"}]}),
            json!({"anyOf": [{"const": "a"}, {"type": "integer"}]}),
            json!({"type": "string", "oneOf": [{"const": "a"}]}),
        ] {
            let mut setting = original.clone();
            add_enum_of_consts(&mut setting);
            assert_eq!(setting, original);
        }
    }

    #[test]
    fn markdown_types_drop_null() {
        assert_eq!(
            markdown_type(&json!({"type": ["null", "integer"]})),
            "integer"
        );
        assert_eq!(markdown_type(&json!({})), "");
    }
}
