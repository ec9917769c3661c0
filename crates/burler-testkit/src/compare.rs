//! Comparing replication-key and bookmark values the way Singer taps order them: numbers as
//! numbers, date-times (RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`) as instants, other strings
//! as text.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde_json::Value;

/// A value reduced to what it is compared as.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    /// A JSON number.
    Number(f64),
    /// A string that reads as a date or date-time.
    Time(DateTime<FixedOffset>),
    /// Any other string.
    Text(String),
}

impl KeyValue {
    /// Reads a JSON value; `None` for null, booleans, arrays and objects.
    pub fn from_json(value: &Value) -> Option<KeyValue> {
        match value {
            Value::Number(n) => n.as_f64().map(KeyValue::Number),
            Value::String(s) => {
                Some(parse_time(s).map_or_else(|| KeyValue::Text(s.clone()), KeyValue::Time))
            }
            _ => None,
        }
    }

    /// The order of two values of the same kind; `None` across kinds.
    pub fn compare(&self, other: &KeyValue) -> Option<Ordering> {
        match (self, other) {
            (KeyValue::Number(a), KeyValue::Number(b)) => a.partial_cmp(b),
            (KeyValue::Time(a), KeyValue::Time(b)) => Some(a.cmp(b)),
            (KeyValue::Text(a), KeyValue::Text(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// How far `self` is after `earlier`: seconds between date-times, the difference of numbers.
    /// `None` for text or mixed kinds.
    pub fn span_since(&self, earlier: &KeyValue) -> Option<Span> {
        match (self, earlier) {
            (KeyValue::Number(a), KeyValue::Number(b)) => Some(Span::Units(a - b)),
            (KeyValue::Time(a), KeyValue::Time(b)) => {
                Some(Span::Seconds((*a - *b).num_milliseconds() as f64 / 1000.0))
            }
            _ => None,
        }
    }
}

/// The distance between two bookmark values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    /// Seconds of source time (date-time bookmarks).
    Seconds(f64),
    /// Units of a numeric bookmark (ids, sequence numbers).
    Units(f64),
}

impl Span {
    /// The number, in seconds or units.
    pub fn amount(self) -> f64 {
        match self {
            Span::Seconds(s) | Span::Units(s) => s,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Span::Seconds(s) if s.abs() >= 86_400.0 => write!(f, "{:.1} days", s / 86_400.0),
            Span::Seconds(s) if s.abs() >= 3_600.0 => write!(f, "{:.1} hours", s / 3_600.0),
            Span::Seconds(s) => write!(f, "{s:.1} s"),
            Span::Units(u) => write!(f, "{u} units"),
        }
    }
}

/// Compares two JSON values as bookmark values; `None` when they cannot be ordered.
pub fn compare_json(a: &Value, b: &Value) -> Option<Ordering> {
    KeyValue::from_json(a)?.compare(&KeyValue::from_json(b)?)
}

/// Parses the date and date-time spellings taps use.
pub fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return t.and_local_timezone(utc).single();
        }
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    date.and_hms_opt(0, 0, 0)?.and_local_timezone(utc).single()
}

/// A value by field name, or by a dotted path (`address.city`) when no field has that name.
pub fn lookup<'a>(record: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(v) = record.get(key) {
        return Some(v);
    }
    key.split('.').try_fold(record, |v, part| v.get(part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_compare_as_instants_across_spellings() {
        let a = json!("2024-01-01T10:00:00+02:00");
        let b = json!("2024-01-01T09:00:00Z");
        assert_eq!(compare_json(&a, &b), Some(Ordering::Less));
        assert_eq!(
            compare_json(&json!("2024-01-02"), &json!("2024-01-01 23:59:59")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare_json(&json!(10), &json!(9.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare_json(&json!("b"), &json!("a")),
            Some(Ordering::Greater)
        );
        assert_eq!(compare_json(&json!(1), &json!("a")), None);
        assert_eq!(compare_json(&json!(null), &json!(1)), None);
    }

    #[test]
    fn spans_are_in_seconds_or_units() {
        let later = KeyValue::from_json(&json!("2024-01-02T00:00:00Z")).unwrap();
        let earlier = KeyValue::from_json(&json!("2024-01-01")).unwrap();
        assert_eq!(later.span_since(&earlier), Some(Span::Seconds(86_400.0)));
        assert_eq!(later.span_since(&earlier).unwrap().to_string(), "1.0 days");
        let n = KeyValue::from_json(&json!(15)).unwrap();
        assert_eq!(
            n.span_since(&KeyValue::Number(5.0)),
            Some(Span::Units(10.0))
        );
        assert_eq!(n.span_since(&earlier), None);
    }

    #[test]
    fn lookup_follows_dotted_paths() {
        let r = json!({"a.b": 1, "a": {"c": 2}});
        assert_eq!(lookup(&r, "a.b"), Some(&json!(1)));
        assert_eq!(lookup(&r, "a.c"), Some(&json!(2)));
        assert_eq!(lookup(&r, "a.d"), None);
    }
}
