//! tap-orders: the README's tap. Orders from `orders.jsonl` in a directory, INCREMENTAL on
//! `updated_at`. Its `Cargo.toml` lists only `burler`.

use burler::chrono::{DateTime, Utc};
use burler::prelude::*;
use std::io::BufRead;

#[burler::config]
struct Config {
    /// Directory holding `orders.jsonl`.
    data_dir: std::path::PathBuf,
    /// Orders updated before this are not synced on a first run.
    start_date: Option<StartDate>,
}

#[burler::record]
struct Order {
    id: u64,
    total: f64,
    updated_at: DateTime<Utc>,
}

async fn sync_orders(ctx: SyncContext<Order, Config>) -> SyncResult {
    let since = ctx.replication_start_datetime(); // the bookmark, else start_date
    let file = std::fs::File::open(ctx.config().data_dir.join("orders.jsonl"))?;
    for line in std::io::BufReader::new(file).lines() {
        let order: Order = burler::serde_json::from_str(&line?)?;
        if since.is_none_or(|s| order.updated_at >= s) {
            ctx.emit(order)?;
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let orders = Stream::new("orders").schema_from_type().key(["id"]).incremental("updated_at");
    Tap::new("tap-orders")
        .version(env!("CARGO_PKG_VERSION"))
        .config::<Config>()
        .stream(orders.bookmark_strategy(BookmarkStrategy::Records(1_000)).sync(sync_orders))
        .run()
}
