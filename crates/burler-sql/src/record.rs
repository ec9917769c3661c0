//! The record type of every SQL stream: a database row (or a decoded change) that serializes
//! straight into the record line, selected columns only, with no `serde_json::Value` in between.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::dialect::{Dialect, Row};
use crate::table::Column;
use crate::types::DecimalMode;

/// The selected columns of a query, in SELECT-list order, and how they are written.
#[derive(Debug)]
pub struct RowShape {
    /// The columns, in the order the query reads them.
    pub columns: Vec<Column>,
    /// How decimals are written.
    pub decimal: DecimalMode,
}

/// One record of a SQL stream: a row read by a query, or (LOG_BASED) a change read from the log.
pub struct SqlRecord<D: Dialect> {
    inner: Inner<D>,
}

enum Inner<D: Dialect> {
    Row { row: Row<D>, shape: Arc<RowShape> },
    Change(D::Change),
}

impl<D: Dialect> SqlRecord<D> {
    /// A record of `row`, whose columns are those of `shape`.
    pub fn from_row(row: Row<D>, shape: Arc<RowShape>) -> Self {
        SqlRecord {
            inner: Inner::Row { row, shape },
        }
    }

    /// A record of a change read from the database's log.
    pub fn from_change(change: D::Change) -> Self {
        SqlRecord {
            inner: Inner::Change(change),
        }
    }

    /// The values of the columns named `names` (a primary key), as the state keeps them; `None`
    /// for a change record or a name not in the row.
    pub fn key_values(&self, names: &[String]) -> Option<Vec<Value>> {
        let Inner::Row { row, shape } = &self.inner else {
            return None;
        };
        names
            .iter()
            .map(|name| {
                let index = shape.columns.iter().position(|c| &c.name == name)?;
                Some(D::key_value(&shape.columns[index], row, index))
            })
            .collect()
    }
}

impl<D: Dialect> Serialize for SqlRecord<D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.inner {
            Inner::Change(change) => change.serialize(s),
            Inner::Row { row, shape } => {
                let mut map = s.serialize_map(Some(shape.columns.len()))?;
                for (index, column) in shape.columns.iter().enumerate() {
                    map.serialize_entry(
                        &column.name,
                        &Cell::<D> {
                            column,
                            decimal: shape.decimal,
                            row,
                            index,
                        },
                    )?;
                }
                map.end()
            }
        }
    }
}

/// One value of a row, written by the dialect.
struct Cell<'a, D: Dialect> {
    column: &'a Column,
    decimal: DecimalMode,
    row: &'a Row<D>,
    index: usize,
}

impl<D: Dialect> Serialize for Cell<'_, D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        D::write_cell(self.column, self.decimal, self.row, self.index, s)
    }
}
