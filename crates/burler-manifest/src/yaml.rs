//! YAML text to a JSON value, remembering the line and column of every node and every key.
//!
//! The parser is `saphyr-parser`, the YAML 1.2 event parser of the saphyr project (the maintained
//! successor of yaml-rust/yaml-rust2). serde_yaml is archived, and its forks either panic on
//! some inputs or drop positions once a value is deserialised; the event parser gives a span for
//! every scalar, sequence and mapping, which is what reporting *every* problem at its line and
//! column needs. Plain scalars are typed by the YAML 1.2 core schema (`null`, `true`, `12`, `1.5`);
//! quoted scalars are always strings. Anchors and aliases are expanded.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};

use crate::diagnostic::{Diagnostic, Position, child};

/// Where each node of a parsed document is, by JSON Pointer.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
}

impl Positions {
    /// The position of the value at `pointer`; for a pointer that does not exist (a missing
    /// key), the nearest existing parent's.
    pub fn value(&self, pointer: &str) -> Position {
        let mut at = pointer;
        loop {
            if let Some(p) = self.values.get(at) {
                return *p;
            }
            match at.rfind('/') {
                Some(i) => at = &at[..i],
                None => return Position { line: 1, column: 1 },
            }
        }
    }

    /// The position of the key whose value is at `pointer` (else of the value).
    pub fn key(&self, pointer: &str) -> Position {
        self.keys
            .get(pointer)
            .copied()
            .unwrap_or_else(|| self.value(pointer))
    }

    /// Records that the node at `to` was written at `from` in `original` (used when `$ref`s are
    /// expanded).
    pub(crate) fn alias(&mut self, original: &Positions, to: &str, from: &str) {
        self.values.insert(to.to_owned(), original.value(from));
        match original.keys.get(from).copied() {
            Some(key) => self.keys.insert(to.to_owned(), key),
            None => self.keys.remove(to),
        };
    }
}

fn position(span: &Span) -> Position {
    Position {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// Parses one YAML document. A syntax error is one diagnostic at its position.
pub fn parse(text: &str) -> Result<(Value, Positions), Diagnostic> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        positions: Positions::default(),
        anchors: HashMap::new(),
    };
    let value = builder.document()?;
    Ok((value, builder.positions))
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    positions: Positions,
    anchors: HashMap<usize, Value>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Diagnostic> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(err)) => Err(Diagnostic {
                position: Position {
                    line: err.marker().line(),
                    column: err.marker().col() + 1,
                },
                pointer: String::new(),
                message: format!("YAML syntax: {}", err.info()),
            }),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn document(&mut self) -> Result<Value, Diagnostic> {
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => continue,
                Event::StreamEnd | Event::DocumentEnd => return Ok(Value::Null),
                other => return self.node(other, span, String::new()),
            }
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span, pointer: String) -> Result<Value, Diagnostic> {
        self.positions
            .values
            .insert(pointer.clone(), position(&span));
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let is_str_tag = tag.as_ref().is_some_and(|t| t.suffix == "str");
                (scalar(&text, style, is_str_tag), anchor)
            }
            Event::SequenceStart(anchor, _) => (self.sequence(&pointer)?, anchor),
            Event::MappingStart(anchor, _) => (self.mapping(&pointer)?, anchor),
            Event::Alias(id) => (self.anchors.get(&id).cloned().unwrap_or(Value::Null), 0),
            _ => (Value::Null, 0),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }

    fn sequence(&mut self, pointer: &str) -> Result<Value, Diagnostic> {
        let mut items = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::SequenceEnd | Event::StreamEnd) {
                return Ok(Value::Array(items));
            }
            let at = format!("{pointer}/{}", items.len());
            items.push(self.node(event, span, at)?);
        }
    }

    fn mapping(&mut self, pointer: &str) -> Result<Value, Diagnostic> {
        let mut map = Map::new();
        loop {
            let (event, span) = self.next()?;
            let key = match event {
                Event::MappingEnd | Event::StreamEnd => return Ok(Value::Object(map)),
                Event::Scalar(text, ..) => text.into_owned(),
                other => {
                    // A complex key: parsed and rendered as JSON text.
                    let value = self.node(other, span, format!("{pointer}/?"))?;
                    value.to_string()
                }
            };
            let at = child(pointer, &key);
            self.positions.keys.insert(at.clone(), position(&span));
            let (event, span) = self.next()?;
            let value = self.node(event, span, at)?;
            map.insert(key, value);
        }
    }
}

/// A scalar typed by the YAML 1.2 core schema (plain scalars only).
fn scalar(text: &str, style: ScalarStyle, string_tag: bool) -> Value {
    if style != ScalarStyle::Plain || string_tag {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    if let Some(n) = text
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && looks_numeric(text))
        .and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

/// Rust parses `inf`, `nan` and `1e5` alike; YAML's core schema wants digits.
fn looks_numeric(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_positions() {
        let text = "a: 1\nb:\n  - x\n  - 'yes'\n  - true\nc: {d: null, e: 1.5}\n";
        let (value, positions) = parse(text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": 1, "b": ["x", "yes", true], "c": {"d": null, "e": 1.5}})
        );
        assert_eq!(positions.value("/b/1"), Position { line: 4, column: 5 });
        assert_eq!(
            positions.key("/c/e"),
            Position {
                line: 6,
                column: 14
            }
        );
        assert_eq!(positions.value("/c/missing"), positions.value("/c"));
    }

    #[test]
    fn anchors_expand_and_syntax_errors_have_positions() {
        let (value, _) = parse("a: &x {k: 1}\nb: *x\n").unwrap();
        assert_eq!(value["b"], serde_json::json!({"k": 1}));
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.starts_with("YAML syntax"), "{err:?}");
        assert!(err.position.line >= 1);
    }
}
