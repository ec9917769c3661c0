//! Writes a Singer stream whose records travel in BATCH files, for trying targets by hand:
//! `SCHEMA`, then one `BATCH` message per closed file, then a `STATE`.
//!
//! ```sh
//! cargo run -p burler-batch --example batch_stream -- jsonl gzip ./batches 25 10 | target-csv
//! ```
//! Arguments: format (`jsonl` or `parquet`), compression (`gzip` or `none`), storage root,
//! number of records, batch size.

use std::io::Write;
use std::process::ExitCode;

use burler_batch::{BatchConfig, BatchWriter};
use burler_singer::{Message, SchemaMessage, StateMessage};
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "amount": {"type": "number"},
        "active": {"type": "boolean"},
        "updated_at": {"type": "string", "format": "date-time"},
        "address": {"type": ["object", "null"], "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}}
    }})
}

fn record(i: u64) -> Value {
    json!({"id": i, "name": format!("user {i}"), "amount": i as f64 * 1.25, "active": i % 2 == 0,
           "updated_at": format!("2024-01-01T00:00:{:02}Z", i % 60),
           "address": {"city": "Lima", "zip": format!("{i:05}")}})
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [format, compression, root, count, batch_size] = args else {
        return Err("usage: batch_stream FORMAT COMPRESSION ROOT RECORDS BATCH_SIZE".into());
    };
    let config = json!({"batch_config": {
        "encoding": {"format": format, "compression": compression},
        "storage": {"root": root},
        "batch_size": batch_size.parse::<u64>()?}});
    let batch =
        BatchConfig::from_config(config.as_object().ok_or("config")?)?.ok_or("no batch_config")?;
    let mut out = std::io::stdout().lock();
    let schema = Message::Schema(SchemaMessage {
        stream: "events".into(),
        schema: schema(),
        key_properties: vec!["id".into()],
        bookmark_properties: Some(vec!["updated_at".into()]),
    });
    schema.write_to(&mut out)?;
    let mut writer = BatchWriter::new(&batch, "tap-batch-example", "events", &schema_of(&schema))?;
    let count: u64 = count.parse()?;
    for i in 1..=count {
        if let Some(message) = writer.write_json(&serde_json::to_vec(&record(i))?)? {
            Message::Batch(message).write_to(&mut out)?;
        }
    }
    if let Some(message) = writer.close_file()? {
        Message::Batch(message).write_to(&mut out)?;
    }
    let state = json!({"bookmarks": {"events": {"replication_key": "updated_at", "replication_key_value": record(count)["updated_at"]}}});
    Message::State(StateMessage { value: state }).write_to(&mut out)?;
    out.flush()?;
    Ok(())
}

fn schema_of(message: &Message) -> Value {
    match message {
        Message::Schema(s) => s.schema.clone(),
        _ => Value::Null,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("CRITICAL {e}");
            ExitCode::FAILURE
        }
    }
}
