//! PostgreSQL values in their text form (what `::text` and logical decoding give), written as
//! JSON by kind: numbers as numbers, `t`/`f` as booleans, ISO date-times as RFC 3339 UTC, `\x…`
//! byte strings as base64, JSON as JSON, and array literals (`{1,NULL,"a,b"}`, nested for more
//! dimensions) as JSON arrays. `infinity` dates and NaN numbers, which JSON cannot hold, are null.

use std::borrow::Cow;

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use crate::encode::{self, Base64, DateText, RawJson, TimeText, TimestampText};
use crate::types::{DecimalMode, ValueKind};

/// Writes one value of `kind` given as its text form.
pub(crate) fn write_text<S: Serializer>(
    kind: &ValueKind,
    decimal: DecimalMode,
    text: &str,
    s: S,
) -> Result<S::Ok, S::Error> {
    match kind {
        ValueKind::Integer | ValueKind::Float => {
            if encode::is_json_number(text) {
                RawJson(text).serialize(s)
            } else {
                // NaN, Infinity, -Infinity.
                s.serialize_none()
            }
        }
        ValueKind::Decimal => encode::Decimal {
            text,
            as_string: decimal == DecimalMode::String,
        }
        .serialize(s),
        ValueKind::Boolean => match text {
            "t" | "true" => s.serialize_bool(true),
            "f" | "false" => s.serialize_bool(false),
            other => s.serialize_str(other),
        },
        ValueKind::Date | ValueKind::Timestamp | ValueKind::TimestampTz if is_infinite(text) => {
            s.serialize_none()
        }
        ValueKind::Date => DateText(text).serialize(s),
        ValueKind::Timestamp | ValueKind::TimestampTz => TimestampText(text).serialize(s),
        ValueKind::Time | ValueKind::TimeTz => TimeText(text).serialize(s),
        ValueKind::Json => RawJson(text).serialize(s),
        ValueKind::Bytes => match decode_hex_bytea(text) {
            Some(bytes) => Base64(&bytes).serialize(s),
            None => s.serialize_str(text),
        },
        ValueKind::Array(element) => match parse_array(text) {
            Some(items) => Items {
                items: &items,
                kind: element,
                decimal,
            }
            .serialize(s),
            None => s.serialize_str(text),
        },
        ValueKind::Text | ValueKind::Uuid | ValueKind::Other => s.serialize_str(text),
    }
}

fn is_infinite(text: &str) -> bool {
    matches!(text, "infinity" | "-infinity")
}

/// `\x0001ff` (bytea's hex output) as bytes.
fn decode_hex_bytea(text: &str) -> Option<Vec<u8>> {
    let hex = text.strip_prefix("\\x")?.as_bytes();
    if hex.len() % 2 != 0 {
        return None;
    }
    let nibble = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    hex.chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// One element of an array literal.
#[derive(Debug, PartialEq)]
pub(crate) enum Item<'a> {
    /// `NULL`.
    Null,
    /// An element's text (unescaped).
    Text(Cow<'a, str>),
    /// A sub-array (another dimension).
    Nested(Vec<Item<'a>>),
}

/// Parses an array literal (`{1,2}`, `{{1,2},{3,4}}`, `[0:1]={1,2}`); `None` if it is not one.
pub(crate) fn parse_array(text: &str) -> Option<Vec<Item<'_>>> {
    // Arrays with other lower bounds than 1 print their bounds first.
    let body = match text.strip_prefix('[') {
        Some(_) => &text[text.find('=')? + 1..],
        None => text,
    };
    let mut rest = body.trim();
    let items = parse_level(&mut rest)?;
    rest.trim().is_empty().then_some(items)
}

fn parse_level<'a>(s: &mut &'a str) -> Option<Vec<Item<'a>>> {
    *s = s.trim_start().strip_prefix('{')?;
    let mut items = Vec::new();
    loop {
        *s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            *s = rest;
            return Some(items);
        }
        let item = match s.as_bytes().first()? {
            b'{' => Item::Nested(parse_level(s)?),
            b'"' => Item::Text(parse_quoted(s)?),
            _ => parse_bare(s),
        };
        items.push(item);
        *s = s.trim_start();
        if let Some(rest) = s.strip_prefix(',') {
            *s = rest;
        } else if !s.starts_with('}') {
            return None;
        }
    }
}

fn parse_quoted<'a>(s: &mut &'a str) -> Option<Cow<'a, str>> {
    let body = &s[1..];
    let mut out: Option<String> = None;
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                *s = &body[i + 1..];
                return Some(out.map_or(Cow::Borrowed(&body[..i]), Cow::Owned));
            }
            '\\' => {
                let (_, escaped) = chars.next()?;
                out.get_or_insert_with(|| body[..i].to_owned())
                    .push(escaped);
            }
            c => {
                if let Some(o) = &mut out {
                    o.push(c);
                }
            }
        }
    }
    None
}

fn parse_bare<'a>(s: &mut &'a str) -> Item<'a> {
    let end = s.find([',', '}']).unwrap_or(s.len());
    let token = s[..end].trim();
    *s = &s[end..];
    if token.eq_ignore_ascii_case("NULL") {
        Item::Null
    } else {
        Item::Text(Cow::Borrowed(token))
    }
}

/// Array elements written as a JSON array, each by the element kind.
struct Items<'i, 'a> {
    items: &'i [Item<'a>],
    kind: &'i ValueKind,
    decimal: DecimalMode,
}

impl Serialize for Items<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.items.len()))?;
        for item in self.items {
            seq.serialize_element(&One {
                item,
                kind: self.kind,
                decimal: self.decimal,
            })?;
        }
        seq.end()
    }
}

struct One<'i, 'a> {
    item: &'i Item<'a>,
    kind: &'i ValueKind,
    decimal: DecimalMode,
}

impl Serialize for One<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.item {
            Item::Null => s.serialize_none(),
            Item::Text(text) => write_text(self.kind, self.decimal, text, s),
            Item::Nested(items) => Items {
                items,
                kind: self.kind,
                decimal: self.decimal,
            }
            .serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(kind: ValueKind, text: &str) -> String {
        let mut out = Vec::new();
        write_text(
            &kind,
            DecimalMode::Number,
            text,
            &mut serde_json::Serializer::new(&mut out),
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_values_become_json_by_kind() {
        assert_eq!(json(ValueKind::Integer, "-42"), "-42");
        assert_eq!(json(ValueKind::Float, "1.5e+30"), "1.5e+30");
        assert_eq!(json(ValueKind::Float, "NaN"), "null");
        assert_eq!(json(ValueKind::Decimal, "12.3400"), "12.3400");
        assert_eq!(json(ValueKind::Boolean, "f"), "false");
        assert_eq!(
            json(ValueKind::TimestampTz, "2024-01-31 11:45:00.5+00"),
            "\"2024-01-31T11:45:00.500Z\""
        );
        assert_eq!(json(ValueKind::Timestamp, "infinity"), "null");
        assert_eq!(json(ValueKind::TimeTz, "13:45:00+02"), "\"13:45:00+02:00\"");
        assert_eq!(json(ValueKind::Bytes, "\\x0001ff"), "\"AAH/\"");
        assert_eq!(json(ValueKind::Json, r#"{"a": 1}"#), r#"{"a": 1}"#);
        assert_eq!(json(ValueKind::Other, "P1DT2H"), "\"P1DT2H\"");
    }

    #[test]
    fn array_literals_become_json_arrays_with_nulls_quotes_and_dimensions() {
        let int = || Box::new(ValueKind::Integer);
        assert_eq!(json(ValueKind::Array(int()), "{1,NULL,3}"), "[1,null,3]");
        assert_eq!(
            json(ValueKind::Array(int()), "{{1,2},{3,4}}"),
            "[[1,2],[3,4]]"
        );
        assert_eq!(json(ValueKind::Array(int()), "[0:1]={7,8}"), "[7,8]");
        assert_eq!(json(ValueKind::Array(int()), "{}"), "[]");
        let text = ValueKind::Array(Box::new(ValueKind::Text));
        assert_eq!(
            json(text.clone(), r#"{"a b","c,d","q\"uote",NULL,bare}"#),
            r#"["a b","c,d","q\"uote",null,"bare"]"#
        );
        assert_eq!(json(text, "{\"back\\\\slash\"}"), r#"["back\\slash"]"#);
        let stamps = ValueKind::Array(Box::new(ValueKind::TimestampTz));
        assert_eq!(
            json(stamps, r#"{"2024-01-31 13:45:00+00"}"#),
            r#"["2024-01-31T13:45:00Z"]"#
        );
        assert_eq!(
            json(ValueKind::Array(int()), "{1,2"),
            "\"{1,2\"",
            "not an array: kept as text"
        );
        assert_eq!(parse_array("{\"unterminated}"), None);
    }
}
