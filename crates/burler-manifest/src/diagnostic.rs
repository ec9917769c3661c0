//! Problems found in a manifest, each with the line and column of the node it is about, and the
//! crate's error type.
//!
//! Checking collects every problem before anything runs ([`Diagnostics`]); the runtime's own
//! failures (a request, a template that fails on a value) are [`ManifestError`]s naming the stream.

use std::fmt;
use std::path::{Path, PathBuf};

/// A line and column in the manifest file, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// One problem in a manifest: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Position of the node the problem is about (the key, for an unknown key).
    pub position: Position,
    /// JSON Pointer of that node in the document (`/streams/0/records`).
    pub pointer: String,
    /// What is wrong, in one line.
    pub message: String,
}

/// Every problem found in one manifest file; displays as one line per problem,
/// `FILE:LINE:COLUMN: message`.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    /// The manifest file.
    pub file: PathBuf,
    /// The problems, in document order.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// No problem yet, in `file`.
    pub fn new(file: &Path) -> Self {
        Diagnostics {
            file: file.to_path_buf(),
            items: Vec::new(),
        }
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sorts the problems by position and drops repeats: a problem in a definition that several
    /// streams reference is one problem, at one place.
    pub(crate) fn finish(&mut self) {
        fn what(message: &str) -> &str {
            message.split_once(": ").map_or(message, |(_, rest)| rest)
        }
        self.items
            .sort_by(|a, b| (a.position, &a.message).cmp(&(b.position, &b.message)));
        self.items
            .dedup_by(|a, b| a.position == b.position && what(&a.message) == what(&b.message));
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                item.position.line,
                item.position.column,
                item.message
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Appends `key` to a JSON Pointer (escaping `~` and `/`).
pub(crate) fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Failures of a manifest tap once it runs. Each carries the stream it is about (`tap` for
/// tap-wide settings); the engine names the stream when it prints one.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest file cannot be read.
    #[error("manifest {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The manifest has problems (each with its position).
    #[error("{0}")]
    Invalid(Diagnostics),
    /// A template failed while rendering (a missing value, a wrong type).
    #[error("template {template:?}: {message}")]
    Template {
        /// The stream (or `tap` for tap-wide settings).
        stream: String,
        /// The template's source.
        template: String,
        /// What went wrong.
        message: String,
    },
    /// A rendered value is not usable where it is put (a URL, a date-time).
    #[error("{message}")]
    Value {
        /// The stream.
        stream: String,
        /// What is wrong.
        message: String,
    },
    /// An HTTP request failed.
    #[error("{source}")]
    Http {
        /// The stream.
        stream: String,
        /// The request's error.
        source: burler_http::HttpError,
    },
}
