//! `batch_config` as singer-sdk reads it (`helpers/_batch.py`): `encoding` (`format` `jsonl` or
//! `parquet`, `compression` `gzip` or none), `storage` (`root`, `prefix`), `batch_size` (records
//! per file, 10,000 when absent).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::BatchError;

/// singer-sdk's `DEFAULT_BATCH_SIZE`.
pub const DEFAULT_BATCH_SIZE: usize = 10_000;

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (the record, not a Singer message).
    Jsonl,
    /// Apache Parquet, columns from the stream's JSON Schema (the `parquet` feature).
    Parquet,
}

impl Format {
    /// The name in `batch_config` and in BATCH messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

/// A parsed `batch_config`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    /// The file format.
    pub format: Format,
    /// gzip (`"compression": "gzip"`); otherwise files are not compressed (Parquet: snappy
    /// pages, as pyarrow writes by default).
    pub gzip: bool,
    /// `compression` as written, echoed in BATCH messages.
    pub compression: Option<String>,
    /// The directory files go to (`storage.root`, a `file://` URL or a path, made absolute).
    pub root: PathBuf,
    /// Put before every file name (`storage.prefix`).
    pub prefix: String,
    /// Records per file.
    pub batch_size: usize,
}

impl BatchConfig {
    /// Reads `batch_config` from a tap's config; `None` when it is absent or null (records go
    /// to stdout as RECORD messages). A relative root is taken from the current directory, as
    /// singer-sdk does.
    pub fn from_config(config: &Map<String, Value>) -> Result<Option<Self>, BatchError> {
        let batch = match config.get("batch_config") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(BatchError::setting(
                    "batch_config",
                    format!("must be an object, not {other}"),
                ));
            }
        };
        let encoding = object(batch, "encoding")?;
        let storage = object(batch, "storage")?;
        let (format, compression, gzip) = encoding_of(encoding)?;
        let root = match string(storage, "storage", "root")? {
            Some(root) => root_path(root)?,
            None => {
                return Err(BatchError::setting(
                    "batch_config.storage.root",
                    "is required",
                ));
            }
        };
        Ok(Some(BatchConfig {
            format,
            gzip,
            compression: compression.map(str::to_owned),
            root,
            prefix: string(storage, "storage", "prefix")?
                .unwrap_or_default()
                .to_owned(),
            batch_size: batch_size(batch)?,
        }))
    }
}

/// `encoding`: the format, `compression` as written, and whether it is gzip.
fn encoding_of(encoding: &Map<String, Value>) -> Result<(Format, Option<&str>, bool), BatchError> {
    let format = match string(encoding, "encoding", "format")? {
        Some("jsonl") => Format::Jsonl,
        Some("parquet") => Format::Parquet,
        Some(other) => {
            return Err(BatchError::setting(
                "batch_config.encoding.format",
                format!("{other:?} is not supported (jsonl or parquet)"),
            ));
        }
        None => {
            return Err(BatchError::setting(
                "batch_config.encoding.format",
                "is required",
            ));
        }
    };
    let compression = string(encoding, "encoding", "compression")?;
    let gzip = match compression {
        Some("gzip") => true,
        None | Some("none") => false,
        Some(other) => {
            return Err(BatchError::setting(
                "batch_config.encoding.compression",
                format!("{other:?} is not supported (gzip or none)"),
            ));
        }
    };
    Ok((format, compression, gzip))
}

fn object<'a>(
    batch: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a Map<String, Value>, BatchError> {
    match batch.get(key) {
        Some(Value::Object(m)) => Ok(m),
        None | Some(Value::Null) => Err(BatchError::setting(
            format!("batch_config.{key}"),
            "is required",
        )),
        Some(other) => Err(BatchError::setting(
            format!("batch_config.{key}"),
            format!("must be an object, not {other}"),
        )),
    }
}

fn string<'a>(
    m: &'a Map<String, Value>,
    parent: &str,
    key: &str,
) -> Result<Option<&'a str>, BatchError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(BatchError::setting(
            format!("batch_config.{parent}.{key}"),
            format!("must be a string, not {other}"),
        )),
    }
}

fn batch_size(batch: &Map<String, Value>) -> Result<usize, BatchError> {
    match batch.get("batch_size") {
        None | Some(Value::Null) => Ok(DEFAULT_BATCH_SIZE),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                BatchError::setting(
                    "batch_config.batch_size",
                    format!("must be a whole number ≥ 1, not {v}"),
                )
            }),
    }
}

/// `file:///abs`, singer-sdk's relative `file://dir`, or a plain path; other URL schemes are
/// not written by burler.
fn root_path(root: &str) -> Result<PathBuf, BatchError> {
    let setting = "batch_config.storage.root";
    let path = if let Some(rest) = root.strip_prefix("file://") {
        if rest.starts_with('/') {
            url::Url::parse(root)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .ok_or_else(|| {
                    BatchError::setting(setting, format!("{root:?} is not a file URL"))
                })?
        } else {
            PathBuf::from(rest)
        }
    } else if let Some((scheme, _)) = root.split_once("://") {
        return Err(BatchError::setting(
            setting,
            format!(
                "{scheme}:// storage is not supported: burler writes batch files to file:// roots"
            ),
        ));
    } else {
        PathBuf::from(root)
    };
    absolute(&path).map_err(|e| BatchError::setting(setting, format!("{root:?}: {e}")))
}

fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Option<BatchConfig>, BatchError> {
        BatchConfig::from_config(v.as_object().expect("object"))
    }

    #[test]
    fn absent_means_no_batches() {
        assert_eq!(parse(json!({})).unwrap(), None);
        assert_eq!(parse(json!({"batch_config": null})).unwrap(), None);
    }

    #[test]
    fn reads_singer_sdks_shape_with_defaults() {
        let c = parse(json!({"batch_config": {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": "file:///tmp/batches", "prefix": "p-"}}}))
        .unwrap()
        .unwrap();
        assert_eq!(c.format, Format::Jsonl);
        assert!(c.gzip);
        assert_eq!(c.root, PathBuf::from("/tmp/batches"));
        assert_eq!(c.prefix, "p-");
        assert_eq!(c.batch_size, DEFAULT_BATCH_SIZE);
        let relative = parse(json!({"batch_config": {"encoding": {"format": "parquet"},
            "storage": {"root": "file://out"}, "batch_size": 5}}))
        .unwrap()
        .unwrap();
        assert_eq!(relative.root, std::env::current_dir().unwrap().join("out"));
        assert!(!relative.gzip);
        assert_eq!(relative.batch_size, 5);
    }

    #[test]
    fn errors_name_the_setting() {
        let cases = [
            (
                json!({"batch_config": 1}),
                "batch_config: must be an object",
            ),
            (
                json!({"batch_config": {"storage": {"root": "x"}}}),
                "batch_config.encoding: is required",
            ),
            (
                json!({"batch_config": {"encoding": {"format": "jsonl"}}}),
                "batch_config.storage: is required",
            ),
            (
                json!({"batch_config": {"encoding": {"format": "csv"}, "storage": {"root": "x"}}}),
                "batch_config.encoding.format: \"csv\" is not supported",
            ),
            (
                json!({"batch_config": {"encoding": {"format": "jsonl", "compression": "zstd"}, "storage": {"root": "x"}}}),
                "batch_config.encoding.compression",
            ),
            (
                json!({"batch_config": {"encoding": {"format": "jsonl"}, "storage": {"root": "s3://b/k"}}}),
                "batch_config.storage.root: s3:// storage is not supported",
            ),
            (
                json!({"batch_config": {"encoding": {"format": "jsonl"}, "storage": {"root": "x"}, "batch_size": 0}}),
                "batch_config.batch_size",
            ),
        ];
        for (config, want) in cases {
            let err = parse(config.clone()).unwrap_err().to_string();
            assert!(err.starts_with(want), "{config}: {err}");
        }
    }
}
