//! What the framework reads from a tap's typed config: the [`TapConfig`] trait (so far, the
//! `start_date`), and the [`StartDate`] type that parses it with a clear message.
//!
//! The typed config is the source of truth: `#[burler::config]` implements [`TapConfig`] from the
//! struct's own field, so no key is read by name from the untyped map (and no field needs
//! `#[allow(dead_code)]`).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// What the framework reads from a tap's config. `#[burler::config]` implements it; implement it
/// by hand for a config type without the attribute.
///
/// ```
/// #[burler::config]
/// struct Config {
///     /// Where a first run starts.
///     start_date: Option<burler::StartDate>,
/// }
/// use burler::TapConfig;
/// let c: Config = burler::serde_json::from_str(r#"{"start_date": "2024-01-01T00:00:00Z"}"#).unwrap();
/// assert_eq!(c.start_date().unwrap().to_rfc3339(), "2024-01-01T00:00:00+00:00");
/// ```
pub trait TapConfig {
    /// Where an INCREMENTAL stream without a bookmark starts (`None`: from the beginning).
    fn start_date(&self) -> Option<DateTime<Utc>> {
        None
    }
}

/// An untyped config reads `start_date` by name: the only way it can. It reads it as every date-time
/// of the workspace is read ([`burler_singer::datetime::parse`]: a plain date or a time without
/// an offset is UTC), since untyped configs come from specs that often declare a `date`; the runner
/// refuses a value that does not parse before the sync, saying the format expected.
impl TapConfig for Value {
    fn start_date(&self) -> Option<DateTime<Utc>> {
        self.get("start_date")
            .and_then(Value::as_str)
            .and_then(parse_untyped_start_date)
    }
}

/// What a typed `start_date` ([`StartDate`], a `date-time` in a config schema) must be, for
/// messages: every error about one says the same.
pub(crate) const DATE_TIME_EXPECTED: &str =
    "an RFC 3339 date-time with an offset, e.g. 2024-01-01T00:00:00Z";

/// What the `start_date` of an untyped config must be, for messages.
pub(crate) const UNTYPED_DATE_TIME_EXPECTED: &str = "a date-time, e.g. 2024-01-01T00:00:00Z \
     (a date, e.g. 2024-01-01, or a time without an offset is read as UTC)";

/// Reads the `start_date` of an untyped config, as the workspace reads date-times.
pub(crate) fn parse_untyped_start_date(text: &str) -> Option<DateTime<Utc>> {
    burler_singer::datetime::parse(text).map(|d| d.with_timezone(&Utc))
}

/// Reads a typed `start_date`: RFC 3339 with an offset only (a date without a time or an offset
/// would leave the zone to a guess).
fn parse_start_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A `start_date` setting: an RFC 3339 date-time with an offset (`2024-01-01T00:00:00Z`). A value
/// without one is refused with a message saying the expected format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StartDate(pub DateTime<Utc>);

impl StartDate {
    /// The date-time.
    pub fn get(&self) -> DateTime<Utc> {
        self.0
    }
}

impl fmt::Display for StartDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&burler_singer::datetime::format(&self.0.fixed_offset()))
    }
}

impl<'de> Deserialize<'de> for StartDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_start_date(&text)
            .map(StartDate)
            .ok_or_else(|| serde::de::Error::custom(format!("expected {DATE_TIME_EXPECTED}")))
    }
}

impl schemars::JsonSchema for StartDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StartDate".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date-time"})
    }

    fn inline_schema() -> bool {
        true
    }
}

/// A field type that can hold a `start_date` (used by `#[burler::config]`).
pub trait IntoStartDate {
    /// The date-time, if set.
    fn as_start_date(&self) -> Option<DateTime<Utc>>;
}

impl IntoStartDate for StartDate {
    fn as_start_date(&self) -> Option<DateTime<Utc>> {
        Some(self.0)
    }
}

impl IntoStartDate for DateTime<Utc> {
    fn as_start_date(&self) -> Option<DateTime<Utc>> {
        Some(*self)
    }
}

impl<T: IntoStartDate> IntoStartDate for Option<T> {
    fn as_start_date(&self) -> Option<DateTime<Utc>> {
        self.as_ref().and_then(IntoStartDate::as_start_date)
    }
}

/// A nested config (e.g. a source's settings flattened into the tap's) holds the `start_date`:
/// mark the field `#[start_date]`.
impl<T: TapConfig> IntoStartDate for T {
    fn as_start_date(&self) -> Option<DateTime<Utc>> {
        TapConfig::start_date(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_date_without_an_offset_says_what_is_expected() {
        let e = serde_json::from_str::<StartDate>(r#""2024-01-01""#).unwrap_err();
        assert!(e.to_string().contains("e.g. 2024-01-01T00:00:00Z"), "{e}");
        let ok: StartDate = serde_json::from_str(r#""2024-01-01T02:00:00+02:00""#).unwrap();
        assert_eq!(ok.to_string(), "2024-01-01T00:00:00Z");
    }

    #[test]
    fn an_untyped_config_reads_start_date_by_name() {
        let c = serde_json::json!({"start_date": "2024-01-01T00:00:00Z"});
        assert!(c.start_date().is_some());
        assert!(serde_json::json!({}).start_date().is_none());
        let date = serde_json::json!({"start_date": "2024-01-01"});
        assert_eq!(
            date.start_date(),
            c.start_date(),
            "a plain date is midnight UTC, as everywhere in the workspace"
        );
        assert!(
            serde_json::json!({"start_date": "soon"})
                .start_date()
                .is_none()
        );
    }
}
