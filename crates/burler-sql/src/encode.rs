//! Writing database values as JSON without a `serde_json::Value`: RFC 3339 dates and times from
//! day and microsecond counts (and from the text forms databases print), exact decimal digits as
//! JSON numbers, JSON documents as they are, bytes as base64.
//!
//! Everything here is dialect-free; the dialects turn their wire values into these calls.

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days from 1970-01-01 to the proleptic Gregorian date `y-m-d` (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01, as (year, month, day).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A short piece of text built on the stack (a date, a time, a date-time), written as a JSON string.
#[derive(Clone, Copy)]
pub(crate) struct ShortText {
    bytes: [u8; 40],
    len: usize,
}

impl ShortText {
    fn new() -> Self {
        ShortText {
            bytes: [0; 40],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        if self.len < self.bytes.len() {
            self.bytes[self.len] = b;
            self.len += 1;
        }
    }

    fn digits(&mut self, value: u64, width: usize) {
        let mut buf = [b'0'; 20];
        let mut v = value;
        let mut i = buf.len();
        while v > 0 && i > 0 {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let used = buf.len() - i;
        for _ in used..width {
            self.push(b'0');
        }
        for &b in &buf[i..] {
            self.push(b);
        }
    }

    /// The text (always ASCII).
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    fn date(&mut self, days: i64) {
        let (y, m, d) = civil_from_days(days);
        self.digits(y.unsigned_abs(), 4);
        self.push(b'-');
        self.digits(u64::from(m), 2);
        self.push(b'-');
        self.digits(u64::from(d), 2);
    }

    /// `HH:MM:SS`, then `.fff` or `.ffffff` only when the fraction needs them (as chrono's
    /// `SecondsFormat::AutoSi` writes it, so bookmarks compare as the framework formats them).
    fn time_of_day(&mut self, micros: i64) {
        let secs = micros / MICROS_PER_SECOND;
        let frac = micros % MICROS_PER_SECOND;
        self.digits((secs / 3600) as u64, 2);
        self.push(b':');
        self.digits((secs / 60 % 60) as u64, 2);
        self.push(b':');
        self.digits((secs % 60) as u64, 2);
        if frac != 0 {
            self.push(b'.');
            if frac % 1000 == 0 {
                self.digits((frac / 1000) as u64, 3);
            } else {
                self.digits(frac as u64, 6);
            }
        }
    }

    fn offset(&mut self, offset_seconds: i32) {
        if offset_seconds == 0 {
            self.push(b'Z');
            return;
        }
        self.push(if offset_seconds < 0 { b'-' } else { b'+' });
        let abs = offset_seconds.unsigned_abs();
        self.digits(u64::from(abs / 3600), 2);
        self.push(b':');
        self.digits(u64::from(abs / 60 % 60), 2);
    }
}

impl Serialize for ShortText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Years RFC 3339 can write (four digits, after year 0).
fn in_rfc3339_range(days: i64) -> bool {
    // 0001-01-01 and 9999-12-31.
    (-719_162..=2_932_896).contains(&days)
}

/// `YYYY-MM-DD` for `days` after 1970-01-01; `None` outside years 1–9999.
pub(crate) fn format_date(days: i64) -> Option<ShortText> {
    if !in_rfc3339_range(days) {
        return None;
    }
    let mut t = ShortText::new();
    t.date(days);
    Some(t)
}

/// RFC 3339 in UTC (`…Z`) for `micros` after 1970-01-01T00:00:00Z; `None` outside years 1–9999.
pub(crate) fn format_timestamp(micros: i64) -> Option<ShortText> {
    let days = micros.div_euclid(MICROS_PER_DAY);
    if !in_rfc3339_range(days) {
        return None;
    }
    let mut t = ShortText::new();
    t.date(days);
    t.push(b'T');
    t.time_of_day(micros.rem_euclid(MICROS_PER_DAY));
    t.push(b'Z');
    Some(t)
}

/// RFC 3339 `partial-time` (no zone) or `full-time` (with the zone's offset east of UTC).
pub(crate) fn format_time(micros_of_day: i64, offset_seconds: Option<i32>) -> Option<ShortText> {
    if !(0..=MICROS_PER_DAY).contains(&micros_of_day) {
        return None;
    }
    let mut t = ShortText::new();
    // 24:00:00 is a valid PostgreSQL time; RFC 3339 has no such time, 23:59:59.999999 is the last.
    t.time_of_day(micros_of_day.min(MICROS_PER_DAY - 1));
    if let Some(offset) = offset_seconds {
        t.offset(offset);
    }
    Some(t)
}

/// Reads `n` ASCII digits at the start of `s`.
fn take_digits(s: &mut &[u8], n: usize) -> Option<u32> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = s[..n]
        .iter()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    *s = &s[n..];
    Some(v)
}

fn take_byte(s: &mut &[u8], b: u8) -> bool {
    if s.first() == Some(&b) {
        *s = &s[1..];
        true
    } else {
        false
    }
}

/// Parses `YYYY-MM-DD` at the start of `s`: days after 1970-01-01.
fn take_date(s: &mut &[u8]) -> Option<i64> {
    let y = take_digits(s, 4)?;
    if !take_byte(s, b'-') {
        return None;
    }
    let m = take_digits(s, 2)?;
    if !take_byte(s, b'-') {
        return None;
    }
    let d = take_digits(s, 2)?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, d);
    // 2024-02-31 would otherwise roll over into March.
    (civil_from_days(days) == (i64::from(y), m, d)).then_some(days)
}

/// Parses `HH:MM[:SS[.fraction]]` at the start of `s`: microseconds of the day.
fn take_time(s: &mut &[u8]) -> Option<i64> {
    let h = take_digits(s, 2)?;
    if !take_byte(s, b':') {
        return None;
    }
    let m = take_digits(s, 2)?;
    let mut sec = 0;
    let mut micros = 0i64;
    if take_byte(s, b':') {
        sec = take_digits(s, 2)?;
        if take_byte(s, b'.') {
            let mut scale = 100_000;
            let mut any = false;
            while let Some(&b) = s.first().filter(|b| b.is_ascii_digit()) {
                micros += i64::from(b - b'0') * scale;
                scale /= 10;
                any = true;
                *s = &s[1..];
            }
            if !any {
                return None;
            }
        }
    }
    if h > 24 || m > 59 || sec > 60 || (h == 24 && (m, sec, micros) != (0, 0, 0)) {
        return None;
    }
    // A leap second is written as the last microsecond of its minute.
    let (sec, micros) = if sec == 60 {
        (59, 999_999)
    } else {
        (sec, micros)
    };
    Some((i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec)) * MICROS_PER_SECOND + micros)
}

/// Parses a zone at the start of `s`: `Z`, `±HH`, `±HHMM`, `±HH:MM`, `±HH:MM:SS`; seconds east.
fn take_offset(s: &mut &[u8]) -> Option<i32> {
    if take_byte(s, b'Z') || take_byte(s, b'z') {
        return Some(0);
    }
    let sign = match s.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    *s = &s[1..];
    let h = take_digits(s, 2)?;
    let colon = take_byte(s, b':');
    let m = take_digits(s, 2).unwrap_or(0);
    let sec = if colon && take_byte(s, b':') {
        take_digits(s, 2)?
    } else {
        0
    };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * i32::try_from(h * 3600 + m * 60 + sec).ok()?)
}

/// Parses an ISO 8601 date-time as PostgreSQL (`DateStyle = ISO`) and SQLite print them:
/// `YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][zone]`. A value without a zone is UTC. Returns microseconds
/// after 1970-01-01T00:00:00Z; `None` for anything else (`infinity`, BC dates, other layouts).
pub(crate) fn parse_timestamp_text(text: &str) -> Option<i64> {
    let mut s = text.trim().as_bytes();
    let days = take_date(&mut s)?;
    let mut micros = 0;
    let mut offset = 0;
    if take_byte(&mut s, b' ') || take_byte(&mut s, b'T') || take_byte(&mut s, b't') {
        micros = take_time(&mut s)?;
        take_byte(&mut s, b' ');
        if !s.is_empty() {
            offset = take_offset(&mut s)?;
        }
    }
    s.is_empty()
        .then(|| days * MICROS_PER_DAY + micros - i64::from(offset) * MICROS_PER_SECOND)
}

/// Parses `YYYY-MM-DD` (a longer date-time is cut to its date): days after 1970-01-01.
pub(crate) fn parse_date_text(text: &str) -> Option<i64> {
    let mut s = text.trim().as_bytes();
    take_date(&mut s)
}

/// Parses `HH:MM[:SS[.f]][zone]`: microseconds of the day and the zone's offset, if any.
pub(crate) fn parse_time_text(text: &str) -> Option<(i64, Option<i32>)> {
    let mut s = text.trim().as_bytes();
    let micros = take_time(&mut s)?;
    let offset = if s.is_empty() {
        None
    } else {
        Some(take_offset(&mut s)?)
    };
    s.is_empty().then_some((micros, offset))
}

/// A JSON number, or document, given as its text: written as it is when it is valid JSON, else
/// as a string (so a record never holds broken JSON).
pub(crate) struct RawJson<'a>(pub(crate) &'a str);

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<&RawValue>(self.0) {
            Ok(raw) => raw.serialize(s),
            Err(_) => s.serialize_str(self.0),
        }
    }
}

/// An exact decimal given as its text (`-12.3400`, `1e10`), written as a JSON number, or as a
/// string when `as_string`; NaN and infinities (not JSON numbers) are written `null`.
pub(crate) struct Decimal<'a> {
    pub(crate) text: &'a str,
    pub(crate) as_string: bool,
}

impl Serialize for Decimal<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.text.trim();
        if !is_json_number(text) {
            return s.serialize_none();
        }
        if self.as_string {
            s.serialize_str(text)
        } else {
            RawJson(text).serialize(s)
        }
    }
}

/// Whether `text` is a JSON number (`-0.5`, `12`, `1.5E-7`; not `+1`, `.5`, `NaN`).
pub(crate) fn is_json_number(text: &str) -> bool {
    let mut s = text.as_bytes();
    take_byte(&mut s, b'-');
    let int = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if int == 0 || (int > 1 && s[0] == b'0') {
        return false;
    }
    s = &s[int..];
    if take_byte(&mut s, b'.') {
        let frac = s.iter().take_while(|b| b.is_ascii_digit()).count();
        if frac == 0 {
            return false;
        }
        s = &s[frac..];
    }
    if take_byte(&mut s, b'e') || take_byte(&mut s, b'E') {
        if !take_byte(&mut s, b'+') {
            take_byte(&mut s, b'-');
        }
        let exp = s.iter().take_while(|b| b.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        s = &s[exp..];
    }
    s.is_empty()
}

/// Bytes written as standard base64 (no `Value`, no intermediate string for serde_json).
pub(crate) struct Base64<'a>(pub(crate) &'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let shown =
            base64::display::Base64Display::new(self.0, &base64::engine::general_purpose::STANDARD);
        s.collect_str(&shown)
    }
}

/// A float, or `null` when it is not a JSON number (NaN, ±infinity).
pub(crate) struct Float(pub(crate) f64);

impl Serialize for Float {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            s.serialize_none()
        }
    }
}

/// A date-time given as text, written in RFC 3339 UTC when it parses, else as it is.
pub(crate) struct TimestampText<'a>(pub(crate) &'a str);

impl Serialize for TimestampText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match parse_timestamp_text(self.0).and_then(format_timestamp) {
            Some(t) => t.serialize(s),
            None => s.serialize_str(self.0),
        }
    }
}

/// A date given as text, written `YYYY-MM-DD` when it parses, else as it is.
pub(crate) struct DateText<'a>(pub(crate) &'a str);

impl Serialize for DateText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match parse_date_text(self.0).and_then(format_date) {
            Some(t) => t.serialize(s),
            None => s.serialize_str(self.0),
        }
    }
}

/// A time of day given as text, written as an RFC 3339 time when it parses, else as it is.
pub(crate) struct TimeText<'a>(pub(crate) &'a str);

impl Serialize for TimeText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match parse_time_text(self.0).and_then(|(m, o)| format_time(m, o)) {
            Some(t) => t.serialize(s),
            None => s.serialize_str(self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(v: T) -> String {
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn civil_dates_round_trip_over_the_rfc3339_years() {
        for days in [-719_162, -1, 0, 1, 10_957, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(format_date(-719_163).map(|t| t.as_str().to_owned()), None);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_the_fraction_they_need() {
        let at = |s: &str| {
            parse_timestamp_text(s)
                .and_then(format_timestamp)
                .map(|t| t.as_str().to_owned())
        };
        assert_eq!(
            at("2024-01-31 13:45:00"),
            Some("2024-01-31T13:45:00Z".into())
        );
        assert_eq!(
            at("2024-01-31 13:45:00.5+02"),
            Some("2024-01-31T11:45:00.500Z".into())
        );
        assert_eq!(
            at("2024-01-31T13:45:00.123456-05:30"),
            Some("2024-01-31T19:15:00.123456Z".into())
        );
        assert_eq!(at("2024-01-31T13:45Z"), Some("2024-01-31T13:45:00Z".into()));
        assert_eq!(at("2024-01-31"), Some("2024-01-31T00:00:00Z".into()));
        assert_eq!(
            at("1999-12-31 23:59:60"),
            Some("1999-12-31T23:59:59.999999Z".into())
        );
        assert_eq!(at("infinity"), None);
        assert_eq!(at("2024-02-30 00:00:00"), None);
        assert_eq!(at("0044-03-15 12:00:00 BC"), None);
        assert_eq!(json(TimestampText("not a date")), "\"not a date\"");
    }

    #[test]
    fn times_keep_their_zone_and_dates_their_day() {
        let t = |s: &str| json(TimeText(s));
        assert_eq!(t("13:45:00"), "\"13:45:00\"");
        assert_eq!(t("13:45:00.25+02"), "\"13:45:00.250+02:00\"");
        assert_eq!(t("24:00:00"), "\"23:59:59.999999\"");
        assert_eq!(t("00:00:01-03:30"), "\"00:00:01-03:30\"");
        assert_eq!(json(DateText("2024-01-31")), "\"2024-01-31\"");
    }

    #[test]
    fn decimals_are_exact_numbers_or_strings_and_never_invalid_json() {
        let n = |t: &str, s: bool| {
            json(Decimal {
                text: t,
                as_string: s,
            })
        };
        assert_eq!(
            n("12345678901234567890.000000001", false),
            "12345678901234567890.000000001"
        );
        assert_eq!(n("-0.50", true), "\"-0.50\"");
        assert_eq!(n("NaN", false), "null");
        assert_eq!(n("Infinity", true), "null");
        assert_eq!(json(Float(f64::NAN)), "null");
        for bad in ["+1", ".5", "1.", "01", "1e", "", "-"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn json_documents_are_written_as_documents_and_bytes_as_base64() {
        assert_eq!(json(RawJson(r#"{"a": [1, 2]}"#)), r#"{"a": [1, 2]}"#);
        assert_eq!(json(RawJson("{broken")), "\"{broken\"");
        assert_eq!(json(Base64(&[0, 1, 2, 255])), "\"AAEC/w==\"");
    }
}
