//! What discovery learns about a table or view (columns, types, nullability, primary key, row
//! count), and how that becomes a stream's JSON Schema and its standard catalog metadata.

use burler_singer::{NodeMetadata, SchemaNode, keys};
use serde_json::{Map, Value, json};

use crate::types::{DecimalMode, ValueKind};

/// The field LOG_BASED records carry: when the row was deleted (commit time), else absent.
pub const DELETED_AT: &str = "_sdc_deleted_at";
/// The field LOG_BASED records carry: the log position (LSN) of the change.
pub const LSN: &str = "_sdc_lsn";

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The type as the database names it (`character varying(20)`, `INTEGER`): `sql-datatype`.
    pub sql_type: String,
    /// How values are written and typed in JSON.
    pub kind: ValueKind,
    /// Whether the column accepts NULL.
    pub nullable: bool,
    /// The declared length of a character column.
    pub max_length: Option<u32>,
}

/// One table or view, as discovery found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The database (PostgreSQL: the database name; SQLite: the file's stem).
    pub database: String,
    /// The schema (PostgreSQL namespace; SQLite: `main` or an attached database).
    pub schema: String,
    /// The table's name.
    pub name: String,
    /// True for views and materialized views.
    pub is_view: bool,
    /// The row count the database knows (an estimate on PostgreSQL), when it knows one.
    pub row_count: Option<i64>,
    /// The columns, in table order.
    pub columns: Vec<Column>,
    /// The primary key's columns, in key order (empty for views and tables without one).
    pub primary_key: Vec<String>,
}

impl Table {
    /// `schema.name`, as logs and errors name the table.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns listed as `valid-replication-keys`: dates and date-times, and whole-number
    /// key columns (ids that only grow). Any orderable column still works when the catalog names
    /// it; these are the usual ones, and they stay selectable (`inclusion: available`), since a
    /// table has many of them and only the chosen one is forced into the selection.
    pub fn replication_key_candidates(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| {
                c.kind.is_temporal()
                    || (c.kind == ValueKind::Integer && self.primary_key.contains(&c.name))
            })
            .map(|c| c.name.clone())
            .collect()
    }

    /// The stream's JSON Schema: one property per column; with `log_fields`, also
    /// [`DELETED_AT`] and [`LSN`] (the fields LOG_BASED records carry).
    pub fn json_schema(&self, decimal: DecimalMode, log_fields: bool) -> Value {
        let mut properties = Map::new();
        for c in &self.columns {
            let nullable = c.nullable && !self.primary_key.contains(&c.name);
            properties.insert(
                c.name.clone(),
                c.kind.json_schema(nullable, decimal, c.max_length),
            );
        }
        if log_fields {
            properties.insert(
                DELETED_AT.into(),
                json!({"type": ["null", "string"], "format": "date-time"}),
            );
            properties.insert(LSN.into(), json!({"type": ["null", "integer"]}));
        }
        json!({"type": "object", "properties": properties})
    }

    /// Writes the standard SQL metadata at one node of the stream's schema: `database-name`,
    /// `schema-name`, `is-view`, `row-count` and `valid-replication-keys` on the stream,
    /// `sql-datatype` on each column. (`table-key-properties` and `inclusion` come from the
    /// framework's standard metadata.)
    pub fn write_metadata(&self, node: &SchemaNode<'_>, meta: &mut NodeMetadata<'_>) {
        if node.level == 0 {
            meta.set(keys::DATABASE_NAME, self.database.as_str());
            meta.set(keys::SCHEMA_NAME, self.schema.as_str());
            meta.set(keys::IS_VIEW, self.is_view);
            if let Some(rows) = self.row_count {
                meta.set(keys::ROW_COUNT, rows);
            }
            let candidates = self.replication_key_candidates();
            if !candidates.is_empty() {
                meta.set(keys::VALID_REPLICATION_KEYS, candidates);
            }
            return;
        }
        if node.level != 1 {
            return;
        }
        if let Some(column) = node.name.and_then(|n| self.column(n)) {
            meta.set(keys::SQL_DATATYPE, column.sql_type.as_str());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn column(name: &str, kind: ValueKind, nullable: bool) -> Column {
        Column {
            name: name.into(),
            sql_type: format!("{kind:?}").to_lowercase(),
            kind,
            nullable,
            max_length: None,
        }
    }

    pub(crate) fn orders() -> Table {
        Table {
            database: "shop".into(),
            schema: "public".into(),
            name: "orders".into(),
            is_view: false,
            row_count: Some(3),
            columns: vec![
                column("id", ValueKind::Integer, true),
                column("note", ValueKind::Text, true),
                column("updated_at", ValueKind::TimestampTz, false),
            ],
            primary_key: vec!["id".into()],
        }
    }

    #[test]
    fn the_schema_has_a_property_per_column_and_keys_are_not_nullable() {
        let schema = orders().json_schema(DecimalMode::Number, false);
        assert_eq!(schema["properties"]["id"], json!({"type": "integer"}));
        assert_eq!(
            schema["properties"]["note"]["type"],
            json!(["null", "string"])
        );
        assert!(schema["properties"].get(DELETED_AT).is_none());
        let log = orders().json_schema(DecimalMode::Number, true);
        assert_eq!(log["properties"][LSN]["type"], json!(["null", "integer"]));
        assert_eq!(orders().replication_key_candidates(), ["id", "updated_at"]);
    }
}
