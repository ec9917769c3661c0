//! Records that are JSON text already (`Box<RawValue>`, `&RawValue`): one top-level field read
//! from the text, and the text written again without some top-level fields.
//!
//! A tap that passes records through as the source sent them keeps each record as the span of
//! the response body it came in; the encoder writes that text verbatim. These helpers are the
//! two things the encoder still needs from inside it: the replication key, and the object
//! without the fields the catalog deselected. Both walk only the top level; nested values are
//! skipped as raw spans, never parsed into a tree.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The struct name serde_json gives a `RawValue` when it serializes one: a serializer that sees
/// it is handed the value's JSON text as the struct's one field. (serde_json's own; the raw
/// record tests of the encoder fail if it ever changes.)
pub(super) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The JSON text of `field`'s value in the object `text` (the first occurrence); `None` when
/// `text` is not an object or has no such field. The text after the field is not read.
///
/// `text` is a raw value's, which serde_json validated when it read it, so this only finds
/// structure (strings, brackets, separators) with `memchr`, at a few instructions a byte; a
/// serde walk of the same object costs several times that. On text that is not valid JSON it
/// answers `None` or some span of the text, never panics.
pub(super) fn field_of<'t>(text: &'t str, field: &str) -> Option<&'t str> {
    let b = text.as_bytes();
    let mut i = skip_space(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_space(b, i);
        if b.get(i) != Some(&b'"') {
            return None; // `}`: the end of the object
        }
        let key_end = string_end(b, i)?;
        let key = &b[i..key_end];
        i = skip_space(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_space(b, i + 1);
        let end = value_end(b, start)?;
        if key_is(key, field) {
            return text.get(start..end);
        }
        i = skip_space(b, end);
        if b.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

/// Whether the JSON string `quoted` (with its quotes) is `field`. An escape always takes more
/// bytes than what it stands for, so only a key longer than `field` can be an escaped `field`.
fn key_is(quoted: &[u8], field: &str) -> bool {
    let inner = &quoted[1..quoted.len() - 1];
    let field = field.as_bytes();
    if inner.len() <= field.len() {
        // Equal text is the same key unless the text has an escape (then it stands for less).
        return inner == field && memchr::memchr(b'\\', inner).is_none();
    }
    memchr::memchr(b'\\', inner).is_some()
        && serde_json::from_slice::<String>(quoted).is_ok_and(|key| key.as_bytes() == field)
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The index after the string that starts with the quote at `start`.
///
/// Eight bytes at a time: most strings in a record are short (ids, names, timestamps), where a
/// call to `memchr` costs more than it saves, and a byte at a time costs several instructions a
/// byte.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        while let Some(word) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
            let word = u64::from_le_bytes(word);
            let found = bytes_equal_to(word, b'"') | bytes_equal_to(word, b'\\');
            if found != 0 {
                i += (found.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2, // an escape: the next byte is never the string's end
            _ => i += 1,
        }
    }
}

/// The high bit of each byte of `word` that equals `byte`, and maybe of bytes after the first
/// such byte (a borrow can carry): only the lowest set bit, the first match, is exact.
fn bytes_equal_to(word: u64, byte: u8) -> u64 {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let zeroed = word ^ (ONES * u64::from(byte));
    zeroed.wrapping_sub(ONES) & !zeroed & HIGHS
}

/// The index after the value that starts at `start`.
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    match b.get(start)? {
        b'"' => string_end(b, start),
        b'{' | b'[' => nested_end(b, start),
        _ => Some(
            start
                + b[start..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(b.len() - start),
        ),
    }
}

/// The index after the object or array that starts at `start`: strings are skipped with
/// `memchr`, the bytes between them (brackets, separators, numbers) looked at one by one.
fn nested_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                i = string_end(b, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `text` with its line breaks turned into spaces: a RECORD line must not break (a
/// pretty-printed API sends records over several lines), and in JSON text a line break can only
/// be whitespace between tokens, since a string holds one escaped. One `memchr` scan when there
/// is none.
pub(super) fn on_one_line(text: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace(['\n', '\r'], " "))
}

/// `text` without the top-level fields named in `skip`; `text` as it is when it is not an object
/// (or not JSON, which the caller's serializer then reports).
pub(super) fn without_fields<'t>(text: &'t str, skip: &[String]) -> Cow<'t, str> {
    let mut out = String::with_capacity(text.len());
    let mut de = serde_json::Deserializer::from_str(text);
    match de.deserialize_map(Without {
        skip,
        out: &mut out,
    }) {
        Ok(()) => Cow::Owned(out),
        Err(_) => Cow::Borrowed(text),
    }
}

/// A map key, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
}

/// Writes the object into `out` without the skipped fields, every kept value as its raw text.
struct Without<'s> {
    skip: &'s [String],
    out: &'s mut String,
}

impl<'de> Visitor<'de> for Without<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.out.push('{');
        let mut first = true;
        while let Some(Key(key)) = map.next_key()? {
            if self.skip.iter().any(|s| *s == key) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value_seed(RawSeed)?;
            if !first {
                self.out.push(',');
            }
            first = false;
            // A string serializes infallibly; the key is written with serde_json's escaping.
            let escaped = serde_json::to_string(key.as_ref()).unwrap_or_default();
            self.out.push_str(&escaped);
            self.out.push(':');
            self.out.push_str(value.get());
        }
        self.out.push('}');
        Ok(())
    }
}

/// A value as its raw text.
struct RawSeed;

impl<'de> DeserializeSeed<'de> for RawSeed {
    type Value = &'de RawValue;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        de::Deserialize::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same lookup by a serde walk: what `field_of` must agree with.
    fn field_by_serde<'t>(text: &'t str, field: &str) -> Option<&'t str> {
        let map: Vec<(Key<'t>, &'t RawValue)> =
            serde_json::from_str::<OrderedEntries<'t>>(text).ok()?.0;
        map.into_iter()
            .find(|(key, _)| key.0 == field)
            .map(|(_, value)| value.get())
    }

    struct OrderedEntries<'t>(Vec<(Key<'t>, &'t RawValue)>);

    impl<'de> de::Deserialize<'de> for OrderedEntries<'de> {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Entries;
            impl<'de> Visitor<'de> for Entries {
                type Value = OrderedEntries<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let mut entries = Vec::new();
                    while let Some(entry) = map.next_entry()? {
                        entries.push(entry);
                    }
                    Ok(OrderedEntries(entries))
                }
            }
            d.deserialize_map(Entries)
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            // Up to 80 characters: past the bytes `string_end` looks at one by one.
            "[a-z\\\\\"{}\\[\\],: \\u{e9}\\u{1F600}]{0,80}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map("[a-c\\\\\"]{0,3}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        #[test]
        fn the_scan_agrees_with_serde(
            value in json_value(),
            field in "[a-c\\\\\"]{0,3}",
            pretty in proptest::bool::ANY,
        ) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            proptest::prop_assert_eq!(field_of(&text, &field), field_by_serde(&text, &field));
        }
    }

    #[test]
    fn the_scan_never_panics_on_broken_text() {
        for text in [
            "",
            "{",
            "{\"",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":[",
            "{\"a\":\"x",
            "{\"a\\",
            "{\"a\":1,",
            "{\"b\":1 \"a\":2}",
            "{\"a\"}",
            "{]]]}",
            "{\"b\":]]], \"a\":1}",
        ] {
            let _ = field_of(text, "a");
        }
        assert_eq!(field_of(r#"{"b":1 "a":2}"#, "a"), None);
    }

    #[test]
    fn a_field_is_read_from_the_text() {
        let text =
            r#"{"a":{"updated_at":"nested"},"upd\u0061ted_at":"2024-01-02","updated_at":"x"}"#;
        assert_eq!(field_of(text, "updated_at"), Some(r#""2024-01-02""#));
        assert_eq!(field_of(text, "missing"), None);
        assert_eq!(field_of("[1,2]", "a"), None);
        assert_eq!(
            field_of(r#"{"a": [1, {"b": 2}] }"#, "a"),
            Some("[1, {\"b\": 2}]")
        );
    }

    #[test]
    fn line_breaks_between_tokens_become_spaces() {
        let text = "{\n  \"a\": \"x\\ny\",\r\n  \"b\": [\n1]\n}";
        let line = on_one_line(text);
        assert!(!line.contains(['\n', '\r']), "{line}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&line).unwrap(),
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
        assert!(matches!(on_one_line(r#"{"a": 1}"#), Cow::Borrowed(_)));
    }

    #[test]
    fn skipped_fields_leave_the_text() {
        let skip = ["secret".to_owned(), "gone".to_owned()];
        let text = r#"{"id":1,"secret":{"deep":[1,2]},"na\"me":"x","gone":null}"#;
        assert_eq!(without_fields(text, &skip), r#"{"id":1,"na\"me":"x"}"#);
        assert_eq!(without_fields(r#"{"secret":1}"#, &skip), "{}");
        assert_eq!(without_fields("[1]", &skip), "[1]");
    }
}
