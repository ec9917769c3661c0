//! The benchmark workload: `N` deterministic `events` records derived cheaply from the integer id.
//!
//! The same records are produced by the peer taps in `bench/` (singer-sdk, singer-python) and by the
//! `limit` binary (serde_json only), so throughput compares like with like.

pub mod api;
pub mod rest;

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
    pub tags: [&'static str; 3],
    /// A nested object.
    pub address: Address,
    /// Null on every other record.
    pub note: Option<String>,
}

/// The tags `t0` … `t12`: a record's tags are three of them.
const TAGS: [&str; 13] = [
    "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10", "t11", "t12",
];

impl Event {
    /// The id of the first record whose `updated_at` is at or after `bookmark` (RFC 3339), so a
    /// resumed run starts there (inclusive, as Singer bookmarks are); `None` for a bookmark that is
    /// not a date-time.
    pub fn first_id_at_or_after(bookmark: &str) -> Option<u64> {
        let at = chrono::DateTime::parse_from_rfc3339(bookmark).ok()?;
        // updated_at = BASE_EPOCH + id + 60 seconds; a fractional second rounds up.
        let secs = at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0);
        Some(u64::try_from(secs - BASE_EPOCH - 60).unwrap_or(0).max(1))
    }

    /// The record with this id.
    ///
    /// Strings are built digit by digit rather than with `format!`: the generator should cost as
    /// little as possible next to what is measured (the same generator feeds the tap and `limit`).
    pub fn new(id: u64) -> Self {
        let mut name = String::with_capacity(12);
        name.push_str("user-");
        push_decimal(&mut name, id % 10_000_000, 7);
        let mut email = String::with_capacity(32);
        email.push_str("user");
        push_decimal(&mut email, id, 1);
        email.push_str("@example.com");
        let mut street = String::with_capacity(12);
        push_decimal(&mut street, id % 1000, 1);
        street.push_str(" Main St");
        let mut zip = String::with_capacity(5);
        push_decimal(&mut zip, id % 100_000, 5);
        Event {
            id,
            uuid: uuid_for(id),
            name,
            email,
            amount: (id % 100_000) as f64 / 100.0,
            quantity: (id % 50) as u32,
            active: id.is_multiple_of(2),
            created_at: timestamp(BASE_EPOCH + id as i64),
            updated_at: timestamp(BASE_EPOCH + id as i64 + 60),
            tags: [
                TAGS[(id % 7) as usize],
                TAGS[(id % 11) as usize],
                TAGS[(id % 13) as usize],
            ],
            address: Address {
                street,
                city: CITIES[(id % 8) as usize],
                zip,
            },
            note: id.is_multiple_of(2).then(|| {
                let mut note = String::with_capacity(24);
                note.push_str("note ");
                push_decimal(&mut note, id, 1);
                note
            }),
        }
    }
}

/// Appends `value` in decimal, zero-padded to at least `width` digits.
pub fn push_decimal(out: &mut String, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    while value > 0 || digits.len() - at < width.max(1) {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// Appends the `width` lowest hex digits of `value`.
fn push_hex(out: &mut String, value: u64, width: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..width).rev() {
        out.push(char::from(HEX[((value >> (shift * 4)) & 0xf) as usize]));
    }
}

/// A deterministic UUID-shaped string for `id`.
pub fn uuid_for(id: u64) -> String {
    let h = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut s = String::with_capacity(36);
    push_hex(&mut s, h >> 32, 8);
    s.push('-');
    push_hex(&mut s, h >> 16, 4);
    s.push_str("-4");
    push_hex(&mut s, h >> 4, 3);
    s.push_str("-8");
    push_hex(&mut s, id, 3);
    s.push('-');
    push_hex(&mut s, id, 12);
    s
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` without a date library (civil-from-days).
pub fn timestamp(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400) as u64;
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(20);
    push_decimal(&mut s, y.max(0) as u64, 4);
    s.push('-');
    push_decimal(&mut s, u64::from(m), 2);
    s.push('-');
    push_decimal(&mut s, u64::from(d), 2);
    s.push('T');
    push_decimal(&mut s, secs / 3600, 2);
    s.push(':');
    push_decimal(&mut s, (secs / 60) % 60, 2);
    s.push(':');
    push_decimal(&mut s, secs % 60, 2);
    s.push('Z');
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
        assert_eq!(e.uuid, "daa66d2c-7ddf-4743-8003-000000000003");
        assert_eq!(e.tags, ["t3", "t3", "t3"]);
        let big = Event::new(12_345_678);
        assert_eq!(big.name, "user-2345678");
        assert_eq!(big.email, "user12345678@example.com");
        assert_eq!(big.address.street, "678 Main St");
        assert_eq!(big.address.zip, "45678");
        assert_eq!(big.amount, 456.78);
        assert_eq!(big.note.as_deref(), Some("note 12345678"));
    }

    #[test]
    fn a_bookmark_maps_back_to_the_first_record_at_or_after_it() {
        for id in [1, 2, 9_999, 1_234_567] {
            let at = Event::new(id).updated_at;
            assert_eq!(Event::first_id_at_or_after(&at), Some(id), "{at}");
        }
        assert_eq!(
            Event::first_id_at_or_after("2020-01-01T00:01:03.5Z"),
            Some(4)
        );
        assert_eq!(Event::first_id_at_or_after("1999-01-01T00:00:00Z"), Some(1));
        assert_eq!(
            Event::first_id_at_or_after("2020-01-01T02:01:03+02:00"),
            Some(3)
        );
        assert_eq!(Event::first_id_at_or_after("yesterday"), None);
    }
}
