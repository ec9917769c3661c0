//! The crate's errors: [`MapsError`] when the settings or an expression are wrong (raised once, at
//! startup) and [`RecordError`] when an expression fails on a record.

use thiserror::Error;

/// A stream-maps or flattening setting that cannot be used, found while compiling.
///
/// Every variant names the setting (`stream_maps.<stream>.<key>`) so the user can find it; the
/// display is one line.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MapsError {
    /// A setting has the wrong shape (`stream_maps` not an object, a number as a property map, …).
    #[error("{setting}: {problem}")]
    Setting {
        /// Where in the config: `stream_maps.orders.__filter__`, `flattening_max_depth`, …
        setting: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An expression does not compile, or names something that does not exist.
    #[error("stream_maps.{stream}.{key}: {expression:?}: {problem}")]
    Expression {
        /// The stream map's name (the key under `stream_maps`).
        stream: String,
        /// The property (or `__filter__`, `__alias__`) the expression computes.
        key: String,
        /// The expression as written.
        expression: String,
        /// The parser's or the checker's message.
        problem: String,
    },
    /// The key properties of a mapped stream are not all in its rewritten schema, or one is
    /// dropped without `__key_properties__`.
    #[error("stream_maps.{stream}: {problem}")]
    KeyProperties {
        /// The output stream.
        stream: String,
        /// What is wrong.
        problem: String,
    },
    /// Flattening a stream's schema gives two properties the same name.
    #[error("flattening stream {stream}: {problem}")]
    Flattening {
        /// The output stream.
        stream: String,
        /// What is wrong.
        problem: String,
    },
}

impl MapsError {
    pub(crate) fn setting(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        MapsError::Setting {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

/// An expression failed on one record (a missing key, a type error, a hash of a number, …).
///
/// Carries the output stream, the key and the expression, so one line tells the user which
/// setting to fix; the engine fails the stream with it, as singer-sdk does.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("stream_maps: stream {stream}, {key}: {expression:?} failed on a record: {problem}")]
pub struct RecordError {
    /// The output stream (alias) being computed.
    pub stream: String,
    /// The property, or `__filter__`.
    pub key: String,
    /// The expression as written.
    pub expression: String,
    /// The evaluator's message.
    pub problem: String,
}
