//! Bookmark values: replication-key values read from JSON and compared the way Singer taps order
//! them — integers exactly (past 2^53 too), numbers as numbers, date-times as instants (any
//! spelling [`crate::datetime::parse`] reads), other strings as text. One ordering for the
//! framework that writes bookmarks and the tools that judge them.
//!
//! ```
//! use burler_singer::BookmarkValue;
//! use serde_json::json;
//! let a = BookmarkValue::from_json(&json!("2024-01-01T10:00:00+02:00")).unwrap();
//! let b = BookmarkValue::from_json(&json!("2024-01-01 09:00:00")).unwrap();
//! assert!(a.is_before(&b));
//! let big = BookmarkValue::from_json(&json!(9_007_199_254_740_993_u64)).unwrap();
//! assert!(BookmarkValue::from_json(&json!(9_007_199_254_740_992_u64)).unwrap().is_before(&big));
//! ```

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

/// A replication-key value that can be compared with another one of the same kind.
#[derive(Debug, Clone, PartialEq)]
pub enum BookmarkValue {
    /// An RFC 3339 date-time (compared as an instant).
    DateTime(DateTime<FixedOffset>),
    /// An integer (any `i64` or `u64`, compared exactly).
    Integer(i128),
    /// A floating-point number.
    Float(f64),
    /// Any other string (compared as text).
    Text(String),
}

impl BookmarkValue {
    /// Reads a JSON value as a bookmark; `None` for null, booleans, arrays and objects.
    pub fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(Self::from_text(s)),
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .map(Self::Integer)
                .or_else(|| n.as_f64().map(Self::Float)),
            _ => None,
        }
    }

    /// Reads the JSON text of a value (as written by serde_json) as a bookmark; `None` where
    /// [`from_json`](Self::from_json) gives `None`, and for text that is not JSON.
    ///
    /// The common case, a string without escapes, is read in place: no `Value`, no allocation for a
    /// date-time.
    pub fn from_json_bytes(json: &[u8]) -> Option<Self> {
        if let [b'"', inner @ .., b'"'] = json
            && !inner.contains(&b'\\')
            && let Ok(text) = std::str::from_utf8(inner)
        {
            return Some(Self::from_text(text));
        }
        serde_json::from_slice::<Value>(json)
            .ok()
            .and_then(|v| Self::from_json(&v))
    }

    /// Reads a string: a date-time if it parses as RFC 3339 (or a plain date), else text.
    pub fn from_text(s: &str) -> Self {
        if let Some(dt) = crate::datetime::parse(s) {
            return Self::DateTime(dt);
        }
        Self::Text(s.to_owned())
    }

    /// The value as it goes into the state. Date-times are written in UTC with `Z`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::DateTime(dt) => Value::String(crate::datetime::format(dt)),
            Self::Integer(i) => i64::try_from(*i)
                .map(Value::from)
                .or_else(|_| u64::try_from(*i).map(Value::from))
                .unwrap_or(Value::Null),
            Self::Float(f) => Value::from(*f),
            Self::Text(s) => Value::String(s.clone()),
        }
    }

    /// Compares two values of the same kind; values of different kinds do not compare.
    pub fn compare(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Self::DateTime(a), Self::DateTime(b)) => Some(a.cmp(b)),
            (Self::Integer(a), Self::Integer(b)) => Some(a.cmp(b)),
            (Self::Integer(a), Self::Float(b)) => (*a as f64).partial_cmp(b),
            (Self::Float(a), Self::Integer(b)) => a.partial_cmp(&(*b as f64)),
            (Self::Float(a), Self::Float(b)) => a.partial_cmp(b),
            (Self::Text(a), Self::Text(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// True when `self` is strictly before `other`.
    pub fn is_before(&self, other: &Self) -> bool {
        self.compare(other) == Some(Ordering::Less)
    }

    /// True for date-time values.
    pub fn is_datetime(&self) -> bool {
        matches!(self, Self::DateTime(_))
    }
}

/// Compares two JSON values as bookmark values; `None` when they cannot be ordered.
pub fn compare_json(a: &Value, b: &Value) -> Option<Ordering> {
    BookmarkValue::from_json(a)?.compare(&BookmarkValue::from_json(b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> BookmarkValue {
        BookmarkValue::from_text(s)
    }

    #[test]
    fn datetimes_compare_as_instants_across_offsets() {
        let a = dt("2024-01-01T10:00:00+02:00");
        let b = dt("2024-01-01T09:00:00Z");
        assert!(a.is_before(&b));
        assert_eq!(a.to_json(), Value::from("2024-01-01T08:00:00Z"));
    }

    #[test]
    fn plain_dates_and_naive_times_are_datetimes() {
        assert!(dt("2024-01-01").is_datetime());
        assert!(dt("2024-01-01 10:00:00").is_datetime());
        assert!(!dt("abc").is_datetime());
        assert!(!dt("2024-01-01-xyz").is_datetime());
    }

    #[test]
    fn json_text_reads_like_the_value() {
        for text in [
            r#""2024-01-01T10:00:00+02:00""#,
            r#""plain""#,
            r#""with \"escape\"""#,
            "42",
            "-7",
            "9.5",
            "18446744073709551615",
            "null",
            "true",
            "[1]",
            r#"{"a":1}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                BookmarkValue::from_json_bytes(text.as_bytes()),
                BookmarkValue::from_json(&value),
                "{text}"
            );
        }
        assert_eq!(BookmarkValue::from_json_bytes(b"not json"), None);
    }

    #[test]
    fn numbers_compare_numerically() {
        let nine = BookmarkValue::from_json(&Value::from(9)).unwrap();
        let ten = BookmarkValue::from_json(&Value::from(10)).unwrap();
        assert!(nine.is_before(&ten));
        assert!(nine.is_before(&BookmarkValue::Float(9.5)));
        assert_eq!(BookmarkValue::from_json(&Value::Null), None);
    }
}
