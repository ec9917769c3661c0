//! Bookmarks: comparable replication-key values and the strategies that decide when one is committed.
//!
//! A bookmark is committed (written into a STATE) only after every record it covers is written,
//! never moves backwards, and for date-time keys never passes the moment the sync started: records
//! changed while the sync ran are read again by the next run instead of being skipped.

use std::cmp::Ordering;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::Value;

/// When a stream writes its bookmark into a STATE message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookmarkStrategy {
    /// Only once the stream has finished.
    EndOfSync,
    /// After every `n` records (and at the end).
    EveryN(u64),
    /// At most once per interval (and at the end).
    Every(Duration),
}

impl Default for BookmarkStrategy {
    fn default() -> Self {
        BookmarkStrategy::EveryN(10_000)
    }
}

/// A replication-key value that can be compared with another one of the same kind.
#[derive(Debug, Clone, PartialEq)]
pub enum BookmarkValue {
    /// An RFC 3339 date-time (compared as an instant).
    DateTime(DateTime<FixedOffset>),
    /// An integer.
    Integer(i64),
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
        if let Some(dt) = parse_datetime(s) {
            return Self::DateTime(dt);
        }
        Self::Text(s.to_owned())
    }

    /// The value as it goes into the state. Date-times are written in UTC with `Z`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::DateTime(dt) => Value::String(format_datetime(dt)),
            Self::Integer(i) => Value::from(*i),
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

/// Parses an RFC 3339 date-time, also accepting a space for `T`, a missing offset (read as UTC) and a
/// plain `YYYY-MM-DD` date (midnight UTC).
pub fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    // Cheap pre-check so plain strings do not pay for a full parse attempt.
    let b = s.as_bytes();
    if b.len() < 10 || !b[0].is_ascii_digit() || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if let Some(dt) = parse_rfc3339_strict(b) {
        return Some(dt);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt);
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(naive.and_utc().with_timezone(&utc));
        }
    }
    if s.len() == 10 {
        let date = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().with_timezone(&utc));
    }
    None
}

/// The common RFC 3339 layout, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, read digit by digit:
/// replication keys are parsed once per record, and this is several times cheaper than chrono's
/// general parser. Anything else (lower-case `t`, a space, leap seconds, long fractions) is `None`
/// and left to chrono.
fn parse_rfc3339_strict(b: &[u8]) -> Option<DateTime<FixedOffset>> {
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let (month, day) = (digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let [b'.', tail @ ..] = rest {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        nanos = digits(&tail[..n])? * 10u32.pow(9 - n as u32);
        rest = &tail[n..];
    }
    let offset_secs = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    if second > 59 {
        return None;
    }
    let naive = chrono::NaiveDate::from_ymd_opt(year, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = FixedOffset::east_opt(offset_secs)?;
    naive.and_local_timezone(offset).single()
}

/// The value of a run of ASCII digits (at most 9), or `None` for anything else.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// True for the JSON string `"YYYY-MM-DDTHH:MM:SSZ"` holding a valid date-time (the layout most
/// APIs and burler itself write): such strings order as the instants they name.
pub(crate) fn is_canonical_utc_json(json: &[u8]) -> bool {
    let [b'"', y @ .., b'Z', b'"'] = json else {
        return false;
    };
    let [
        y1,
        y2,
        y3,
        y4,
        b'-',
        m1,
        m2,
        b'-',
        d1,
        d2,
        b'T',
        h1,
        h2,
        b':',
        n1,
        n2,
        b':',
        s1,
        s2,
    ] = *y
    else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (
        digits(&[y1, y2, y3, y4]),
        digits(&[m1, m2]),
        digits(&[d1, d2]),
    ) else {
        return false;
    };
    let time_ok = digits(&[h1, h2]).is_some_and(|h| h < 24)
        && digits(&[n1, n2]).is_some_and(|m| m < 60)
        && digits(&[s1, s2]).is_some_and(|s| s < 60);
    time_ok && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats a date-time as RFC 3339 in UTC (`2024-01-02T03:04:05.123456Z`, fraction only when non-zero).
pub fn format_datetime(dt: &DateTime<FixedOffset>) -> String {
    dt.with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
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
    fn the_fast_parser_agrees_with_chrono() {
        for s in [
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:05.5Z",
            "2024-01-02T03:04:05.123456789Z",
            "2024-01-02T03:04:05+02:00",
            "2024-01-02T03:04:05.25-05:30",
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00+00:00",
        ] {
            let fast = parse_rfc3339_strict(s.as_bytes());
            assert!(fast.is_some(), "{s}");
            assert_eq!(fast, DateTime::parse_from_rfc3339(s).ok(), "{s}");
        }
        for s in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+2:00",
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01T00:00:00.1234567891Z",
        ] {
            assert_eq!(parse_rfc3339_strict(s.as_bytes()), None, "{s}");
        }
        // What the fast parser leaves out still parses the general way.
        assert!(dt("2024-01-01t00:00:00Z").is_datetime());
        assert!(dt("2024-01-01T00:00:00.1234567891Z").is_datetime());
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
