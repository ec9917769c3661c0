//! What one stream will do this run: its table, the replication the catalog asks for, the columns
//! it reads (the selected ones, keys and replication key always), its author filter and partitions.
//!
//! Built once when the tap starts, from the discovered table and the catalog entry, so the sync
//! functions never look at the catalog again.

use burler_singer::{Breadcrumb, CatalogEntry, ReplicationMethod, keys};
use serde_json::Value;
use tracing::warn;

use crate::table::{Column, DELETED_AT, LSN, Table};
use crate::types::DecimalMode;

/// A slice of a table synced on its own, with its own bookmark (see [`crate::SqlTap::partitions`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// The partition's context, as the state keys its bookmark (e.g. `{"region": "eu"}`).
    pub context: Value,
    /// The SQL condition selecting its rows (e.g. `region = 'eu'`), trusted author SQL.
    pub condition: String,
}

/// A replication an author declares as the default of a stream (used when the catalog does not
/// say, and shown by discovery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultReplication {
    /// Every row, every run.
    FullTable,
    /// Rows at or after the bookmark on this column.
    Incremental(String),
    /// Changes from the database's log.
    LogBased,
}

/// Everything one stream's sync needs, fixed when the tap starts.
#[derive(Debug, Clone)]
pub struct TablePlan {
    /// The table, as discovered.
    pub table: Table,
    /// The stream's name.
    pub stream: String,
    /// The replication this run.
    pub method: ReplicationMethod,
    /// The replication key (INCREMENTAL).
    pub replication_key: Option<String>,
    /// The columns read, in SELECT order.
    pub columns: Vec<Column>,
    /// The key rows are ordered and resumed by: the primary key, else the catalog's
    /// `view-key-properties`.
    pub key: Vec<String>,
    /// The author's extra condition.
    pub filter: Option<String>,
    /// The author's partitions (empty: the table is one piece).
    pub partitions: Vec<Partition>,
    /// How decimals are written.
    pub decimal: DecimalMode,
    /// Whether the stream's schema has the LOG_BASED fields (`_sdc_deleted_at`, `_sdc_lsn`).
    pub log_schema: bool,
    /// The LOG_BASED fields the catalog selects (written by change records).
    pub log_fields: Vec<String>,
    /// Rows between two checkpoints of a FULL_TABLE sync.
    pub checkpoint_every: u64,
}

impl TablePlan {
    /// The plan of `table` for the catalog `entry` (`None`: the stream's defaults, all columns).
    pub fn new(
        table: Table,
        stream: String,
        entry: Option<&CatalogEntry>,
        default: &DefaultReplication,
        decimal: DecimalMode,
    ) -> Self {
        let (method, replication_key) = replication(&table, &stream, entry, default);
        let key = order_key(&table, entry);
        let mut forced = key.clone();
        forced.extend(replication_key.clone());
        let (columns, log_fields) = selected_columns(&table, entry, &forced);
        TablePlan {
            table,
            stream,
            method,
            replication_key,
            columns,
            key,
            filter: None,
            partitions: Vec::new(),
            decimal,
            log_schema: false,
            log_fields,
            checkpoint_every: 10_000,
        }
    }

    /// The replication key's column.
    pub fn replication_key_column(&self) -> Option<&Column> {
        self.table.column(self.replication_key.as_deref()?)
    }
}

/// The method and key the catalog asks for, else the stream's default; a request the table cannot
/// serve is logged and falls back to FULL_TABLE (a key that is not a column, or no key at all).
fn replication(
    table: &Table,
    stream: &str,
    entry: Option<&CatalogEntry>,
    default: &DefaultReplication,
) -> (ReplicationMethod, Option<String>) {
    let asked = entry.and_then(CatalogEntry::replication_method);
    let (method, key) = match (asked, default) {
        (Some(method), DefaultReplication::Incremental(k)) => (
            method,
            entry
                .and_then(CatalogEntry::replication_key)
                .or(Some(k.clone())),
        ),
        (Some(method), _) => (method, entry.and_then(CatalogEntry::replication_key)),
        (None, DefaultReplication::FullTable) => (ReplicationMethod::FullTable, None),
        (None, DefaultReplication::LogBased) => (ReplicationMethod::LogBased, None),
        (None, DefaultReplication::Incremental(k)) => {
            let key = entry
                .and_then(CatalogEntry::replication_key)
                .unwrap_or(k.clone());
            (ReplicationMethod::Incremental, Some(key))
        }
    };
    if method != ReplicationMethod::Incremental {
        return (method, None);
    }
    match key {
        Some(k) if table.column(&k).is_some() => (method, Some(k)),
        Some(k) => {
            warn!(
                "stream {stream}: replication key {k} is not a column of {}: syncing FULL_TABLE",
                table.qualified_name()
            );
            (ReplicationMethod::FullTable, None)
        }
        None => {
            warn!("stream {stream}: INCREMENTAL without a replication-key: syncing FULL_TABLE");
            (ReplicationMethod::FullTable, None)
        }
    }
}

/// The primary key, else the catalog's `view-key-properties` that are columns.
fn order_key(table: &Table, entry: Option<&CatalogEntry>) -> Vec<String> {
    if !table.primary_key.is_empty() {
        return table.primary_key.clone();
    }
    entry
        .and_then(|e| {
            e.metadata
                .get(&Breadcrumb::root(), keys::VIEW_KEY_PROPERTIES)
        })
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .filter(|n| table.column(n).is_some())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The columns the catalog selects (and that its schema names), keys and the replication key
/// always; and the selected LOG_BASED fields.
fn selected_columns(
    table: &Table,
    entry: Option<&CatalogEntry>,
    forced: &[String],
) -> (Vec<Column>, Vec<String>) {
    let Some(entry) = entry else {
        return (table.columns.clone(), vec![DELETED_AT.into(), LSN.into()]);
    };
    let (selection, _) = entry.field_selection_with(forced);
    let in_schema = |name: &str| {
        entry
            .schema
            .get("properties")
            .and_then(Value::as_object)
            .is_none_or(|p| p.contains_key(name))
    };
    let wanted = |name: &str| {
        forced.iter().any(|f| f == name) || (in_schema(name) && selection.is_selected(&[name]))
    };
    let columns = table
        .columns
        .iter()
        .filter(|c| wanted(&c.name))
        .cloned()
        .collect();
    let log_fields = [DELETED_AT, LSN]
        .into_iter()
        .filter(|f| in_schema(f) && selection.is_selected(&[f]))
        .map(str::to_owned)
        .collect();
    (columns, log_fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::tests::orders;
    use serde_json::json;

    fn entry(metadata: Value) -> CatalogEntry {
        serde_json::from_value(json!({
            "tap_stream_id": "public-orders",
            "schema": orders().json_schema(DecimalMode::Number, false),
            "metadata": metadata,
        }))
        .unwrap()
    }

    #[test]
    fn the_catalog_chooses_method_key_and_columns() {
        let e = entry(json!([
            {"breadcrumb": [], "metadata": {"selected": true, "replication-method": "INCREMENTAL", "replication-key": "updated_at"}},
            {"breadcrumb": ["properties", "note"], "metadata": {"selected": false}},
            {"breadcrumb": ["properties", "id"], "metadata": {"selected": false}}
        ]));
        let plan = TablePlan::new(
            orders(),
            "public-orders".into(),
            Some(&e),
            &DefaultReplication::FullTable,
            DecimalMode::Number,
        );
        assert_eq!(plan.method, ReplicationMethod::Incremental);
        assert_eq!(plan.replication_key.as_deref(), Some("updated_at"));
        let names: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["id", "updated_at"],
            "the key stays, the deselected note goes"
        );
        assert!(plan.log_fields.is_empty(), "not in the catalog's schema");
    }

    #[test]
    fn a_key_that_is_not_a_column_falls_back_to_full_table() {
        let e = entry(
            json!([{"breadcrumb": [], "metadata": {"replication-method": "INCREMENTAL", "replication-key": "nope"}}]),
        );
        let plan = TablePlan::new(
            orders(),
            "s".into(),
            Some(&e),
            &DefaultReplication::FullTable,
            DecimalMode::Number,
        );
        assert_eq!(
            (plan.method, plan.replication_key),
            (ReplicationMethod::FullTable, None)
        );
        let defaulted = TablePlan::new(
            orders(),
            "s".into(),
            None,
            &DefaultReplication::Incremental("updated_at".into()),
            DecimalMode::Number,
        );
        assert_eq!(defaulted.method, ReplicationMethod::Incremental);
        assert_eq!(defaulted.columns.len(), 3);
    }
}
