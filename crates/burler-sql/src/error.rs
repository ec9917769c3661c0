//! Errors of the SQL sources, each displayed as one line that names what the operator must fix
//! (the database, the table, the column, the replication slot).

/// An error of a SQL source.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The config does not say how to reach the database, or says it wrongly.
    #[error("config: {0}")]
    Config(String),
    /// Connecting to the database failed.
    #[error("connect to {target}: {source}")]
    Connect {
        /// The database, without its password.
        target: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A catalog query of discovery failed.
    #[error("discover {database}: {source}")]
    Discover {
        /// The database.
        database: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A query of a stream's sync failed.
    #[error("table {table}: {source} (query: {sql})")]
    Query {
        /// The table, `schema.name`.
        table: String,
        /// The SQL sent.
        sql: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A value read from the database cannot be written as the column's JSON type.
    #[error("table {table}, column {column}: {problem}")]
    Value {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// What is wrong with the value.
        problem: String,
    },
    /// The catalog asks for something the table cannot do (a replication key that is not a
    /// column, LOG_BASED on a database without it).
    #[error("stream {stream}: {problem}")]
    Unsupported {
        /// The stream.
        stream: String,
        /// What cannot be done, and what to do instead.
        problem: String,
    },
    /// Logical replication (LOG_BASED) failed: the slot, the publication or the change stream.
    #[error("replication slot {slot}: {problem}")]
    Replication {
        /// The slot.
        slot: String,
        /// What went wrong.
        problem: String,
    },
    /// A bookmark or checkpoint in the state cannot be used for this table.
    #[error("state of stream {stream}: {problem}")]
    State {
        /// The stream.
        stream: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl SqlError {
    /// A query error of `table`, carrying the SQL sent.
    pub(crate) fn query(table: &str, sql: &str, source: sqlx::Error) -> Self {
        SqlError::Query {
            table: table.to_owned(),
            sql: sql.to_owned(),
            source,
        }
    }
}
