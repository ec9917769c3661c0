//! JSON text as singer-sdk's Python writes it, where burler must produce the same bytes: the
//! compact, ASCII-only form of `serialize_json` (flattened values deeper than the depth) and the
//! `", "`/`": "` form of Python's `json.dumps` (the `json.dumps()` expression function).

use std::io;

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter, Serializer};

/// singer-sdk's `serialize_json`: compact separators, non-ASCII escaped as `\uXXXX`.
pub(crate) fn compact_ascii(value: &Value) -> String {
    write_with(
        value,
        AsciiFormatter {
            python_spacing: false,
        },
    )
}

/// Python's `json.dumps(value)`: `", "` and `": "` separators, non-ASCII escaped.
pub(crate) fn python_dumps(value: &Value) -> String {
    write_with(
        value,
        AsciiFormatter {
            python_spacing: true,
        },
    )
}

fn write_with(value: &Value, formatter: AsciiFormatter) -> String {
    let mut out = Vec::with_capacity(64);
    let mut ser = Serializer::with_formatter(&mut out, formatter);
    // A `Value` always serializes (its keys are strings), and the formatter writes ASCII only.
    let _ = value.serialize(&mut ser);
    String::from_utf8(out).unwrap_or_default()
}

struct AsciiFormatter {
    python_spacing: bool,
}

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        match (first, self.python_spacing) {
            (true, _) => Ok(()),
            (false, true) => writer.write_all(b", "),
            (false, false) => writer.write_all(b","),
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.begin_array_value(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if self.python_spacing {
            writer.write_all(b": ")
        } else {
            CompactFormatter.begin_object_value(writer)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_form_escapes_non_ascii_like_simplejson() {
        let v = json!({"city": "Zürich", "tags": ["a", "😀"], "n": 1.5, "q": "\"\n"});
        assert_eq!(
            compact_ascii(&v),
            r#"{"city":"Z\u00fcrich","tags":["a","\ud83d\ude00"],"n":1.5,"q":"\"\n"}"#
        );
    }

    #[test]
    fn dumps_form_has_python_spacing() {
        let v = json!({"a": [1, 2], "b": {"c": null}});
        assert_eq!(python_dumps(&v), r#"{"a": [1, 2], "b": {"c": null}}"#);
    }
}
