//! Record conformance (singer-python's `Transformer`, done fast): a plan compiled once per stream
//! from its schema coerces each record in place.
//!
//! Coercions, tried only when the value does not already conform to one of the allowed types
//! (tried in the order the schema lists them; `anyOf` branches likewise):
//! - integer from a string of digits (`"42"` → `42`), or from an integral number (`3.0` → `3`);
//! - number from a numeric string (`"4.5"` → `4.5`);
//! - boolean from `"true"`/`"false"` (any case);
//! - string from a number (its JSON text);
//! - `format: date-time` strings normalised to RFC 3339 UTC with microseconds,
//!   `YYYY-MM-DDTHH:MM:SS.ffffffZ` (singer-python's output). Accepted inputs: RFC 3339 with any
//!   offset, `T` or space separator, without offset (taken as UTC), or a bare date (midnight UTC);
//! - `format: date` strings kept as `YYYY-MM-DD` (a date-time input keeps its date as written);
//! - `format: singer.decimal` strings must be decimal numbers; a JSON number becomes its text
//!   (serde_json's shortest round-trip form, so no precision is lost beyond the parse itself).
//!
//! Objects with `properties` drop fields the schema does not name unless `additionalProperties`
//! is `true` (a schema there conforms the extra fields to it; `patternProperties` keeps them).
//! `enum`, `pattern`, lengths and ranges are not checked: targets validate, this only coerces.
//!
//! On a value that cannot be coerced, the [`ViolationPolicy`] decides.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Number, Value};

/// What to do with a value that cannot be made to conform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationPolicy {
    /// Stop: [`Conformer::conform`] returns a [`ConformError`] naming the field, the expected
    /// type and the JSON type found (never the value: records may carry personal data). The record may be partly coerced.
    Error,
    /// Log a warning and replace the value by `null` when its type allows null; otherwise remove
    /// it (the field from its object, the item from its array), counted in
    /// [`ConformStats::dropped`]. A record that is not an object at all is dropped.
    WarnAndNull,
    /// Log a warning and drop the whole record ([`Conformed::Dropped`]).
    DropRecord,
}

/// What conformance did, accumulated over records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConformStats {
    /// Values changed to conform (a string parsed, a date-time normalised, ...).
    pub coerced: u64,
    /// Values replaced by `null` under [`ViolationPolicy::WarnAndNull`].
    pub nulled: u64,
    /// Values removed under [`ViolationPolicy::WarnAndNull`] plus records dropped.
    pub dropped: u64,
}

/// Whether the record is to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conformed {
    /// Write it (possibly coerced).
    Kept,
    /// Skip it.
    Dropped,
}

/// A value that does not conform, under [`ViolationPolicy::Error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record field {path}: expected {expected}, got {found}")]
pub struct ConformError {
    /// The field, as `a.b[2].c` (`(record)` for the record itself).
    pub path: String,
    /// The types the schema allows there.
    pub expected: String,
    /// The JSON type of the value found there (`string`, `null`, `object`, ...).
    pub found: &'static str,
}

/// A conformance plan compiled once from a stream's schema.
#[derive(Debug, Clone)]
pub struct Conformer {
    root: Plan,
    policy: ViolationPolicy,
}

impl Conformer {
    /// Compiles the plan. Keywords it does not understand are ignored (the value is kept as is).
    pub fn compile(schema: &Value, policy: ViolationPolicy) -> Conformer {
        Conformer {
            root: Plan::compile(schema),
            policy,
        }
    }

    /// Conforms one record in place. Allocates nothing when the record already conforms.
    pub fn conform(
        &self,
        record: &mut Value,
        stats: &mut ConformStats,
    ) -> Result<Conformed, ConformError> {
        let mode = match self.policy {
            ViolationPolicy::WarnAndNull => Mode::Lenient,
            _ => Mode::Strict,
        };
        let root = PathNode::Root;
        match self.root.apply(record, &root, stats, mode) {
            Ok(()) => Ok(Conformed::Kept),
            Err(violation) => match self.policy {
                ViolationPolicy::Error => Err(violation.into_error()),
                ViolationPolicy::DropRecord | ViolationPolicy::WarnAndNull => {
                    tracing::warn!(
                        field = %violation.path,
                        expected = %violation.expected,
                        found = violation.found,
                        "record dropped: a field does not conform to the schema"
                    );
                    stats.dropped += 1;
                    Ok(Conformed::Dropped)
                }
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A violation stops the record.
    Strict,
    /// A violation nulls or removes the value and the record goes on.
    Lenient,
}

/// Where a value sits in the record, kept on the stack so that the path costs nothing until a
/// violation has to name it.
enum PathNode<'a> {
    Root,
    Key(&'a PathNode<'a>, &'a str),
    Index(&'a PathNode<'a>, usize),
}

impl PathNode<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        if out.is_empty() {
            out.push_str("(record)");
        }
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            PathNode::Root => {}
            PathNode::Key(parent, key) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            PathNode::Index(parent, i) => {
                parent.render_into(out);
                let _ = write!(out, "[{i}]");
            }
        }
    }
}

/// A value that does not conform: where, and what was expected.
#[derive(Debug)]
struct Violation {
    path: String,
    expected: String,
    found: &'static str,
}

impl Violation {
    fn into_error(self) -> ConformError {
        ConformError {
            path: self.path,
            expected: self.expected,
            found: self.found,
        }
    }
}

/// The compiled form of one schema node.
#[derive(Debug, Clone)]
struct Plan {
    node: Node,
    nullable: bool,
    expected: Box<str>,
}

#[derive(Debug, Clone)]
enum Node {
    /// No type constraint: anything goes.
    Any,
    /// `type` (one or several): kinds in schema order.
    Types(Box<[Kind]>),
    /// `anyOf`/`oneOf`: branches tried in order.
    AnyOf(Box<[Plan]>),
}

#[derive(Debug, Clone)]
enum Kind {
    Integer,
    Number,
    Boolean,
    String(StringFormat),
    Object(ObjectPlan),
    Array(Box<Plan>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StringFormat {
    Plain,
    DateTime,
    Date,
    Decimal,
}

#[derive(Debug, Clone)]
struct ObjectPlan {
    /// In schema order: records usually list their fields in that order, so the field after the
    /// last one found is tried first.
    properties: Box<[(Box<str>, Plan)]>,
    /// Indices into `properties`, sorted by name, for a binary search when the guess misses.
    by_name: Box<[usize]>,
    extra: Extra,
}

#[derive(Debug, Clone)]
enum Extra {
    Keep,
    Drop,
    Conform(Box<Plan>),
}

impl Plan {
    fn any() -> Plan {
        Plan {
            node: Node::Any,
            nullable: true,
            expected: "any value".into(),
        }
    }

    fn compile(schema: &Value) -> Plan {
        let Value::Object(obj) = schema else {
            return Plan::any();
        };
        if let Some(Value::Array(branches)) = obj.get("anyOf").or_else(|| obj.get("oneOf")) {
            return Plan::compile_any_of(branches);
        }
        if let Some(Value::Array(all)) = obj.get("allOf")
            && all.len() == 1
            && !obj.contains_key("type")
        {
            return Plan::compile(&all[0]);
        }
        let names: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if obj.contains_key("properties") => vec!["object"],
            _ if obj.contains_key("items") => vec!["array"],
            _ => return Plan::any(),
        };
        let format = match obj.get("format").and_then(Value::as_str) {
            Some("date-time") => StringFormat::DateTime,
            Some("date") => StringFormat::Date,
            Some("singer.decimal") => StringFormat::Decimal,
            _ => StringFormat::Plain,
        };
        let mut kinds = Vec::with_capacity(names.len());
        let mut nullable = false;
        for name in &names {
            match *name {
                "null" => nullable = true,
                "integer" => kinds.push(Kind::Integer),
                "number" => kinds.push(Kind::Number),
                "boolean" => kinds.push(Kind::Boolean),
                "string" => kinds.push(Kind::String(format)),
                "object" => kinds.push(Kind::Object(ObjectPlan::compile(obj))),
                "array" => kinds.push(Kind::Array(Box::new(
                    obj.get("items")
                        .map(Plan::compile)
                        .unwrap_or_else(Plan::any),
                ))),
                _ => return Plan::any(),
            }
        }
        let expected = describe(&names, format);
        Plan {
            node: Node::Types(kinds.into_boxed_slice()),
            nullable,
            expected: expected.into(),
        }
    }

    fn compile_any_of(branches: &[Value]) -> Plan {
        let plans: Vec<Plan> = branches.iter().map(Plan::compile).collect();
        if plans.iter().any(|p| matches!(p.node, Node::Any)) {
            return Plan::any();
        }
        let nullable = plans.iter().any(|p| p.nullable);
        let expected = plans
            .iter()
            .map(|p| &*p.expected)
            .collect::<Vec<_>>()
            .join(" or ");
        Plan {
            node: Node::AnyOf(plans.into_boxed_slice()),
            nullable,
            expected: expected.into(),
        }
    }

    fn violation(&self, path: &PathNode<'_>, found: &Value) -> Violation {
        Violation {
            path: path.render(),
            expected: self.expected.to_string(),
            found: json_type(found),
        }
    }

    fn apply(
        &self,
        value: &mut Value,
        path: &PathNode<'_>,
        stats: &mut ConformStats,
        mode: Mode,
    ) -> Result<(), Violation> {
        if value.is_null() {
            return if self.nullable {
                Ok(())
            } else {
                Err(self.violation(path, value))
            };
        }
        match &self.node {
            Node::Any => Ok(()),
            Node::Types(kinds) => {
                for kind in kinds.iter() {
                    if let Some(result) = kind.apply_same_shape(value, path, stats, mode) {
                        return result;
                    }
                }
                for kind in kinds.iter() {
                    if let Some(coerced) = kind.coerce(value) {
                        *value = coerced;
                        stats.coerced += 1;
                        return Ok(());
                    }
                }
                Err(self.violation(path, value))
            }
            Node::AnyOf(branches) => {
                if branches.iter().any(|b| b.conforms(value)) {
                    return Ok(());
                }
                for branch in branches.iter() {
                    let mut trial = value.clone();
                    let mut trial_stats = ConformStats::default();
                    if branch
                        .apply(&mut trial, path, &mut trial_stats, Mode::Strict)
                        .is_ok()
                    {
                        *value = trial;
                        stats.coerced += trial_stats.coerced.max(1);
                        return Ok(());
                    }
                }
                Err(self.violation(path, value))
            }
        }
    }

    /// Whether the value conforms as it is (nothing to coerce, nothing to drop).
    fn conforms(&self, value: &Value) -> bool {
        if value.is_null() {
            return self.nullable;
        }
        match &self.node {
            Node::Any => true,
            Node::Types(kinds) => kinds.iter().any(|k| k.conforms(value)),
            Node::AnyOf(branches) => branches.iter().any(|b| b.conforms(value)),
        }
    }
}

/// The JSON type of a value, as a violation names it.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `integer or null`, `date-time string`, ...
fn describe(names: &[&str], format: StringFormat) -> String {
    let described: Vec<String> = names
        .iter()
        .map(|n| match (*n, format) {
            ("string", StringFormat::DateTime) => "date-time string".to_owned(),
            ("string", StringFormat::Date) => "date string (YYYY-MM-DD)".to_owned(),
            ("string", StringFormat::Decimal) => "decimal string".to_owned(),
            (n, _) => n.to_owned(),
        })
        .collect();
    if described.is_empty() {
        "nothing (empty type list)".to_owned()
    } else {
        described.join(" or ")
    }
}

impl Kind {
    /// When the value has this kind's JSON shape: conform it (recursing into containers) and
    /// return the outcome. `None` when the shape differs (or a formatted string does not parse).
    fn apply_same_shape(
        &self,
        value: &mut Value,
        path: &PathNode<'_>,
        stats: &mut ConformStats,
        mode: Mode,
    ) -> Option<Result<(), Violation>> {
        match (self, &mut *value) {
            (Kind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(Ok(())),
            (Kind::Number, Value::Number(_)) | (Kind::Boolean, Value::Bool(_)) => Some(Ok(())),
            (Kind::String(format), Value::String(s)) => {
                match normalize_string(*format, s)? {
                    Normalized::AsIs => {}
                    Normalized::Changed(new) => {
                        *s = new;
                        stats.coerced += 1;
                    }
                }
                Some(Ok(()))
            }
            (Kind::Object(plan), Value::Object(obj)) => Some(plan.apply(obj, path, stats, mode)),
            (Kind::Array(items), Value::Array(values)) => {
                Some(apply_items(items, values, path, stats, mode))
            }
            _ => None,
        }
    }

    /// A conforming replacement for a value of another shape, if one is safe.
    fn coerce(&self, value: &Value) -> Option<Value> {
        match (self, value) {
            (Kind::Integer, Value::String(s)) => parse_integer(s),
            (Kind::Integer, Value::Number(n)) => {
                let f = n.as_f64()?;
                (f.fract() == 0.0 && f.abs() < 9.2e18).then(|| Value::from(f as i64))
            }
            (Kind::Number, Value::String(s)) => {
                parse_integer(s).or_else(|| parse_number(s).map(Value::Number))
            }
            (Kind::Boolean, Value::String(s)) => {
                if s.eq_ignore_ascii_case("true") {
                    Some(Value::Bool(true))
                } else if s.eq_ignore_ascii_case("false") {
                    Some(Value::Bool(false))
                } else {
                    None
                }
            }
            (Kind::String(StringFormat::Plain | StringFormat::Decimal), Value::Number(n)) => {
                Some(Value::String(n.to_string()))
            }
            _ => None,
        }
    }

    fn conforms(&self, value: &Value) -> bool {
        match (self, value) {
            (Kind::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (Kind::Number, Value::Number(_)) | (Kind::Boolean, Value::Bool(_)) => true,
            (Kind::String(format), Value::String(s)) => {
                matches!(normalize_string(*format, s), Some(Normalized::AsIs))
            }
            (Kind::Object(plan), Value::Object(obj)) => plan.conforms(obj),
            (Kind::Array(items), Value::Array(values)) => values.iter().all(|v| items.conforms(v)),
            _ => false,
        }
    }
}

impl ObjectPlan {
    fn compile(obj: &Map<String, Value>) -> ObjectPlan {
        let properties: Vec<(Box<str>, Plan)> = match obj.get("properties") {
            Some(Value::Object(props)) => props
                .iter()
                .map(|(name, schema)| (name.as_str().into(), Plan::compile(schema)))
                .collect(),
            _ => Vec::new(),
        };
        let mut by_name: Vec<usize> = (0..properties.len()).collect();
        by_name.sort_by(|&a, &b| properties[a].0.cmp(&properties[b].0));
        let extra = match obj.get("additionalProperties") {
            Some(Value::Bool(true)) => Extra::Keep,
            Some(schema @ Value::Object(_)) => Extra::Conform(Box::new(Plan::compile(schema))),
            _ if properties.is_empty() || obj.contains_key("patternProperties") => Extra::Keep,
            _ => Extra::Drop,
        };
        ObjectPlan {
            properties: properties.into_boxed_slice(),
            by_name: by_name.into_boxed_slice(),
            extra,
        }
    }

    /// The plan of field `name`; `next` is the index the caller guesses (and gets updated).
    fn plan_for(&self, name: &str, next: &mut usize) -> Option<&Plan> {
        let index = match self.properties.get(*next) {
            Some((key, _)) if **key == *name => *next,
            _ => {
                let found = self
                    .by_name
                    .binary_search_by(|&i| (*self.properties[i].0).cmp(name))
                    .ok()?;
                self.by_name[found]
            }
        };
        *next = index + 1;
        Some(&self.properties[index].1)
    }

    fn apply(
        &self,
        obj: &mut Map<String, Value>,
        path: &PathNode<'_>,
        stats: &mut ConformStats,
        mode: Mode,
    ) -> Result<(), Violation> {
        let mut failure = None;
        let mut next = 0;
        obj.retain(|name, value| {
            if failure.is_some() {
                return true;
            }
            let plan = match (self.plan_for(name, &mut next), &self.extra) {
                (Some(plan), _) => plan,
                (None, Extra::Keep) => return true,
                (None, Extra::Drop) => return false,
                (None, Extra::Conform(plan)) => plan,
            };
            let here = PathNode::Key(path, name);
            match plan.apply(value, &here, stats, mode) {
                Ok(()) => true,
                Err(violation) => match mode {
                    Mode::Strict => {
                        failure = Some(violation);
                        true
                    }
                    Mode::Lenient => repair(plan, value, violation, stats),
                },
            }
        });
        failure.map_or(Ok(()), Err)
    }

    fn conforms(&self, obj: &Map<String, Value>) -> bool {
        let mut next = 0;
        obj.iter().all(
            |(name, value)| match (self.plan_for(name, &mut next), &self.extra) {
                (Some(plan), _) => plan.conforms(value),
                (None, Extra::Keep) => true,
                (None, Extra::Drop) => false,
                (None, Extra::Conform(plan)) => plan.conforms(value),
            },
        )
    }
}

fn apply_items(
    items: &Plan,
    values: &mut Vec<Value>,
    path: &PathNode<'_>,
    stats: &mut ConformStats,
    mode: Mode,
) -> Result<(), Violation> {
    let mut failure = None;
    let mut index = 0;
    values.retain_mut(|value| {
        let i = index;
        index += 1;
        if failure.is_some() {
            return true;
        }
        let here = PathNode::Index(path, i);
        match items.apply(value, &here, stats, mode) {
            Ok(()) => true,
            Err(violation) => match mode {
                Mode::Strict => {
                    failure = Some(violation);
                    true
                }
                Mode::Lenient => repair(items, value, violation, stats),
            },
        }
    });
    failure.map_or(Ok(()), Err)
}

/// Under [`ViolationPolicy::WarnAndNull`]: null the value when allowed, else say to remove it.
fn repair(plan: &Plan, value: &mut Value, violation: Violation, stats: &mut ConformStats) -> bool {
    if plan.nullable {
        tracing::warn!(field = %violation.path, expected = %violation.expected, found = violation.found, "value replaced by null: it does not conform to the schema");
        *value = Value::Null;
        stats.nulled += 1;
        true
    } else {
        tracing::warn!(field = %violation.path, expected = %violation.expected, found = violation.found, "field removed: it does not conform to the schema and may not be null");
        stats.dropped += 1;
        false
    }
}

enum Normalized {
    AsIs,
    Changed(String),
}

/// Checks a string against its format: `None` when it cannot conform.
fn normalize_string(format: StringFormat, s: &str) -> Option<Normalized> {
    match format {
        StringFormat::Plain => Some(Normalized::AsIs),
        StringFormat::Decimal => is_decimal(s).then_some(Normalized::AsIs),
        StringFormat::DateTime => {
            if is_canonical_date_time(s) {
                return Some(Normalized::AsIs);
            }
            let parsed = parse_date_time(s)?;
            Some(Normalized::Changed(format_date_time(&parsed)))
        }
        StringFormat::Date => {
            if parse_ymd(s).is_some() {
                return Some(Normalized::AsIs);
            }
            let date = s.get(..10)?;
            parse_date_time(s)?;
            parse_ymd(date)?;
            Some(Normalized::Changed(date.to_owned()))
        }
    }
}

/// The output format of date-times: RFC 3339, UTC, microseconds (`2024-01-02T03:04:05.000000Z`),
/// the workspace's one record spelling ([`burler_singer::datetime::format_micros`]).
fn format_date_time(dt: &DateTime<Utc>) -> String {
    burler_singer::datetime::format_micros(&dt.fixed_offset())
}

/// Parses the date-times Singer sources send, with the workspace's one parser
/// ([`burler_singer::datetime::parse`]).
fn parse_date_time(s: &str) -> Option<DateTime<Utc>> {
    burler_singer::datetime::parse(s).map(|d| d.with_timezone(&Utc))
}

/// `YYYY-MM-DD`, exactly, as a valid date.
pub fn parse_ymd(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// Already in [`format_date_time`]'s form and valid, checked without allocating.
fn is_canonical_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 27 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'.' {
        return false;
    }
    if b[26] != b'Z' || parse_ymd(&s[..10]).is_none() {
        return false;
    }
    let (Some(h), Some(m), Some(sec), Some(micro)) = (
        digits(&b[11..13]),
        digits(&b[14..16]),
        digits(&b[17..19]),
        digits(&b[20..26]),
    ) else {
        return false;
    };
    NaiveTime::from_hms_micro_opt(h, m, sec, micro).is_some()
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn parse_integer(s: &str) -> Option<Value> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::from(i));
    }
    s.parse::<u64>().ok().map(Value::from)
}

fn parse_number(s: &str) -> Option<Number> {
    if !is_decimal(s) {
        return None;
    }
    s.parse::<f64>().ok().and_then(Number::from_f64)
}

/// A decimal number as JSON writes it (sign, digits, fraction, exponent), without NaN or infinity.
fn is_decimal(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let (mantissa, exponent) = match b.iter().position(|c| *c == b'e' || *c == b'E') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let mut parts = mantissa.splitn(2, |c| *c == b'.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next().unwrap_or_default();
    let all_digits = |p: &[u8]| p.iter().all(u8::is_ascii_digit);
    let mantissa_ok = (!whole.is_empty() || !fraction.is_empty())
        && all_digits(whole)
        && all_digits(fraction)
        && !(whole.is_empty() && mantissa.len() == 1);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e
            .strip_prefix(b"-")
            .or_else(|| e.strip_prefix(b"+"))
            .unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_found_whatever_their_order() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}}});
        let conformer = Conformer::compile(&schema, ViolationPolicy::Error);
        let mut stats = ConformStats::default();
        for mut record in [
            json!({"c": "3", "x": 0, "b": "2", "a": "1"}),
            json!({"a": "1", "b": "2", "c": "3"}),
            json!({"b": "2", "c": "3", "y": 0, "a": "1"}),
        ] {
            conformer.conform(&mut record, &mut stats).unwrap();
            assert_eq!(
                [&record["a"], &record["b"], &record["c"]],
                [&json!(1), &json!(2), &json!(3)]
            );
            assert!(record.get("x").is_none() && record.get("y").is_none());
            assert!(conformer.root.conforms(&record), "{record}");
        }
        assert_eq!(stats.coerced, 9);
    }

    #[test]
    fn decimal_syntax() {
        for ok in ["0", "-1.50", "+3", ".5", "5.", "1e10", "2.5E-3"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", ".", "-", "1e", "abc", "NaN", "inf", "1.2.3", "1 "] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn canonical_date_times_are_recognised_without_parsing() {
        assert!(is_canonical_date_time("2024-02-29T23:59:59.123456Z"));
        assert!(!is_canonical_date_time("2023-02-29T23:59:59.123456Z"));
        assert!(!is_canonical_date_time("2024-02-29T24:00:00.000000Z"));
        assert!(!is_canonical_date_time("2024-02-29T23:59:59Z"));
    }

    #[test]
    fn date_time_inputs_are_normalised_to_utc() {
        let cases = [
            ("2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05.000000Z"),
            ("2024-01-02 03:04:05.5", "2024-01-02T03:04:05.500000Z"),
            ("2024-01-02T03:04:05-0130", "2024-01-02T04:34:05.000000Z"),
            ("2024-01-02", "2024-01-02T00:00:00.000000Z"),
        ];
        for (input, expected) in cases {
            let dt = parse_date_time(input).unwrap();
            assert_eq!(format_date_time(&dt), expected, "{input}");
        }
        assert!(parse_date_time("yesterday").is_none());
    }
}
