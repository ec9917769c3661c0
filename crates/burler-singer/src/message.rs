//! Singer messages (SCHEMA, RECORD, STATE, ACTIVATE_VERSION, BATCH), written and parsed.
//!
//! Lines are compact JSON with `"type"` first, as singer-sdk writes them; parsing also accepts what
//! singer-python writes (spaces after separators, `time_extracted` with `Z` or `+00:00`).

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::ProtocolError;

/// One Singer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Message {
    /// `SCHEMA`: a stream's JSON Schema and keys.
    #[serde(rename = "SCHEMA")]
    Schema(SchemaMessage),
    /// `RECORD`: one row of a stream.
    #[serde(rename = "RECORD")]
    Record(RecordMessage),
    /// `STATE`: the tap's checkpoint.
    #[serde(rename = "STATE")]
    State(StateMessage),
    /// `ACTIVATE_VERSION`: a table version is complete.
    #[serde(rename = "ACTIVATE_VERSION")]
    ActivateVersion(ActivateVersionMessage),
    /// `BATCH`: Meltano's batch files.
    #[serde(rename = "BATCH")]
    Batch(BatchMessage),
}

/// A `SCHEMA` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaMessage {
    /// The stream.
    pub stream: String,
    /// Its JSON Schema.
    pub schema: Value,
    /// Primary key fields (may be empty).
    #[serde(default)]
    pub key_properties: Vec<String>,
    /// Replication key fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmark_properties: Option<Vec<String>>,
}

/// A `RECORD` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordMessage {
    /// The stream.
    pub stream: String,
    /// The record (a JSON object).
    pub record: Value,
    /// The table version (FULL_TABLE with versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// When the record was read from the source.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_time",
        deserialize_with = "de_time"
    )]
    pub time_extracted: Option<DateTime<Utc>>,
}

/// A `STATE` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateMessage {
    /// The state object.
    pub value: Value,
}

/// An `ACTIVATE_VERSION` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivateVersionMessage {
    /// The stream.
    pub stream: String,
    /// The version to activate.
    pub version: i64,
}

/// A `BATCH` message (Meltano).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchMessage {
    /// The stream.
    pub stream: String,
    /// How the files are encoded.
    pub encoding: BatchEncoding,
    /// File URLs.
    pub manifest: Vec<String>,
}

/// Encoding of `BATCH` files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchEncoding {
    /// `jsonl`, `parquet`, …
    pub format: String,
    /// `gzip`, … or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
}

/// Formats a time as singer-python does: `2024-01-02T03:04:05.123456Z`.
pub fn format_time_extracted(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn ser_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time_extracted(*t)),
        None => s.serialize_none(),
    }
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| serde::de::Error::custom(format!("time_extracted {text:?}: {e}")))
}

impl Message {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Message, ProtocolError> {
        let message: Message = serde_json::from_str(line).map_err(|e| {
            let problem = e.to_string();
            // serde's "unknown variant" names our Rust variants; say it in Singer's terms.
            let problem = if problem.starts_with("unknown variant") {
                let ty = serde_json::from_str::<Value>(line)
                    .ok()
                    .and_then(|v| v.get("type").cloned())
                    .unwrap_or(Value::Null);
                format!("unknown message type {ty}")
            } else if problem.starts_with("missing field `type`") {
                "message has no \"type\"".to_owned()
            } else {
                problem
            };
            ProtocolError::shape("message", problem)
        })?;
        if let Message::Record(r) = &message
            && !r.record.is_object()
        {
            return Err(ProtocolError::shape(
                "message",
                format!(
                    "RECORD of stream {} must hold an object in \"record\"",
                    r.stream
                ),
            ));
        }
        Ok(message)
    }

    /// Writes one compact line with a trailing newline.
    pub fn write_to<W: Write + ?Sized>(&self, w: &mut W) -> std::io::Result<()> {
        serde_json::to_writer(&mut *w, self)?;
        w.write_all(b"\n")
    }

    /// The compact line, without the trailing newline.
    pub fn to_line(&self) -> String {
        // Serializing a Message cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The stream the message belongs to (none for STATE).
    pub fn stream(&self) -> Option<&str> {
        match self {
            Message::Schema(m) => Some(&m.stream),
            Message::Record(m) => Some(&m.stream),
            Message::ActivateVersion(m) => Some(&m.stream),
            Message::Batch(m) => Some(&m.stream),
            Message::State(_) => None,
        }
    }
}

/// Writes RECORD lines for one stream without building a `Value` per record.
///
/// ```
/// use burler_singer::{Message, RecordEncoder, RecordMessage};
/// let enc = RecordEncoder::new("users");
/// let mut out = Vec::new();
/// enc.encode(&mut out, &serde_json::json!({"id": 1}), Some(7), None).unwrap();
/// assert_eq!(out, b"{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":1},\"version\":7}\n");
/// ```
#[derive(Debug, Clone)]
pub struct RecordEncoder {
    prefix: Vec<u8>,
}

impl RecordEncoder {
    /// Pre-encodes `{"type":"RECORD","stream":"<stream>","record":`.
    pub fn new(stream: &str) -> Self {
        let mut prefix = br#"{"type":"RECORD","stream":"#.to_vec();
        // A &str always serializes.
        let _ = serde_json::to_writer(&mut prefix, stream);
        prefix.extend_from_slice(br#","record":"#);
        RecordEncoder { prefix }
    }

    /// Length of the pre-encoded prefix: the record's JSON starts at this offset of each line.
    pub fn prefix_len(&self) -> usize {
        self.prefix.len()
    }

    /// Appends one RECORD line (with `\n`) to `out`. On error `out` is left as it was.
    pub fn encode<R: Serialize + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        record: &R,
        version: Option<i64>,
        time_extracted: Option<&str>,
    ) -> Result<(), serde_json::Error> {
        let start = out.len();
        out.extend_from_slice(&self.prefix);
        if let Err(e) = serde_json::to_writer(&mut *out, record) {
            out.truncate(start);
            return Err(e);
        }
        if let Some(v) = version {
            out.extend_from_slice(br#","version":"#);
            let mut buf = itoa_buf(v);
            out.append(&mut buf);
        }
        if let Some(t) = time_extracted {
            out.extend_from_slice(br#","time_extracted":"#);
            serde_json::to_writer(&mut *out, t)?;
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}

fn itoa_buf(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all_kinds() -> Vec<Message> {
        vec![
            Message::Schema(SchemaMessage {
                stream: "users".into(),
                schema: json!({"type": "object", "properties": {"id": {"type": "integer"}}}),
                key_properties: vec!["id".into()],
                bookmark_properties: Some(vec!["updated_at".into()]),
            }),
            Message::Record(RecordMessage {
                stream: "users".into(),
                record: json!({"id": 1, "name": "a\"b"}),
                version: Some(1_700_000_000_000),
                time_extracted: Some(
                    DateTime::parse_from_rfc3339("2024-01-02T03:04:05.123456Z")
                        .unwrap()
                        .with_timezone(&Utc),
                ),
            }),
            Message::State(StateMessage {
                value: json!({"bookmarks": {"users": {"replication_key_value": 5}}}),
            }),
            Message::ActivateVersion(ActivateVersionMessage {
                stream: "users".into(),
                version: 3,
            }),
            Message::Batch(BatchMessage {
                stream: "users".into(),
                encoding: BatchEncoding {
                    format: "jsonl".into(),
                    compression: Some("gzip".into()),
                },
                manifest: vec!["file:///tmp/a.jsonl.gz".into()],
            }),
        ]
    }

    #[test]
    fn every_kind_round_trips_with_type_first() {
        for m in all_kinds() {
            let line = m.to_line();
            assert!(line.starts_with("{\"type\":\""), "{line}");
            assert_eq!(Message::parse(&line).unwrap(), m);
        }
    }

    #[test]
    fn record_time_is_written_as_singer_python_does() {
        let line = all_kinds()[1].to_line();
        assert!(
            line.ends_with(
                r#""version":1700000000000,"time_extracted":"2024-01-02T03:04:05.123456Z"}"#
            ),
            "{line}"
        );
    }

    #[test]
    fn encoder_matches_the_message_writer() {
        let Message::Record(r) = &all_kinds()[1] else {
            unreachable!()
        };
        let enc = RecordEncoder::new(&r.stream);
        let mut out = Vec::new();
        let t = format_time_extracted(r.time_extracted.unwrap());
        enc.encode(&mut out, &r.record, r.version, Some(&t))
            .unwrap();
        let mut expected = Message::Record(r.clone()).to_line().into_bytes();
        expected.push(b'\n');
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let e = Message::parse(r#"{"type":"FOO"}"#).unwrap_err().to_string();
        assert!(e.contains("unknown message type \"FOO\""), "{e}");
        let e = Message::parse(r#"{"type":"RECORD","record":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing field `stream`"), "{e}");
        let e = Message::parse(r#"{"type":"RECORD","stream":"s","record":[1]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("must hold an object"), "{e}");
        let e = Message::parse(r#"{"stream":"s"}"#).unwrap_err().to_string();
        assert!(e.contains("no \"type\""), "{e}");
    }

    #[test]
    fn accepts_singer_sdk_offsets_and_missing_keys() {
        let m = Message::parse(r#"{"type": "RECORD", "stream": "s", "record": {}, "time_extracted": "2024-01-02T03:04:05.5+00:00", "extra": 1}"#).unwrap();
        let Message::Record(r) = m else { panic!() };
        assert_eq!(
            format_time_extracted(r.time_extracted.unwrap()),
            "2024-01-02T03:04:05.500000Z"
        );
        let Message::Schema(s) =
            Message::parse(r#"{"type":"SCHEMA","stream":"s","schema":{}}"#).unwrap()
        else {
            panic!()
        };
        assert!(s.key_properties.is_empty());
    }
}
