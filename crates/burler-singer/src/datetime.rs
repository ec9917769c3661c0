//! The one date-time parser and formatter of the workspace: bookmarks, record conformance, the
//! test kit and stream maps all read date-times the same way.
//!
//! [`parse`] accepts what Singer sources send: RFC 3339 with any offset (with or without the
//! colon), a space instead of `T`, no offset (read as UTC), a missing seconds field, or a plain
//! `YYYY-MM-DD` date (midnight UTC). The common RFC 3339 layout is read digit by digit (replication
//! keys are parsed once per record); everything else goes to chrono.
//!
//! Two spellings come out: [`format`] for bookmarks (UTC, `Z`, a fraction only when there is one)
//! and [`format_micros`] for records (UTC, always six fraction digits, as singer-python writes
//! them).
//!
//! ```
//! use burler_singer::datetime;
//! let t = datetime::parse("2024-01-02 05:04:05+0200").unwrap();
//! assert_eq!(datetime::format(&t), "2024-01-02T03:04:05Z");
//! assert_eq!(datetime::format_micros(&t), "2024-01-02T03:04:05.000000Z");
//! assert_eq!(datetime::parse("2024-01-02"), datetime::parse("2024-01-02T00:00:00Z"));
//! ```

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// Parses a date-time in any of the layouts the module docs list; `None` for anything else.
pub fn parse(s: &str) -> Option<DateTime<FixedOffset>> {
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
    parse_other_layouts(s)
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
#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// True for the JSON string `"YYYY-MM-DDTHH:MM:SSZ"` holding a valid date-time (the layout most
/// APIs and burler itself write): such strings order as the instants they name, so a bookmark
/// can be tracked by comparing their bytes.
#[inline]
pub fn is_canonical_utc_json(json: &[u8]) -> bool {
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

#[inline]
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The layouts besides RFC 3339: offsets without a colon, a space for `T`, no offset (UTC), no
/// seconds, a date alone.
fn parse_other_layouts(s: &str) -> Option<DateTime<FixedOffset>> {
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(naive.and_utc().with_timezone(&utc));
        }
    }
    if s.len() == 10 {
        let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().with_timezone(&utc));
    }
    None
}

/// Formats a date-time as RFC 3339 in UTC (`2024-01-02T03:04:05.123456Z`, fraction only when non-zero).
pub fn format(dt: &DateTime<FixedOffset>) -> String {
    dt.with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Formats a date-time as records carry it: RFC 3339 in UTC with microseconds
/// (`2024-01-02T03:04:05.000000Z`), as singer-python's transformer writes date-times.
pub fn format_micros(dt: &DateTime<FixedOffset>) -> String {
    dt.with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(parse("2024-01-01t00:00:00Z").is_some());
        assert!(parse("2024-01-01T00:00:00.1234567891Z").is_some());
    }

    #[test]
    fn every_layout_sources_send_reads_as_the_same_instant() {
        let want = parse("2024-01-02T03:04:00Z");
        for s in [
            "2024-01-02T05:04:00+02:00",
            "2024-01-02T05:04:00+0200",
            "2024-01-02 05:04:00+02:00",
            "2024-01-02 03:04:00",
            "2024-01-02T03:04:00",
            "2024-01-02T03:04",
            "2024-01-02 03:04",
        ] {
            assert_eq!(parse(s), want, "{s}");
        }
        assert_eq!(parse("2024-01-02"), parse("2024-01-02T00:00:00Z"));
        for bad in ["2024-01-02-xyz", "abc", "2024-13-01", "20240102", ""] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn both_spellings_are_utc() {
        let t = parse("2024-01-02T05:04:05.25+02:00").unwrap();
        assert_eq!(format(&t), "2024-01-02T03:04:05.250Z");
        assert_eq!(format_micros(&t), "2024-01-02T03:04:05.250000Z");
    }
}
