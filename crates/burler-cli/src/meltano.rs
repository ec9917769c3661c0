//! `burler meltano -- TAP…`: prints a Meltano plugin definition for any tap, from what the tap
//! says of itself (`TAP --about --format json`): the Hub's `*.yml` layout, usable as
//! `meltano add extractor NAME --from-ref FILE` input or pasted under `plugins: extractors:` of
//! a `meltano.yml`.
//!
//! Settings are read from the about's JSON Schema the way Meltano Hub's own tools read a
//! singer-sdk tap's: an object setting with fixed properties becomes dotted settings
//! (`batch_config.encoding.format`), the kind comes from the type (`date-time` strings are
//! `date_iso8601`, enumerations `options`, secrets `password` and `sensitive`), `default` is the
//! value, and the required settings form one `settings_group_validation` group.

use std::ffi::OsString;
use std::process::{Command, ExitCode, Stdio};

use clap::Args;
use serde_json::{Map, Value, json};

use crate::yaml;

/// `burler meltano` arguments.
#[derive(Debug, Args)]
pub struct MeltanoArgs {
    /// The executable Meltano runs (default: the tap's name, looked up on PATH).
    #[arg(long, value_name = "PATH")]
    executable: Option<String>,
    /// `pip_url`, for a tap Meltano installs with pip (a compiled tap has none).
    #[arg(long, value_name = "URL")]
    pip_url: Option<String>,
    /// The variant (Meltano Hub: the maintainer, e.g. a GitHub user or organization).
    #[arg(long)]
    variant: Option<String>,
    /// The namespace (default: the name with `_` for `-`).
    #[arg(long)]
    namespace: Option<String>,
    /// The label shown by Meltano Hub (default: from the name, `tap-shop` → `Shop`).
    #[arg(long)]
    label: Option<String>,
    /// The tap's source repository.
    #[arg(long, value_name = "URL")]
    repo: Option<String>,
    /// The source's documentation.
    #[arg(long, value_name = "URL")]
    domain_url: Option<String>,
    /// Hub keywords, comma-separated.
    #[arg(long, value_delimiter = ',')]
    keywords: Vec<String>,
    /// The tap command, after `--`: `burler meltano -- target/release/tap-shop`.
    #[arg(required = true, last = true, value_name = "TAP COMMAND")]
    tap: Vec<OsString>,
}

/// What the plugin definition takes from the command line rather than from the tap.
#[derive(Debug, Default, Clone)]
pub struct Extras {
    /// See [`MeltanoArgs`].
    pub executable: Option<String>,
    /// See [`MeltanoArgs`].
    pub pip_url: Option<String>,
    /// See [`MeltanoArgs`].
    pub variant: Option<String>,
    /// See [`MeltanoArgs`].
    pub namespace: Option<String>,
    /// See [`MeltanoArgs`].
    pub label: Option<String>,
    /// See [`MeltanoArgs`].
    pub repo: Option<String>,
    /// See [`MeltanoArgs`].
    pub domain_url: Option<String>,
    /// See [`MeltanoArgs`].
    pub keywords: Vec<String>,
}

/// Runs `burler meltano`.
pub fn run(args: MeltanoArgs) -> ExitCode {
    let extras = Extras {
        executable: args.executable,
        pip_url: args.pip_url,
        variant: args.variant,
        namespace: args.namespace,
        label: args.label,
        repo: args.repo,
        domain_url: args.domain_url,
        keywords: args.keywords,
    };
    match about(&args.tap).and_then(|about| plugin_definition(&about, &extras)) {
        Ok(definition) => {
            print!("{}", yaml::to_string(&definition));
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("burler meltano: {message}");
            ExitCode::from(1)
        }
    }
}

/// Runs `TAP --about --format json` and parses what it prints.
fn about(tap: &[OsString]) -> Result<Value, String> {
    let (program, rest) = tap.split_first().ok_or("no tap command after --")?;
    let shown = tap
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new(program)
        .args(rest)
        .args(["--about", "--format", "json"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!(
            "{shown} --about --format json: {}: {last}",
            output.status
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("{shown} --about --format json: not JSON: {e}"))
}

/// The plugin definition of a tap from its `--about` JSON, keys in the Hub's (alphabetical)
/// order.
pub fn plugin_definition(about: &Value, extras: &Extras) -> Result<Value, String> {
    let name = about
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or("the tap's --about has no name")?;
    let mut capabilities: Vec<&str> = about
        .get("capabilities")
        .and_then(Value::as_array)
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    capabilities.sort_unstable();
    let settings_schema = about.get("settings").cloned().unwrap_or_else(|| json!({}));
    let mut out = Map::new();
    out.insert("capabilities".into(), json!(capabilities));
    insert_text(&mut out, "description", about.get("description"));
    insert_opt(&mut out, "domain_url", &extras.domain_url);
    let executable = extras.executable.clone().unwrap_or_else(|| name.to_owned());
    out.insert("executable".into(), json!(executable));
    if !extras.keywords.is_empty() {
        out.insert("keywords".into(), json!(extras.keywords));
    }
    let label = extras.label.clone().unwrap_or_else(|| tap_label(name));
    out.insert("label".into(), json!(label));
    out.insert("name".into(), json!(name));
    let namespace = extras
        .namespace
        .clone()
        .unwrap_or_else(|| name.replace('-', "_"));
    out.insert("namespace".into(), json!(namespace));
    insert_opt(&mut out, "pip_url", &extras.pip_url);
    insert_opt(&mut out, "repo", &extras.repo);
    out.insert("settings".into(), Value::Array(settings(&settings_schema)));
    let required = required_of(&settings_schema);
    if !required.is_empty() {
        out.insert("settings_group_validation".into(), json!([required]));
    }
    insert_opt(&mut out, "variant", &extras.variant);
    Ok(Value::Object(out))
}

fn insert_opt(out: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        out.insert(key.into(), json!(v));
    }
}

fn insert_text(out: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    if let Some(text) = value.and_then(Value::as_str).filter(|t| !t.is_empty()) {
        out.insert(key.into(), json!(text));
    }
}

fn required_of(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Meltano settings from a config JSON Schema, objects with fixed properties flattened to
/// dotted names.
pub fn settings(schema: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    collect_settings(schema, "", &mut out);
    out
}

fn collect_settings(schema: &Value, prefix: &str, out: &mut Vec<Value>) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (key, prop) in props {
        let name = format!("{prefix}{key}");
        if has_fixed_properties(prop) {
            collect_settings(prop, &format!("{name}."), out);
        } else {
            out.push(setting(&name, prop));
        }
    }
}

/// An object whose properties are named settings (not stream-map style `__keys__`).
fn has_fixed_properties(prop: &Value) -> bool {
    first_type(prop) == "object"
        && prop
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty() && !p.keys().any(|k| k.starts_with("__")))
}

/// The first JSON type of a setting other than `null` (`string` when none is given).
fn first_type(prop: &Value) -> &str {
    match prop.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ => "string",
    }
}

fn is_secret(prop: &Value) -> bool {
    ["secret", "writeOnly"]
        .iter()
        .any(|k| prop.get(*k).and_then(Value::as_bool) == Some(true))
}

/// One Meltano setting (keys in the Hub's order).
fn setting(name: &str, prop: &Value) -> Value {
    let secret = is_secret(prop);
    let choices = prop.get("enum").and_then(Value::as_array).map(|c| {
        c.iter()
            .filter(|v| !v.is_null())
            .cloned()
            .collect::<Vec<_>>()
    });
    let kind = match (first_type(prop), prop.get("format").and_then(Value::as_str)) {
        ("string", _) if secret => "password",
        ("string", Some("date-time" | "date")) => "date_iso8601",
        (_, _) if choices.as_ref().is_some_and(|c| !c.is_empty()) => "options",
        ("integer", _) => "integer",
        ("number", _) => "decimal",
        ("boolean", _) => "boolean",
        ("object", _) => "object",
        ("array", _) => "array",
        _ => "string",
    };
    let mut out = Map::new();
    let description = prop.get("description").and_then(Value::as_str);
    out.insert(
        "description".into(),
        json!(description.unwrap_or("").replace('\n', " ")),
    );
    out.insert("kind".into(), json!(kind));
    let label = prop.get("title").and_then(Value::as_str);
    out.insert(
        "label".into(),
        json!(label.map_or_else(|| words_label(name), str::to_owned)),
    );
    out.insert("name".into(), json!(name));
    if kind == "options" {
        let options: Vec<Value> = choices
            .unwrap_or_default()
            .into_iter()
            .map(|v| json!({"label": option_label(&v), "value": v}))
            .collect();
        out.insert("options".into(), Value::Array(options));
    }
    if secret {
        out.insert("sensitive".into(), json!(true));
    }
    if let Some(default) = prop.get("default").filter(|d| !d.is_null()) {
        out.insert("value".into(), default.clone());
    }
    Value::Object(out)
}

fn option_label(value: &Value) -> String {
    match value {
        Value::String(s) => words_label(s),
        other => other.to_string(),
    }
}

/// `tap-shop` → `Shop`, `tap-my-api` → `My API`.
fn tap_label(name: &str) -> String {
    words_label(name.strip_prefix("tap-").unwrap_or(name))
}

/// `api_base_url` → `API Base URL`, `batch_config.storage.root` → `Batch Config Storage Root`.
fn words_label(name: &str) -> String {
    const UPPER: [&str; 8] = ["api", "url", "id", "ssl", "ssh", "sql", "aws", "json"];
    name.split(['_', '-', '.', ' '])
        .filter(|w| !w.is_empty())
        .map(|word| {
            if UPPER.contains(&word) {
                word.to_uppercase()
            } else {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_uppercase().chain(chars).collect()
                })
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn about() -> Value {
        json!({
            "name": "tap-shop",
            "description": "Orders from a shop API",
            "capabilities": ["state", "catalog", "discover", "about"],
            "settings": {
                "type": "object",
                "required": ["api_token", "base_url"],
                "properties": {
                    "base_url": {"type": "string", "description": "API base URL."},
                    "api_token": {"type": "string", "secret": true, "writeOnly": true},
                    "start_date": {"type": ["null", "string"], "format": "date-time"},
                    "page_size": {"type": ["null", "integer"], "default": 100},
                    "ratio": {"type": "number"},
                    "decimal": {"type": "string", "enum": ["number", "string"]},
                    "batch_config": {"type": ["object", "null"], "properties": {
                        "encoding": {"type": "object", "properties": {
                            "format": {"type": ["string", "null"], "enum": ["jsonl", "parquet"]}}}}},
                    "stream_maps": {"type": ["object", "null"],
                        "properties": {"__else__": {}}, "title": "Stream Maps"}
                }
            }
        })
    }

    #[test]
    fn the_definition_has_the_hub_keys_in_order() {
        let extras = Extras {
            variant: Some("acme".into()),
            ..Extras::default()
        };
        let def = plugin_definition(&about(), &extras).unwrap();
        let keys: Vec<&str> = def
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "capabilities",
                "description",
                "executable",
                "label",
                "name",
                "namespace",
                "settings",
                "settings_group_validation",
                "variant"
            ]
        );
        assert_eq!(
            def["capabilities"],
            json!(["about", "catalog", "discover", "state"])
        );
        assert_eq!(def["executable"], "tap-shop");
        assert_eq!(def["label"], "Shop");
        assert_eq!(def["namespace"], "tap_shop");
        assert_eq!(
            def["settings_group_validation"],
            json!([["api_token", "base_url"]])
        );
    }

    #[test]
    fn settings_get_kinds_labels_defaults_and_dotted_names() {
        let def = plugin_definition(&about(), &Extras::default()).unwrap();
        let by_name = |n: &str| {
            def["settings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == n)
                .unwrap_or_else(|| panic!("no setting {n}: {def}"))
                .clone()
        };
        assert_eq!(by_name("base_url")["label"], "Base URL");
        assert_eq!(by_name("base_url")["description"], "API base URL.");
        assert_eq!(by_name("api_token")["kind"], "password");
        assert_eq!(by_name("api_token")["sensitive"], true);
        assert_eq!(by_name("start_date")["kind"], "date_iso8601");
        assert_eq!(by_name("page_size")["kind"], "integer");
        assert_eq!(by_name("page_size")["value"], 100);
        assert_eq!(by_name("ratio")["kind"], "decimal");
        assert_eq!(by_name("decimal")["kind"], "options");
        assert_eq!(
            by_name("decimal")["options"],
            json!([{"label": "Number", "value": "number"}, {"label": "String", "value": "string"}])
        );
        assert_eq!(by_name("batch_config.encoding.format")["kind"], "options");
        assert_eq!(by_name("stream_maps")["kind"], "object");
        assert_eq!(by_name("stream_maps")["label"], "Stream Maps");
        assert_eq!(def["settings"].as_array().unwrap().len(), 8);
    }

    #[test]
    fn extras_override_the_defaults() {
        let extras = Extras {
            executable: Some("/opt/taps/tap-shop".into()),
            pip_url: Some("git+https://example.com/tap-shop".into()),
            namespace: Some("shop".into()),
            label: Some("The Shop".into()),
            repo: Some("https://example.com/tap-shop".into()),
            domain_url: Some("https://shop.example.com/docs".into()),
            keywords: vec!["api".into(), "burler".into()],
            variant: None,
        };
        let def = plugin_definition(&about(), &extras).unwrap();
        assert_eq!(def["executable"], "/opt/taps/tap-shop");
        assert_eq!(def["pip_url"], "git+https://example.com/tap-shop");
        assert_eq!(def["namespace"], "shop");
        assert_eq!(def["label"], "The Shop");
        assert_eq!(def["keywords"], json!(["api", "burler"]));
        assert_eq!(def["domain_url"], "https://shop.example.com/docs");
        assert!(def.get("variant").is_none());
    }

    #[test]
    fn an_about_without_a_name_is_refused() {
        let err = plugin_definition(&json!({"capabilities": []}), &Extras::default()).unwrap_err();
        assert_eq!(err, "the tap's --about has no name");
    }

    #[test]
    fn labels_read_like_words() {
        assert_eq!(tap_label("tap-my-api"), "My API");
        assert_eq!(
            words_label("batch_config.storage.root"),
            "Batch Config Storage Root"
        );
    }
}
