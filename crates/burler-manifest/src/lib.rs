//! Declarative taps for burler: a REST source described in a YAML manifest runs as a Singer tap
//! on the same engine as a compiled tap (same command line, errors, STATE and the state promise),
//! with no Rust code. Two formats are read:
//!
//! - **burler manifests** (`version: 1`), described by the types of [`format`] and published as
//!   a JSON Schema (`manifest.schema.json` beside this crate's `Cargo.toml`, for editor
//!   completion: add `# yaml-language-server: $schema=…/manifest.schema.json` to a manifest);
//! - **Airbyte low-code manifests** (`type: DeclarativeSource`), the common subset listed below.
//!
//! ```no_run
//! let manifest = burler_manifest::Manifest::load("tap-shop.yaml")?;
//! let outcome = manifest.into_tap().run_with(["tap-shop", "--discover"], Box::new(std::io::stdout()));
//! # Ok::<(), burler_manifest::ManifestError>(())
//! ```
//!
//! From the command line: `burler run MANIFEST --config CONFIG [--state …] [--catalog …]`,
//! `burler manifest check MANIFEST`.
//!
//! # A burler manifest
//!
//! ```yaml
//! version: 1
//! name: tap-shop
//! config:                                   # JSON Schema of --config
//!   type: object
//!   required: [api_token]
//!   properties:
//!     base_url: {type: string}
//!     api_token: {type: string, secret: true}
//!     start_date: {type: string, format: date-time}
//! base_url: "{{ config.base_url }}"
//! auth: {type: bearer, token: "{{ config.api_token }}"}   # or basic, api_key, oauth2
//! defaults:
//!   params: {limit: 50}
//!   records: "$.data[*]"                      # RFC 9535 JSONPath
//!   paginator: {type: cursor, param: cursor, from: "$.meta.next_cursor"}
//! streams:
//!   - name: customers
//!     path: customers
//!     primary_key: [id]
//!     schema_file: schemas/customers.json     # or schema: {...} inline, or schema_infer: {records: 100}
//!   - name: orders
//!     path: orders
//!     primary_key: [id]
//!     schema_file: schemas/orders.json
//!     incremental: {cursor_field: updated_at, param: updated_since}
//!     bookmark_every: 50
//!   - name: order_lines
//!     path: "orders/{{ parent.id }}/lines"
//!     parent: {stream: orders}                # one sync per order; `parent` is its key
//!     primary_key: [order_id, line_no]
//!     schema_file: schemas/order_lines.json
//! ```
//!
//! Paginators: `none`, `cursor` (`param` + `from` JSONPath or `value` template), `next_url`,
//! `link_header`, `page` (`param`, `start`, `size`, `size_param`), `offset` (`param`, `limit`,
//! `limit_param`). Incremental: `cursor_field`, `param` and `value` (default `{{ start }}`),
//! `format`, `cursor_formats`, `window` with `window_params` (date windowing, a bookmark per
//! window), `lookback`, `sorted`. Sub-streams: `parent` with `stream`, `partition` (names and
//! templates over the parent `record`), `params`, `state_per_parent`. Template names and
//! functions are listed in [`template`](crate#templates).
//!
//! # Templates
//!
//! Values are Jinja templates rendered by [minijinja] (a well-kept engine that also covers
//! Airbyte's Jinja interpolation). Every template, JSONPath and duration is compiled once when
//! the manifest loads, never per record. In scope: `config`, `start` (where an incremental sync
//! or window starts), `state` (the bookmark), `parent` (a sub-stream's partition), `window`
//! (`start`, `end`), `response`, `headers`, `last_record`, `last_page_size`, `record`, and
//! Airbyte's names (`stream_partition`, `stream_slice`, `stream_interval`, `stream_state`,
//! `next_page_token`, `parameters`). Functions: `now_utc()`, `today_utc()`, `day_delta()`,
//! `format_datetime()`, `str_to_datetime()`, `timestamp()`, `max()`, `min()`, Python's string
//! and dict methods (`.get`, `.items`, …) and `.strftime()` on date-times.
//!
//! # Records as the API sent them
//!
//! A stream whose records sit at a plain path (`$.data[*]`, `$.data`, `$`, a `field_path` of
//! constant keys), with no `record_filter` or transformation and a paginator that reads no
//! `response` template, passes its records through: each page is read in one pass that keeps
//! every record's JSON text and the paginator's cursor, and the text goes into the RECORD line
//! as it is (the replication key read from it; a pretty-printed body's line breaks become
//! spaces). Any other stream parses each page into a tree,
//! and so does a pass-through stream for a page whose records are not a list. Both give the
//! same records (the text as sent, or the same values written by serde_json).
//! [`Manifest::passthrough_streams`] names the streams that pass records through;
//! [`Manifest::without_passthrough`] (`BURLER_MANIFEST_PASSTHROUGH=0` for `burler run`) parses
//! every page into a tree, to compare the two or to rule the first out.
//!
//! # Choices
//!
//! - **YAML: `saphyr-parser`.** serde_yaml is archived; `serde_yml` carries a RustSec advisory
//!   and is unmaintained; `serde-saphyr` needs a newer Rust than this workspace. saphyr is the
//!   maintained successor of yaml-rust2 (YAML 1.2, no unsafe), and its event parser gives the
//!   line and column of every node, which reporting *every* problem with its position needs:
//!   the document is read into a JSON value plus a map from JSON Pointer to position, checked
//!   against the format's JSON Schema (every violation, not the first), then compiled.
//! - **JSONPath: `serde_json_path`**, an RFC 9535 implementation (not a hand-written subset).
//! - **Templates: `minijinja`** with `minijinja-contrib`'s Python-compatible methods.
//!
//! # Airbyte low-code manifests
//!
//! Supported components (anything else fails the check, naming the component and its position):
//!
//! | component | notes |
//! |---|---|
//! | `DeclarativeSource` | `streams`, `definitions`, `schemas`, `spec.connection_specification` (the config schema; `airbyte_secret` fields are secret), `check` and `metadata` ignored |
//! | `$ref` (`#/path` and the older `*ref(path)`), `$parameters` | references expanded; parameters flow down to nested components and into `parameters` in templates |
//! | `DeclarativeStream` | `name`, `primary_key` (string, list, or list of lists: first fields), `retriever`, `incremental_sync`, `schema_loader`, `transformations` |
//! | `SimpleRetriever` | `requester`, `record_selector`, `paginator`, `partition_router` |
//! | `HttpRequester` | `url_base`, `path`, `http_method` (GET, POST), `request_parameters`, `request_headers`, `request_body_json`, `authenticator`; `error_handler` is ignored (retries come from burler-http) |
//! | `ApiKeyAuthenticator`, `BearerAuthenticator`, `BasicHttpAuthenticator`, `OAuthAuthenticator` (client credentials and refresh token), `NoAuth` | one authenticator per tap |
//! | `RecordSelector` with `DpathExtractor` (`field_path`, `*`) and `RecordFilter` (`condition`) | |
//! | `DefaultPaginator` with `CursorPagination` (`cursor_value`, `stop_condition`, `page_size`), `OffsetIncrement` (`page_size`, `inject_on_first_request`), `PageIncrement` (`start_from_page`, `page_size`, `inject_on_first_request`), `RequestOption` and `RequestPath` token options; `NoPagination` | |
//! | `DatetimeBasedCursor` | `cursor_field`, `datetime_format`, `cursor_datetime_formats`, `start_datetime` / `end_datetime` (strings or `MinMaxDatetime`), `step`, `cursor_granularity`, `lookback_window`, `start_time_option`, `end_time_option`; bookmarks are kept as RFC 3339 |
//! | `SubstreamPartitionRouter` with `ParentStreamConfig` | `stream`, `parent_key`, `partition_field`, `request_option`, `incremental_dependency` ignored |
//! | `InlineSchemaLoader`, `JsonFileSchemaLoader` | file paths relative to the manifest |
//! | `AddFields`, `RemoveFields` | transformations |
//! | `JsonDecoder` | the only decoder |

mod airbyte;
mod client;
mod diagnostic;
mod fetch;
pub mod format;
mod native;
mod passthrough;
mod plan;
mod report;
mod runtime;
mod schema_check;
mod template;
mod yaml;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use client::ManifestClient;
pub use diagnostic::{Diagnostic, Diagnostics, ManifestError, Position};

use report::Reporter;

/// Which format a manifest is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// burler's format (`version: 1`).
    Burler,
    /// An Airbyte low-code manifest (`type: DeclarativeSource`).
    Airbyte,
}

/// A loaded, checked and compiled manifest, ready to become a tap.
#[derive(Debug)]
pub struct Manifest {
    plan: plan::Plan,
    flavor: Flavor,
    path: PathBuf,
}

impl Manifest {
    /// Reads, checks and compiles the manifest at `path`. Every problem found is in the
    /// [`ManifestError::Invalid`] diagnostics, each with its line and column.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_text(&text, path)
    }

    /// Checks and compiles manifest `text`; `path` names it in messages, and files it names
    /// (schemas) are relative to its directory.
    pub fn from_text(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let (doc, mut positions) = yaml::parse(text).map_err(|d| {
            ManifestError::Invalid(Diagnostics {
                file: path.to_path_buf(),
                items: vec![d],
            })
        })?;
        let flavor = flavor_of(&doc);
        let dir = path.parent().unwrap_or(Path::new("."));
        let (doc, problems) = match flavor {
            Flavor::Burler => (doc, Vec::new()),
            Flavor::Airbyte => airbyte::refs::resolve(&doc, &mut positions),
        };
        let mut reporter = Reporter::new(path, &positions);
        for (pointer, message) in problems {
            let shown = schema_check::shown(&pointer);
            reporter.at(&pointer, format!("{shown}: {message}"));
        }
        let plan = match flavor {
            Flavor::Burler => native::compile(&doc, dir, &mut reporter),
            Flavor::Airbyte => {
                let mut compiler = native::Compiler {
                    r: &mut reporter,
                    t: template::TemplateCompiler::new(),
                    dir,
                };
                airbyte::compile(&doc, &airbyte_tap_name(path), &mut compiler)
            }
        };
        let mut diagnostics = reporter.out;
        diagnostics.finish();
        match plan {
            Some(mut plan) if diagnostics.is_empty() => {
                for stream in &mut plan.streams {
                    stream.passthrough = passthrough::plan(stream);
                }
                Ok(Manifest {
                    plan,
                    flavor,
                    path: path.to_path_buf(),
                })
            }
            _ => Err(ManifestError::Invalid(diagnostics)),
        }
    }

    /// The format the manifest is written in.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The manifest file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tap's name.
    pub fn name(&self) -> &str {
        &self.plan.name
    }

    /// The streams' names, in manifest order.
    pub fn stream_names(&self) -> Vec<&str> {
        self.plan.streams.iter().map(|s| s.name.as_str()).collect()
    }

    /// The streams whose records are passed through as the API sent them (the others parse
    /// each page into a tree), in manifest order.
    pub fn passthrough_streams(&self) -> Vec<&str> {
        self.plan
            .streams
            .iter()
            .filter(|s| s.passthrough.is_some())
            .map(|s| s.name.as_str())
            .collect()
    }

    /// Parses every page of every stream into a tree, as streams that cannot pass their records
    /// through do: to compare the two paths, or to rule the pass-through one out.
    pub fn without_passthrough(mut self) -> Self {
        for stream in &mut self.plan.streams {
            stream.passthrough = None;
        }
        self
    }

    /// Computes config key `key` from the config when the config has none (e.g. the base URL of
    /// an API the program serves itself); called once, when the client is built.
    pub fn config_default<F>(mut self, key: &str, compute: F) -> Self
    where
        F: Fn(&Value) -> Result<Value, String> + Send + Sync + 'static,
    {
        self.plan
            .config_defaults
            .push((key.to_owned(), std::sync::Arc::new(compute)));
        self
    }

    /// Sends requests for URLs starting with `from` to `to` instead (the rest of the URL kept):
    /// runs a manifest written for a public API against a local server or a proxy.
    pub fn rebase(mut self, from: &str, to: &str) -> Self {
        self.plan.rebase.push((from.to_owned(), to.to_owned()));
        self
    }

    /// The Singer tap: run it with [`burler::Tap::run`] or [`burler::Tap::run_with`].
    pub fn into_tap(self) -> burler::Tap<Value, std::sync::Arc<ManifestClient>> {
        runtime::tap(self.plan)
    }
}

fn flavor_of(doc: &Value) -> Flavor {
    let airbyte = doc.get("type").and_then(Value::as_str) == Some("DeclarativeSource")
        || doc.get("version").is_some_and(Value::is_string);
    if airbyte {
        Flavor::Airbyte
    } else {
        Flavor::Burler
    }
}

/// A Singer name for an Airbyte manifest: `source-nasa/manifest.yaml` → `tap-nasa`,
/// `nasa.yaml` → `tap-nasa`.
fn airbyte_tap_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("manifest");
    let name = if stem == "manifest" {
        path.parent()
            .and_then(Path::file_name)
            .and_then(|s| s.to_str())
            .unwrap_or(stem)
    } else {
        stem
    };
    let name = name.replace('_', "-");
    let name = name.strip_prefix("source-").unwrap_or(&name);
    if name.starts_with("tap-") {
        name.to_owned()
    } else {
        format!("tap-{name}")
    }
}

/// The JSON Schema of burler manifests (the content of `manifest.schema.json`).
pub fn json_schema() -> Value {
    format::json_schema()
}

/// Runs the manifest at `path` as a Singer tap with `args` (the first is the program name),
/// writing messages to stdout: what `burler run` does. A manifest with problems prints one
/// `CRITICAL FILE:LINE:COLUMN: message` line per problem and exits 1 before any request.
pub fn run<I, T>(path: &Path, args: I) -> std::process::ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    burler::init_logging();
    let manifest = match Manifest::load(path) {
        Ok(m) if std::env::var_os("BURLER_MANIFEST_PASSTHROUGH").is_some_and(|v| v == "0") => {
            m.without_passthrough()
        }
        Ok(m) => m,
        Err(err) => {
            for line in err.to_string().lines() {
                eprintln!("CRITICAL {line}");
            }
            return std::process::ExitCode::from(1);
        }
    };
    // The engine's stream buffers are 64 KiB: writes of that size pass straight through.
    let stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
    let outcome = manifest.into_tap().run_with(args, Box::new(stdout));
    std::process::ExitCode::from(outcome.exit_code)
}
