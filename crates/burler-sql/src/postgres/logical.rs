//! LOG_BASED replication for PostgreSQL: logical decoding from a replication slot.
//!
//! # How
//!
//! The tap reads the slot with `pg_logical_slot_peek_binary_changes` over an ordinary connection,
//! decoding the built-in `pgoutput` plugin's messages ([`super::pgoutput`]). Why this way:
//!
//! - **pgoutput, not wal2json**: pgoutput is part of every PostgreSQL since 10, so the server
//!   needs no extension (Debian ships wal2json as a separate package, `postgresql-15-wal2json`,
//!   which a managed database may not offer), and its messages are a small documented binary
//!   format, decoded here without a JSON parse per change. Its publication filters tables on the
//!   server. A slot belongs to one plugin: a wal2json slot of another tap cannot be reused.
//! - **peek over a plain connection, not the replication protocol**: sqlx has no replication
//!   protocol (`CopyBoth`); the SQL function needs none, works through poolers and proxies, and
//!   streams its rows like any query, so memory stays flat. *Peek* does not consume the slot: the
//!   tap tells the server what it may forget only at the start of the next run, by advancing the
//!   slot to the smallest LOG_BASED bookmark of the state it was given: what the target has
//!   committed. A crash loses nothing; changes after the last bookmark are sent again.
//!
//! # A run of a LOG_BASED stream
//!
//! 1. Once per run: checks `wal_level = logical`, creates the publication (`FOR TABLE` the
//!    LOG_BASED tables; adds the ones it lacks), creates the slot if missing (plugin `pgoutput`),
//!    and advances it to the smallest LOG_BASED bookmark of the input state.
//! 2. First sync of the stream: its bookmark is set to the slot's position, then the whole table
//!    is read as a FULL_TABLE sync (table version, resumable by key, ACTIVATE_VERSION at the end);
//!    `initial_full_table_complete: true` marks it done. Changes made meanwhile come again from
//!    the log (at least once).
//! 3. Log reading: the tap writes a marker transaction (`pg_logical_emit_message`), then reads the
//!    slot's changes up to that marker: every change committed before the run started, nothing
//!    that is still being written. Inserts and updates are records with the new row; a delete is a
//!    record with the key columns (all columns with `REPLICA IDENTITY FULL`) and
//!    `_sdc_deleted_at` set to the commit time. Every record carries `_sdc_lsn`, the change's LSN.
//! 4. The bookmark is the end LSN of the last transaction fully read (`replication_key:
//!    _sdc_lsn`, `replication_key_value`: the LSN as an integer, as MeltanoLabs tap-postgres keeps
//!    it), committed every `checkpoint_every` changes at a transaction boundary and at the end.
//!
//! # Supported, and not
//!
//! - PostgreSQL 11 or later (`pg_replication_slot_advance`), `wal_level = logical`, a user with
//!   the `REPLICATION` attribute who may create the publication (or an existing one).
//! - Tables with a primary key (or `REPLICA IDENTITY FULL`); views have no log.
//! - Updates of TOASTed values left unchanged: PostgreSQL does not send them; with `REPLICA
//!   IDENTITY FULL` the old row fills them in, else the field is left out of the record (a
//!   warning says so).
//! - Not supported: TRUNCATE (a warning names the table: resync it FULL_TABLE), schema changes
//!   after discovery (columns added later are not read; dropped ones are left out), partitioned
//!   tables (their changes arrive under the partitions), logical decoding on a standby, the
//!   author's filter and partitions (they apply to the initial sync only).

use std::collections::HashMap;
use std::sync::Arc;

use burler::SyncResult;
use futures::TryStreamExt;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;
use sqlx::{Pool, Row};
use tracing::{info, warn};

use super::Postgres;
use super::pgoutput::{self, Datum, Message, Relation};
use crate::dialect::quote;
use crate::encode::{self, ShortText};
use crate::error::SqlError;
use crate::plan::TablePlan;
use crate::record::SqlRecord;
use crate::sync::{self, SqlContext};
use crate::table::{Column, DELETED_AT, LSN};
use crate::tap::SourceConfig;
use crate::types::DecimalMode;

/// The state key that says a stream's initial FULL_TABLE sync is done.
pub const INITIAL_DONE: &str = "initial_full_table_complete";
/// The prefix of the marker messages the tap writes into the log.
const MARKER_PREFIX: &str = "burler";
/// Microseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// One change read from the log, written as a record.
pub struct Change {
    shape: Arc<ChangeShape>,
    values: Vec<Slot>,
    lsn: u64,
    deleted_at: Option<ShortText>,
}

/// A column's value in a change.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Text(String),
    Null,
    /// Not sent by the server (a delete's non-key column, an unchanged TOASTed value).
    Absent,
}

/// What every change of a stream writes.
struct ChangeShape {
    columns: Vec<Column>,
    decimal: DecimalMode,
    deleted_field: bool,
    lsn_field: bool,
}

impl Serialize for Change {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (column, slot) in self.shape.columns.iter().zip(&self.values) {
            match slot {
                Slot::Absent => {}
                Slot::Null => map.serialize_entry(&column.name, &None::<()>)?,
                Slot::Text(text) => map.serialize_entry(
                    &column.name,
                    &TextCell {
                        column,
                        decimal: self.shape.decimal,
                        text,
                    },
                )?,
            }
        }
        if self.shape.deleted_field {
            map.serialize_entry(DELETED_AT, &self.deleted_at)?;
        }
        if self.shape.lsn_field {
            map.serialize_entry(LSN, &self.lsn)?;
        }
        map.end()
    }
}

struct TextCell<'a> {
    column: &'a Column,
    decimal: DecimalMode,
    text: &'a str,
}

impl Serialize for TextCell<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::text::write_text(&self.column.kind, self.decimal, self.text, s)
    }
}

/// Syncs one LOG_BASED stream: the initial FULL_TABLE sync when it has not been done, then the log.
pub(crate) async fn sync<C: SourceConfig<Postgres>>(
    ctx: SqlContext<Postgres, C>,
    plan: Arc<TablePlan>,
) -> SyncResult {
    let config = ctx.config().source();
    let Some(slot) = config.replication_slot.clone() else {
        return Err(SqlError::Unsupported {
            stream: plan.stream.clone(),
            problem: "LOG_BASED needs `replication_slot` in the config".into(),
        }
        .into());
    };
    let publication = config
        .publication
        .clone()
        .unwrap_or_else(|| "burler".into());
    if plan.table.is_view || plan.table.primary_key.is_empty() {
        return Err(SqlError::Unsupported {
            stream: plan.stream.clone(),
            problem: "LOG_BASED needs a table with a primary key; use FULL_TABLE or INCREMENTAL"
                .into(),
        }
        .into());
    }
    let version = prepare_once(&ctx, &slot, &publication).await?;
    if ctx.state_value(INITIAL_DONE) != Some(Value::Bool(true)) {
        initial_sync(&ctx, &plan, &slot).await?;
    }
    read_log(&ctx, &plan, &slot, &publication, version).await
}

/// The first sync: the bookmark at the slot's position, then the whole table.
async fn initial_sync<C: SourceConfig<Postgres>>(
    ctx: &SqlContext<Postgres, C>,
    plan: &Arc<TablePlan>,
    slot: &str,
) -> SyncResult {
    // Opens the table version first, so a first-ever sync activates it before anything else.
    drop(ctx.begin_table_version()?);
    if ctx.state_value("replication_key_value").is_none() {
        let pool = &ctx.client().pool;
        let start = slot_position(pool, slot)
            .await
            .map_err(|problem| replication(slot, problem))?;
        ctx.set_state_value("replication_key", LSN)?;
        ctx.set_bookmark(start)?;
        info!(
            "stream {}: initial sync; changes from LSN {} follow",
            plan.stream,
            pgoutput::format_lsn(start)
        );
    }
    sync::full_table(ctx.clone(), plan.clone(), true).await?;
    ctx.set_state_value(INITIAL_DONE, true)?;
    Ok(())
}

fn replication(slot: &str, problem: impl std::fmt::Display) -> SqlError {
    SqlError::Replication {
        slot: slot.to_owned(),
        problem: problem.to_string(),
    }
}

/// Readies the publication and the slot once per run; returns `server_version_num`.
async fn prepare_once<C: SourceConfig<Postgres>>(
    ctx: &SqlContext<Postgres, C>,
    slot: &str,
    publication: &str,
) -> Result<u32, SqlError> {
    let client = ctx.client();
    let run = &client.run;
    let ready = run
        .log_ready
        .get_or_init(|| async {
            prepare(
                &client.pool,
                slot,
                publication,
                &run.log_tables,
                &run.log_bookmarks,
            )
            .await
            .map_err(|e| e.to_string())
        })
        .await;
    ready.clone().map_err(|problem| replication(slot, problem))
}

async fn prepare(
    pool: &Pool<sqlx::Postgres>,
    slot: &str,
    publication: &str,
    tables: &[(String, String)],
    bookmarks: &[Option<Value>],
) -> Result<u32, sqlx::Error> {
    let wal_level: String = sqlx::query_scalar("SELECT current_setting('wal_level')")
        .fetch_one(pool)
        .await?;
    if wal_level != "logical" {
        return Err(sqlx::Error::Protocol(format!(
            "the server has wal_level = {wal_level}; LOG_BASED needs wal_level = logical (postgresql.conf, then restart)"
        )));
    }
    let version: String = sqlx::query_scalar("SELECT current_setting('server_version_num')")
        .fetch_one(pool)
        .await?;
    let created = ensure_publication(pool, publication, tables).await?;
    ensure_slot(pool, slot, created).await?;
    let smallest = bookmarks
        .iter()
        .map(|b| b.as_ref().and_then(Value::as_u64))
        .collect::<Option<Vec<u64>>>();
    if let Some(Some(lsn)) = smallest.map(|b| b.into_iter().min()) {
        advance(pool, slot, lsn).await?;
    }
    Ok(version.parse().unwrap_or(0))
}

/// Creates the publication or adds the tables it lacks; true when it was created.
async fn ensure_publication(
    pool: &Pool<sqlx::Postgres>,
    publication: &str,
    tables: &[(String, String)],
) -> Result<bool, sqlx::Error> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)")
            .bind(publication)
            .fetch_one(pool)
            .await?;
    let name = |(schema, table): &(String, String)| format!("{}.{}", quote(schema), quote(table));
    if !exists {
        let list: Vec<String> = tables.iter().map(name).collect();
        let sql = format!(
            "CREATE PUBLICATION {} FOR TABLE {}",
            quote(publication),
            list.join(", ")
        );
        sqlx::raw_sql(&sql).execute(pool).await?;
        info!("created publication {publication} for {}", list.join(", "));
        return Ok(true);
    }
    let published: Vec<(String, String)> = sqlx::query_as(
        "SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = $1",
    )
    .bind(publication)
    .fetch_all(pool)
    .await?;
    for table in tables.iter().filter(|t| !published.contains(t)) {
        let sql = format!(
            "ALTER PUBLICATION {} ADD TABLE {}",
            quote(publication),
            name(table)
        );
        sqlx::raw_sql(&sql).execute(pool).await?;
        info!("added {} to publication {publication}", name(table));
    }
    Ok(false)
}

/// Creates the slot when missing; checks its plugin and database. A publication created after an
/// existing slot cannot decode the slot's older changes: the slot then moves to the present.
async fn ensure_slot(
    pool: &Pool<sqlx::Postgres>,
    slot: &str,
    publication_is_new: bool,
) -> Result<(), sqlx::Error> {
    let found: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT plugin::text, database::text FROM pg_replication_slots WHERE slot_name = $1",
    )
    .bind(slot)
    .fetch_optional(pool)
    .await?;
    let database: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(pool)
        .await?;
    match found {
        None => {
            sqlx::query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')")
                .bind(slot)
                .execute(pool)
                .await?;
            info!("created replication slot {slot} (pgoutput)");
        }
        Some((plugin, _)) if plugin != "pgoutput" => {
            return Err(sqlx::Error::Protocol(format!(
                "the slot decodes with {plugin}; burler reads pgoutput slots: set another replication_slot"
            )));
        }
        Some((_, db)) if db.as_deref() != Some(database.as_str()) => {
            return Err(sqlx::Error::Protocol(format!(
                "the slot belongs to database {}, not {database}",
                db.unwrap_or_default()
            )));
        }
        Some(_) if publication_is_new => {
            let now: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
                .fetch_one(pool)
                .await?;
            advance(pool, slot, pgoutput::parse_lsn(&now).unwrap_or(0)).await?;
        }
        Some(_) => {}
    }
    Ok(())
}

/// The slot's confirmed position: where its changes start.
async fn slot_position(pool: &Pool<sqlx::Postgres>, slot: &str) -> Result<u64, sqlx::Error> {
    let lsn: Option<String> = sqlx::query_scalar(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
    )
    .bind(slot)
    .fetch_one(pool)
    .await?;
    Ok(lsn.as_deref().and_then(pgoutput::parse_lsn).unwrap_or(0))
}

/// Lets the server forget the slot's changes before `lsn` (when it is ahead of the slot).
async fn advance(pool: &Pool<sqlx::Postgres>, slot: &str, lsn: u64) -> Result<(), sqlx::Error> {
    if lsn <= slot_position(pool, slot).await? {
        return Ok(());
    }
    sqlx::query("SELECT pg_replication_slot_advance($1, $2::pg_lsn)")
        .bind(slot)
        .bind(pgoutput::format_lsn(lsn))
        .execute(pool)
        .await?;
    info!(
        "replication slot {slot} advanced to {}",
        pgoutput::format_lsn(lsn)
    );
    Ok(())
}

/// Reads the stream's changes from its bookmark up to a marker written now, and emits them.
async fn read_log<C: SourceConfig<Postgres>>(
    ctx: &SqlContext<Postgres, C>,
    plan: &Arc<TablePlan>,
    slot: &str,
    publication: &str,
    version: u32,
) -> SyncResult {
    let pool = &ctx.client().pool;
    let from = ctx
        .state_value("replication_key_value")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let marker = write_marker(pool, &plan.stream)
        .await
        .map_err(|e| replication(slot, e))?;
    let sql = peek_sql(version);
    let mut reader = ChangeReader::new(plan, from, marker);
    let mut rows = sqlx::query(&sql).bind(slot).bind(publication).fetch(pool);
    let mut since_bookmark = 0u64;
    while let Some(row) = rows.try_next().await.map_err(|e| replication(slot, e))? {
        let lsn: &str = row.try_get(0).map_err(|e| replication(slot, e))?;
        let data: &[u8] = row.try_get(1).map_err(|e| replication(slot, e))?;
        let lsn = pgoutput::parse_lsn(lsn).unwrap_or(0);
        let message = pgoutput::parse(data)
            .map_err(|e| replication(slot, format!("at LSN {}: {e}", pgoutput::format_lsn(lsn))))?;
        match reader.step(lsn, message) {
            Step::Nothing => {}
            Step::Emit(change) => {
                ctx.emit(SqlRecord::from_change(change))?;
                since_bookmark += 1;
            }
            Step::Committed(end) if since_bookmark >= plan.checkpoint_every => {
                ctx.set_bookmark(end)?;
                since_bookmark = 0;
            }
            Step::Committed(_) => {}
            Step::Marker(end) => {
                ctx.set_bookmark(end)?;
                return Ok(());
            }
        }
    }
    if let Some(end) = reader.last_end {
        ctx.set_bookmark(end)?;
    }
    warn!(
        "stream {}: the change stream ended before the run's marker",
        plan.stream
    );
    Ok(())
}

/// Writes the run's marker transaction into the log; returns its xid (as the log's 32 bits).
async fn write_marker(pool: &Pool<sqlx::Postgres>, stream: &str) -> Result<u32, sqlx::Error> {
    let xid: i64 = sqlx::query_scalar(
        "SELECT txid_current()::int8 FROM (SELECT pg_logical_emit_message(true, $1, $2)) m",
    )
    .bind(MARKER_PREFIX)
    .bind(stream)
    .fetch_one(pool)
    .await?;
    Ok((xid & 0xFFFF_FFFF) as u32)
}

/// The query that reads the slot without consuming it.
fn peek_sql(version: u32) -> String {
    // pgoutput sends logical messages (and so the marker's transaction) from PostgreSQL 14 on;
    // before 15 it also sends empty transactions, the marker's among them.
    let messages = if version >= 140_000 {
        ", 'messages', 'true'"
    } else {
        ""
    };
    format!(
        "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes($1::name, NULL::pg_lsn, NULL::int, \
         'proto_version', '1', 'publication_names', $2{messages})"
    )
}

/// What one message means for the stream.
#[derive(Debug)]
enum Step {
    Nothing,
    Emit(Change),
    /// A transaction ended at this LSN.
    Committed(u64),
    /// The run's marker transaction ended at this LSN: everything before it has been read.
    Marker(u64),
}

/// Where a table column is in a relation of the change stream.
#[derive(Debug, Clone)]
struct Place {
    index: usize,
    key: bool,
}

/// Follows the change stream: transactions, relations, and the changes of the stream's table.
struct ChangeReader {
    shape: Arc<ChangeShape>,
    schema: String,
    table: String,
    stream: String,
    from: u64,
    marker_xid: u32,
    /// The stream's table's columns in each relation id of the stream (`None`: another table).
    relations: HashMap<u32, Option<Vec<Option<Place>>>>,
    xid: u32,
    commit_time: i64,
    skip: bool,
    last_end: Option<u64>,
    warned_toast: bool,
}

impl ChangeReader {
    fn new(plan: &TablePlan, from: u64, marker_xid: u32) -> Self {
        let field = |f: &str| plan.log_schema && plan.log_fields.iter().any(|x| x == f);
        ChangeReader {
            shape: Arc::new(ChangeShape {
                columns: plan.columns.clone(),
                decimal: plan.decimal,
                deleted_field: field(DELETED_AT),
                lsn_field: field(LSN),
            }),
            schema: plan.table.schema.clone(),
            table: plan.table.name.clone(),
            stream: plan.stream.clone(),
            from,
            marker_xid,
            relations: HashMap::new(),
            xid: 0,
            commit_time: 0,
            skip: false,
            last_end: None,
            warned_toast: false,
        }
    }

    fn step(&mut self, lsn: u64, message: Message<'_>) -> Step {
        match message {
            Message::Begin {
                commit_lsn,
                commit_time,
                xid,
            } => {
                (self.xid, self.commit_time) = (xid, commit_time);
                // Transactions that committed before the bookmark were sent by an earlier run.
                self.skip = commit_lsn < self.from;
                Step::Nothing
            }
            Message::Commit { end_lsn } => {
                self.last_end = Some(end_lsn.max(self.last_end.unwrap_or(0)));
                if self.xid == self.marker_xid {
                    Step::Marker(end_lsn)
                } else {
                    Step::Committed(end_lsn)
                }
            }
            Message::Relation(r) => {
                let places = self.places(&r);
                self.relations.insert(r.id, places);
                Step::Nothing
            }
            Message::Insert { relation, new } => {
                self.change(lsn, relation, &new, None, false, false)
            }
            Message::Update { relation, old, new } => {
                self.change(lsn, relation, &new, old.as_deref(), false, false)
            }
            Message::Delete {
                relation,
                old,
                key_only,
            } => self.change(lsn, relation, &old, None, true, key_only),
            Message::Truncate { relations } => {
                if relations
                    .iter()
                    .any(|r| matches!(self.relations.get(r), Some(Some(_))))
                    && !self.skip
                {
                    warn!(
                        "stream {}: TRUNCATE at LSN {} is not replicated: resync the table FULL_TABLE",
                        self.stream,
                        pgoutput::format_lsn(lsn)
                    );
                }
                Step::Nothing
            }
            Message::Logical { .. } | Message::Other => Step::Nothing,
        }
    }

    /// The place of each of the stream's columns in `relation`, when it is the stream's table.
    fn places(&self, relation: &Relation) -> Option<Vec<Option<Place>>> {
        if relation.namespace != self.schema || relation.name != self.table {
            return None;
        }
        let places = self
            .shape
            .columns
            .iter()
            .map(|c| {
                let index = relation.columns.iter().position(|rc| rc.name == c.name)?;
                Some(Place {
                    index,
                    key: relation.columns[index].key,
                })
            })
            .collect();
        Some(places)
    }

    fn change(
        &mut self,
        lsn: u64,
        relation: u32,
        row: &[Datum<'_>],
        old: Option<&[Datum<'_>]>,
        deleted: bool,
        key_only: bool,
    ) -> Step {
        if self.skip {
            return Step::Nothing;
        }
        let Some(Some(places)) = self.relations.get(&relation) else {
            return Step::Nothing;
        };
        let mut toasted = false;
        let values = places
            .iter()
            .map(|place| {
                let Some(p) = place else { return Slot::Absent };
                match row.get(p.index) {
                    Some(Datum::Text(b)) => Slot::Text(String::from_utf8_lossy(b).into_owned()),
                    Some(Datum::Null) if deleted && key_only && !p.key => Slot::Absent,
                    Some(Datum::Null) => Slot::Null,
                    Some(Datum::Unchanged) => match old.and_then(|o| o.get(p.index)) {
                        Some(Datum::Text(b)) => Slot::Text(String::from_utf8_lossy(b).into_owned()),
                        _ => {
                            toasted = true;
                            Slot::Absent
                        }
                    },
                    None => Slot::Absent,
                }
            })
            .collect();
        if toasted && !self.warned_toast {
            warn!(
                "stream {}: an update left TOASTed values unchanged, which PostgreSQL does not send; they are left out (REPLICA IDENTITY FULL sends them)",
                self.stream
            );
            self.warned_toast = true;
        }
        let deleted_at = deleted
            .then(|| encode::format_timestamp(self.commit_time + PG_EPOCH_MICROS))
            .flatten();
        Step::Emit(Change {
            shape: self.shape.clone(),
            values,
            lsn,
            deleted_at,
        })
    }
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Change")
            .field("lsn", &self.lsn)
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::DefaultReplication;
    use crate::table::tests::orders;
    use crate::types::DecimalMode;
    use pgoutput::RelationColumn;

    fn reader(from: u64) -> ChangeReader {
        let mut plan = TablePlan::new(
            orders(),
            "public-orders".into(),
            None,
            &DefaultReplication::LogBased,
            DecimalMode::Number,
        );
        plan.log_schema = true;
        ChangeReader::new(&plan, from, 99)
    }

    fn relation() -> Message<'static> {
        let col = |name: &str, key| RelationColumn {
            name: name.into(),
            key,
        };
        Message::Relation(Relation {
            id: 1,
            namespace: "public".into(),
            name: "orders".into(),
            columns: vec![
                col("id", true),
                col("updated_at", false),
                col("note", false),
            ],
        })
    }

    fn json(step: Step) -> Value {
        match step {
            Step::Emit(change) => serde_json::to_value(&change).unwrap(),
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn inserts_updates_and_deletes_become_records_with_the_log_fields() {
        let mut r = reader(0);
        r.step(
            10,
            Message::Begin {
                commit_lsn: 20,
                commit_time: 0,
                xid: 5,
            },
        );
        r.step(11, relation());
        let insert = r.step(
            12,
            Message::Insert {
                relation: 1,
                new: vec![
                    Datum::Text(b"7"),
                    Datum::Text(b"2024-01-31 13:45:00+00"),
                    Datum::Null,
                ],
            },
        );
        assert_eq!(
            json(insert),
            serde_json::json!({"id": 7, "note": null, "updated_at": "2024-01-31T13:45:00Z", "_sdc_deleted_at": null, "_sdc_lsn": 12})
        );
        let toast = r.step(
            13,
            Message::Update {
                relation: 1,
                old: None,
                new: vec![
                    Datum::Text(b"7"),
                    Datum::Text(b"2024-02-01 00:00:00+00"),
                    Datum::Unchanged,
                ],
            },
        );
        assert!(
            json(toast).get("note").is_none(),
            "an unchanged TOASTed value is left out"
        );
        let delete = r.step(
            14,
            Message::Delete {
                relation: 1,
                old: vec![Datum::Text(b"7"), Datum::Null, Datum::Null],
                key_only: true,
            },
        );
        let delete = json(delete);
        assert_eq!(delete["_sdc_deleted_at"], "2000-01-01T00:00:00Z");
        assert!(
            delete.get("note").is_none() && delete["id"] == 7,
            "a key-only delete has its key: {delete}"
        );
        assert!(matches!(
            r.step(15, Message::Commit { end_lsn: 21 }),
            Step::Committed(21)
        ));
    }

    #[test]
    fn transactions_before_the_bookmark_and_other_tables_are_skipped_and_the_marker_ends_the_read()
    {
        let mut r = reader(100);
        r.step(1, relation());
        r.step(
            2,
            Message::Begin {
                commit_lsn: 50,
                commit_time: 0,
                xid: 5,
            },
        );
        assert!(matches!(
            r.step(
                3,
                Message::Insert {
                    relation: 1,
                    new: vec![Datum::Text(b"1")]
                }
            ),
            Step::Nothing
        ));
        r.step(
            4,
            Message::Begin {
                commit_lsn: 150,
                commit_time: 0,
                xid: 6,
            },
        );
        assert!(matches!(
            r.step(
                5,
                Message::Insert {
                    relation: 2,
                    new: vec![Datum::Text(b"1")]
                }
            ),
            Step::Nothing
        ));
        r.step(
            6,
            Message::Begin {
                commit_lsn: 200,
                commit_time: 0,
                xid: 99,
            },
        );
        assert!(matches!(
            r.step(7, Message::Commit { end_lsn: 210 }),
            Step::Marker(210)
        ));
    }
}
