//! Parquet batch files (the `parquet` feature): Arrow columns derived once from the stream's
//! JSON Schema, records decoded by `arrow-json` straight from their JSON text, written by the
//! `parquet` crate's `ArrowWriter`. The type map is in the crate documentation.

use std::fs::File;
use std::sync::Arc;

use arrow_json::reader::{Decoder, ReaderBuilder};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::WriterProperties;
use serde_json::Value;

/// Rows decoded before they are handed to the Parquet writer.
const DECODE_ROWS: usize = 4096;

/// The Arrow schema of a stream and how to bring a record to it.
#[derive(Debug)]
pub(crate) struct Columns {
    schema: SchemaRef,
    plan: Vec<(String, Plan)>,
    /// Some value must be turned into JSON text before decoding.
    rewrites: bool,
}

/// What to do with a value on its way into its column.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    /// Decoded as it is.
    Keep,
    /// Written as its JSON text.
    JsonText,
    /// An object: its properties, each with its plan.
    Struct(Vec<(String, Plan)>),
    /// An array: its items' plan.
    List(Box<Plan>),
}

impl Plan {
    fn rewrites(&self) -> bool {
        match self {
            Plan::Keep => false,
            Plan::JsonText => true,
            Plan::Struct(fields) => fields.iter().any(|(_, p)| p.rewrites()),
            Plan::List(item) => item.rewrites(),
        }
    }
}

impl Columns {
    /// The columns of a stream whose records follow `schema`.
    pub(crate) fn from_schema(schema: &Value) -> Self {
        let (fields, plan) = struct_fields(schema.get("properties").and_then(Value::as_object));
        let rewrites = plan.iter().any(|(_, p)| p.rewrites());
        Columns {
            schema: Arc::new(Schema::new(fields)),
            plan,
            rewrites,
        }
    }

    /// The Arrow schema.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

fn struct_fields(
    properties: Option<&serde_json::Map<String, Value>>,
) -> (Fields, Vec<(String, Plan)>) {
    let mut fields = Vec::new();
    let mut plan = Vec::new();
    for (name, schema) in properties.into_iter().flatten() {
        let (data_type, p) = column(schema);
        fields.push(Field::new(name.as_str(), data_type, true));
        plan.push((name.clone(), p));
    }
    (Fields::from(fields), plan)
}

/// One property's Arrow type and plan.
fn column(schema: &Value) -> (DataType, Plan) {
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let non_null: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    let text = (DataType::Utf8, Plan::JsonText);
    match non_null.as_slice() {
        ["integer"] => (DataType::Int64, Plan::Keep),
        ["number"] => (DataType::Float64, Plan::Keep),
        ["boolean"] => (DataType::Boolean, Plan::Keep),
        ["string"] => (DataType::Utf8, Plan::Keep),
        ["object"] => match schema.get("properties").and_then(Value::as_object) {
            Some(p) if !p.is_empty() => {
                let (fields, plan) = struct_fields(Some(p));
                (DataType::Struct(fields), Plan::Struct(plan))
            }
            _ => text,
        },
        ["array"] => match schema.get("items").map(column) {
            Some((item, plan)) if plan != Plan::JsonText => (
                DataType::List(Arc::new(Field::new_list_field(item, true))),
                Plan::List(Box::new(plan)),
            ),
            _ => text,
        },
        _ => text,
    }
}

/// Turns the values planned as JSON text into their text.
fn rewrite(value: &mut Value, plan: &Plan) {
    match (plan, value) {
        (Plan::Keep, _) | (_, Value::Null) => {}
        (Plan::JsonText, value) => *value = Value::String(value.to_string()),
        (Plan::Struct(fields), Value::Object(m)) => {
            for (name, p) in fields {
                if let Some(v) = m.get_mut(name) {
                    rewrite(v, p);
                }
            }
        }
        (Plan::List(item), Value::Array(items)) => items.iter_mut().for_each(|v| rewrite(v, item)),
        // A value of another shape than the schema's: the decoder reports it.
        _ => {}
    }
}

/// One open Parquet file.
pub(crate) struct ParquetFile {
    columns: Arc<Columns>,
    decoder: Decoder,
    writer: ArrowWriter<File>,
    /// Records added, and the number of those already handed to the writer.
    records: usize,
    flushed: usize,
}

/// Why a Parquet file could not take a record or be finished.
pub(crate) enum ParquetProblem {
    /// Records `first..=last` (from 1) hold a value their columns cannot take.
    Data {
        first: usize,
        last: usize,
        message: String,
    },
    /// The file could not be written.
    Write(String),
}

impl ParquetFile {
    /// Starts a file; gzip pages when `gzip`, else snappy (pyarrow's default).
    pub(crate) fn create(
        file: File,
        columns: Arc<Columns>,
        gzip: bool,
    ) -> Result<Self, ParquetProblem> {
        let compression = if gzip {
            Compression::GZIP(GzipLevel::default())
        } else {
            Compression::SNAPPY
        };
        let props = WriterProperties::builder()
            .set_compression(compression)
            .build();
        let writer = ArrowWriter::try_new(file, Arc::clone(columns.schema()), Some(props))
            .map_err(|e| ParquetProblem::Write(e.to_string()))?;
        let decoder = ReaderBuilder::new(Arc::clone(columns.schema()))
            .with_batch_size(DECODE_ROWS)
            .build_decoder()
            .map_err(|e| ParquetProblem::Write(e.to_string()))?;
        Ok(ParquetFile {
            columns,
            decoder,
            writer,
            records: 0,
            flushed: 0,
        })
    }

    fn data_error(&self, first: usize, message: impl ToString) -> ParquetProblem {
        ParquetProblem::Data {
            first,
            last: self.records,
            message: message.to_string(),
        }
    }

    /// Adds one record from its JSON text.
    pub(crate) fn write_json(&mut self, record: &[u8]) -> Result<(), ParquetProblem> {
        if self.decoder.len() >= DECODE_ROWS {
            self.flush()?;
        }
        self.records += 1;
        let this = self.records;
        if self.columns.rewrites {
            let mut value: Value =
                serde_json::from_slice(record).map_err(|e| self.data_error(this, e))?;
            if let Value::Object(m) = &mut value {
                for (name, plan) in &self.columns.plan {
                    if let Some(v) = m.get_mut(name) {
                        rewrite(v, plan);
                    }
                }
            }
            return self
                .decoder
                .serialize(&[value])
                .map_err(|e| self.data_error(this, e));
        }
        let used = self
            .decoder
            .decode(record)
            .map_err(|e| self.data_error(this, e))?;
        // The decoder stops early only when it holds a full batch, which was flushed above.
        if used != record.len() {
            return Err(self.data_error(this, "the record is not a single JSON object"));
        }
        self.decoder
            .decode(b"\n")
            .map(|_| ())
            .map_err(|e| self.data_error(this, e))
    }

    /// Decodes the pending rows and hands them to the writer.
    fn flush(&mut self) -> Result<(), ParquetProblem> {
        let first = self.flushed + 1;
        let batch = self
            .decoder
            .flush()
            .map_err(|e| self.data_error(first, e))?;
        self.flushed = self.records;
        if let Some(batch) = batch {
            self.writer
                .write(&batch)
                .map_err(|e| ParquetProblem::Write(e.to_string()))?;
        }
        Ok(())
    }

    /// Writes what is left and the footer; returns the file to be synced.
    pub(crate) fn finish(mut self) -> Result<File, ParquetProblem> {
        self.flush()?;
        self.writer
            .into_inner()
            .map_err(|e| ParquetProblem::Write(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_type_map() {
        let columns = Columns::from_schema(&json!({"properties": {
            "i": {"type": ["integer", "null"]},
            "n": {"type": "number"},
            "b": {"type": "boolean"},
            "t": {"type": "string", "format": "date-time"},
            "o": {"type": "object", "properties": {"x": {"type": "integer"}}},
            "l": {"type": "array", "items": {"type": "string"}},
            "free": {},
            "mixed": {"type": ["string", "integer"]},
            "any": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "bag": {"type": "object"},
            "objects": {"type": "array", "items": {"type": "object"}}
        }}));
        let types: Vec<String> = columns
            .schema()
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        assert_eq!(
            types,
            [
                "i:Int64",
                "n:Float64",
                "b:Boolean",
                "t:Utf8",
                "o:Struct(\"x\": Int64)",
                "l:List(Utf8)",
                "free:Utf8",
                "mixed:Utf8",
                "any:Utf8",
                "bag:Utf8",
                "objects:Utf8"
            ]
        );
        // Every column, and every child, may be null.
        assert!(columns.schema().fields().iter().all(|f| f.is_nullable()));
        let DataType::Struct(children) = columns.schema().field(4).data_type() else {
            panic!("o is a struct")
        };
        assert!(children[0].is_nullable());
        assert!(columns.rewrites);
        assert!(!Columns::from_schema(&json!({"properties": {"i": {"type": "integer"}}})).rewrites);
    }

    #[test]
    fn json_text_values_are_rewritten_nested_too() {
        let plan = Plan::Struct(vec![
            ("free".into(), Plan::JsonText),
            ("keep".into(), Plan::Keep),
        ]);
        let mut v = json!({"free": {"a": [1]}, "keep": 2});
        rewrite(&mut v, &plan);
        assert_eq!(v, json!({"free": "{\"a\":[1]}", "keep": 2}));
    }
}
