//! Errors of the framework: what went wrong before, during or after a sync, each displayed as one line.

use std::path::PathBuf;

/// A boxed error: what a sync function, a client factory or a hook may return.
///
/// `?` converts any `std::error::Error + Send + Sync` into it, so sync code can use the error types of
/// the libraries it calls.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a sync function returns.
pub type SyncResult = Result<(), BoxError>;

/// An error of the framework. Each variant names what the operator needs to fix it (file, stream, key).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file given on the command line could not be read.
    #[error("{what} {}: {source}", path.display())]
    ReadFile {
        /// `config`, `state` or `catalog`.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file given on the command line is not valid JSON, or has the wrong shape.
    #[error("{what} {}: {problem}", path.display())]
    BadFile {
        /// `config`, `state` or `catalog`.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The merged configuration does not satisfy the tap's config spec.
    #[error("config {source_files}: {}", problems.join("; "))]
    InvalidConfig {
        /// The config file(s) the values came from.
        source_files: String,
        /// Every bad or missing key, one entry each.
        problems: Vec<String>,
    },
    /// The tap is declared wrongly (duplicate stream, dependency cycle, missing sync function, …).
    #[error("tap definition: {0}")]
    Definition(String),
    /// A command-line usage problem.
    #[error("{0}")]
    Usage(String),
    /// A state or catalog file could not be used (the message names the file and the problem).
    #[error("{0}")]
    Input(String),
    /// A file the run must write (`--out-file`, `--report-json`) cannot be: checked before the
    /// first message, so no stream fails halfway over it.
    #[error("{what} {}: cannot be written: {source}", path.display())]
    Unwritable {
        /// The option (`--out-file`, `--report-json`).
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// Several inputs are wrong (config, catalog, state, output files): every one is named, so a
    /// user fixes them in one go.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(" | "))]
    Inputs(Vec<Error>),
    /// The catalog does not fit this tap.
    #[error("catalog {}: {problem}", path.display())]
    Catalog {
        /// The catalog file.
        path: PathBuf,
        /// What does not fit.
        problem: String,
    },
    /// The client could not be built from the configuration.
    #[error("client: {0}")]
    Client(BoxError),
    /// A stream's schema could not be produced.
    #[error("stream {stream}: schema: {source}")]
    Schema {
        /// The stream.
        stream: String,
        /// Why.
        source: BoxError,
    },
    /// `--verify` found problems: unpublishable metadata in the discovered catalog, or a catalog
    /// file that does not load (each problem is printed).
    #[error("verify: {errors} error(s); see the lines above")]
    VerifyFailed {
        /// How many problems of severity error.
        errors: usize,
    },
    /// The reader of stdout (the target) closed the pipe: nothing more can be delivered.
    #[error("output closed by its reader (broken pipe): the target stopped reading")]
    OutputClosed,
    /// Writing Singer messages failed (e.g. stdout closed).
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    /// One or more streams failed; each was reported on its own `CRITICAL` line.
    #[error("{} stream(s) failed", failed.len())]
    StreamsFailed {
        /// `(stream, error)` for each failed stream.
        failed: Vec<(String, String)>,
    },
}

impl Error {
    /// One error for the problems found in the inputs: a single one as it is, several as
    /// [`Error::Inputs`].
    pub(crate) fn of_inputs(errors: Vec<Error>) -> Error {
        match <[Error; 1]>::try_from(errors) {
            Ok([one]) => one,
            Err(several) => Error::Inputs(several),
        }
    }
}

/// An error of the `emit` family of [`SyncContext`](crate::SyncContext) (and of the other context
/// calls that write output). `?` turns it into the sync function's [`BoxError`].
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// The source of an async record stream failed (e.g. an HTTP error), shown as it is.
    #[error(transparent)]
    Source(BoxError),
    /// `emit_to` named a stream the tap does not declare.
    #[error("emit to unknown stream `{0}`")]
    UnknownStream(String),
    /// `emit_to` named a stream this sync function did not declare with `.emits_to(..)`.
    #[error("stream `{target}` is not declared in `.emits_to(..)` of stream `{from}`")]
    Undeclared {
        /// The emitting stream.
        from: String,
        /// The target stream.
        target: String,
    },
    /// The record could not be serialized to JSON.
    #[error("stream {stream}: record could not be serialized: {source}")]
    Serialize {
        /// The stream.
        stream: String,
        /// The serde error.
        source: serde_json::Error,
    },
    /// The record does not conform to the stream's schema and the policy is to fail.
    #[error("stream {stream}: {message}")]
    Conform {
        /// The stream.
        stream: String,
        /// What does not conform.
        message: String,
    },
    /// The sub-streams of a parent's queued records could not run from a plain `emit` (or one
    /// failed and the run stops at the first failure).
    #[error("stream {stream}: sub-streams: {message}")]
    Children {
        /// The parent stream.
        stream: String,
        /// What went wrong.
        message: String,
    },
    /// A stream map's expression failed on a record (`stream_maps` in the config).
    #[error("stream {stream}: {message}")]
    Map {
        /// The input stream.
        stream: String,
        /// The expression and what went wrong.
        message: String,
    },
    /// A BATCH file could not be written (`batch_config` in the config).
    #[error("{0}")]
    Batch(String),
    /// `checkpoint` on a stream with no table version open (not FULL_TABLE).
    #[error(
        "stream {0}: checkpoint needs a FULL_TABLE sync (a table version in progress); an incremental stream resumes from its bookmark"
    )]
    NotFullTable(String),
    /// The run's record limit (`--test`) was reached: the sync stops here, cleanly.
    #[error("stream {0}: stopped at the record limit of --test")]
    LimitReached(String),
    /// Writing to the output failed.
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
}
