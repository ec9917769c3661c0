//! One stream's batch files: records go into the open file, and when it holds `batch_size`
//! records (or the engine closes it early, before a STATE) it is finished, synced to disk, and
//! its BATCH message handed back. Files are named as singer-sdk names them:
//! `{prefix}{tap}--{stream}-{uuid}-{n}.json.gz` (`.json` uncompressed, `.parquet`, `.parquet.gz`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use burler_singer::{BatchEncoding, BatchMessage};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Map, Value};

use crate::BatchError;
use crate::config::{BatchConfig, Format};

/// Writes one stream's records into batch files.
///
/// ```
/// use burler_batch::{BatchConfig, BatchWriter};
/// use serde_json::json;
///
/// let dir = tempfile::tempdir()?;
/// let config = json!({"batch_config": {
///     "encoding": {"format": "jsonl", "compression": "gzip"},
///     "storage": {"root": dir.path()}, "batch_size": 2}});
/// let batch = BatchConfig::from_config(config.as_object().unwrap())?.unwrap();
/// let schema = json!({"properties": {"id": {"type": "integer"}}});
/// let mut writer = BatchWriter::new(&batch, "tap-shop", "orders", &schema)?;
///
/// assert!(writer.write_json(br#"{"id":1}"#)?.is_none());
/// let full = writer.write_json(br#"{"id":2}"#)?.expect("the second record fills the file");
/// assert_eq!(full.stream, "orders");
/// assert!(full.manifest[0].starts_with("file:///") && full.manifest[0].ends_with("-1.json.gz"));
/// writer.write_json(br#"{"id":3}"#)?;
/// let last = writer.close_file()?.expect("one record was pending");
/// assert!(last.manifest[0].ends_with("-2.json.gz"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BatchWriter {
    config: BatchConfig,
    stream: String,
    /// `{tap}--{stream}`, the start of every file name.
    tap_stream: String,
    sync_id: String,
    files: usize,
    open: Option<OpenFile>,
    scratch: Vec<u8>,
    #[cfg(feature = "parquet")]
    columns: Option<std::sync::Arc<crate::parquet::Columns>>,
}

impl std::fmt::Debug for BatchWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("stream", &self.stream)
            .field("files", &self.files)
            .field("pending", &self.pending_records())
            .finish_non_exhaustive()
    }
}

struct OpenFile {
    path: PathBuf,
    records: usize,
    sink: Sink,
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
    #[cfg(feature = "parquet")]
    Parquet(Box<crate::parquet::ParquetFile>),
}

impl BatchWriter {
    /// A writer for `stream` of the tap `tap_name`, whose records follow `schema` (used for the
    /// Parquet columns). Fails when Parquet is asked for and this build has no `parquet`
    /// feature.
    pub fn new(
        config: &BatchConfig,
        tap_name: &str,
        stream: &str,
        schema: &Value,
    ) -> Result<Self, BatchError> {
        #[cfg(feature = "parquet")]
        let columns = (config.format == Format::Parquet)
            .then(|| std::sync::Arc::new(crate::parquet::Columns::from_schema(schema)));
        #[cfg(not(feature = "parquet"))]
        {
            let _ = schema;
            if config.format == Format::Parquet {
                return Err(BatchError::setting(
                    "batch_config.encoding.format",
                    "parquet needs burler-batch built with its `parquet` feature",
                ));
            }
        }
        Ok(BatchWriter {
            config: config.clone(),
            stream: stream.to_owned(),
            tap_stream: format!("{tap_name}--{stream}"),
            sync_id: format!("{tap_name}--{stream}-{}", uuid::Uuid::new_v4()),
            files: 0,
            open: None,
            scratch: Vec::new(),
            #[cfg(feature = "parquet")]
            columns,
        })
    }

    /// A writer for another sync of the same stream running beside this one: the same settings,
    /// files of its own (a new sync id).
    pub fn fork(&self) -> Self {
        BatchWriter {
            config: self.config.clone(),
            stream: self.stream.clone(),
            tap_stream: self.tap_stream.clone(),
            sync_id: format!("{}-{}", self.tap_stream, uuid::Uuid::new_v4()),
            files: 0,
            open: None,
            scratch: Vec::new(),
            #[cfg(feature = "parquet")]
            columns: self.columns.clone(),
        }
    }

    /// Records in the open file, not yet in any BATCH message.
    pub fn pending_records(&self) -> usize {
        self.open.as_ref().map_or(0, |f| f.records)
    }

    /// Adds one record, given as the JSON text of its object (what a RECORD message carries
    /// under `"record"`, without a newline). Returns the BATCH message when this record filled
    /// the file, which is then closed and on disk.
    pub fn write_json(&mut self, record: &[u8]) -> Result<Option<BatchMessage>, BatchError> {
        self.ensure_open()?;
        let Some(file) = self.open.as_mut() else {
            return Ok(None);
        };
        file.records += 1;
        match &mut file.sink {
            Sink::Plain(w) => write_line(w, record, &file.path)?,
            Sink::Gzip(w) => write_line(w, record, &file.path)?,
            #[cfg(feature = "parquet")]
            Sink::Parquet(p) => p
                .write_json(record)
                .map_err(|p| parquet_error(&self.stream, &file.path, p))?,
        }
        self.close_if_full()
    }

    /// Adds one record given as a map (serialized here; [`write_json`](Self::write_json) is the
    /// cheaper call when the JSON text exists already).
    pub fn write_record(
        &mut self,
        record: &Map<String, Value>,
    ) -> Result<Option<BatchMessage>, BatchError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        // A map of JSON values always serializes.
        let _ = serde_json::to_writer(&mut scratch, record);
        let result = self.write_json(&scratch);
        self.scratch = scratch;
        result
    }

    /// Finishes the open file, if any, and returns its BATCH message. Call it at the end of the
    /// stream, and before writing a STATE that covers records of the open file.
    pub fn close_file(&mut self) -> Result<Option<BatchMessage>, BatchError> {
        let Some(file) = self.open.take() else {
            return Ok(None);
        };
        let OpenFile { path, sink, .. } = file;
        let file = match sink {
            Sink::Plain(w) => w.into_inner().map_err(|e| e.into_error()),
            Sink::Gzip(w) => w
                .finish()
                .and_then(|w| w.into_inner().map_err(|e| e.into_error())),
            #[cfg(feature = "parquet")]
            Sink::Parquet(p) => {
                return self.closed(
                    p.finish()
                        .map_err(|p| parquet_error(&self.stream, &path, p))?,
                    &path,
                );
            }
        };
        let file = file.map_err(BatchError::io(&path))?;
        self.closed(file, &path)
    }

    fn closed(
        &self,
        file: File,
        path: &std::path::Path,
    ) -> Result<Option<BatchMessage>, BatchError> {
        // The BATCH message (and the STATE after it) must not name a file that a crash loses.
        file.sync_all().map_err(BatchError::io(path))?;
        Ok(Some(self.message(path)?))
    }

    fn close_if_full(&mut self) -> Result<Option<BatchMessage>, BatchError> {
        if self.pending_records() >= self.config.batch_size {
            self.close_file()
        } else {
            Ok(None)
        }
    }

    fn message(&self, path: &std::path::Path) -> Result<BatchMessage, BatchError> {
        let uri = url::Url::from_file_path(path).map_err(|()| {
            BatchError::setting(
                "batch_config.storage.root",
                format!("{} is not an absolute path", path.display()),
            )
        })?;
        Ok(BatchMessage {
            stream: self.stream.clone(),
            encoding: BatchEncoding {
                format: self.config.format.as_str().to_owned(),
                compression: self.config.compression.clone(),
            },
            manifest: vec![uri.to_string()],
        })
    }

    fn ensure_open(&mut self) -> Result<(), BatchError> {
        if self.open.is_none() {
            self.files += 1;
            let ext = match (self.config.format, self.config.gzip) {
                (Format::Jsonl, true) => "json.gz",
                (Format::Jsonl, false) => "json",
                (Format::Parquet, true) => "parquet.gz",
                (Format::Parquet, false) => "parquet",
            };
            let name = format!(
                "{}{}-{}.{ext}",
                self.config.prefix, self.sync_id, self.files
            );
            let path = self.config.root.join(name);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(BatchError::io(dir))?;
            }
            let file = File::create(&path).map_err(BatchError::io(&path))?;
            let sink = self.sink(file, &path)?;
            self.open = Some(OpenFile {
                path,
                records: 0,
                sink,
            });
        }
        Ok(())
    }

    fn sink(&self, file: File, path: &std::path::Path) -> Result<Sink, BatchError> {
        let buffered = BufWriter::with_capacity(64 * 1024, file);
        match self.config.format {
            Format::Jsonl if self.config.gzip => {
                Ok(Sink::Gzip(GzEncoder::new(buffered, Compression::default())))
            }
            Format::Jsonl => Ok(Sink::Plain(buffered)),
            #[cfg(feature = "parquet")]
            Format::Parquet => {
                let columns = self.columns.clone().ok_or_else(|| {
                    BatchError::setting("batch_config.encoding.format", "no Parquet columns")
                })?;
                let file = buffered
                    .into_inner()
                    .map_err(|e| BatchError::io(path)(e.into_error()))?;
                crate::parquet::ParquetFile::create(file, columns, self.config.gzip)
                    .map(|p| Sink::Parquet(Box::new(p)))
                    .map_err(|p| parquet_error(&self.stream, path, p))
            }
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => {
                let _ = path;
                Err(BatchError::setting(
                    "batch_config.encoding.format",
                    "parquet needs the `parquet` feature",
                ))
            }
        }
    }
}

#[cfg(feature = "parquet")]
fn parquet_error(
    stream: &str,
    path: &std::path::Path,
    problem: crate::parquet::ParquetProblem,
) -> BatchError {
    match problem {
        crate::parquet::ParquetProblem::Data {
            first,
            last,
            message,
        } => BatchError::Record {
            stream: stream.to_owned(),
            path: path.to_path_buf(),
            records: crate::RecordSpan { first, last },
            problem: message,
        },
        crate::parquet::ParquetProblem::Write(message) => {
            BatchError::io(path)(std::io::Error::other(message))
        }
    }
}

fn write_line(w: &mut impl Write, record: &[u8], path: &std::path::Path) -> Result<(), BatchError> {
    w.write_all(record)
        .and_then(|()| w.write_all(b"\n"))
        .map_err(BatchError::io(path))
}
