//! Comparing replication-key and bookmark values the way Singer taps order them: numbers as
//! numbers, date-times (RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`) as instants, other strings
//! as text.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

/// A bookmark value as it is compared: the protocol crate's one ordering (exact integers,
/// numbers, date-times as instants, text), shared with the framework that writes bookmarks.
pub use burler_singer::BookmarkValue as KeyValue;

/// How far `later` is after `earlier`: seconds between date-times, the difference of numbers.
/// `None` for text or mixed kinds.
pub fn span_since(later: &KeyValue, earlier: &KeyValue) -> Option<Span> {
    use KeyValue as K;
    let number = |v: &KeyValue| match v {
        K::Integer(i) => Some(*i as f64),
        K::Float(f) => Some(*f),
        _ => None,
    };
    match (later, earlier) {
        (K::DateTime(a), K::DateTime(b)) => {
            Some(Span::Seconds((*a - *b).num_milliseconds() as f64 / 1000.0))
        }
        _ => Some(Span::Units(number(later)? - number(earlier)?)),
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

pub use burler_singer::compare_json;

/// Parses the date and date-time spellings taps use (the workspace's one parser).
pub fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    burler_singer::datetime::parse(s)
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
    use std::cmp::Ordering;

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
        assert_eq!(span_since(&later, &earlier), Some(Span::Seconds(86_400.0)));
        assert_eq!(
            span_since(&later, &earlier).unwrap().to_string(),
            "1.0 days"
        );
        let n = KeyValue::from_json(&json!(15)).unwrap();
        assert_eq!(
            span_since(&n, &KeyValue::Float(5.0)),
            Some(Span::Units(10.0))
        );
        assert_eq!(span_since(&n, &earlier), None);
    }

    #[test]
    fn integer_ids_past_two_to_the_53_keep_their_order() {
        let (a, b) = (
            json!(9_007_199_254_740_993_u64),
            json!(9_007_199_254_740_992_u64),
        );
        assert_eq!(compare_json(&a, &b), Some(Ordering::Greater));
        assert_eq!(
            compare_json(&json!(u64::MAX), &json!(i64::MAX)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn lookup_follows_dotted_paths() {
        let r = json!({"a.b": 1, "a": {"c": 2}});
        assert_eq!(lookup(&r, "a.b"), Some(&json!(1)));
        assert_eq!(lookup(&r, "a.c"), Some(&json!(2)));
        assert_eq!(lookup(&r, "a.d"), None);
    }
}
