//! What `--about` says about BATCH: the capability name and the `batch_config` setting, as
//! singer-sdk prints it (`helpers/capabilities.py`), plus `batch_size`, which singer-sdk reads
//! but does not list.

use serde_json::{Map, Value, json};

/// The capability these settings give a tap, as `--about` lists it.
pub const CAPABILITIES: [&str; 1] = ["batch"];

/// The settings, as `--about` lists them: setting name → JSON Schema.
///
/// ```
/// let settings = burler_batch::about::settings();
/// assert_eq!(settings["batch_config"]["title"], "Batch Configuration");
/// ```
pub fn settings() -> Map<String, Value> {
    let text = |title: &str, description: &str| json!({"type": ["string", "null"], "title": title, "description": description});
    let mut format = text("Batch Encoding Format", "Format to use for batch files.");
    format["enum"] = json!(["jsonl", "parquet"]);
    let mut compression = text(
        "Batch Compression Format",
        "Compression format to use for batch files.",
    );
    compression["enum"] = json!(["gzip", "none"]);
    let batch_config = json!({
        "type": ["object", "null"],
        "properties": {
            "encoding": {
                "type": ["object", "null"],
                "properties": {"format": format, "compression": compression},
                "additionalProperties": true,
                "title": "Batch Encoding Configuration",
                "description": "Specifies the format and compression of the batch files."
            },
            "storage": {
                "type": ["object", "null"],
                "properties": {
                    "root": text("Batch Storage Root", "Root path to use when writing batch files."),
                    "prefix": text("Batch Storage Prefix", "Prefix to use when writing batch files.")
                },
                "additionalProperties": true,
                "title": "Batch Storage Configuration",
                "description": "Defines the storage layer to use when writing batch files"
            },
            "batch_size": {
                "type": ["integer", "null"],
                "title": "Batch Size",
                "description": "Maximum number of records in a batch file (default 10000)."
            }
        },
        "additionalProperties": true,
        "title": "Batch Configuration",
        "description": "Configuration for BATCH message capabilities."
    });
    let mut settings = Map::new();
    settings.insert("batch_config".into(), batch_config);
    settings
}
