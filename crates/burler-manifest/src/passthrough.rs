//! The pass-through page path: records decoded from a page body as the API sent them
//! (`Box<RawValue>`, by burler-http's streaming decoder) and written into RECORD lines as they
//! are, with the one value pagination reads (a cursor, a next URL) taken in the same pass.
//!
//! Parsing every page into a `serde_json::Value` tree (a `String` per key and value, an
//! `IndexMap` per object) and serializing each record again was most of a manifest tap's cost.
//! A stream takes this path when nothing in it needs the tree: its records sit at a plain path
//! (`$.data[*]`, `$.data`, a `field_path` of constant keys), no filter or transformation looks
//! inside them, and its paginator reads no `response` template. [`plan`] decides that once per
//! stream when the manifest is compiled; every other stream, and any page the decoder cannot
//! read as that shape (records that are not a list, a body that is not JSON), goes through the
//! tree as before, so a sync emits the same records either way.

use burler_http::decode::PageShape;
use serde::Serialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::plan::{CursorValue, Extract, PaginatorPlan, Passthrough, StreamPlan};
use crate::template::{Tmpl, value_text};

/// A manifest stream's record: the text the API sent (pass-through streams), or a tree (the
/// other streams, and a pass-through stream's page the decoder could not read as its shape).
/// Either serializes as the record itself.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum Record {
    /// The record's JSON text, as it was in the page body.
    Raw(Box<RawValue>),
    /// A parsed record.
    Tree(Value),
}

impl Record {
    /// The record as a tree (parsed from the text of a raw record).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            // The text was read as JSON by the decoder: it parses again.
            Record::Raw(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            Record::Tree(value) => value.clone(),
        }
    }

    /// The record as a tree, taken.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Record::Tree(value) => value,
            raw => raw.to_value(),
        }
    }

    /// The value of top-level field `name` (the last one, as a tree keeps it, when the text
    /// repeats the key); `None` when the record is not an object or has no such field.
    pub(crate) fn field(&self, name: &str) -> Option<Value> {
        match self {
            Record::Tree(value) => value.get(name).cloned(),
            Record::Raw(raw) => {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                de.deserialize_map(FieldOf(name)).ok().flatten()
            }
        }
    }

    /// Whether two records are the same record: the same text, or the same tree.
    pub(crate) fn same(&self, other: &Record) -> bool {
        match (self, other) {
            (Record::Raw(a), Record::Raw(b)) => a.get() == b.get(),
            (Record::Tree(a), Record::Tree(b)) => a == b,
            (a, b) => a.to_value() == b.to_value(),
        }
    }
}

/// Reads one top-level field of an object, skipping the other values unparsed.
struct FieldOf<'n>(&'n str);

impl<'de> Visitor<'de> for FieldOf<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let mut found = None;
        while let Some(is_it) = map.next_key_seed(KeyIs(self.0))? {
            if is_it {
                found = Some(map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether an object key is the one named (compared without copying the key).
struct KeyIs<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The pass-through shape of stream `sp`, or `None` when something in it needs each page as a
/// tree: a record filter or transformation, a selector that is not a plain path, a paginator
/// template reading `response`, a cursor path that is not plain or crosses the records.
pub(crate) fn plan(sp: &StreamPlan) -> Option<Passthrough> {
    if sp.selector.filter.is_some() || !sp.add_fields.is_empty() || !sp.remove_fields.is_empty() {
        return None;
    }
    let records = match &sp.selector.extract {
        // `$.data` and `$.data[*]` both take the list's items; a `$.data` that is one object,
        // or a `$.data[*]` over an object's values, is not a list to the decoder: that page is
        // read as a tree.
        Extract::JsonPath(path) => plain_path(&path.path.to_string(), true)?.0,
        Extract::FieldPath(parts) => constant_keys(parts)?,
    };
    let cursor = match &sp.paginator {
        PaginatorPlan::Cursor { value, stop, .. } => {
            if stop.as_ref().is_some_and(|s| s.reads("response")) {
                return None;
            }
            match value {
                CursorValue::Path(path) => Some(plain_path(&path.to_string(), false)?.0),
                CursorValue::Template(t) if t.reads("response") => return None,
                CursorValue::Template(_) => None,
            }
        }
        _ => None,
    };
    if let Some(cursor) = &cursor {
        // The decoder reads a value on the way to the records, or under them, only as present.
        if cursor.starts_with(&records) || records.starts_with(cursor) {
            return None;
        }
    }
    let mut shape = PageShape::records_at(&records.join("."));
    let cursor = cursor.map(|c| c.join("."));
    if let Some(path) = &cursor {
        shape = shape.value_at(path);
    }
    Some(Passthrough { shape, cursor })
}

/// The keys of a `field_path` without `*` whose parts are all constants.
fn constant_keys(parts: &[Tmpl]) -> Option<Vec<String>> {
    parts
        .iter()
        .map(|part| match part {
            Tmpl::Const(value) => Some(value_text(value)).filter(|k| k != "*" && plain_key(k)),
            Tmpl::Compiled(_) => None,
        })
        .collect()
}

/// A key the decoder's dotted paths name exactly: not empty, no `.`, not starting with `$`
/// (which a dotted path drops).
fn plain_key(key: &str) -> bool {
    !key.is_empty() && !key.contains('.') && !key.starts_with('$')
}

/// The object keys of a JSONPath of names only (`$.a.b`, `$['a']`), and whether it ends in a
/// wildcard (`[*]`, `.*`; only with `wildcard`). `None` for anything else: indexes, slices,
/// filters, descendants, a wildcard before the end, or a name the decoder's dotted path would
/// read otherwise (with a `.`, all digits: an array index to the decoder, a name that selects
/// nothing in an array to JSONPath).
fn plain_path(text: &str, wildcard: bool) -> Option<(Vec<String>, bool)> {
    let mut rest = text.strip_prefix('$')?;
    let mut keys = Vec::new();
    while !rest.is_empty() {
        if wildcard && (rest == "[*]" || rest == ".*") {
            return Some((keys, true));
        }
        let (key, after) = if let Some(quoted) = rest.strip_prefix("['") {
            let end = quoted.find("']")?;
            (&quoted[..end], &quoted[end + 2..])
        } else if let Some(dotted) = rest.strip_prefix('.') {
            let end = dotted.find(['.', '[']).unwrap_or(dotted.len());
            (&dotted[..end], &dotted[end..])
        } else {
            return None;
        };
        let odd = |c: char| matches!(c, '\'' | '"' | '\\' | '[' | ']' | '*');
        if !plain_key(key) || key.contains(odd) || key.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        keys.push(key.to_owned());
        rest = after;
    }
    Some((keys, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str, wildcard: bool) -> Option<(Vec<String>, bool)> {
        let path = serde_json_path::JsonPath::parse(text).unwrap();
        plain_path(&path.to_string(), wildcard)
    }

    #[test]
    fn plain_paths_are_names_with_an_optional_final_wildcard() {
        let names = |v: &[&str], w: bool| Some((v.iter().map(|s| (*s).to_owned()).collect(), w));
        assert_eq!(keys("$.data[*]", true), names(&["data"], true));
        assert_eq!(keys("$.data.*", true), names(&["data"], true));
        assert_eq!(keys("$.data", true), names(&["data"], false));
        assert_eq!(keys("$", true), names(&[], false));
        assert_eq!(keys("$[*]", true), names(&[], true));
        assert_eq!(
            keys("$['result'].items[*]", true),
            names(&["result", "items"], true)
        );
        assert_eq!(keys("$.meta.next", false), names(&["meta", "next"], false));
        for not_plain in [
            "$..id",
            "$.data[0]",
            "$.data[*].items",
            "$.data[?@.id > 1]",
            "$.data[1:3]",
            "$['a.b']",
            "$['0']",
            "$['$x']",
            "$['']",
            "$.a['b','c']",
        ] {
            assert_eq!(keys(not_plain, true), None, "{not_plain}");
        }
        assert_eq!(keys("$.next[*]", false), None, "a cursor is one value");
    }
}
