//! The sync functions of SQL streams: FULL_TABLE (ordered by key, resumable) and INCREMENTAL
//! (`>=` the bookmark, ordered by the replication key). Rows are streamed from the driver and
//! emitted one by one: memory stays flat whatever the table's size.

use std::sync::Arc;

use burler::{BoxError, SyncContext, SyncResult};
use futures::TryStreamExt;
use serde_json::Value;
use tracing::info;

use crate::dialect::{Dialect, Role, param_text, quote};
use crate::error::SqlError;
use crate::plan::{Partition, TablePlan};
use crate::record::{RowShape, SqlRecord};
use crate::resume;
use crate::tap::SqlClient;

/// The context of a SQL stream's sync.
pub type SqlContext<D, C> = SyncContext<SqlRecord<D>, C, SqlClient<D>>;

/// A SELECT under construction: conditions and their text parameters, the order.
pub(crate) struct Select<'a, D: Dialect> {
    plan: &'a TablePlan,
    conditions: Vec<String>,
    params: Vec<String>,
    order: Vec<String>,
    _dialect: std::marker::PhantomData<D>,
}

impl<'a, D: Dialect> Select<'a, D> {
    /// Every selected column of the plan's table, with the author's filter and the partition's
    /// condition.
    pub(crate) fn new(plan: &'a TablePlan, partition: Option<&Partition>) -> Self {
        let mut conditions: Vec<String> = plan.filter.iter().map(|f| format!("({f})")).collect();
        conditions.extend(partition.map(|p| format!("({})", p.condition)));
        Select {
            plan,
            conditions,
            params: Vec::new(),
            order: Vec::new(),
            _dialect: std::marker::PhantomData,
        }
    }

    /// Adds `(columns) > (values)`, or `>=` when `inclusive`.
    pub(crate) fn after(
        &mut self,
        names: &[String],
        values: &[Value],
        role: Role,
        inclusive: bool,
    ) {
        let columns: Vec<_> = names
            .iter()
            .filter_map(|n| self.plan.table.column(n))
            .collect();
        let left: Vec<String> = columns.iter().map(|c| D::order_expr(c, role)).collect();
        let right: Vec<String> = columns
            .iter()
            .zip(values)
            .map(|(c, v)| {
                self.params.push(param_text(v));
                D::param_expr(c, self.params.len(), role)
            })
            .collect();
        let op = if inclusive { ">=" } else { ">" };
        self.conditions.push(if left.len() == 1 {
            format!("{} {op} {}", left[0], right[0])
        } else {
            format!("({}) {op} ({})", left.join(", "), right.join(", "))
        });
    }

    /// Orders by these columns.
    pub(crate) fn order_by(&mut self, names: &[String], role: Role) {
        for c in names.iter().filter_map(|n| self.plan.table.column(n)) {
            self.order.push(D::order_expr(c, role));
        }
    }

    /// The SQL and its parameters.
    pub(crate) fn build(self) -> (String, Vec<String>) {
        let t = &self.plan.table;
        let list: Vec<String> = self.plan.columns.iter().map(D::select_expr).collect();
        let mut sql = format!(
            "SELECT {} FROM {}.{}",
            if list.is_empty() {
                "1".to_owned()
            } else {
                list.join(", ")
            },
            quote(&t.schema),
            quote(&t.name)
        );
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.join(" AND "));
        }
        if !self.order.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(&self.order.join(", "));
        }
        (sql, self.params)
    }
}

/// The partition this run of the sync function reads.
fn current_partition<'p, D: Dialect, C>(
    ctx: &SqlContext<D, C>,
    plan: &'p TablePlan,
) -> Option<&'p Partition>
where
    C: Send + Sync + 'static,
{
    let context = ctx.partition()?;
    plan.partitions.iter().find(|p| &p.context == context)
}

/// FULL_TABLE: every row, ordered by the key, the last key checkpointed after every chunk of
/// `checkpoint_every` rows (and at the end of a partition); an interrupted sync resumes after
/// the last checkpointed key with the same table version ([`crate::resume`]).
///
/// The framework opens and activates the version around a FULL_TABLE stream; a LOG_BASED
/// stream's initial sync passes `finish_version` to do it by hand.
pub(crate) async fn full_table<D: Dialect, C>(
    ctx: SqlContext<D, C>,
    plan: Arc<TablePlan>,
    finish_version: bool,
) -> SyncResult
where
    C: Send + Sync + 'static,
{
    let scope = if finish_version {
        Some(ctx.begin_table_version()?)
    } else {
        None
    };
    let partition = current_partition(&ctx, &plan);
    let mut select = Select::<D>::new(&plan, partition);
    if let Some(last) = resume::resume_after(&plan, ctx.resume_point())? {
        let at = resume::position(last.clone());
        info!("stream {}: resuming after key {at}", plan.stream);
        select.after(&plan.key, &last, Role::Key, false);
    }
    select.order_by(&plan.key, Role::Key);
    let (sql, params) = select.build();
    let chunk = (!plan.key.is_empty()).then_some(plan.checkpoint_every);
    let unsaved = emit_rows(&ctx, &plan, &sql, params, chunk).await?;
    // A partition's end is checkpointed too, so a resumed run skips a finished partition; the
    // end of the whole table is the framework's (the version ends, the position with it).
    if let (Some(last), false) = (unsaved, plan.partitions.is_empty()) {
        ctx.checkpoint(resume::position(last)).await?;
    }
    if let Some(scope) = scope {
        scope.finish()?;
    }
    Ok(())
}

/// INCREMENTAL: rows whose replication key is `>=` the bookmark (else `start_date`, for date
/// keys), ordered by it (then by the key, so ties come in a stable order). Rows equal to the
/// bookmark are sent again: none is ever skipped.
pub(crate) async fn incremental<D: Dialect, C>(
    ctx: SqlContext<D, C>,
    plan: Arc<TablePlan>,
) -> SyncResult
where
    C: Send + Sync + 'static,
{
    let Some(key) = plan.replication_key_column() else {
        return Err(SqlError::Unsupported {
            stream: plan.stream.clone(),
            problem: "INCREMENTAL needs a replication key".into(),
        }
        .into());
    };
    let start = ctx.replication_start().or_else(|| {
        key.kind
            .is_temporal()
            .then(|| ctx.replication_start())
            .flatten()
    });
    let partition = current_partition(&ctx, &plan);
    let mut select = Select::<D>::new(&plan, partition);
    let rk = vec![key.name.clone()];
    if let Some(start) = &start {
        select.after(&rk, std::slice::from_ref(start), Role::ReplicationKey, true);
    }
    select.order_by(&rk, Role::ReplicationKey);
    let ties: Vec<String> = plan
        .key
        .iter()
        .filter(|k| **k != key.name)
        .cloned()
        .collect();
    select.order_by(&ties, Role::Key);
    let (sql, params) = select.build();
    emit_rows(&ctx, &plan, &sql, params, None).await?;
    Ok(())
}

/// Runs the query and emits every row as it arrives. With `checkpoint_every`, the key of the
/// last row emitted is checkpointed after every chunk of that many rows. Returns the key of the
/// last row emitted after the last checkpoint (`None`: no such row, or no checkpoints).
async fn emit_rows<D: Dialect, C>(
    ctx: &SqlContext<D, C>,
    plan: &TablePlan,
    sql: &str,
    params: Vec<String>,
    checkpoint_every: Option<u64>,
) -> Result<Option<Vec<Value>>, BoxError>
where
    C: Send + Sync + 'static,
{
    let shape = Arc::new(RowShape {
        columns: plan.columns.clone(),
        decimal: plan.decimal,
    });
    let mut rows = D::fetch(&ctx.client().pool, sql, params);
    let mut in_chunk = 0u64;
    // The last record emitted, kept for its key until the next row replaces it.
    let mut last: Option<SqlRecord<D>> = None;
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(|e| SqlError::query(&plan.table.qualified_name(), sql, e))?
    {
        let record = SqlRecord::from_row(row, shape.clone());
        ctx.emit_all([&record])?;
        let Some(every) = checkpoint_every else {
            continue;
        };
        in_chunk += 1;
        if in_chunk >= every {
            in_chunk = 0;
            if let Some(key) = record.key_values(&plan.key) {
                ctx.checkpoint(resume::position(key)).await?;
            }
            last = None;
        } else {
            last = Some(record);
        }
    }
    Ok(last.and_then(|r| r.key_values(&plan.key)))
}
