//! Resumable FULL_TABLE: the key an interrupted table sync goes on after.
//!
//! A FULL_TABLE sync of a table with a key (a view: the catalog's `view-key-properties`) reads
//! it ordered by that key in one streamed query. After every chunk of
//! [`SqlTap::checkpoint_every`](crate::SqlTap::checkpoint_every) rows, and at the end of each
//! partition, it hands the key of the last row emitted to the framework's
//! [`SyncContext::checkpoint`](burler::SyncContext::checkpoint): the records so far are
//! written, then a STATE keeps the key as the stream's (or the partition's) `resume_point`,
//! a value for a one-column key, an array in key order for a composite one:
//!
//! ```json
//! {"bookmarks": {"public-orders": {"version": 1718000000000, "resume_point": 40000}}}
//! {"bookmarks": {"public-items": {"version": 1718000000000, "resume_point": ["eu", 250]}}}
//! ```
//!
//! While that table version is open, the next run gets the key back from
//! [`SyncContext::resume_point`](burler::SyncContext::resume_point) and reads only the rows
//! after it (`"id" > $1`, `("region", "n") > ($1, $2)`) under the same version, so the target
//! sees one version of the table and ACTIVATE_VERSION only when the table is done; the
//! framework then drops the position with the version. Each partition keeps its own position:
//! one the interrupted run finished resumes after its last key and reads nothing.
//!
//! A table without a key has no order to resume by: it is read in one pass, and an interrupted
//! sync reads it again from the first row (under the same table version).

use serde_json::Value;

use crate::error::SqlError;
use crate::plan::TablePlan;

/// The position a checkpoint stores for the key values `last` (in key order): the value of a
/// one-column key, an array for a composite key.
pub fn position(mut last: Vec<Value>) -> Value {
    if last.len() == 1 {
        last.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(last)
    }
}

/// The key values (in key order) a sync of `plan` resumes after, read from the position a
/// checkpoint `stored`; `None` reads from the first row (no position, or a table without a
/// key). A position that is not a key of the table is an error naming the stream.
pub fn resume_after(
    plan: &TablePlan,
    stored: Option<Value>,
) -> Result<Option<Vec<Value>>, SqlError> {
    let Some(stored) = stored else {
        return Ok(None);
    };
    match (plan.key.len(), stored) {
        (0, _) => Ok(None),
        (1, value) => Ok(Some(vec![value])),
        (n, Value::Array(values)) if values.len() == n => Ok(Some(values)),
        (_, other) => Err(SqlError::State {
            stream: plan.stream.clone(),
            problem: format!(
                "resume_point {other} is not a key of ({}): expected an array of {} values",
                plan.key.join(", "),
                plan.key.len()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::DefaultReplication;
    use crate::table::tests::orders;
    use crate::types::DecimalMode;
    use serde_json::json;

    fn plan(key: &[&str]) -> TablePlan {
        let mut p = TablePlan::new(
            orders(),
            "public-orders".into(),
            None,
            &DefaultReplication::FullTable,
            DecimalMode::Number,
        );
        p.key = key.iter().map(|k| k.to_string()).collect();
        p
    }

    #[test]
    fn a_one_column_key_is_stored_as_its_value_and_a_composite_one_as_an_array() {
        assert_eq!(position(vec![json!(40)]), json!(40));
        assert_eq!(position(vec![json!("eu"), json!(3)]), json!(["eu", 3]));
        let one = plan(&["id"]);
        assert_eq!(
            resume_after(&one, Some(json!(40))).unwrap(),
            Some(vec![json!(40)])
        );
        assert_eq!(resume_after(&one, None).unwrap(), None);
        let two = plan(&["region", "id"]);
        assert_eq!(
            resume_after(&two, Some(json!(["eu", 3]))).unwrap(),
            Some(vec![json!("eu"), json!(3)])
        );
    }

    #[test]
    fn a_position_that_is_not_a_key_is_an_error_naming_the_stream() {
        let two = plan(&["region", "id"]);
        for bad in [json!(3), json!(["eu"]), json!({"region": "eu", "id": 3})] {
            let e = resume_after(&two, Some(bad.clone()))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("public-orders") && e.contains("(region, id)"),
                "{bad}: {e}"
            );
        }
        assert_eq!(resume_after(&plan(&[]), Some(json!(3))).unwrap(), None);
    }
}
