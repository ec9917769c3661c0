//! `--about`: what Meltano reads to know a tap (name, version, capabilities, settings).

use serde_json::{Value, json};

use crate::cli::AboutFormat;
use crate::definition::TapDef;

/// The capabilities every burler tap has.
pub const CAPABILITIES: [&str; 5] = ["catalog", "discover", "state", "properties", "about"];

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

/// The config spec with secrets marked, or an empty object schema.
fn settings_schema<C, K>(tap: &TapDef<C, K>) -> Value {
    let mut schema = tap
        .config_schema
        .clone()
        .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    crate::config::mark_secret(&mut schema, &tap.secrets);
    schema
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
    out.push_str("\n## Settings\n\n| Setting | Required | Type | Secret | Description |\n|:--|:--:|:--|:--:|:--|\n");
    let required: Vec<&str> = settings
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let secrets = crate::config::secret_keys(settings);
    if let Some(props) = settings.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
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
            let description = prop
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .replace('\n', " ");
            out.push_str(&format!(
                "| `{name}` | {} | {ty} | {} | {description} |\n",
                if required.contains(&name.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                if secrets.contains(name) { "yes" } else { "no" },
            ));
        }
    }
    out
}
