//! tap-files: an example burler tap over a local directory of data files.
//!
//! `orders.jsonl` is synced INCREMENTAL on `updated_at` (the file is sorted by it), `customers.csv`
//! FULL_TABLE with table versions, and `events/*.jsonl` as for-each partitions: one per file, each
//! with its own bookmark. Run `--discover`, then sync with the catalog, then sync again with
//! the last STATE: the second run emits only orders at or after the bookmark.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use burler::chrono::{DateTime, Utc};
use burler::prelude::*;
use burler::serde_json;

/// The tap's settings.
#[burler::config]
struct Config {
    /// Directory holding `orders.jsonl` and `customers.csv`.
    data_dir: PathBuf,
    /// Orders and events before this are not synced on a first run.
    start_date: Option<StartDate>,
}

/// A line item of an order.
#[burler::record]
struct Item {
    sku: String,
    quantity: u32,
    price: f64,
}

/// One order, as `orders.jsonl` holds it.
#[burler::record]
struct Order {
    id: u64,
    customer_id: u64,
    status: String,
    total: f64,
    items: Vec<Item>,
    note: Option<String>,
    updated_at: DateTime<Utc>,
}

/// One customer, as `customers.csv` holds it.
#[burler::record]
struct Customer {
    id: u64,
    name: String,
    email: String,
    country: String,
    created_at: DateTime<Utc>,
}

/// One event, as the files under `events/` hold them.
#[burler::record]
struct Event {
    id: String,
    kind: String,
    at: DateTime<Utc>,
}

type Ctx<R> = SyncContext<R, Config>;

/// Emits the orders updated at or after the bookmark (or `start_date`).
async fn sync_orders(ctx: Ctx<Order>) -> SyncResult {
    let path = ctx.config().data_dir.join("orders.jsonl");
    let since = ctx.replication_start_datetime();
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let order: Order = serde_json::from_str(&line?)
            .map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
        if since.is_none_or(|s| order.updated_at >= s) {
            ctx.emit(order)?;
        }
    }
    Ok(())
}

/// The partitions of `events`: one per file in `events/`.
async fn event_files(ctx: Ctx<Event>) -> Result<Vec<serde_json::Value>, BoxError> {
    let dir = ctx.config().data_dir.join("events");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".jsonl"))
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|file| serde_json::json!({ "file": file }))
        .collect())
}

/// Emits the events of one file at or after that file's bookmark.
async fn sync_events(ctx: Ctx<Event>) -> SyncResult {
    let file = ctx
        .partition()
        .and_then(|p| p["file"].as_str())
        .ok_or("no partition")?;
    let path = ctx.config().data_dir.join("events").join(file);
    let since = ctx.replication_start_datetime();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    for (n, line) in text.lines().enumerate() {
        let event: Event = serde_json::from_str(line)
            .map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
        if since.is_none_or(|s| event.at >= s) {
            ctx.emit(event)?;
        }
    }
    Ok(())
}

/// Emits every customer.
async fn sync_customers(ctx: Ctx<Customer>) -> SyncResult {
    let path = ctx.config().data_dir.join("customers.csv");
    let mut reader =
        csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    for row in reader.deserialize() {
        ctx.emit(row.map_err(|e| format!("{}: {e}", path.display()))?)?;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    Tap::new("tap-files")
        .version(env!("CARGO_PKG_VERSION"))
        .description("Orders and customers from a local directory of JSONL and CSV files")
        .config::<Config>()
        .stream(
            Stream::new("orders")
                .schema_from_type()
                .key(["id"])
                .incremental("updated_at")
                .bookmark_strategy(BookmarkStrategy::Records(25))
                .sync(sync_orders),
        )
        .stream(
            Stream::new("customers")
                .schema_from_type()
                .key(["id"])
                .full_table()
                .sync(sync_customers),
        )
        .stream(
            Stream::new("events")
                .schema_from_type()
                .key(["id"])
                .incremental("at")
                .partitions(event_files)
                .sync(sync_events),
        )
        .run()
}
