//! The benchmark workload: `N` deterministic `events` records derived cheaply from the integer id.
//!
//! The same records are produced by the peer taps in `bench/` (singer-sdk, singer-python) and by the
//! `limit` binary (serde_json only), so throughput compares like with like.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

/// Seconds from the Unix epoch to 2020-01-01T00:00:00Z, where `created_at` starts.
const BASE_EPOCH: i64 = 1_577_836_800;
const CITIES: [&str; 8] = [
    "Lisbon", "Nairobi", "Osaka", "Quito", "Tromso", "Perth", "Leeds", "Tucson",
];

/// A postal address.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Address {
    /// Street and number.
    pub street: String,
    /// City.
    pub city: &'static str,
    /// Postal code.
    pub zip: String,
}

/// One benchmark record (12 fields).
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Event {
    /// Increasing id.
    pub id: u64,
    /// A UUID-shaped 36-character string.
    pub uuid: String,
    /// A 12-character name.
    pub name: String,
    /// An email address.
    pub email: String,
    /// An amount with two decimals.
    pub amount: f64,
    /// A small integer.
    pub quantity: u32,
    /// A flag.
    pub active: bool,
    /// Creation time (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// Update time (RFC 3339), the replication key.
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
    /// Three short tags.
    pub tags: [String; 3],
    /// A nested object.
    pub address: Address,
    /// Null on every other record.
    pub note: Option<String>,
}

impl Event {
    /// The record with this id.
    pub fn new(id: u64) -> Self {
        Event {
            id,
            uuid: uuid_for(id),
            name: format!("user-{:07}", id % 10_000_000),
            email: format!("user{id}@example.com"),
            amount: (id % 100_000) as f64 / 100.0,
            quantity: (id % 50) as u32,
            active: id.is_multiple_of(2),
            created_at: timestamp(BASE_EPOCH + id as i64),
            updated_at: timestamp(BASE_EPOCH + id as i64 + 60),
            tags: [
                format!("t{}", id % 7),
                format!("t{}", id % 11),
                format!("t{}", id % 13),
            ],
            address: Address {
                street: format!("{} Main St", id % 1000),
                city: CITIES[(id % 8) as usize],
                zip: format!("{:05}", id % 100_000),
            },
            note: id.is_multiple_of(2).then(|| format!("note {id}")),
        }
    }
}

/// A deterministic UUID-shaped string for `id`.
pub fn uuid_for(id: u64) -> String {
    let h = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut s = String::with_capacity(36);
    let _ = write!(
        s,
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h >> 4) & 0xfff,
        id & 0xfff,
        id & 0xffff_ffff_ffff
    );
    s
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` without a date library (civil-from-days).
pub fn timestamp(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(20);
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    s
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_deterministic_and_shaped_as_specified() {
        let e = Event::new(3);
        assert_eq!(e, Event::new(3));
        assert_eq!(e.uuid.len(), 36);
        assert_eq!(e.name.len(), 12);
        assert_eq!(e.created_at, "2020-01-01T00:00:03Z");
        assert_eq!(e.updated_at, "2020-01-01T00:01:03Z");
        assert_eq!(e.note, None);
        assert_eq!(Event::new(4).note.as_deref(), Some("note 4"));
        assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00Z");
    }
}
