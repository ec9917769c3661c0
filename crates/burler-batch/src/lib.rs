//! singer-sdk's BATCH messages for a Singer tap: with `batch_config` in the tap's config, a
//! stream's records go to files instead of RECORD lines, and each file, once complete, closed
//! and synced to disk, is announced by one BATCH message
//! (`{"type":"BATCH","stream":…,"encoding":{"format":…,"compression":…},"manifest":["file:///…"]}`)
//! that singer-sdk targets load. This crate knows nothing of the burler runner: the runner
//! creates one [`BatchWriter`] per output stream and hands it each record's JSON text.
//!
//! ```
//! use burler_batch::{BatchConfig, BatchWriter};
//! use burler_singer::Message;
//! use serde_json::json;
//!
//! # let dir = tempfile::tempdir()?;
//! # let root = format!("file://{}", dir.path().display());
//! let config = json!({"batch_config": {"encoding": {"format": "jsonl", "compression": "gzip"},
//!                                      "storage": {"root": root}}});
//! // At startup: None when the config has no batch_config (records go to stdout).
//! let Some(batch) = BatchConfig::from_config(config.as_object().unwrap())? else { return Ok(()) };
//! let schema = json!({"properties": {"id": {"type": "integer"}}});
//! let mut writer = BatchWriter::new(&batch, "tap-shop", "orders", &schema)?;
//! let mut stdout = Vec::new();
//! for id in 1..=3 {
//!     let record = format!(r#"{{"id":{id}}}"#);
//!     if let Some(message) = writer.write_json(record.as_bytes())? {
//!         Message::Batch(message).write_to(&mut stdout)?; // then a STATE may follow
//!     }
//! }
//! // Before a STATE that covers records still pending, and at the end of the stream:
//! if let Some(message) = writer.close_file()? {
//!     Message::Batch(message).write_to(&mut stdout)?;
//! }
//! assert_eq!(String::from_utf8(stdout)?.lines().count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The STATE rule: a STATE must only cover records whose file's BATCH message has been written.
//! [`BatchWriter::write_json`] returns the message when a record fills the file (`batch_size`
//! records, 10,000 by default); [`BatchWriter::close_file`] ends the open file early (at the end
//! of the stream, or when a STATE is due), and [`BatchWriter::pending_records`] says whether
//! one is open. singer-sdk writes a STATE after every BATCH message.
//!
//! # Settings
//!
//! `batch_config` as singer-sdk reads it: `encoding.format` `jsonl` or `parquet`,
//! `encoding.compression` `gzip` or `none`/absent, `storage.root` a `file://` URL (singer-sdk's
//! relative `file://dir` form too) or a path, `storage.prefix` put before every file name,
//! `batch_size`. Other storage schemes (`s3://`, …) are an error at startup. [`about`] has the
//! `--about` setting and the capability name (`batch`).
//!
//! Files are named as singer-sdk names them, `{prefix}{tap}--{stream}-{uuid}-{n}.json.gz`
//! (`.json` when not compressed; `.parquet`, or `.parquet.gz` with gzip pages). Unlike
//! singer-sdk, `compression: none` really writes plain JSON lines (singer-sdk gzips them anyway,
//! and its targets then fail to read them), and the records written are the mapped ones of each
//! output stream (singer-sdk batches the unmapped records under every alias).
//!
//! # Parquet
//!
//! Behind the `parquet` feature (the arrow and parquet crates take about a minute of CPU time to
//! compile); JSON lines and gzip are always there. The crate's tests enable the feature through a
//! dev-dependency on the crate itself, so `cargo test --workspace` builds and checks it.
//!
//! The Arrow schema is derived once from the stream's JSON Schema; records are decoded from
//! their JSON text by `arrow-json` and written by the `parquet` crate (snappy pages, as pyarrow
//! writes by default, or gzip). Every column is nullable (a record may leave a property out):
//!
//! | JSON Schema (ignoring `"null"`)          | Arrow / Parquet                          |
//! |------------------------------------------|------------------------------------------|
//! | `integer`                                | `Int64`                                  |
//! | `number`                                 | `Float64`                                |
//! | `boolean`                                | `Boolean`                                |
//! | `string`, any `format` (date-time, date) | `Utf8`, the text as in RECORD messages   |
//! | `object` with `properties`               | `Struct` of its properties, recursively  |
//! | `array` with `items` of a type above     | `List` of that type                      |
//! | anything else (no `type`, several types, `anyOf`/`oneOf`, an object without `properties`, an array of such items) | `Utf8` holding the value's JSON text |
//!
//! Date-times stay strings, as singer-sdk's own Parquet batches hold them, so a target loads the
//! same value from either. Properties a record has and the schema does not are left out. A value
//! of another type than its column's (a string in an `integer` column) is an error naming the
//! stream, the file and the records of the chunk it was in.
//!
//! # Targets
//!
//! Tried with BATCH messages from this crate (`examples/batch_stream.rs`), `file://` manifests:
//!
//! | target (version, SDK) | jsonl + gzip | jsonl, none | parquet |
//! |---|---|---|---|
//! | meltanolabs-target-csv 0.5.0 (singer-sdk 0.54.9) | loads | loads | loads once `pyarrow` is installed beside it (26.0.1 tried); without it: "Unsupported batch encoding format: parquet" |
//! | meltanolabs-target-postgres 0.8.1 (singer-sdk 0.54.9) | loads | loads | the same: loads with `pyarrow` |
//! | target-jsonl 0.1.4 (singer-python 5.8.0) | fails: singer-python has no BATCH message | fails | fails |
//! | target-duckdb 0.8.0 (PipelineWise) | fails: "Unknown message type BATCH" | fails | fails |

pub mod about;
mod config;
mod error;
#[cfg(feature = "parquet")]
mod parquet;
mod writer;

pub use config::{BatchConfig, DEFAULT_BATCH_SIZE, Format};
pub use error::{BatchError, RecordSpan};
pub use writer::BatchWriter;
