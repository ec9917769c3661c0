//! Resumable FULL_TABLE: where an interrupted table sync starts again.
//!
//! A FULL_TABLE sync reads the table ordered by its key and checkpoints the last key it emitted
//! into the stream's state every `checkpoint_every` rows:
//!
//! ```json
//! {"bookmarks": {"public-orders": {"version": 1718000000000,
//!   "full_table_checkpoint": {"version": 1718000000000, "partition": null, "last_pk_fetched": {"id": 40000}}}}}
//! ```
//!
//! A run that finds a checkpoint of the table version it is syncing (the framework keeps the
//! version of an unfinished sync) goes on after that key with the same version, so the target
//! sees one version of the table and ACTIVATE_VERSION only when the table is done. A checkpoint of
//! another version (a finished sync) is ignored. With partitions, the checkpoint also names the
//! partition: partitions listed before it are done and skipped, `last_pk_fetched: null` marks a
//! finished partition.
//!
//! This module is the only place that knows the checkpoint's shape and how it is stored (today
//! with the public `SyncContext::state_value` / `set_state_value` / `full_table`), so it can move
//! to a framework hook without touching the sync code.

use burler::{SyncContext, TableVersion};
use serde_json::{Map, Value, json};

use crate::dialect::Dialect;
use crate::error::SqlError;
use crate::plan::TablePlan;
use crate::record::SqlRecord;

/// The state key of the checkpoint.
pub const CHECKPOINT_KEY: &str = "full_table_checkpoint";

/// Where a (partition of a) FULL_TABLE sync starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// This partition was finished by the interrupted run: nothing to read.
    Done,
    /// From the first row.
    Beginning,
    /// After the row with these key values (in key order).
    After(Vec<Value>),
}

/// The checkpoints of one (partition of a) FULL_TABLE sync.
#[derive(Debug)]
pub struct Checkpoints {
    stream: String,
    key: Vec<String>,
    version: i64,
    partition: Value,
}

impl Checkpoints {
    /// Opens the table version (the framework's, or a new one for a hand-driven sync: see
    /// [`SyncContext::full_table`]) and reads where this partition starts.
    pub fn open<D: Dialect, C, K>(
        ctx: &SyncContext<SqlRecord<D>, C, K>,
        plan: &TablePlan,
    ) -> Result<(Self, Start, TableVersion), SqlError>
    where
        C: Send + Sync + 'static,
        K: Send + Sync + 'static,
    {
        let scope = ctx
            .begin_table_version()
            .map_err(|e| state_error(plan, e))?;
        let partition = ctx.partition().cloned().unwrap_or(Value::Null);
        let checkpoints = Checkpoints {
            stream: plan.stream.clone(),
            key: plan.key.clone(),
            version: scope.version(),
            partition,
        };
        let start = checkpoints.start(plan, ctx.state_value(CHECKPOINT_KEY))?;
        Ok((checkpoints, start, scope))
    }

    /// Where to start, given the stored checkpoint.
    fn start(&self, plan: &TablePlan, stored: Option<Value>) -> Result<Start, SqlError> {
        let Some(Value::Object(cp)) = stored else {
            return Ok(Start::Beginning);
        };
        if cp.get("version").and_then(Value::as_i64) != Some(self.version) || self.key.is_empty() {
            return Ok(Start::Beginning);
        }
        let at = cp.get("partition").cloned().unwrap_or(Value::Null);
        if at != self.partition {
            let position = |p: &Value| plan.partitions.iter().position(|x| &x.context == p);
            return Ok(match (position(&at), position(&self.partition)) {
                (Some(done_up_to), Some(mine)) if mine < done_up_to => Start::Done,
                _ => Start::Beginning,
            });
        }
        let Some(last) = cp.get("last_pk_fetched").filter(|v| !v.is_null()) else {
            return Ok(Start::Done);
        };
        let values: Option<Vec<Value>> = self.key.iter().map(|k| last.get(k).cloned()).collect();
        match values {
            Some(v) => Ok(Start::After(v)),
            None => Err(SqlError::State {
                stream: self.stream.clone(),
                problem: format!(
                    "{CHECKPOINT_KEY}.last_pk_fetched {last} does not name every key column ({})",
                    self.key.join(", ")
                ),
            }),
        }
    }

    /// Commits a STATE saying every row up to the key values `last` (in key order) was emitted.
    pub fn save<D: Dialect, C, K>(
        &self,
        ctx: &SyncContext<SqlRecord<D>, C, K>,
        last: Vec<Value>,
    ) -> Result<(), burler::EmitError>
    where
        C: Send + Sync + 'static,
        K: Send + Sync + 'static,
    {
        let key: Map<String, Value> = self.key.iter().cloned().zip(last).collect();
        self.write(ctx, Value::Object(key))
    }

    /// Commits a STATE saying this partition is done (a later partition, or the framework's end
    /// of the table, comes next).
    pub fn finish<D: Dialect, C, K>(
        &self,
        ctx: &SyncContext<SqlRecord<D>, C, K>,
    ) -> Result<(), burler::EmitError>
    where
        C: Send + Sync + 'static,
        K: Send + Sync + 'static,
    {
        self.write(ctx, Value::Null)
    }

    /// After the whole table: the checkpoint is of no more use (a null marks it so; the state
    /// API has no removal), and tables that never checkpointed get no key at all.
    pub fn clear<D: Dialect, C, K>(
        &self,
        ctx: &SyncContext<SqlRecord<D>, C, K>,
    ) -> Result<(), burler::EmitError>
    where
        C: Send + Sync + 'static,
        K: Send + Sync + 'static,
    {
        if ctx.state_value(CHECKPOINT_KEY).is_none_or(|v| v.is_null()) {
            return Ok(());
        }
        ctx.set_state_value(CHECKPOINT_KEY, Value::Null)
    }

    fn write<D: Dialect, C, K>(
        &self,
        ctx: &SyncContext<SqlRecord<D>, C, K>,
        last: Value,
    ) -> Result<(), burler::EmitError>
    where
        C: Send + Sync + 'static,
        K: Send + Sync + 'static,
    {
        let checkpoint =
            json!({"version": self.version, "partition": self.partition, "last_pk_fetched": last});
        ctx.set_state_value(CHECKPOINT_KEY, checkpoint)
    }
}

fn state_error(plan: &TablePlan, e: burler::EmitError) -> SqlError {
    SqlError::State {
        stream: plan.stream.clone(),
        problem: format!("cannot open the table version: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{DefaultReplication, Partition};
    use crate::table::tests::orders;
    use crate::types::DecimalMode;

    fn plan(partitions: &[&str]) -> TablePlan {
        let mut p = TablePlan::new(
            orders(),
            "public-orders".into(),
            None,
            &DefaultReplication::FullTable,
            DecimalMode::Number,
        );
        p.partitions = partitions
            .iter()
            .map(|r| Partition {
                context: json!({"region": r}),
                condition: format!("region = '{r}'"),
            })
            .collect();
        p
    }

    fn checkpoints(partition: Value) -> Checkpoints {
        Checkpoints {
            stream: "public-orders".into(),
            key: vec!["id".into()],
            version: 7,
            partition,
        }
    }

    #[test]
    fn a_checkpoint_of_this_version_resumes_after_its_key() {
        let p = plan(&[]);
        let cp = checkpoints(Value::Null);
        let stored = json!({"version": 7, "partition": null, "last_pk_fetched": {"id": 40}});
        assert_eq!(
            cp.start(&p, Some(stored)).unwrap(),
            Start::After(vec![json!(40)])
        );
        let stale = json!({"version": 6, "partition": null, "last_pk_fetched": {"id": 40}});
        assert_eq!(cp.start(&p, Some(stale)).unwrap(), Start::Beginning);
        assert_eq!(cp.start(&p, None).unwrap(), Start::Beginning);
        let bad = json!({"version": 7, "partition": null, "last_pk_fetched": {"other": 1}});
        assert!(
            cp.start(&p, Some(bad))
                .unwrap_err()
                .to_string()
                .contains("every key column")
        );
    }

    #[test]
    fn partitions_before_the_checkpoint_are_done_and_later_ones_start_over() {
        let p = plan(&["eu", "us", "asia"]);
        let stored =
            json!({"version": 7, "partition": {"region": "us"}, "last_pk_fetched": {"id": 3}});
        let start = |r: &str| {
            checkpoints(json!({"region": r}))
                .start(&p, Some(stored.clone()))
                .unwrap()
        };
        assert_eq!(start("eu"), Start::Done);
        assert_eq!(start("us"), Start::After(vec![json!(3)]));
        assert_eq!(start("asia"), Start::Beginning);
        let finished =
            json!({"version": 7, "partition": {"region": "us"}, "last_pk_fetched": null});
        assert_eq!(
            checkpoints(json!({"region": "us"}))
                .start(&p, Some(finished))
                .unwrap(),
            Start::Done
        );
    }
}
