//! The [`Tap`] builder: a description of the tap that ends in `.run()`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use burler_schema::ViolationPolicy;

use crate::definition::{ClientFactory, ConfigParse, StartDateOf, TapDef};
use crate::error::BoxError;
use crate::report::RunOutcome;
use crate::stream::BoxedStream;
use crate::tap_config::TapConfig;

/// A Singer tap: its name, config spec, client, streams and run options.
///
/// ```no_run
/// use burler::prelude::*;
///
/// #[burler::config]
/// struct Config { start_date: Option<StartDate> }
///
/// fn main() -> std::process::ExitCode {
///     Tap::new("tap-example")
///         .config::<Config>()
///         .stream(Stream::new("numbers").schema(burler::serde_json::json!({
///             "type": "object", "properties": {"n": {"type": "integer"}}
///         })).sync(|ctx: SyncContext<burler::serde_json::Value, Config>| async move {
///             for n in 0..3 { ctx.emit(burler::serde_json::json!({"n": n}))?; }
///             Ok(())
///         }))
///         .run()
/// }
/// ```
pub struct Tap<C = Value, K = ()> {
    pub(crate) def: TapDef<C, K>,
}

impl Tap<Value, ()> {
    /// A tap named `name` (e.g. `tap-shop`), with an untyped config and no client.
    pub fn new(name: impl Into<String>) -> Self {
        Tap {
            def: TapDef {
                name: name.into(),
                version: "0.0.0".into(),
                description: None,
                config_schema: None,
                secrets: Vec::new(),
                config_parse: Arc::new(|map| Ok(Value::Object(map))),
                start_date_of: Arc::new(|config: &Value| config.start_date()),
                typed_config: false,
                config_checks: Vec::new(),
                client: Arc::new(|_| Ok(())),
                streams: Vec::new(),
                hooks: Vec::new(),
                conform: None,
                max_concurrent_streams: 1,
                fail_fast: false,
                metric_interval: Duration::from_secs(60),
                definition_errors: Vec::new(),
            },
        }
    }

    /// Types the config: `C`'s JSON Schema (schemars) is the spec that validates `--config` and is
    /// shown by `--about`, and its [`TapConfig`] impl says what the framework reads from it (the
    /// `start_date`); `#[burler::config]` gives both. Mark secret fields with
    /// `#[schemars(extend("secret" = true))]` or [`secret`](Self::secret). Call before adding
    /// streams and validation functions.
    pub fn config<C>(self) -> Tap<C, ()>
    where
        C: DeserializeOwned + schemars::JsonSchema + TapConfig + Send + Sync + 'static,
    {
        let schema = burler_schema::for_type::<C>();
        let early_checks = !self.def.config_checks.is_empty();
        let mut tap = self.retype(
            Arc::new(|map| {
                serde_json::from_value::<C>(Value::Object(map)).map_err(|e| e.to_string())
            }),
            Arc::new(|_| Ok(())),
            Arc::new(|config: &C| config.start_date()),
        );
        tap.def.config_schema = Some(schema);
        tap.def.typed_config = true;
        if early_checks {
            tap.def.definition_errors.push(
                ".validate_config must come after .config(): checks of the untyped config would be dropped"
                    .into(),
            );
        }
        tap
    }

    /// Uses a sample config (JSON text, e.g. `include_str!("../config.sample.json")`) as the spec:
    /// its keys become required keys and its values' JSON types their types.
    pub fn config_sample_json(mut self, sample: &str) -> Self {
        match serde_json::from_str::<Value>(sample) {
            Ok(Value::Object(map)) => {
                self.def.config_schema = Some(crate::config::schema_from_sample(&map));
            }
            _ => self
                .def
                .definition_errors
                .push("config sample must be a JSON object".into()),
        }
        self
    }

    /// Like [`config_sample_json`](Self::config_sample_json), from a file path (relative to the
    /// working directory, or absolute), read when the tap starts.
    pub fn config_sample_file(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match std::fs::read_to_string(path) {
            Ok(text) => self.config_sample_json(&text),
            Err(e) => {
                let mut tap = self;
                tap.def
                    .definition_errors
                    .push(format!("config sample {}: {e}", path.display()));
                tap
            }
        }
    }

    /// Uses an explicit JSON Schema as the config spec of an untyped config.
    pub fn config_schema(mut self, schema: Value) -> Self {
        self.def.config_schema = Some(schema);
        self
    }
}

impl<C: Send + Sync + 'static> Tap<C, ()> {
    /// Builds the client once from the validated config; every sync function gets it with
    /// `ctx.client()`. Call before adding streams.
    pub fn client<K, E, F>(self, factory: F) -> Tap<C, K>
    where
        F: Fn(&C) -> Result<K, E> + Send + Sync + 'static,
        E: Into<BoxError>,
        K: Send + Sync + 'static,
    {
        let parse = self.def.config_parse.clone();
        let start_date_of = self.def.start_date_of.clone();
        let checks = self.def.config_checks.clone();
        let typed = self.def.typed_config;
        let client = Arc::new(move |c: &C| factory(c).map_err(Into::into));
        let mut tap: Tap<C, K> = self.retype(parse, client, start_date_of);
        tap.def.config_checks = checks;
        tap.def.typed_config = typed;
        tap
    }
}

impl<C, K> Tap<C, K> {
    /// Moves every setting into a tap of other types. Streams are typed by `C` and `K`, so they cannot
    /// follow: adding them before `.config()`/`.client()` is reported as a definition error.
    fn retype<C2, K2>(
        self,
        parse: ConfigParse<C2>,
        client: ClientFactory<C2, K2>,
        start_date_of: StartDateOf<C2>,
    ) -> Tap<C2, K2> {
        let old = self.def;
        let mut errors = old.definition_errors;
        if !old.streams.is_empty() {
            errors.push("streams must be added after .config() and .client()".into());
        }
        Tap {
            def: TapDef {
                name: old.name,
                version: old.version,
                description: old.description,
                config_schema: old.config_schema,
                secrets: old.secrets,
                config_parse: parse,
                start_date_of,
                typed_config: false,
                config_checks: Vec::new(),
                client,
                streams: Vec::new(),
                hooks: old.hooks,
                conform: old.conform,
                max_concurrent_streams: old.max_concurrent_streams,
                fail_fast: old.fail_fast,
                metric_interval: old.metric_interval,
                definition_errors: errors,
            },
        }
    }

    /// Sets the version shown by `--version` and `--about` (use `env!("CARGO_PKG_VERSION")`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.def.version = version.into();
        self
    }

    /// Sets the one-line description shown by `--about`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.def.description = Some(description.into());
        self
    }

    /// Marks config keys secret: `--about` flags them, and no log or error prints their values.
    pub fn secret<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.def.secrets.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Adds a validation function run on the parsed config; each returned message is one problem.
    pub fn validate_config<F>(mut self, check: F) -> Self
    where
        F: Fn(&C) -> Result<(), Vec<String>> + Send + Sync + 'static,
    {
        self.def.config_checks.push(Arc::new(check));
        self
    }

    /// Adds a stream (and, after it, its sub-streams).
    pub fn stream(mut self, stream: impl Into<BoxedStream<C, K>>) -> Self {
        self.add_tree(stream.into(), None);
        self
    }

    /// Registers a stream and its children depth-first, each child knowing its parent.
    fn add_tree(&mut self, mut stream: BoxedStream<C, K>, parent: Option<String>) {
        stream.spec.parent = parent;
        let children = std::mem::take(&mut stream.children);
        let name = stream.spec.name.clone();
        self.def.streams.push(stream);
        for child in children {
            self.add_tree(child, Some(name.clone()));
        }
    }

    /// Adds several streams, e.g. from a module's `pub fn streams() -> Vec<BoxedStream<C, K>>`.
    pub fn streams<I>(mut self, streams: I) -> Self
    where
        I: IntoIterator<Item = BoxedStream<C, K>>,
    {
        for s in streams {
            self.add_tree(s, None);
        }
        self
    }

    /// Adds a tap-wide post-transform hook, run on every record of every stream after the stream's own
    /// hooks; `None` drops the record.
    pub fn post_transform<F>(mut self, hook: F) -> Self
    where
        F: Fn(Map<String, Value>) -> Option<Map<String, Value>> + Send + Sync + 'static,
    {
        self.def.hooks.push(Arc::new(hook));
        self
    }

    /// Conforms the records of every stream that does not set its own policy
    /// ([`Stream::conform`](crate::Stream::conform)).
    pub fn conform(mut self, policy: ViolationPolicy) -> Self {
        self.def.conform = Some(policy);
        self
    }

    /// Syncs up to `n` independent streams at once (default 1).
    pub fn max_concurrent_streams(mut self, n: usize) -> Self {
        self.def.max_concurrent_streams = n.max(1);
        self
    }

    /// Stops at the first failing stream instead of running the others.
    pub fn fail_fast(mut self, yes: bool) -> Self {
        self.def.fail_fast = yes;
        self
    }

    /// How often `record_count` metric lines are logged while a stream runs (default 60 s).
    pub fn metric_interval(mut self, interval: Duration) -> Self {
        self.def.metric_interval = interval;
        self
    }
}

impl<C, K> Tap<C, K>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// Parses the process's command line, runs discovery or a sync, and returns the exit code.
    /// Messages go to stdout, logs to stderr.
    pub fn run(self) -> ExitCode {
        crate::logging::init();
        // No larger than a stream's buffer: full stream buffers then go straight to stdout (a
        // BufWriter passes through writes of at least its capacity) instead of being copied.
        let stdout = std::io::BufWriter::with_capacity(
            crate::output::STREAM_BUFFER_BYTES,
            std::io::stdout(),
        );
        let outcome = self.run_with(std::env::args_os(), Box::new(stdout));
        ExitCode::from(outcome.exit_code)
    }

    /// Runs with the given arguments (the first is the program name) and output sink, in-process.
    /// Used by tests and the test kit; logs still go to stderr.
    pub fn run_with<I, T>(self, args: I, sink: Box<dyn std::io::Write + Send>) -> RunOutcome
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        crate::runner::run(self.def, args, sink)
    }
}
