//! Singer messages (SCHEMA, RECORD, STATE, ACTIVATE_VERSION, BATCH), written and parsed.
//!
//! Lines are compact JSON with `"type"` first, as singer-sdk writes them; parsing also accepts what
//! singer-python writes (spaces after separators, `time_extracted` with `Z` or `+00:00`).

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::ProtocolError;

mod capture;
mod parse;
mod raw;

pub use parse::{RawMessage, RawRecord};

/// One Singer message. Written with `"type"` first; read in one pass (`Deserialize` is written by
/// hand: `"type"` is peeked, then the rest goes straight into the variant's struct).
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// Reads `time_extracted` (RFC 3339, any offset) without copying the text.
fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    struct TimeText;
    impl<'de> serde::de::Visitor<'de> for TimeText {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 date-time or null")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            DateTime::parse_from_rfc3339(text)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|e| E::custom(format!("time_extracted {text:?}: {e}")))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }
    d.deserialize_option(TimeText)
}

/// The error for a RECORD whose `"record"` is not an object.
fn not_an_object(stream: &str) -> ProtocolError {
    ProtocolError::shape(
        "message",
        format!("RECORD of stream {stream} must hold an object in \"record\""),
    )
}

impl Message {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Message, ProtocolError> {
        let message = Message::parse_line(line)
            .map_err(|e| ProtocolError::shape("message", e.to_string()))?;
        if let Message::Record(r) = &message
            && !r.record.is_object()
        {
            return Err(not_an_object(&r.stream));
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
        self.write_record(out, record)?;
        Self::finish_line(out, start, version, time_extracted)
    }

    /// The end of a RECORD line, `,"version":…,"time_extracted":…}` and the newline, encoded once
    /// for [`encode_with_tail`](Self::encode_with_tail): a stream's records share it, so the
    /// timestamp is not escaped again for every line.
    ///
    /// ```
    /// use burler_singer::RecordEncoder;
    /// let enc = RecordEncoder::new("users");
    /// let tail = RecordEncoder::line_tail(Some(7), Some("2024-01-02T00:00:00.000000Z"));
    /// let (mut a, mut b) = (Vec::new(), Vec::new());
    /// let record = serde_json::json!({"id": 1});
    /// enc.encode_with_tail(&mut a, &record, &tail).unwrap();
    /// enc.encode(&mut b, &record, Some(7), Some("2024-01-02T00:00:00.000000Z")).unwrap();
    /// assert_eq!(a, b);
    /// ```
    pub fn line_tail(version: Option<i64>, time_extracted: Option<&str>) -> Vec<u8> {
        let mut tail = Vec::with_capacity(64);
        // Writing a number or a &str to a Vec cannot fail.
        let _ = Self::finish_line(&mut tail, 0, version, time_extracted);
        tail
    }

    /// Like [`encode`](Self::encode), with the line's end pre-encoded by
    /// [`line_tail`](Self::line_tail). On error `out` is left as it was.
    pub fn encode_with_tail<R: Serialize + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        record: &R,
        tail: &[u8],
    ) -> Result<(), serde_json::Error> {
        self.write_record(out, record)?;
        out.extend_from_slice(tail);
        Ok(())
    }

    /// Like [`encode`](Self::encode), and also copies the JSON of the record's top-level `field`
    /// into `field_json` (cleared first), read while the record is written: no second pass over the
    /// line, no `Value`. Returns whether the record has that field.
    ///
    /// ```
    /// use burler_singer::RecordEncoder;
    /// let (mut out, mut key) = (Vec::new(), Vec::new());
    /// let record = serde_json::json!({"id": 1, "updated_at": "2024-01-02T00:00:00Z"});
    /// let found = RecordEncoder::new("users")
    ///     .encode_capturing(&mut out, &record, None, None, "updated_at", &mut key)
    ///     .unwrap();
    /// assert!(found);
    /// assert_eq!(key, b"\"2024-01-02T00:00:00Z\"");
    /// ```
    pub fn encode_capturing<R: Serialize + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        record: &R,
        version: Option<i64>,
        time_extracted: Option<&str>,
        field: &str,
        field_json: &mut Vec<u8>,
    ) -> Result<bool, serde_json::Error> {
        let start = out.len();
        let found = self.write_record_capturing(out, record, Some(field), &[], field_json)?;
        Self::finish_line(out, start, version, time_extracted)?;
        Ok(found)
    }

    /// Like [`encode_capturing`](Self::encode_capturing), with the line's end pre-encoded by
    /// [`line_tail`](Self::line_tail).
    pub fn encode_capturing_with_tail<R: Serialize + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        record: &R,
        tail: &[u8],
        field: &str,
        field_json: &mut Vec<u8>,
    ) -> Result<bool, serde_json::Error> {
        self.encode_selected_with_tail(out, record, tail, &[], Some(field), field_json)
    }

    /// Like [`encode_capturing_with_tail`](Self::encode_capturing_with_tail), leaving out the
    /// record's top-level fields named in `skip` (fields the catalog deselected) while it is
    /// written: no `Value`, no second pass. With `field` `None` nothing is captured (`false`).
    ///
    /// ```
    /// use burler_singer::RecordEncoder;
    /// let (mut out, mut key) = (Vec::new(), Vec::new());
    /// let record = serde_json::json!({"id": 1, "secret": "x", "updated_at": "2024-01-02T00:00:00Z"});
    /// let tail = RecordEncoder::line_tail(None, None);
    /// let skip = ["secret".to_owned()];
    /// RecordEncoder::new("users")
    ///     .encode_selected_with_tail(&mut out, &record, &tail, &skip, Some("updated_at"), &mut key)
    ///     .unwrap();
    /// assert_eq!(
    ///     String::from_utf8(out).unwrap(),
    ///     "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":1,\"updated_at\":\"2024-01-02T00:00:00Z\"}}\n"
    /// );
    /// ```
    pub fn encode_selected_with_tail<R: Serialize + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        record: &R,
        tail: &[u8],
        skip: &[String],
        field: Option<&str>,
        field_json: &mut Vec<u8>,
    ) -> Result<bool, serde_json::Error> {
        let found = self.write_record_capturing(out, record, field, skip, field_json)?;
        out.extend_from_slice(tail);
        Ok(found)
    }

    /// Appends the prefix and the record's JSON. On error `out` is left as it was.
    fn write_record<R: Serialize + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        record: &R,
    ) -> Result<(), serde_json::Error> {
        let start = out.len();
        out.extend_from_slice(&self.prefix);
        if let Err(e) = serde_json::to_writer(&mut *out, record) {
            out.truncate(start);
            return Err(e);
        }
        Ok(())
    }

    /// Appends the prefix and the record's JSON, copying `field` on the way (see
    /// [`encode_capturing`](Self::encode_capturing)). On error `out` is left as it was.
    fn write_record_capturing<R: Serialize + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        record: &R,
        field: Option<&str>,
        skip: &[String],
        field_json: &mut Vec<u8>,
    ) -> Result<bool, serde_json::Error> {
        let start = out.len();
        out.extend_from_slice(&self.prefix);
        let mut capture = capture::Capture {
            field,
            skip,
            json: field_json,
            found: false,
        };
        let written = {
            let mut ser = serde_json::Serializer::new(&mut *out);
            record.serialize(capture::FieldCapture {
                inner: &mut ser,
                capture: &mut capture,
            })
        };
        if let Err(e) = written {
            out.truncate(start);
            return Err(e);
        }
        Ok(capture.found)
    }

    /// Appends `,"version":…,"time_extracted":…}` and the newline. On error the line is removed.
    fn finish_line(
        out: &mut Vec<u8>,
        start: usize,
        version: Option<i64>,
        time_extracted: Option<&str>,
    ) -> Result<(), serde_json::Error> {
        if let Some(v) = version {
            out.extend_from_slice(br#","version":"#);
            // Writing to a Vec cannot fail.
            let _ = write!(out, "{v}");
        }
        if let Some(t) = time_extracted {
            out.extend_from_slice(br#","time_extracted":"#);
            if let Err(e) = serde_json::to_writer(&mut *out, t) {
                out.truncate(start);
                return Err(e);
            }
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use serde_json::value::RawValue;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn a_raw_record_is_written_as_its_text_with_its_field_captured() {
        let enc = RecordEncoder::new("events");
        let tail = RecordEncoder::line_tail(None, None);
        let record = raw(r#"{"id": 7, "updated_at": "2024-01-02T00:00:00Z", "n": [1, 2]}"#);
        let (mut out, mut key) = (Vec::new(), Vec::new());
        let found = enc
            .encode_selected_with_tail(&mut out, &record, &tail, &[], Some("updated_at"), &mut key)
            .unwrap();
        assert!(found);
        assert_eq!(key, br#""2024-01-02T00:00:00Z""#);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"type\":\"RECORD\",\"stream\":\"events\",\"record\":{\"id\": 7, \"updated_at\": \"2024-01-02T00:00:00Z\", \"n\": [1, 2]}}\n"
        );
        let borrowed: &RawValue = &record;
        let (mut again, mut key) = (Vec::new(), Vec::new());
        assert!(
            !enc.encode_selected_with_tail(
                &mut again,
                borrowed,
                &tail,
                &[],
                Some("missing"),
                &mut key
            )
            .unwrap()
        );
    }

    #[test]
    fn a_pretty_printed_raw_record_is_written_on_one_line() {
        let enc = RecordEncoder::new("events");
        let tail = RecordEncoder::line_tail(None, None);
        let text = "{\n  \"id\": 7,\n  \"nested\": {\n    \"k\": \"a\\nb\"\n  },\n  \"gone\": 1\n}";
        for skip in [vec![], vec!["gone".to_owned()]] {
            let (mut out, mut key) = (Vec::new(), Vec::new());
            enc.encode_selected_with_tail(&mut out, &raw(text), &tail, &skip, Some("id"), &mut key)
                .unwrap();
            assert_eq!(
                out.iter().filter(|&&b| b == b'\n').count(),
                1,
                "one line: {skip:?}"
            );
            let line: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(line["record"]["nested"]["k"], "a\nb");
            assert_eq!(line["record"].get("gone").is_some(), skip.is_empty());
            assert_eq!(key, b"7");
        }
    }

    #[test]
    fn a_raw_record_loses_its_deselected_fields() {
        let enc = RecordEncoder::new("events");
        let tail = RecordEncoder::line_tail(Some(3), None);
        let record = raw(r#"{"id":7,"secret":{"a":1},"updated_at":"2024"}"#);
        let skip = ["secret".to_owned()];
        let (mut out, mut key) = (Vec::new(), Vec::new());
        let found = enc
            .encode_selected_with_tail(
                &mut out,
                &record,
                &tail,
                &skip,
                Some("updated_at"),
                &mut key,
            )
            .unwrap();
        assert!(found);
        assert_eq!(key, br#""2024""#);
        let line: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["record"], json!({"id": 7, "updated_at": "2024"}));
        assert_eq!(line["version"], json!(3));
    }

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

    #[derive(Serialize)]
    struct Row {
        id: u64,
        nested: Inner,
        updated_at: String,
    }

    #[derive(Serialize)]
    struct Inner {
        updated_at: &'static str,
    }

    #[derive(Serialize)]
    struct Wrapped(Row);

    #[derive(Serialize)]
    struct Flat {
        #[serde(flatten)]
        row: Row,
        extra: bool,
    }

    fn row() -> Row {
        Row {
            id: 7,
            nested: Inner {
                updated_at: "nested",
            },
            updated_at: "2024-01-02T03:04:05Z".into(),
        }
    }

    /// Encodes with and without capture; asserts the lines are identical and returns the capture.
    fn capture_of<R: Serialize + ?Sized>(record: &R, field: &str) -> Option<String> {
        let enc = RecordEncoder::new("s");
        let (mut plain, mut captured, mut json) = (Vec::new(), Vec::new(), b"stale".to_vec());
        enc.encode(&mut plain, record, Some(3), Some("t")).unwrap();
        let found = enc
            .encode_capturing(&mut captured, record, Some(3), Some("t"), field, &mut json)
            .unwrap();
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            String::from_utf8(captured).unwrap()
        );
        found.then(|| String::from_utf8(json).unwrap())
    }

    #[test]
    fn capture_reads_the_top_level_field_of_structs_maps_and_wrappers() {
        let want = Some(r#""2024-01-02T03:04:05Z""#.to_owned());
        assert_eq!(capture_of(&row(), "updated_at"), want);
        assert_eq!(capture_of(&Wrapped(row()), "updated_at"), want);
        let flat = Flat {
            row: row(),
            extra: true,
        };
        assert_eq!(capture_of(&flat, "updated_at"), want);
        let value = serde_json::to_value(row()).unwrap();
        assert_eq!(capture_of(&value, "updated_at"), want);
        assert_eq!(capture_of(&value, "id"), Some("7".to_owned()));
        assert_eq!(
            capture_of(&value, "nested"),
            Some(r#"{"updated_at":"nested"}"#.to_owned())
        );
    }

    #[test]
    fn capture_reports_a_missing_field_and_ignores_nested_ones() {
        assert_eq!(capture_of(&row(), "missing"), None);
        let nested_only = json!({"a": {"k": 1}, "b": [{"k": 2}]});
        assert_eq!(capture_of(&nested_only, "k"), None);
        let mut numeric_keys = std::collections::BTreeMap::new();
        numeric_keys.insert(1, "x");
        assert_eq!(capture_of(&numeric_keys, "1"), None);
    }

    #[test]
    fn a_pre_encoded_tail_writes_the_same_lines() {
        let enc = RecordEncoder::new("users");
        let record = json!({"id": 1, "updated_at": "2024-01-02T00:00:00Z", "name": "a\"b"});
        for (version, time) in [
            (None, None),
            (Some(7), None),
            (None, Some("2024-01-02T03:04:05.123456Z")),
            (Some(-1), Some("2024-01-02T03:04:05.123456Z")),
        ] {
            let tail = RecordEncoder::line_tail(version, time);
            let (mut plain, mut tailed) = (b"x".to_vec(), b"x".to_vec());
            enc.encode(&mut plain, &record, version, time).unwrap();
            enc.encode_with_tail(&mut tailed, &record, &tail).unwrap();
            assert_eq!(plain, tailed);
            let (mut key_a, mut key_b) = (Vec::new(), Vec::new());
            let (mut plain, mut tailed) = (Vec::new(), Vec::new());
            let found_a = enc
                .encode_capturing(&mut plain, &record, version, time, "updated_at", &mut key_a)
                .unwrap();
            let found_b = enc
                .encode_capturing_with_tail(&mut tailed, &record, &tail, "updated_at", &mut key_b)
                .unwrap();
            assert_eq!((plain, found_a, key_a), (tailed, found_b, key_b));
        }
        let mut out = b"kept".to_vec();
        let tail = RecordEncoder::line_tail(None, None);
        let bad = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert!(enc.encode_with_tail(&mut out, &bad, &tail).is_err());
        assert_eq!(out, b"kept");
    }

    #[test]
    fn capture_leaves_the_buffer_as_it_was_on_error() {
        let mut bad = std::collections::BTreeMap::new();
        bad.insert(vec![1u8], 1);
        let enc = RecordEncoder::new("s");
        let (mut out, mut json) = (b"kept\n".to_vec(), Vec::new());
        assert!(
            enc.encode_capturing(&mut out, &bad, None, None, "k", &mut json)
                .is_err()
        );
        assert_eq!(out, b"kept\n");
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

    #[derive(Serialize)]
    struct SecretRow {
        id: u64,
        secret: &'static str,
        updated_at: &'static str,
        note: Option<&'static str>,
    }

    /// The record line `encode_selected_with_tail` writes, and the captured key.
    fn selected_line<R: Serialize>(
        record: &R,
        skip: &[&str],
        field: Option<&str>,
    ) -> (String, bool, Vec<u8>) {
        let skip: Vec<String> = skip.iter().map(|s| s.to_string()).collect();
        let (mut out, mut key) = (Vec::new(), Vec::new());
        let found = RecordEncoder::new("s")
            .encode_selected_with_tail(&mut out, record, b"}\n", &skip, field, &mut key)
            .unwrap();
        let line = String::from_utf8(out).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        (v["record"].to_string(), found, key)
    }

    #[test]
    fn skipped_fields_leave_valid_json_wherever_they_sit_in_structs_and_maps() {
        let row = SecretRow {
            id: 1,
            secret: "s",
            updated_at: "2024-01-01T00:00:00Z",
            note: None,
        };
        let map =
            json!({"id": 1, "secret": "s", "updated_at": "2024-01-01T00:00:00Z", "note": null});
        for record in [serde_json::to_value(&row).unwrap(), map] {
            let cases: [(&[&str], &str); 5] = [
                (
                    &[],
                    r#"{"id":1,"secret":"s","updated_at":"2024-01-01T00:00:00Z","note":null}"#,
                ),
                (
                    &["id"],
                    r#"{"secret":"s","updated_at":"2024-01-01T00:00:00Z","note":null}"#,
                ),
                (
                    &["secret", "note"],
                    r#"{"id":1,"updated_at":"2024-01-01T00:00:00Z"}"#,
                ),
                (
                    &["note"],
                    r#"{"id":1,"secret":"s","updated_at":"2024-01-01T00:00:00Z"}"#,
                ),
                (&["id", "secret", "updated_at", "note"], "{}"),
            ];
            for (skip, expected) in cases {
                let (typed, _, _) = selected_line(&row, skip, None);
                let (value, _, _) = selected_line(&record, skip, None);
                let expected: Value = serde_json::from_str(expected).unwrap();
                assert_eq!(typed, expected.to_string(), "struct, skip {skip:?}");
                assert_eq!(value, expected.to_string(), "map, skip {skip:?}");
            }
        }
    }

    #[test]
    fn the_key_is_captured_while_other_fields_are_skipped_and_a_skipped_key_is_not() {
        let row = SecretRow {
            id: 1,
            secret: "s",
            updated_at: "2024-01-01T00:00:00Z",
            note: None,
        };
        let (_, found, key) = selected_line(&row, &["secret"], Some("updated_at"));
        assert!(found);
        assert_eq!(key, b"\"2024-01-01T00:00:00Z\"");
        let (line, found, _) = selected_line(&row, &["updated_at"], Some("updated_at"));
        assert!(!found, "a skipped field is not captured");
        assert!(!line.contains("updated_at"));
        let (_, found, _) = selected_line(&row, &[], None);
        assert!(!found, "nothing to capture");
    }
}
