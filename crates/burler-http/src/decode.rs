//! The streaming page decoder: one pass over a response body's bytes that deserializes the records
//! at a path straight into the record type and reads the few other values pagination needs (a
//! cursor, a next link, a total).
//!
//! No `serde_json::Value` tree is built for the body: the decoder walks the JSON with a
//! [`DeserializeSeed`] that descends only into the keys on the way to the records or to a wanted
//! value and skips everything else unparsed ([`IgnoredAny`]). Records are deserialized from the
//! body's bytes as they are met, so a record type that borrows (`&'a str`, `Cow<'a, str>` with
//! `#[serde(borrow)]`) borrows from the body without a copy.
//!
//! ```
//! use burler_http::decode::PageShape;
//!
//! #[derive(serde::Deserialize)]
//! struct Order<'a> { id: u64, #[serde(borrow)] status: std::borrow::Cow<'a, str> }
//!
//! let shape = PageShape::records_at("data").value_at("meta.next_cursor");
//! let body = br#"{"meta": {"next_cursor": "c2"}, "data": [{"id": 1, "status": "paid"}]}"#;
//! let page = shape.decode::<Order>(body).unwrap();
//! assert_eq!(page.records[0].status, "paid");
//! assert!(matches!(page.records[0].status, std::borrow::Cow::Borrowed(_)), "borrowed from the body");
//! assert_eq!(page.values.text("meta.next_cursor").as_deref(), Some("c2"));
//! ```

use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor,
};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// Where the records and the wanted values are in a page body (dotted paths: `data`,
/// `result.items`, `meta.next_cursor`, `items.0.id`; `""` or `$` is the whole body).
#[derive(Debug, Clone)]
pub struct PageShape {
    root: Node,
    paths: Arc<[String]>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// Keys below this node that lead somewhere (an array index matches the key `"0"`, `"1"`, …).
    children: Vec<(String, Option<usize>, Node)>,
    /// Records are the elements of the list here.
    records: Option<RecordsAt>,
    /// Index into the shape's paths: the value here is kept (or, when the node leads further, only
    /// noted as present).
    value: Option<usize>,
}

#[derive(Debug, Clone)]
struct RecordsAt {
    /// The dotted path, for messages.
    path: String,
    /// Each element's field that is the record (`node` of GraphQL `edges`), or the element itself.
    field: Option<String>,
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_start_matches('$')
        .trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
}

impl Node {
    fn at(&mut self, path: &str) -> &mut Node {
        segments(path).fold(self, |node, segment| {
            let found = node.children.iter().position(|(key, _, _)| key == segment);
            let at = found.unwrap_or_else(|| {
                let index = segment.parse::<usize>().ok();
                node.children
                    .push((segment.to_owned(), index, Node::default()));
                node.children.len() - 1
            });
            &mut node.children[at].2
        })
    }

    fn child(&self, key: &str) -> Option<&Node> {
        self.children
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, node)| node)
    }

    fn element(&self, index: usize) -> Option<&Node> {
        self.children
            .iter()
            .find(|(_, i, _)| *i == Some(index))
            .map(|(_, _, node)| node)
    }

    fn is_leaf(&self) -> bool {
        self.children.is_empty() && self.records.is_none()
    }
}

impl Default for PageShape {
    /// The whole body is the list of records.
    fn default() -> Self {
        Self::records_at("")
    }
}

impl PageShape {
    /// Records are the elements of the list at `path` (`""`: the body is the list). A missing or
    /// `null` list is a page without records.
    pub fn records_at(path: &str) -> Self {
        let mut shape = Self {
            root: Node::default(),
            paths: Arc::from(Vec::new()),
        };
        shape.add_records(path, None);
        shape
    }

    /// A shape without records: only values are read.
    pub fn values_only() -> Self {
        Self {
            root: Node::default(),
            paths: Arc::from(Vec::new()),
        }
    }

    /// Also takes records from the list at `path`, each being the `field` of an element
    /// (GraphQL `edges[].node`: `records_each("data.orders.edges", "node")`).
    pub fn records_each(mut self, path: &str, field: &str) -> Self {
        self.add_records(path, Some(field.to_owned()));
        self
    }

    /// Also takes records from the list at `path`.
    pub fn and_records_at(mut self, path: &str) -> Self {
        self.add_records(path, None);
        self
    }

    fn add_records(&mut self, path: &str, field: Option<String>) {
        self.root.at(path).records = Some(RecordsAt {
            path: path.to_owned(),
            field,
        });
    }

    /// Also reads the value at `path` (read it back with [`Values::value`]). A path that leads to
    /// records or to another wanted value is only checked for presence ([`Values::contains`]).
    pub fn value_at(mut self, path: &str) -> Self {
        if self.paths.iter().any(|p| p == path) {
            return self;
        }
        let mut paths = self.paths.to_vec();
        paths.push(path.to_owned());
        self.root.at(path).value = Some(paths.len() - 1);
        self.paths = paths.into();
        self
    }

    /// Decodes `body`: the records as `T` (borrowing from `body` where `T` borrows) and the values.
    pub fn decode<'de, T: Deserialize<'de>>(
        &self,
        body: &'de [u8],
    ) -> Result<Decoded<T>, DecodeError> {
        let mut sink = Collect(Vec::new());
        let values = self.scan(body, &mut sink)?;
        Ok(Decoded {
            records: sink.0,
            values,
        })
    }

    /// Decodes `body`, handing each record to `each` as it is read (nothing is collected). An
    /// error from `each` stops the pass and is returned as [`EachError::Stopped`].
    pub fn for_each<'de, T, E, F>(&self, body: &'de [u8], each: F) -> Result<Values, EachError<E>>
    where
        T: Deserialize<'de>,
        F: FnMut(T) -> Result<(), E>,
    {
        let mut sink = Each {
            each,
            stopped: None,
            _record: std::marker::PhantomData,
        };
        let outcome = self.scan(body, &mut sink);
        match (outcome, sink.stopped) {
            (_, Some(err)) => Err(EachError::Stopped(err)),
            (Ok(values), None) => Ok(values),
            (Err(err), None) => Err(EachError::Decode(err)),
        }
    }

    /// Counts the records without decoding them, and reads the values.
    pub fn count(&self, body: &[u8]) -> Result<Values, DecodeError> {
        self.scan(body, &mut Count)
    }

    pub(crate) fn scan<'de, S: Sink<'de>>(
        &self,
        body: &'de [u8],
        sink: &mut S,
    ) -> Result<Values, DecodeError> {
        let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            body
        };
        let mut values = Values::new(self.paths.clone());
        let text = body_text(body)?;
        let mut de = serde_json::Deserializer::from_str(text);
        let mut walk = Walk {
            sink,
            values: &mut values,
            in_record: false,
        };
        let outcome = NodeSeed {
            node: &self.root,
            walk: &mut walk,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        let in_record = walk.in_record;
        match outcome {
            Ok(()) => Ok(values),
            Err(error) => Err(DecodeError {
                record: in_record.then_some(values.records + 1),
                error,
            }),
        }
    }
}

/// The body as text, checked as UTF-8 once: the decoder then reads it as `str`, so serde_json
/// does not check every string (or raw record) again, which costs more for short strings than
/// one pass over the page. A body cut inside a character is the text before it (whose JSON then
/// ends early: a truncated body); any other invalid byte fails the page (JSON text is UTF-8).
fn body_text(body: &[u8]) -> Result<&str, DecodeError> {
    match std::str::from_utf8(body) {
        Ok(text) => Ok(text),
        Err(err) if err.error_len().is_none() => {
            Ok(std::str::from_utf8(&body[..err.valid_up_to()]).unwrap_or_default())
        }
        Err(err) => Err(DecodeError {
            record: None,
            error: <serde_json::Error as serde::de::Error>::custom(format_args!(
                "the body is not UTF-8: invalid byte at offset {}",
                err.valid_up_to()
            )),
        }),
    }
}

/// The records and values of one decoded body.
#[derive(Debug, Clone)]
pub struct Decoded<T> {
    /// The records, in body order.
    pub records: Vec<T>,
    /// The values the shape asked for, and the record count.
    pub values: Values,
}

/// The values a [`PageShape`] asked for, as found in one body, and how many records it held.
#[derive(Debug, Clone)]
pub struct Values {
    paths: Arc<[String]>,
    found: Vec<Option<Value>>,
    present: Vec<bool>,
    records: usize,
}

impl Values {
    fn new(paths: Arc<[String]>) -> Self {
        let n = paths.len();
        Self {
            paths,
            found: vec![None; n],
            present: vec![false; n],
            records: 0,
        }
    }

    fn index(&self, path: &str) -> Option<usize> {
        self.paths.iter().position(|p| p == path)
    }

    /// The value at `path`, if the shape asked for it and the body had it (a `null` is `Some`).
    pub fn value(&self, path: &str) -> Option<&Value> {
        self.found.get(self.index(path)?)?.as_ref()
    }

    /// A scalar at `path` as text (strings as is, numbers printed); `None` when absent, null or `""`.
    pub fn text(&self, path: &str) -> Option<String> {
        match self.value(path)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Whether the body had a non-null value at `path` (a path the shape asked for).
    pub fn contains(&self, path: &str) -> bool {
        self.index(path)
            .is_some_and(|i| self.present[i] && !matches!(self.found[i], Some(Value::Null)))
    }

    /// How many records the body held.
    pub fn record_count(&self) -> usize {
        self.records
    }
}

/// A body that could not be decoded, with the record it failed in (1-based), if it was in one.
#[derive(Debug)]
pub struct DecodeError {
    /// The 1-based index of the record that failed to decode, when the error is inside a record.
    pub record: Option<usize>,
    /// What serde_json said (with line and column).
    pub error: serde_json::Error,
}

impl DecodeError {
    /// Whether the body ended before the JSON did (a body cut short).
    pub fn is_truncated(&self) -> bool {
        self.error.classify() == serde_json::error::Category::Eof
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(n) => write!(
                f,
                "record {n} does not match the expected type: {}",
                self.error
            ),
            None => write!(f, "{}", self.error),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why [`PageShape::for_each`] stopped.
#[derive(Debug)]
pub enum EachError<E> {
    /// The body could not be decoded.
    Decode(DecodeError),
    /// The callback returned this error.
    Stopped(E),
}

/// Receives each record's deserializer as the walk reaches it.
pub(crate) trait Sink<'de> {
    fn record<D: Deserializer<'de>>(&mut self, record: D) -> Result<(), D::Error>;
}

struct Collect<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Sink<'de> for Collect<T> {
    fn record<D: Deserializer<'de>>(&mut self, record: D) -> Result<(), D::Error> {
        self.0.push(T::deserialize(record)?);
        Ok(())
    }
}

pub(crate) struct Count;

impl<'de> Sink<'de> for Count {
    fn record<D: Deserializer<'de>>(&mut self, record: D) -> Result<(), D::Error> {
        IgnoredAny::deserialize(record).map(|_| ())
    }
}

struct Each<F, T, E> {
    each: F,
    stopped: Option<E>,
    _record: std::marker::PhantomData<fn(T)>,
}

impl<'de, T: Deserialize<'de>, E, F: FnMut(T) -> Result<(), E>> Sink<'de> for Each<F, T, E> {
    fn record<D: Deserializer<'de>>(&mut self, record: D) -> Result<(), D::Error> {
        let record = T::deserialize(record)?;
        (self.each)(record).map_err(|err| {
            self.stopped = Some(err);
            de::Error::custom("stopped by the record callback")
        })
    }
}

/// The mutable state of one pass.
struct Walk<'w, S> {
    sink: &'w mut S,
    values: &'w mut Values,
    /// True while a record is being deserialized (so an error can name it).
    in_record: bool,
}

impl<'de, S: Sink<'de>> Walk<'_, S> {
    fn record<D: Deserializer<'de>>(&mut self, record: D) -> Result<(), D::Error> {
        self.in_record = true;
        self.sink.record(record)?;
        self.in_record = false;
        self.values.records += 1;
        Ok(())
    }
}

/// Deserializes the value at one node of the shape.
struct NodeSeed<'a, 'w, S> {
    node: &'a Node,
    walk: &'a mut Walk<'w, S>,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for NodeSeed<'_, '_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if let Some(records) = &self.node.records {
            if let Some(i) = self.node.value {
                self.walk.values.present[i] = true;
            }
            return deserializer.deserialize_any(RecordsVisitor {
                at: records,
                walk: self.walk,
            });
        }
        if self.node.is_leaf() {
            return match self.node.value {
                Some(i) => {
                    let value = Value::deserialize(deserializer)?;
                    self.walk.values.present[i] = true;
                    self.walk.values.found[i] = Some(value);
                    Ok(())
                }
                None => IgnoredAny::deserialize(deserializer).map(|_| ()),
            };
        }
        deserializer.deserialize_any(self)
    }
}

/// An optional node: the shape's node for this key or index, else the value is skipped.
struct MaybeNode<'a, 'w, S> {
    node: Option<&'a Node>,
    walk: &'a mut Walk<'w, S>,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for MaybeNode<'_, '_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.node {
            Some(node) => NodeSeed {
                node,
                walk: self.walk,
            }
            .deserialize(deserializer),
            None => IgnoredAny::deserialize(deserializer).map(|_| ()),
        }
    }
}

/// Reads an object key and answers which child of the node it leads to.
struct KeySeed<'a>(&'a Node);

impl<'de, 'a> DeserializeSeed<'de> for KeySeed<'a> {
    type Value = Option<&'a Node>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, 'a> Visitor<'de> for KeySeed<'a> {
    type Value = Option<&'a Node>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.child(key))
    }
}

/// A node on the way to records or values: objects and arrays are entered, anything else means
/// the path is absent.
impl<'de, S: Sink<'de>> Visitor<'de> for NodeSeed<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if let Some(i) = self.node.value {
            self.walk.values.present[i] = true;
        }
        while let Some(child) = map.next_key_seed(KeySeed(self.node))? {
            map.next_value_seed(MaybeNode {
                node: child,
                walk: self.walk,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(i) = self.node.value {
            self.walk.values.present[i] = true;
        }
        let mut index = 0;
        while seq
            .next_element_seed(MaybeNode {
                node: self.node.element(index),
                walk: self.walk,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// The list of records at a records node.
struct RecordsVisitor<'a, 'w, S> {
    at: &'a RecordsAt,
    walk: &'a mut Walk<'w, S>,
}

impl<S> RecordsVisitor<'_, '_, S> {
    fn not_a_list<E: de::Error>(&self, found: Unexpected<'_>) -> E {
        E::custom(format_args!(
            "expected a list of records at {:?}, found {}",
            self.at.path,
            describe(found)
        ))
    }
}

fn describe(found: Unexpected<'_>) -> &'static str {
    match found {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Str(_) => "a string",
        Unexpected::Map => "an object",
        _ => "a number",
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for RecordsVisitor<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of records at {:?}", self.at.path)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(RecordSeed {
                at: self.at,
                walk: self.walk,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.not_a_list(Unexpected::Map))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Err(self.not_a_list(Unexpected::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(self.not_a_list(Unexpected::Signed(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Err(self.not_a_list(Unexpected::Unsigned(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.not_a_list(Unexpected::Float(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.not_a_list(Unexpected::Str(v)))
    }
}

/// One element of a records list: the record, or the object holding it in `field`.
struct RecordSeed<'a, 'w, S> {
    at: &'a RecordsAt,
    walk: &'a mut Walk<'w, S>,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for RecordSeed<'_, '_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match &self.at.field {
            None => self.walk.record(deserializer),
            Some(_) => deserializer.deserialize_map(self),
        }
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for RecordSeed<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object holding a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let field = self.at.field.as_deref().unwrap_or_default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == field {
                map.next_value_seed(FieldRecord(self.walk))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The record inside an element's field.
struct FieldRecord<'a, 'w, S>(&'a mut Walk<'w, S>);

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for FieldRecord<'_, '_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.record(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Item<'a> {
        id: u64,
        #[serde(borrow)]
        name: std::borrow::Cow<'a, str>,
    }

    #[test]
    fn records_and_values_in_one_pass_skipping_the_rest() {
        let shape = PageShape::records_at("result.items")
            .value_at("meta.next")
            .value_at("meta.total")
            .value_at("missing.path");
        let body = br#"{"noise": {"deep": [1, {"x": "y"}]}, "result": {"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b\"q", "extra": [1,2]}], "other": 3}, "meta": {"next": "n2", "total": 12}}"#;
        let page = shape.decode::<Item>(body).unwrap();
        assert_eq!(page.records.len(), 2);
        assert_eq!(page.records[1].name, "b\"q");
        assert!(matches!(
            page.records[0].name,
            std::borrow::Cow::Borrowed("a")
        ));
        assert_eq!(page.values.text("meta.next").as_deref(), Some("n2"));
        assert_eq!(page.values.text("meta.total").as_deref(), Some("12"));
        assert_eq!(page.values.value("missing.path"), None);
        assert_eq!(page.values.record_count(), 2);
    }

    #[test]
    fn the_body_may_be_the_list_and_values_may_sit_in_arrays() {
        let page = PageShape::default()
            .decode::<Value>(br#"[{"id": 1}, {"id": 2}]"#)
            .unwrap();
        assert_eq!(page.records, vec![json!({"id": 1}), json!({"id": 2})]);
        let values = PageShape::values_only()
            .value_at("items.1.id")
            .count(br#"{"items": [{"id": 7}, {"id": 8}]}"#)
            .unwrap();
        assert_eq!(values.text("items.1.id").as_deref(), Some("8"));
    }

    #[test]
    fn missing_null_and_empty_bodies_have_no_records() {
        let shape = PageShape::records_at("data").value_at("next");
        for body in [
            &b"{}"[..],
            br#"{"data": null}"#,
            b"  \n",
            br#"{"data": []}"#,
        ] {
            let page = shape.decode::<Value>(body).unwrap();
            assert!(page.records.is_empty(), "{body:?}");
        }
        assert!(!shape.count(br#"{"next": null}"#).unwrap().contains("next"));
        assert!(shape.count(br#"{"next": 0}"#).unwrap().contains("next"));
    }

    #[test]
    fn graphql_edges_nodes_and_presence() {
        let shape = PageShape::records_at("data.c.nodes")
            .records_each("data.c.edges", "node")
            .value_at("data.c")
            .value_at("data.c.pageInfo.hasNextPage");
        let body = br#"{"data": {"c": {"edges": [{"cursor": "x", "node": {"id": 1}}, {"node": {"id": 2}}], "pageInfo": {"hasNextPage": true}}}}"#;
        let page = shape.decode::<Value>(body).unwrap();
        assert_eq!(page.records, vec![json!({"id": 1}), json!({"id": 2})]);
        assert!(page.values.contains("data.c"));
        assert_eq!(
            page.values.value("data.c.pageInfo.hasNextPage"),
            Some(&json!(true))
        );
        let nodes = shape
            .decode::<Value>(br#"{"data": {"c": {"nodes": [3]}}}"#)
            .unwrap();
        assert_eq!(nodes.records, vec![json!(3)]);
        assert!(
            !shape
                .count(br#"{"data": null}"#)
                .unwrap()
                .contains("data.c")
        );
    }

    #[test]
    fn errors_name_the_record_the_path_or_a_truncation() {
        let shape = PageShape::records_at("data");
        let err = shape
            .decode::<Item>(br#"{"data": [{"id": 1, "name": "a"}, {"id": "two", "name": "b"}]}"#)
            .unwrap_err();
        assert_eq!(err.record, Some(2));
        assert!(
            err.to_string()
                .starts_with("record 2 does not match the expected type: invalid type: string"),
            "{err}"
        );
        let err = shape.decode::<Value>(br#"{"data": "oops"}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("expected a list of records at \"data\", found a string"),
            "{err}"
        );
        let err = shape
            .decode::<Value>(br#"{"data": [{"id": 1}, {"id"#)
            .unwrap_err();
        assert!(err.is_truncated(), "{err}");
        let err = shape
            .decode::<Value>(br#"{"data": []} trailing"#)
            .unwrap_err();
        assert!(!err.is_truncated() && err.record.is_none(), "{err}");
    }

    #[test]
    fn a_body_is_read_as_utf8_once() {
        let shape = PageShape::records_at("data");
        let page = shape
            .decode::<Item>(
                "{\"data\": [{\"id\": 1, \"name\": \"caf\u{e9} \u{1F600}\"}]}".as_bytes(),
            )
            .unwrap();
        assert_eq!(page.records[0].name, "caf\u{e9} \u{1F600}");
        // An invalid byte anywhere fails the page, in a record or not, and is no truncation.
        for body in [
            &b"{\"data\": [{\"id\": 1, \"name\": \"caf\xe9\"}]}"[..],
            &b"{\"note\": \"\xff\", \"data\": []}"[..],
        ] {
            let err = shape.decode::<Value>(body).unwrap_err();
            assert!(!err.is_truncated(), "{err}");
            assert!(
                err.to_string().starts_with("the body is not UTF-8"),
                "{err}"
            );
        }
        // A body cut inside a character is a body cut short.
        let whole = "{\"data\": [{\"id\": 1, \"name\": \"\u{1F600}\"}]}".as_bytes();
        let cut = &whole[..whole.iter().position(|&b| b == 0xF0).unwrap() + 2];
        let err = shape.decode::<Value>(cut).unwrap_err();
        assert!(err.is_truncated(), "{err}");
    }

    #[test]
    fn for_each_streams_records_and_stops_on_the_callback_error() {
        let shape = PageShape::records_at("data");
        let body = br#"{"data": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}]}"#;
        let mut seen = Vec::new();
        let values = shape
            .for_each(body, |item: Item<'_>| {
                seen.push(item.id);
                Ok::<_, String>(())
            })
            .unwrap();
        assert_eq!(
            (seen.as_slice(), values.record_count()),
            (&[1, 2, 3][..], 3)
        );
        let stopped = shape.for_each(
            body,
            |item: Item<'_>| {
                if item.id == 2 { Err("full") } else { Ok(()) }
            },
        );
        assert!(matches!(stopped, Err(EachError::Stopped("full"))));
    }
}
