//! The crate's error: a `batch_config` that cannot be used, a file that cannot be written, or a
//! record that does not fit its stream's Parquet columns. Each displays as one line naming the
//! setting, the file or the stream.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong writing BATCH files.
#[derive(Debug, Error)]
pub enum BatchError {
    /// A `batch_config` setting has the wrong shape or an unsupported value.
    #[error("{setting}: {problem}")]
    Setting {
        /// `batch_config.encoding.format`, `batch_config.storage.root`, …
        setting: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A batch file or its directory could not be created, written or closed.
    #[error("batch file {}: {source}", path.display())]
    Io {
        /// The file (or directory).
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A record could not be written to a Parquet file (a value of another type than its
    /// column's, JSON that does not parse). Records are decoded in chunks, so the error names
    /// the chunk's records.
    #[error("stream {stream}: {records} of batch file {}: {problem}", path.display())]
    Record {
        /// The stream.
        stream: String,
        /// The file being written.
        path: PathBuf,
        /// The records (positions in that file, from 1) one of which is wrong.
        records: RecordSpan,
        /// The encoder's message.
        problem: String,
    },
}

/// Records `first..=last` of a batch file, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    /// The first.
    pub first: usize,
    /// The last.
    pub last: usize,
}

impl std::fmt::Display for RecordSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "record {}", self.first)
        } else {
            write!(f, "records {}-{}", self.first, self.last)
        }
    }
}

impl BatchError {
    pub(crate) fn setting(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        BatchError::Setting {
            setting: setting.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| BatchError::Io { path, source }
    }
}
