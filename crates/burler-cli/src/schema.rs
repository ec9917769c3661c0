//! `burler schema ...`: schema tools for tap authors.
//!
//! - `resolve FILE`: the schema with every `$ref` followed (other files relative to FILE), printed
//!   pretty; `--max-recursion N` unrolls a recursive schema N times instead of failing.
//! - `wsdl FILE`: the JSON Schemas of a WSDL's (or XSD's) types, as `{TypeName: schema}`.
//! - `infer [--stream NAME]`: a schema guessed from JSON-lines records, or from the RECORD
//!   messages of Singer output, read on stdin.
//!
//! Errors are one line on stderr and a non-zero exit.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use burler_schema::{Inferrer, Resolver, SchemaError};
use clap::{Args, Subcommand};
use serde_json::Value;

/// `burler schema` arguments.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    command: SchemaCommand,
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Print the schema in FILE with every $ref resolved (file refs relative to FILE).
    Resolve {
        /// The JSON Schema file.
        file: PathBuf,
        /// Unroll a recursive schema this many times (then allow any value) instead of failing.
        #[arg(long, value_name = "N")]
        max_recursion: Option<usize>,
    },
    /// Print the JSON Schemas of the types of a WSDL or XSD file: {TypeName: schema}.
    Wsdl {
        /// The WSDL or XSD file.
        file: PathBuf,
    },
    /// Infer a JSON Schema from records on stdin: JSON lines, or Singer messages (RECORDs).
    Infer {
        /// With Singer messages: the stream whose records to use (needed when there are several).
        #[arg(long, value_name = "NAME")]
        stream: Option<String>,
    },
}

/// Runs `burler schema ...`.
pub fn run(args: &SchemaArgs) -> ExitCode {
    let result = match &args.command {
        SchemaCommand::Resolve {
            file,
            max_recursion,
        } => resolve(file, *max_recursion),
        SchemaCommand::Wsdl { file } => wsdl(file),
        SchemaCommand::Infer { stream } => infer(stream.as_deref()),
    };
    match result.and_then(|value| print(&value)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("burler: {}", message.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn resolve(file: &std::path::Path, max_recursion: Option<usize>) -> Result<Value, String> {
    let resolver = match max_recursion {
        Some(n) => Resolver::new().max_recursion(n),
        None => Resolver::new(),
    };
    let schema = resolver.load_file(file).map_err(|e| match e {
        // The library's hint names the Rust API; here the user's lever is the flag.
        SchemaError::Cycle {
            reference,
            at,
            file,
        } => format!(
            "recursive $ref {reference:?} at {at} in {file}: a Singer schema must be finite (unroll it with --max-recursion N)"
        ),
        other => other.to_string(),
    })?;
    // A stream's schema describes its records, which are objects: a list, a string or a bare
    // `true` is a file mix-up, not something to print as a schema.
    if !schema.is_object() {
        return Err(format!(
            "{}: a schema must be a JSON object, found {}",
            file.display(),
            json_type(&schema)
        ));
    }
    Ok(schema)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wsdl(file: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let types = burler_schema::wsdl::from_wsdl_or_xsd(&text)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(Value::Object(types.into_iter().collect()))
}

fn infer(stream: Option<&str>) -> Result<Value, String> {
    let mut plain = Inferrer::new();
    let mut plain_seen = false;
    let mut streams: Vec<String> = Vec::new();
    let mut chosen = Inferrer::new();
    let mut chosen_seen = false;
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| format!("stdin line {}: not JSON: {e}", i + 1))?;
        match singer_message(&value) {
            Some(Message::Record {
                stream: name,
                record,
            }) => {
                if !streams.iter().any(|s| s == name) {
                    streams.push(name.to_owned());
                }
                let take = match stream {
                    Some(wanted) => wanted == name,
                    None => streams[0] == name,
                };
                if take {
                    chosen.observe(record);
                    chosen_seen = true;
                }
            }
            Some(Message::Other) => {}
            None => {
                plain.observe(&value);
                plain_seen = true;
            }
        }
    }
    match (plain_seen, streams.len(), stream) {
        (true, 0, None) => Ok(plain.finish()),
        (true, 0, Some(_)) => {
            Err("--stream applies to Singer messages, but stdin holds plain records".into())
        }
        (true, _, _) => Err("stdin mixes plain records and Singer messages".into()),
        (false, 0, _) => Err("no records on stdin".into()),
        (false, 1, _) | (false, _, Some(_)) if chosen_seen => Ok(chosen.finish()),
        (false, _, Some(wanted)) => Err(format!(
            "no RECORD of stream {wanted:?} on stdin (streams: {})",
            streams.join(", ")
        )),
        (false, _, None) => Err(format!(
            "records of several streams ({}): choose one with --stream",
            streams.join(", ")
        )),
    }
}

enum Message<'a> {
    Record { stream: &'a str, record: &'a Value },
    Other,
}

/// A Singer message, told from a plain record by its `type` and the fields that type requires.
fn singer_message(value: &Value) -> Option<Message<'_>> {
    let kind = value.get("type")?.as_str()?;
    let has = |key: &str| value.get(key).is_some();
    match kind {
        "RECORD" => {
            let stream = value.get("stream")?.as_str()?;
            let record = value.get("record").filter(|r| r.is_object())?;
            Some(Message::Record { stream, record })
        }
        "SCHEMA" if has("stream") && has("schema") => Some(Message::Other),
        "STATE" if has("value") => Some(Message::Other),
        "ACTIVATE_VERSION" if has("stream") && has("version") => Some(Message::Other),
        "BATCH" if has("stream") => Some(Message::Other),
        _ => None,
    }
}

fn print(value: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("stdout: {e}")),
    }
}
