//! The templates of `burler new`, embedded in the binary: each template's files (paths and
//! contents with `{{…}}` placeholders, from `templates/` beside this crate's Cargo.toml), the
//! README's usage and tests paragraphs, the sample config of `meltano.yml`, and how to render
//! the tap's `--about`: with the template's own config type, compiled into this binary from the
//! same `src/config.rs` the generated tap gets, so the README and `meltano.yml` match the tap.

use std::path::Path;

use burler::{CaptureBuffer, Tap};
use serde_json::{Value, json};

use crate::meltano::{Extras, plugin_definition};
use crate::new::{NewTap, TemplateName};

// The config types of the templates, as the generated taps compile them (their fields are read
// by the generated taps, not here).
#[allow(dead_code)]
#[path = "../../templates/files/src/config.rs"]
mod files_config;
#[allow(dead_code)]
#[path = "../../templates/graphql/src/config.rs"]
mod graphql_config;
#[allow(dead_code)]
#[path = "../../templates/rest/src/config.rs"]
mod rest_config;

/// Renders a tap's `--about` in a format (`json` or `markdown`), for the tap in `dir`.
type AboutFn = fn(&Path, &NewTap, &str) -> Result<String, String>;

/// One template.
pub struct Template {
    /// Its `--template` name.
    pub name: &'static str,
    /// The default description.
    pub description: &'static str,
    /// `(path, contents)`, both with placeholders.
    pub files: &'static [(&'static str, &'static str)],
    /// The README's usage paragraph.
    pub usage: String,
    /// What `cargo test` runs, for the README.
    pub tests: &'static str,
    /// The `config:` of the extractor in `meltano.yml` (secrets left out).
    pub sample_config: fn() -> Value,
    /// The tap's `--about`.
    pub about: AboutFn,
}

/// The README of every template.
pub const README: &str = include_str!("../../templates/common/README.md");

macro_rules! file {
    ($dest:literal, $src:literal) => {
        ($dest, include_str!(concat!("../../templates/", $src)))
    };
}

const COMMON: [(&str, &str); 3] = [
    file!("ci.sh", "common/ci.sh"),
    file!(".gitignore", "common/gitignore"),
    file!(".github/workflows/ci.yml", "common/github-ci.yml"),
];

const REST_FIXTURE_TESTS: [(&str, &str); 3] = [
    file!("tests/suite.rs", "rest/tests/suite.rs"),
    file!("tests/fixture/mod.rs", "rest/tests/fixture/mod.rs"),
    file!("examples/fixture.rs", "rest/examples/fixture.rs"),
];

const REST: [(&str, &str); 9] = [
    file!("Cargo.toml", "rest/Cargo.toml.tmpl"),
    file!("src/main.rs", "rest/src/main.rs"),
    file!("src/config.rs", "rest/src/config.rs"),
    REST_FIXTURE_TESTS[0],
    REST_FIXTURE_TESTS[1],
    REST_FIXTURE_TESTS[2],
    COMMON[0],
    COMMON[1],
    COMMON[2],
];

const GRAPHQL: [(&str, &str); 9] = [
    file!("Cargo.toml", "graphql/Cargo.toml.tmpl"),
    file!("src/main.rs", "graphql/src/main.rs"),
    file!("src/config.rs", "graphql/src/config.rs"),
    file!("tests/suite.rs", "graphql/tests/suite.rs"),
    file!("tests/fixture/mod.rs", "graphql/tests/fixture/mod.rs"),
    REST_FIXTURE_TESTS[2],
    COMMON[0],
    COMMON[1],
    COMMON[2],
];

const SQL: [(&str, &str); 8] = [
    file!("Cargo.toml", "sql/Cargo.toml.tmpl"),
    file!("src/main.rs", "sql/src/main.rs"),
    file!("tests/suite.rs", "sql/tests/suite.rs"),
    file!("tests/fixture/mod.rs", "sql/tests/fixture/mod.rs"),
    file!("examples/fixture.rs", "sql/examples/fixture.rs"),
    COMMON[0],
    COMMON[1],
    COMMON[2],
];

const FILES: [(&str, &str); 9] = [
    file!("Cargo.toml", "files/Cargo.toml.tmpl"),
    file!("src/main.rs", "files/src/main.rs"),
    file!("src/config.rs", "files/src/config.rs"),
    file!("tests/suite.rs", "files/tests/suite.rs"),
    file!("data/orders.jsonl", "files/data/orders.jsonl"),
    file!("data/customers.csv", "files/data/customers.csv"),
    COMMON[0],
    COMMON[1],
    COMMON[2],
];

const MANIFEST: [(&str, &str); 9] = [
    file!("Cargo.toml", "manifest/Cargo.toml.tmpl"),
    file!("{{tap_name}}.yaml", "manifest/tap.yaml"),
    file!("src/main.rs", "manifest/src/main.rs"),
    REST_FIXTURE_TESTS[0],
    REST_FIXTURE_TESTS[1],
    REST_FIXTURE_TESTS[2],
    COMMON[0],
    COMMON[1],
    COMMON[2],
];

const REST_CONFIG: &str = r#"{"base_url": "http://127.0.0.1:PORT/v1", "api_token": "demo-token", "start_date": "2024-01-01T00:00:00Z"}"#;
const GRAPHQL_CONFIG: &str = r#"{"base_url": "http://127.0.0.1:PORT", "api_token": "demo-token", "start_date": "2024-01-01T00:00:00Z"}"#;

const FIXTURE_API_USAGE: &str = "Against the fixture API of the tests, no network needed: \
`cargo run --example fixture` serves it and prints its base URL; put that URL in `config.json`:";

/// The template called `name`.
pub fn template(name: TemplateName) -> Template {
    match name {
        TemplateName::Rest => Template {
            name: "rest",
            description: "Customers, orders and their lines from a REST API",
            files: &REST,
            usage: fixture_api_usage(REST_CONFIG),
            tests: "the test kit's standard suite against the fixture API of `tests/fixture/`, resume check included, and a wrong token failing every stream with one line",
            sample_config: || json!({"base_url": "https://api.example.com/v1", "start_date": "2024-01-01T00:00:00Z"}),
            about: about_rest,
        },
        TemplateName::Graphql => Template {
            name: "graphql",
            description: "Customers and orders from a GraphQL API",
            files: &GRAPHQL,
            usage: fixture_api_usage(GRAPHQL_CONFIG),
            tests: "the test kit's standard suite against the fixture GraphQL API of `tests/fixture/`, resume check included, and a wrong token failing every stream with one line",
            sample_config: || json!({"base_url": "https://api.example.com", "start_date": "2024-01-01T00:00:00Z"}),
            about: about_graphql,
        },
        TemplateName::Sql => Template {
            name: "sql",
            description: "The tables of a SQLite database",
            files: &SQL,
            usage: String::from(
                "Against the fixture database of the tests: `cargo run --example fixture -- shop.db` creates it; then `config.json`:\n\n```json\n{\"database\": \"shop.db\", \"start_date\": \"2024-01-01T00:00:00Z\"}\n```\n\nChoose each stream's replication in the catalog (`replication-method`, `replication-key` metadata).",
            ),
            tests: "the test kit's standard suite against the fixture database of `tests/fixture/`, resume check included, and a missing database failing with one line",
            sample_config: || json!({"database": "shop.db", "start_date": "2024-01-01T00:00:00Z"}),
            about: about_sql,
        },
        TemplateName::Files => Template {
            name: "files",
            description: "Orders and customers from a directory of JSON Lines and CSV files",
            files: &FILES,
            usage: String::from(
                "On the sample files of the tests, in `data/`; `config.json`:\n\n```json\n{\"data_dir\": \"data\", \"start_date\": \"2024-01-01T00:00:00Z\"}\n```",
            ),
            tests: "the test kit's standard suite on the sample files of `data/`, resume check included, and a broken line failing its stream with the file and line",
            sample_config: || json!({"data_dir": "data", "start_date": "2024-01-01T00:00:00Z"}),
            about: about_files,
        },
        TemplateName::Manifest => Template {
            name: "manifest",
            description: "Customers, orders and their lines from a REST API, as a manifest",
            files: &MANIFEST,
            usage: format!(
                "{}{}",
                "The tap is the manifest [`{{tap_name}}.yaml`]({{tap_name}}.yaml): `burler manifest check {{tap_name}}.yaml` reports every problem with its line and column, `burler run {{tap_name}}.yaml --config config.json` runs it without compiling anything, and `cargo build` compiles it into the `{{tap_name}}` binary (the commands below). ",
                fixture_api_usage(REST_CONFIG)
            ),
            tests: "the test kit's standard suite on the compiled manifest against the fixture API of `tests/fixture/`, resume check included, and a wrong token failing every stream with one line",
            sample_config: || json!({"base_url": "https://api.example.com/v1", "start_date": "2024-01-01T00:00:00Z"}),
            about: about_manifest,
        },
    }
}

/// The usage paragraph of a tap reading the fixture API, whose config is `config`.
fn fixture_api_usage(config: &str) -> String {
    format!("{FIXTURE_API_USAGE}\n\n```json\n{config}\n```")
}

fn about_args(format: &str) -> [&str; 4] {
    ["tap", "--about", "--format", format]
}

/// `--about` of a burler tap built in-process.
fn about_of<C, K>(tap: Tap<C, K>, format: &str) -> Result<String, String>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let buffer = CaptureBuffer::new();
    let outcome = tap.run_with(about_args(format), Box::new(buffer.clone()));
    if outcome.exit_code != 0 {
        return Err(format!("cannot render the tap's --about --format {format}"));
    }
    Ok(buffer.text())
}

fn described<C, K>(tap: Tap<C, K>, new: &NewTap) -> Tap<C, K> {
    tap.version("0.1.0").description(new.description.clone())
}

fn about_rest(_dir: &Path, new: &NewTap, format: &str) -> Result<String, String> {
    use rest_config::{Config, SECRETS};
    let tap = described(Tap::new(new.name.clone()), new)
        .config::<Config>()
        .secret(SECRETS);
    about_of(tap, format)
}

fn about_graphql(_dir: &Path, new: &NewTap, format: &str) -> Result<String, String> {
    use graphql_config::{Config, SECRETS};
    let tap = described(Tap::new(new.name.clone()), new)
        .config::<Config>()
        .secret(SECRETS);
    about_of(tap, format)
}

fn about_files(_dir: &Path, new: &NewTap, format: &str) -> Result<String, String> {
    use files_config::{Config, SECRETS};
    let tap = described(Tap::new(new.name.clone()), new)
        .config::<Config>()
        .secret(SECRETS);
    about_of(tap, format)
}

fn about_sql(_dir: &Path, new: &NewTap, format: &str) -> Result<String, String> {
    let buffer = CaptureBuffer::new();
    let tap = burler_sql::SqlTap::<burler_sql::Sqlite>::new(new.name.clone())
        .version("0.1.0")
        .description(new.description.clone());
    let outcome = tap.run_with(about_args(format), Box::new(buffer.clone()));
    if outcome.exit_code != 0 {
        return Err(format!("cannot render the tap's --about --format {format}"));
    }
    Ok(buffer.text())
}

/// The manifest tap's about, from the manifest just written in `dir`.
fn about_manifest(dir: &Path, new: &NewTap, format: &str) -> Result<String, String> {
    let path = dir.join(format!("{}.yaml", new.name));
    let manifest = burler_manifest::Manifest::load(&path).map_err(|e| e.to_string())?;
    about_of(manifest.into_tap(), format)
}

/// `meltano.yml`: a project with the tap as its extractor (the plugin definition
/// `burler meltano` prints, plus a sample config) and target-jsonl as a loader.
pub fn meltano_yml(
    new: &NewTap,
    about_json: &str,
    sample: fn() -> Value,
) -> Result<String, String> {
    let about: Value = serde_json::from_str(about_json)
        .map_err(|e| format!("the tap's --about is not JSON: {e}"))?;
    let mut extractor = plugin_definition(&about, &Extras::default())?;
    if let Value::Object(map) = &mut extractor {
        map.insert("config".into(), sample());
    }
    let project = json!({
        "version": 1,
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "plugins": {
            "extractors": [extractor],
            "loaders": [{"name": "target-jsonl", "variant": "andyh1203", "pip_url": "target-jsonl"}]
        }
    });
    let header = new.fill(
        "# {{tap_name}} in a Meltano project: use this file as a project's meltano.yml, or merge its\n\
         # `plugins:` into yours. The extractor is what `burler meltano -- {{tap_name}}` prints (print it\n\
         # again when the settings change) plus a sample config; secrets go in with\n\
         # `meltano config set`. `executable` is the tap binary: on PATH after `cargo install --path .`,\n\
         # or give its path.\n",
    );
    Ok(format!("{header}{}", crate::yaml::to_string(&project)))
}
