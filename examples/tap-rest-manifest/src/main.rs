//! tap-rest-manifest: the REST example tap as a manifest (`tap-rest.yaml`), run by
//! burler-manifest. Like tap-rest, without a `base_url` in the config it serves the demo shop of
//! `tap_rest::fixture` on 127.0.0.1 itself, so it runs without network. `burler run
//! tap-rest.yaml --config …` runs the same manifest against any shop API.

use std::process::ExitCode;

use serde_json::Value;

/// The manifest, next to this crate's Cargo.toml.
const MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tap-rest.yaml");

/// Serves the demo shop for the config's token; its base URL.
fn embedded_shop(config: &Value) -> Result<Value, String> {
    let token = config
        .get("api_token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let url =
        tap_rest::fixture::spawn(token).map_err(|e| format!("cannot serve the demo shop: {e}"))?;
    Ok(Value::String(url))
}

fn main() -> ExitCode {
    burler::init_logging();
    let manifest = match burler_manifest::Manifest::load(MANIFEST) {
        Ok(m) => m.config_default("base_url", embedded_shop),
        Err(err) => {
            err.to_string()
                .lines()
                .for_each(|line| eprintln!("CRITICAL {line}"));
            return ExitCode::from(1);
        }
    };
    manifest.into_tap().run()
}
