//! Batch files through the public API: they read back (gzip decodes, Parquet reads with the
//! Arrow reader to the same values), every file is in a BATCH message's manifest, and no file
//! holds more than `batch_size` records.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use burler_batch::{BatchConfig, BatchError, BatchWriter};
use burler_singer::BatchMessage;
use serde_json::{Value, json};

fn config(
    dir: &Path,
    format: &str,
    compression: Option<&str>,
    batch_size: usize,
    prefix: &str,
) -> BatchConfig {
    let mut encoding = json!({"format": format});
    if let Some(c) = compression {
        encoding["compression"] = json!(c);
    }
    let config = json!({"batch_config": {
        "encoding": encoding,
        "storage": {"root": format!("file://{}", dir.display()), "prefix": prefix},
        "batch_size": batch_size}});
    BatchConfig::from_config(config.as_object().expect("object"))
        .expect("valid")
        .expect("present")
}

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "amount": {"type": "number"},
        "active": {"type": "boolean"},
        "updated_at": {"type": "string", "format": "date-time"},
        "address": {"type": ["object", "null"], "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "extra": {}
    }})
}

fn record(i: u64) -> Value {
    json!({
        "id": i,
        "name": if i % 3 == 0 { Value::Null } else { json!(format!("n{i}")) },
        "amount": i as f64 * 1.5,
        "active": i % 2 == 0,
        "updated_at": format!("2024-01-01T00:00:{:02}Z", i % 60),
        "address": if i % 4 == 0 { Value::Null } else { json!({"city": "Lima", "zip": format!("{i:05}")}) },
        "tags": ["a", format!("t{i}")],
        "extra": {"k": i, "v": [true, null]}
    })
}

/// Writes `n` records, closing the last file; returns every BATCH message.
fn write_all(writer: &mut BatchWriter, n: u64) -> Vec<BatchMessage> {
    let mut messages = Vec::new();
    for i in 1..=n {
        let text = serde_json::to_vec(&record(i)).expect("serializes");
        messages.extend(writer.write_json(&text).expect("writes"));
    }
    messages.extend(writer.close_file().expect("closes"));
    messages
}

fn file_of(uri: &str) -> PathBuf {
    url::Url::parse(uri)
        .expect("a URL")
        .to_file_path()
        .expect("a file URL")
}

/// Every file in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

fn assert_manifests_cover_the_files(messages: &[BatchMessage], dir: &Path) -> Vec<PathBuf> {
    let mut listed: Vec<PathBuf> = messages
        .iter()
        .flat_map(|m| m.manifest.iter().map(|u| file_of(u)))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        files_in(dir),
        "every file written is in a manifest, once"
    );
    messages
        .iter()
        .flat_map(|m| m.manifest.iter().map(|u| file_of(u)))
        .collect()
}

fn read_lines(path: &Path, gzip: bool) -> Vec<Value> {
    let file = File::open(path).expect("open");
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    BufReader::new(reader)
        .lines()
        .map(|l| serde_json::from_str(&l.expect("line")).expect("JSON"))
        .collect()
}

#[test]
fn jsonl_gzip_files_decode_to_the_records_and_respect_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = BatchWriter::new(
        &config(dir.path(), "jsonl", Some("gzip"), 10, "p-"),
        "tap-x",
        "events",
        &schema(),
    )
    .unwrap();
    let messages = write_all(&mut writer, 25);
    assert_eq!(messages.len(), 3);
    for m in &messages {
        assert_eq!(m.stream, "events");
        assert_eq!(
            (
                m.encoding.format.as_str(),
                m.encoding.compression.as_deref()
            ),
            ("jsonl", Some("gzip"))
        );
        assert_eq!(m.manifest.len(), 1);
    }
    let files = assert_manifests_cover_the_files(&messages, dir.path());
    let mut all = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("p-tap-x--events-") && name.ends_with(&format!("-{}.json.gz", i + 1)),
            "{name}"
        );
        let lines = read_lines(path, true);
        assert!(lines.len() <= 10);
        all.extend(lines);
    }
    assert_eq!(all, (1..=25).map(record).collect::<Vec<_>>());
}

#[test]
fn a_fork_writes_files_of_its_own_with_the_same_settings() {
    let dir = tempfile::tempdir().unwrap();
    let settings = config(dir.path(), "jsonl", None, 2, "p-");
    let mut main = BatchWriter::new(&settings, "tap-x", "events", &schema()).unwrap();
    let mut fork = main.fork();
    let mut messages = write_all(&mut main, 3);
    messages.extend(main.close_file().unwrap());
    let from_main = messages.len();
    messages.extend(write_all(&mut fork, 3));
    messages.extend(fork.close_file().unwrap());
    assert_eq!((from_main, messages.len()), (2, 4));
    let files = assert_manifests_cover_the_files(&messages, dir.path());
    let ids: std::collections::HashSet<String> = files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.starts_with("p-tap-x--events-"), "{name}");
            // p-tap-x--events-<uuid>-<n>.json: the uuid is the sync id.
            name.trim_start_matches("p-tap-x--events-")
                .rsplit_once('-')
                .unwrap()
                .0
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 2, "{files:?}");
}

#[test]
fn jsonl_uncompressed_and_write_record_give_the_same_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = BatchWriter::new(
        &config(dir.path(), "jsonl", Some("none"), 100, ""),
        "tap-x",
        "events",
        &schema(),
    )
    .unwrap();
    for i in 1..=3 {
        assert!(
            writer
                .write_record(record(i).as_object().unwrap())
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(writer.pending_records(), 3);
    let message = writer.close_file().unwrap().expect("pending records");
    assert_eq!(writer.pending_records(), 0);
    assert!(
        writer.close_file().unwrap().is_none(),
        "nothing pending, no empty file"
    );
    assert_eq!(message.encoding.compression.as_deref(), Some("none"));
    let path = file_of(&message.manifest[0]);
    assert!(path.to_string_lossy().ends_with("-1.json"));
    assert_eq!(
        read_lines(&path, false),
        (1..=3).map(record).collect::<Vec<_>>()
    );
}

#[test]
fn a_prefix_with_a_folder_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = BatchWriter::new(
        &config(dir.path(), "jsonl", Some("gzip"), 5, "run-7/"),
        "tap-x",
        "events",
        &schema(),
    )
    .unwrap();
    let messages = write_all(&mut writer, 6);
    assert_eq!(messages.len(), 2);
    assert_eq!(files_in(&dir.path().join("run-7")).len(), 2);
}

/// The records as the Parquet columns hold them: `extra` (no type) as JSON text.
fn as_columns(i: u64) -> Value {
    let mut r = record(i);
    r["extra"] = Value::String(r["extra"].to_string());
    r
}

fn read_parquet(path: &Path) -> Vec<Value> {
    let file = File::open(path).expect("open");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("a Parquet file")
        .build()
        .expect("reader");
    let mut out = Vec::new();
    let mut json = arrow_json::ArrayWriter::new(&mut out);
    for batch in reader {
        json.write(&batch.expect("batch")).expect("to JSON");
    }
    json.finish().expect("finish");
    drop(json);
    let rows: Vec<Value> = serde_json::from_slice(&out).expect("JSON rows");
    rows
}

/// Drops null members (the Arrow JSON writer leaves them out).
fn without_nulls(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null());
        for x in m.values_mut() {
            *x = without_nulls(x.take());
        }
    }
    v
}

fn parquet_round_trip(compression: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let gzip = compression == Some("gzip");
    let mut writer = BatchWriter::new(
        &config(dir.path(), "parquet", compression, 7, ""),
        "tap-x",
        "events",
        &schema(),
    )
    .unwrap();
    let messages = write_all(&mut writer, 20);
    assert_eq!(messages.len(), 3);
    let files = assert_manifests_cover_the_files(&messages, dir.path());
    let mut rows = Vec::new();
    for path in &files {
        assert!(
            path.to_string_lossy()
                .ends_with(if gzip { ".parquet.gz" } else { ".parquet" })
        );
        let file_rows = read_parquet(path);
        assert!(file_rows.len() <= 7);
        rows.extend(file_rows);
    }
    let want: Vec<Value> = (1..=20).map(|i| without_nulls(as_columns(i))).collect();
    assert_eq!(rows, want);
}

#[test]
fn parquet_snappy_reads_back_to_the_same_values() {
    parquet_round_trip(None);
}

#[test]
fn parquet_gzip_reads_back_to_the_same_values() {
    parquet_round_trip(Some("gzip"));
}

#[test]
fn parquet_without_json_text_columns_decodes_the_bytes_directly() {
    let dir = tempfile::tempdir().unwrap();
    let schema = json!({"properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "integer"}}}});
    let mut writer = BatchWriter::new(
        &config(dir.path(), "parquet", None, 100, ""),
        "tap-x",
        "ints",
        &schema,
    )
    .unwrap();
    writer.write_json(br#"{"id":1,"tags":[1,2]}"#).unwrap();
    writer
        .write_json(br#"{"id":2,"unknown":"dropped"}"#)
        .unwrap();
    let message = writer.close_file().unwrap().unwrap();
    assert_eq!(
        read_parquet(&file_of(&message.manifest[0])),
        [json!({"id": 1, "tags": [1, 2]}), json!({"id": 2})]
    );
}

#[test]
fn a_value_of_the_wrong_type_names_stream_file_and_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = BatchWriter::new(
        &config(dir.path(), "parquet", None, 100, ""),
        "tap-x",
        "events",
        &schema(),
    )
    .unwrap();
    writer
        .write_json(&serde_json::to_vec(&record(1)).unwrap())
        .unwrap();
    let mut bad = record(2);
    bad["id"] = json!("two");
    // Rows are decoded in chunks: the error comes when the chunk is, here at close.
    writer
        .write_json(&serde_json::to_vec(&bad).unwrap())
        .unwrap();
    let err = writer.close_file().unwrap_err();
    let BatchError::Record {
        stream, records, ..
    } = &err
    else {
        panic!("a record error: {err}")
    };
    assert_eq!(
        (stream.as_str(), records.first, records.last),
        ("events", 1, 2)
    );
    let text = err.to_string();
    assert!(
        text.starts_with("stream events: records 1-2 of batch file "),
        "{text}"
    );
    assert!(text.ends_with("failed to parse \"two\" as Int64"), "{text}");
}
