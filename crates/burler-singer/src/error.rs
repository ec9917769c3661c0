//! Errors of the protocol crate, each one line naming the file, line or field at fault.

use std::path::PathBuf;

/// A Singer message, catalog or state that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// A file could not be read.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// `catalog`, `state`, …
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file holds invalid JSON or JSON of the wrong shape.
    #[error("{what} {}: {problem}", path.display())]
    File {
        /// `catalog`, `state`, …
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A value (not from a file) has the wrong shape.
    #[error("{what}: {problem}")]
    Shape {
        /// `catalog`, `state`, `message`, …
        what: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl ProtocolError {
    /// Attaches a file path to a shape error.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        match self {
            ProtocolError::Shape { what, problem } => ProtocolError::File {
                what,
                path: path.to_owned(),
                problem,
            },
            other => other,
        }
    }

    pub(crate) fn shape(what: &'static str, problem: impl Into<String>) -> Self {
        ProtocolError::Shape {
            what,
            problem: problem.into(),
        }
    }
}

/// Reads a JSON file, naming the file in errors.
pub(crate) fn read_json_file(
    what: &'static str,
    path: &std::path::Path,
) -> Result<serde_json::Value, ProtocolError> {
    let text = std::fs::read_to_string(path).map_err(|source| ProtocolError::Io {
        what,
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ProtocolError::File {
        what,
        path: path.to_owned(),
        problem: format!("not valid JSON: {e}"),
    })
}
