//! Reading message lines in one pass. Every Singer writer puts `"type"` first, so the type is read
//! first and the rest of the object is deserialized straight into that message's struct. serde's
//! internally tagged enums cannot do that: they buffer the whole object into a tree of their own
//! before they dispatch, which made parsing four times slower. A line whose `"type"` is not first
//! still parses, by a slower path.
//!
//! [`RawMessage`] goes further for readers that do not need the record as a tree (counting,
//! splitting, reading a few key fields): the record stays the borrowed text of the line, checked
//! as JSON but not built.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Message, RecordMessage};
use crate::error::ProtocolError;

/// The five message types, read from `"type"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Schema,
    Record,
    State,
    ActivateVersion,
    Batch,
}

impl Kind {
    fn named(name: &str) -> Option<Kind> {
        Some(match name {
            "RECORD" => Kind::Record,
            "SCHEMA" => Kind::Schema,
            "STATE" => Kind::State,
            "ACTIVATE_VERSION" => Kind::ActivateVersion,
            "BATCH" => Kind::Batch,
            _ => return None,
        })
    }

    /// The kind named by a `"type"` value, or the error a reader shows.
    fn of_value<E: de::Error>(ty: &Value) -> Result<Kind, E> {
        ty.as_str()
            .and_then(Kind::named)
            .ok_or_else(|| E::custom(format!("unknown message type {ty}")))
    }
}

/// Reads the value of `"type"`.
struct KindSeed;

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = Kind;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KindSeed {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Singer message type")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Kind, E> {
        Kind::named(v).ok_or_else(|| E::custom(format!("unknown message type {}", Value::from(v))))
    }
}

/// Reads a key of the message object: `None` for `"type"`, else the key's name.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<String>, E> {
        Ok((v != "type").then(|| v.to_owned()))
    }
}

/// What a message is read into: the owned [`Message`] or the borrowed [`RawMessage`].
trait Target<'de>: Sized {
    /// Reads the rest of the object once `"type"` has been read.
    fn rest<A: MapAccess<'de>>(kind: Kind, map: A) -> Result<Self, A::Error>;

    /// `"type"` was not the first key (`first` was): reads the rest, or consumes it and returns
    /// `None` to ask for a second pass over the line.
    fn type_not_first<A: MapAccess<'de>>(first: String, map: A) -> Result<Option<Self>, A::Error>;
}

/// The map visitor: peeks the first key and dispatches.
struct Peek<T>(PhantomData<T>);

impl<'de, T: Target<'de>> Visitor<'de> for Peek<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Singer message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        match map.next_key_seed(KeySeed)? {
            None => Err(de::Error::custom("message has no \"type\"")),
            Some(None) => {
                let kind = map.next_value_seed(KindSeed)?;
                T::rest(kind, map).map(Some)
            }
            Some(Some(first)) => T::type_not_first(first, map),
        }
    }
}

/// Deserializes message struct `M` from the rest of a map.
fn rest_as<'de, M: Deserialize<'de>, A: MapAccess<'de>>(map: A) -> Result<M, A::Error> {
    M::deserialize(MapAccessDeserializer::new(map))
}

impl<'de> Target<'de> for Message {
    fn rest<A: MapAccess<'de>>(kind: Kind, map: A) -> Result<Self, A::Error> {
        Ok(match kind {
            Kind::Record => Message::Record(rest_as(map)?),
            Kind::Schema => Message::Schema(rest_as(map)?),
            Kind::State => Message::State(rest_as(map)?),
            Kind::ActivateVersion => Message::ActivateVersion(rest_as(map)?),
            Kind::Batch => Message::Batch(rest_as(map)?),
        })
    }

    fn type_not_first<A: MapAccess<'de>>(
        first: String,
        mut map: A,
    ) -> Result<Option<Self>, A::Error> {
        // Any deserializer can feed a `Message`, so the rest is buffered here, not re-read.
        let mut object = Map::new();
        object.insert(first, map.next_value()?);
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        let ty = object
            .remove("type")
            .ok_or_else(|| de::Error::custom("message has no \"type\""))?;
        let kind = Kind::of_value(&ty)?;
        Message::from_object(kind, Value::Object(object))
            .map(Some)
            .map_err(de::Error::custom)
    }
}

impl Message {
    fn from_object(kind: Kind, v: Value) -> Result<Message, serde_json::Error> {
        Ok(match kind {
            Kind::Record => Message::Record(serde_json::from_value(v)?),
            Kind::Schema => Message::Schema(serde_json::from_value(v)?),
            Kind::State => Message::State(serde_json::from_value(v)?),
            Kind::ActivateVersion => Message::ActivateVersion(serde_json::from_value(v)?),
            Kind::Batch => Message::Batch(serde_json::from_value(v)?),
        })
    }

    /// Parses one line in a single pass (see the module docs).
    pub(super) fn parse_line(line: &str) -> Result<Message, serde_json::Error> {
        serde_json::from_str(line)
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(Peek::<Message>(PhantomData))?
            .ok_or_else(|| de::Error::custom("message has no \"type\""))
    }
}

/// A RECORD whose record is still the text of the line, checked as JSON but not built into a
/// tree; made by [`RawMessage::parse`].
#[derive(Debug, Clone, Deserialize)]
pub struct RawRecord<'a> {
    /// The stream.
    #[serde(borrow)]
    pub stream: Cow<'a, str>,
    /// The record's JSON text (an object).
    #[serde(borrow)]
    pub record: &'a RawValue,
    /// The table version.
    #[serde(default)]
    pub version: Option<i64>,
    /// When the record was read from the source.
    #[serde(default, deserialize_with = "super::de_time")]
    pub time_extracted: Option<DateTime<Utc>>,
}

impl PartialEq for RawRecord<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.stream == other.stream
            && self.record.get() == other.record.get()
            && self.version == other.version
            && self.time_extracted == other.time_extracted
    }
}

impl<'a> RawRecord<'a> {
    /// The record's JSON text.
    pub fn record_json(&self) -> &'a str {
        self.record.get()
    }

    /// The JSON texts of the record's top-level fields `names`, in that order (`None` for a field
    /// the record does not have; the last of duplicate keys wins); the record is scanned once,
    /// nothing is built.
    ///
    /// ```
    /// use burler_singer::RawMessage;
    /// let line = r#"{"type":"RECORD","stream":"s","record":{"id":7,"at":"x","n":{"id":1}}}"#;
    /// let RawMessage::Record(r) = RawMessage::parse(line).unwrap() else { unreachable!() };
    /// let fields: Vec<_> = r.fields(&["id", "missing"]).unwrap()
    ///     .into_iter().map(|f| f.map(|v| v.get())).collect();
    /// assert_eq!(fields, [Some("7"), None]);
    /// ```
    pub fn fields(&self, names: &[&str]) -> Result<Vec<Option<&'a RawValue>>, ProtocolError> {
        let mut de = serde_json::Deserializer::from_str(self.record.get());
        let found = de
            .deserialize_map(FieldPicker {
                names,
                found: vec![None; names.len()],
            })
            .map_err(|e| ProtocolError::shape("message", e.to_string()))?;
        Ok(found)
    }

    /// The owned message, with the record built into a tree.
    pub fn to_message(&self) -> Result<RecordMessage, ProtocolError> {
        let record = serde_json::from_str(self.record.get())
            .map_err(|e| ProtocolError::shape("message", e.to_string()))?;
        Ok(RecordMessage {
            stream: self.stream.clone().into_owned(),
            record,
            version: self.version,
            time_extracted: self.time_extracted,
        })
    }
}

/// Picks the borrowed values of some top-level fields while skipping the rest.
struct FieldPicker<'n, 'a> {
    names: &'n [&'n str],
    found: Vec<Option<&'a RawValue>>,
}

impl<'a> Visitor<'a> for FieldPicker<'_, 'a> {
    type Value = Vec<Option<&'a RawValue>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record object")
    }

    fn visit_map<A: MapAccess<'a>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(key) = map.next_key_seed(KeyText)? {
            match self.names.iter().position(|n| *n == key) {
                // The last of duplicate keys wins, as in a parsed tree.
                Some(i) => self.found[i] = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(self.found)
    }
}

/// A key, borrowed from the input unless it holds escapes.
struct KeyText;

impl<'a> DeserializeSeed<'a> for KeyText {
    type Value = Cow<'a, str>;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Cow<'a, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'a> Visitor<'a> for KeyText {
    type Value = Cow<'a, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'a str) -> Result<Cow<'a, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'a, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// A message read without building its record: RECORD lines borrow the record's text, the other
/// (rare) messages are read in full.
///
/// ```
/// use burler_singer::{Message, RawMessage};
/// let line = r#"{"type":"RECORD","stream":"users","record":{"id":1,"name":"a"}}"#;
/// let RawMessage::Record(r) = RawMessage::parse(line).unwrap() else { unreachable!() };
/// assert_eq!((r.stream.as_ref(), r.record_json()), ("users", r#"{"id":1,"name":"a"}"#));
/// let state = RawMessage::parse(r#"{"type":"STATE","value":{}}"#).unwrap();
/// assert!(matches!(state, RawMessage::Other(Message::State(_))));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum RawMessage<'a> {
    /// A RECORD, its record unparsed.
    Record(RawRecord<'a>),
    /// Any other message.
    Other(Message),
}

impl<'de> Target<'de> for RawMessage<'de> {
    fn rest<A: MapAccess<'de>>(kind: Kind, map: A) -> Result<Self, A::Error> {
        match kind {
            Kind::Record => rest_as(map).map(RawMessage::Record),
            other => Message::rest(other, map).map(RawMessage::Other),
        }
    }

    fn type_not_first<A: MapAccess<'de>>(_: String, mut map: A) -> Result<Option<Self>, A::Error> {
        // A buffered tree cannot lend the record's text: skip the rest, the line is read again.
        map.next_value::<IgnoredAny>()?;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Only the `"type"` of a message, wherever it sits.
#[derive(Deserialize)]
struct TypeOnly {
    #[serde(rename = "type")]
    ty: Option<Value>,
}

impl<'a> RawMessage<'a> {
    /// Parses one line; errors read like [`Message::parse`]'s.
    pub fn parse(line: &'a str) -> Result<RawMessage<'a>, ProtocolError> {
        let shape = |e: serde_json::Error| ProtocolError::shape("message", e.to_string());
        let mut de = serde_json::Deserializer::from_str(line);
        let peeked = de
            .deserialize_map(Peek::<RawMessage<'a>>(PhantomData))
            .and_then(|m| de.end().map(|()| m))
            .map_err(shape)?;
        let message = match peeked {
            Some(m) => m,
            None => {
                let ty = serde_json::from_str::<TypeOnly>(line).map_err(shape)?.ty;
                let ty =
                    ty.ok_or_else(|| ProtocolError::shape("message", "message has no \"type\""))?;
                match Kind::of_value::<serde_json::Error>(&ty).map_err(shape)? {
                    Kind::Record => RawMessage::Record(serde_json::from_str(line).map_err(shape)?),
                    _ => RawMessage::Other(Message::parse(line)?),
                }
            }
        };
        if let RawMessage::Record(r) = &message
            && !r.record.get().starts_with('{')
        {
            return Err(super::not_an_object(&r.stream));
        }
        Ok(message)
    }

    /// The owned message (the record built into a tree).
    pub fn into_message(self) -> Result<Message, ProtocolError> {
        match self {
            RawMessage::Record(r) => r.to_message().map(Message::Record),
            RawMessage::Other(m) => Ok(m),
        }
    }

    /// The stream the message belongs to (none for STATE).
    pub fn stream(&self) -> Option<&str> {
        match self {
            RawMessage::Record(r) => Some(&r.stream),
            RawMessage::Other(m) => m.stream(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RECORD: &str = r#"{"type":"RECORD","stream":"s","record":{"id":1,"a":[1,{"b":null}]},"version":3,"time_extracted":"2024-01-02T03:04:05Z"}"#;

    #[test]
    fn type_anywhere_parses_to_the_same_message() {
        let late = r#"{"stream":"s","record":{"id":1,"a":[1,{"b":null}]},"type":"RECORD","version":3,"time_extracted":"2024-01-02T03:04:05Z"}"#;
        let first = Message::parse(RECORD).unwrap();
        assert_eq!(Message::parse(late).unwrap(), first);
        assert_eq!(
            serde_json::from_value::<Message>(serde_json::from_str(late).unwrap()).unwrap(),
            first
        );
        for line in [RECORD, late] {
            let raw = RawMessage::parse(line).unwrap();
            assert_eq!(raw.stream(), Some("s"));
            assert_eq!(raw.into_message().unwrap(), first);
        }
        let state = r#"{"value":{"a":1},"type":"STATE"}"#;
        assert_eq!(
            RawMessage::parse(state).unwrap(),
            RawMessage::Other(Message::parse(state).unwrap())
        );
    }

    #[test]
    fn raw_errors_match_the_owned_parser() {
        for line in [
            r#"{"type":"FOO"}"#,
            r#"{"stream":"s","type":"FOO"}"#,
            r#"{"stream":"s"}"#,
            r#"{"type":"RECORD","record":{}}"#,
            r#"{"type":"RECORD","stream":"s","record":[1]}"#,
            r#"{"record":[1],"stream":"s","type":"RECORD"}"#,
            r#"{"type":"RECORD","stream":"s","record":{}} trailing"#,
            r#"{"type":"RECORD","stream":"s","record":{},"time_extracted":"yesterday"}"#,
            "[1]",
            r#"{"type":5}"#,
        ] {
            let owned = Message::parse(line).unwrap_err().to_string();
            let raw = RawMessage::parse(line).unwrap_err().to_string();
            let head = |s: &str| s.split(" at line").next().unwrap_or_default().to_owned();
            assert_eq!(head(&raw), head(&owned), "{line}");
        }
    }

    #[test]
    fn fields_are_read_from_the_text() {
        let RawMessage::Record(r) = RawMessage::parse(
            r#"{"type":"RECORD","stream":"s","record":{"id":1,"k\"q":"x","id":2,"o":{"id":3}}}"#,
        )
        .unwrap() else {
            panic!()
        };
        let got: Vec<Option<&str>> = r
            .fields(&["k\"q", "id", "none"])
            .unwrap()
            .into_iter()
            .map(|v| v.map(RawValue::get))
            .collect();
        assert_eq!(got, [Some("\"x\""), Some("2"), None]);
        assert_eq!(
            r.to_message().unwrap().record,
            json!({"id": 2, "k\"q": "x", "o": {"id": 3}})
        );
    }
}
