//! PostgreSQL values in the binary protocol, written straight into the record: the integers,
//! floats, booleans, text, dates, times, timestamps and `bytea` the driver hands over as bytes.
//! Every other kind is selected as text (`::text`) and goes through [`super::text`].

use serde::{Serialize, Serializer};
use sqlx::postgres::PgRow;
use sqlx::{Row, ValueRef};

use crate::encode::{self, Base64, Float};
use crate::table::Column;
use crate::types::{DecimalMode, ValueKind};

/// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days from 1970-01-01 to 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

/// Whether values of `kind` are read in binary form (else as `::text`).
pub(super) fn reads_binary(kind: &ValueKind) -> bool {
    matches!(
        kind,
        ValueKind::Integer
            | ValueKind::Float
            | ValueKind::Boolean
            | ValueKind::Text
            | ValueKind::Date
            | ValueKind::Time
            | ValueKind::TimeTz
            | ValueKind::Timestamp
            | ValueKind::TimestampTz
            | ValueKind::Bytes
    )
}

fn be<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

/// Writes the value of column `index` of `row`.
pub(super) fn write_cell<S: Serializer>(
    column: &Column,
    decimal: DecimalMode,
    row: &PgRow,
    index: usize,
    s: S,
) -> Result<S::Ok, S::Error> {
    let raw = row.try_get_raw(index).map_err(serde::ser::Error::custom)?;
    if raw.is_null() {
        return s.serialize_none();
    }
    let bytes = raw.as_bytes().map_err(serde::ser::Error::custom)?;
    if !reads_binary(&column.kind) {
        let text = String::from_utf8_lossy(bytes);
        return super::text::write_text(&column.kind, decimal, &text, s);
    }
    write_binary(&column.kind, bytes, s).unwrap_or_else(|| {
        Err(serde::ser::Error::custom(format!(
            "column {}: {} bytes are not a binary {:?} value",
            column.name,
            bytes.len(),
            column.kind
        )))
    })
}

/// Writes one binary value; `None` when the bytes do not have the kind's layout.
fn write_binary<S: Serializer>(
    kind: &ValueKind,
    b: &[u8],
    s: S,
) -> Option<Result<S::Ok, S::Error>> {
    Some(match kind {
        ValueKind::Integer => match b.len() {
            2 => s.serialize_i16(i16::from_be_bytes(be(b)?)),
            4 => s.serialize_i32(i32::from_be_bytes(be(b)?)),
            8 => s.serialize_i64(i64::from_be_bytes(be(b)?)),
            _ => return None,
        },
        ValueKind::Float => match b.len() {
            4 => Float(f64::from(f32::from_be_bytes(be(b)?))).serialize(s),
            8 => Float(f64::from_be_bytes(be(b)?)).serialize(s),
            _ => return None,
        },
        ValueKind::Boolean => s.serialize_bool(*b.first()? != 0),
        ValueKind::Text => s.serialize_str(&String::from_utf8_lossy(b)),
        ValueKind::Bytes => Base64(b).serialize(s),
        ValueKind::Date => {
            let days = i32::from_be_bytes(be(b)?);
            let text = (days != i32::MAX && days != i32::MIN)
                .then(|| encode::format_date(i64::from(days) + PG_EPOCH_DAYS))
                .flatten();
            match text {
                Some(t) => t.serialize(s),
                None => s.serialize_none(),
            }
        }
        ValueKind::Time => {
            let micros = i64::from_be_bytes(be(b)?);
            encode::format_time(micros, None)?.serialize(s)
        }
        ValueKind::TimeTz => {
            let micros = i64::from_be_bytes(be(b.get(..8)?)?);
            // PostgreSQL keeps the zone as seconds west of UTC.
            let west = i32::from_be_bytes(be(b.get(8..12)?)?);
            encode::format_time(micros, Some(-west))?.serialize(s)
        }
        ValueKind::Timestamp | ValueKind::TimestampTz => {
            let micros = i64::from_be_bytes(be(b)?);
            let text = (micros != i64::MAX && micros != i64::MIN)
                .then(|| {
                    micros
                        .checked_add(PG_EPOCH_MICROS)
                        .and_then(encode::format_timestamp)
                })
                .flatten();
            match text {
                Some(t) => t.serialize(s),
                None => s.serialize_none(),
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(kind: ValueKind, bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_binary(&kind, bytes, &mut serde_json::Serializer::new(&mut out))
            .expect("a layout of the kind")
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn binary_values_are_written_in_their_json_form() {
        assert_eq!(json(ValueKind::Integer, &(-5i16).to_be_bytes()), "-5");
        assert_eq!(
            json(ValueKind::Integer, &i64::MAX.to_be_bytes()),
            "9223372036854775807"
        );
        assert_eq!(json(ValueKind::Float, &1.5f32.to_be_bytes()), "1.5");
        assert_eq!(json(ValueKind::Float, &f64::NAN.to_be_bytes()), "null");
        assert_eq!(json(ValueKind::Boolean, &[1]), "true");
        assert_eq!(json(ValueKind::Date, &0i32.to_be_bytes()), "\"2000-01-01\"");
        assert_eq!(json(ValueKind::Date, &i32::MAX.to_be_bytes()), "null");
        let ts = 1_000_000i64 * 86_400 + 1_500;
        assert_eq!(
            json(ValueKind::TimestampTz, &ts.to_be_bytes()),
            "\"2000-01-02T00:00:00.001500Z\""
        );
        assert_eq!(json(ValueKind::Timestamp, &i64::MIN.to_be_bytes()), "null");
        let mut ttz = (3_600_000_000i64).to_be_bytes().to_vec();
        ttz.extend((-7200i32).to_be_bytes());
        assert_eq!(json(ValueKind::TimeTz, &ttz), "\"01:00:00+02:00\"");
        assert_eq!(json(ValueKind::Bytes, &[0, 1, 2, 255]), "\"AAEC/w==\"");
        assert!(
            write_binary(
                &ValueKind::Integer,
                &[1, 2, 3],
                serde_json::value::Serializer
            )
            .is_none()
        );
    }
}
