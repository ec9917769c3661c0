//! `ensure_ordering`: checks that the records a source returns really come in the order a stream
//! declares (a sorted incremental stream commits bookmarks mid-sync only because of that order).
//!
//! Wrap what an API call returns in a test, so the `is_sorted` claim is tested against the source:
//!
//! ```
//! use burler_testkit::{ensure_ordering, SortOrder};
//! use serde_json::json;
//! let page = vec![json!({"id": 1, "updated_at": "2024-01-01T00:00:00Z"}),
//!                 json!({"id": 2, "updated_at": "2024-01-03T00:00:00Z"}),
//!                 json!({"id": 3, "updated_at": "2024-01-02T00:00:00Z"})];
//! let err = ensure_ordering(page, "updated_at", SortOrder::Asc).unwrap_err();
//! assert_eq!(err.to_string(), "records out of Asc order on \"updated_at\": record 1 has \
//!     \"2024-01-03T00:00:00Z\", the next one (record 2) has \"2024-01-02T00:00:00Z\"");
//! ```

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::Value;

use crate::compare::{KeyValue, lookup};

/// The order a source promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Non-decreasing values (equal neighbours are fine).
    Asc,
    /// Non-increasing values.
    Desc,
}

impl SortOrder {
    fn allows(self, previous: &KeyValue, next: &KeyValue) -> Option<bool> {
        let ord = next.compare(previous)?;
        Some(match self {
            SortOrder::Asc => ord != Ordering::Less,
            SortOrder::Desc => ord != Ordering::Greater,
        })
    }
}

/// Why a sequence of records is not in the declared order. Positions are 0-based indexes into
/// the sequence.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OrderingError {
    /// Two neighbours in the wrong order.
    #[error(
        "records out of {order:?} order on {key:?}: record {previous_position} has {previous}, \
         the next one (record {position}) has {value}"
    )]
    OutOfOrder {
        /// The sort key.
        key: String,
        /// The declared order.
        order: SortOrder,
        /// Index of the earlier record.
        previous_position: usize,
        /// Its key value.
        previous: Value,
        /// Index of the record that breaks the order.
        position: usize,
        /// Its key value.
        value: Value,
    },
    /// A record without the key (or with a null, boolean, array or object value).
    #[error("record {position} has no sortable {key:?} (found {value})")]
    MissingKey {
        /// The sort key.
        key: String,
        /// Index of the record.
        position: usize,
        /// What it holds instead (`null` when absent).
        value: Value,
    },
    /// Two neighbours whose values are of different kinds (a number and a string).
    #[error(
        "records {previous_position} and {position} cannot be compared on {key:?}: {previous} vs {value}"
    )]
    Incomparable {
        /// The sort key.
        key: String,
        /// Index of the earlier record.
        previous_position: usize,
        /// Its key value.
        previous: Value,
        /// Index of the later record.
        position: usize,
        /// Its key value.
        value: Value,
    },
    /// A record that does not serialize to JSON.
    #[error("record {position} does not serialize to JSON: {problem}")]
    NotSerializable {
        /// Index of the record.
        position: usize,
        /// The serializer's message.
        problem: String,
    },
}

/// Checks that `records` are sorted on `key` (a field name or dotted path) in `order`, and returns
/// them unchanged; the error names the first two neighbours out of order, with their positions
/// and values.
#[expect(
    clippy::result_large_err,
    reason = "the error carries both offending values: it is the point of the check"
)]
pub fn ensure_ordering<I, T>(
    records: I,
    key: &str,
    order: SortOrder,
) -> Result<Vec<T>, OrderingError>
where
    I: IntoIterator<Item = T>,
    T: Serialize,
{
    ordered(records, key, order).collect()
}

/// Lazy form of [`ensure_ordering`]: yields each record, or the error at the first record that
/// breaks the order (and nothing after it). Use it to wrap a paginated source.
pub fn ordered<I, T>(records: I, key: &str, order: SortOrder) -> Ordered<I::IntoIter>
where
    I: IntoIterator<Item = T>,
    T: Serialize,
{
    Ordered {
        inner: records.into_iter(),
        key: key.to_owned(),
        order,
        position: 0,
        previous: None,
        failed: false,
    }
}

/// The iterator of [`ordered`].
#[derive(Debug)]
pub struct Ordered<I> {
    inner: I,
    key: String,
    order: SortOrder,
    position: usize,
    previous: Option<(Value, KeyValue)>,
    failed: bool,
}

impl<I, T> Iterator for Ordered<I>
where
    I: Iterator<Item = T>,
    T: Serialize,
{
    type Item = Result<T, OrderingError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let record = self.inner.next()?;
        let position = self.position;
        self.position += 1;
        let result = self.check(&record, position).map(|()| record);
        self.failed = result.is_err();
        Some(result)
    }
}

impl<I> Ordered<I> {
    #[expect(
        clippy::result_large_err,
        reason = "the error carries both offending values: it is the point of the check"
    )]
    fn check<T: Serialize>(&mut self, record: &T, position: usize) -> Result<(), OrderingError> {
        let json = serde_json::to_value(record).map_err(|e| OrderingError::NotSerializable {
            position,
            problem: e.to_string(),
        })?;
        let raw = lookup(&json, &self.key).cloned().unwrap_or(Value::Null);
        let Some(value) = KeyValue::from_json(&raw) else {
            return Err(OrderingError::MissingKey {
                key: self.key.clone(),
                position,
                value: raw,
            });
        };
        if let Some((prev_raw, prev)) = &self.previous {
            match self.order.allows(prev, &value) {
                Some(true) => {}
                Some(false) => {
                    return Err(OrderingError::OutOfOrder {
                        key: self.key.clone(),
                        order: self.order,
                        previous_position: position - 1,
                        previous: prev_raw.clone(),
                        position,
                        value: raw,
                    });
                }
                None => {
                    return Err(OrderingError::Incomparable {
                        key: self.key.clone(),
                        previous_position: position - 1,
                        previous: prev_raw.clone(),
                        position,
                        value: raw,
                    });
                }
            }
        }
        self.previous = Some((raw, value));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, Debug, PartialEq)]
    struct Row {
        id: u32,
        seq: i64,
    }

    #[test]
    fn sorted_records_come_back_unchanged() {
        let rows = vec![
            Row { id: 1, seq: 1 },
            Row { id: 2, seq: 1 },
            Row { id: 3, seq: 5 },
        ];
        let back = ensure_ordering(rows, "seq", SortOrder::Asc).unwrap();
        assert_eq!(back.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2, 3]);
        let desc = ensure_ordering(
            vec![json!({"n": 3}), json!({"n": 3}), json!({"n": -1})],
            "n",
            SortOrder::Desc,
        );
        assert!(desc.is_ok());
    }

    #[test]
    fn the_first_break_is_named_with_positions_and_values() {
        let rows = vec![
            Row { id: 1, seq: 1 },
            Row { id: 2, seq: 7 },
            Row { id: 3, seq: 4 },
            Row { id: 4, seq: 0 },
        ];
        let err = ensure_ordering(rows, "seq", SortOrder::Asc).unwrap_err();
        assert_eq!(
            err,
            OrderingError::OutOfOrder {
                key: "seq".into(),
                order: SortOrder::Asc,
                previous_position: 1,
                previous: json!(7),
                position: 2,
                value: json!(4),
            }
        );
        let err = ensure_ordering(vec![json!({"n": 1}), json!({"n": 2})], "n", SortOrder::Desc)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("record 0 has 1, the next one (record 1) has 2"),
            "{err}"
        );
    }

    #[test]
    fn missing_and_mixed_keys_are_errors() {
        let err = ensure_ordering(vec![json!({"n": 1}), json!({"m": 2})], "n", SortOrder::Asc)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "record 1 has no sortable \"n\" (found null)"
        );
        let err = ensure_ordering(
            vec![json!({"n": 1}), json!({"n": "x"})],
            "n",
            SortOrder::Asc,
        )
        .unwrap_err();
        assert!(
            matches!(err, OrderingError::Incomparable { position: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn the_lazy_form_stops_at_the_error() {
        let source = (0..10).map(|i| json!({"n": if i == 3 { 0 } else { i }}));
        let results: Vec<_> = ordered(source, "n", SortOrder::Asc).collect();
        assert_eq!(results.len(), 4);
        assert!(results[..3].iter().all(Result::is_ok));
        assert!(results[3].is_err());
    }
}
