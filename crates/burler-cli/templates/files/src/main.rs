//! {{tap_name}}: a Singer tap over a directory of data files, built with burler.
//!
//! `orders` comes from `orders.jsonl` (one JSON object a line, sorted by `updated_at`),
//! INCREMENTAL on `updated_at`; `customers` from `customers.csv`, FULL_TABLE. Every line that
//! does not read fails the stream with the file and line number. Change the record types and
//! file names to your files'.

mod config;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;

use burler::chrono::{DateTime, Utc};
use burler::prelude::*;

use config::{Config, SECRETS};

/// One order, as `orders.jsonl` holds it.
#[burler::record]
struct Order {
    id: u64,
    customer_id: u64,
    total: f64,
    updated_at: DateTime<Utc>,
}

/// One customer, as `customers.csv` holds it.
#[burler::record]
struct Customer {
    id: u64,
    name: String,
    email: Option<String>,
}

type Ctx<R> = SyncContext<R, Config>;

/// Orders updated at or after the bookmark (on a first run: `start_date`).
async fn sync_orders(ctx: Ctx<Order>) -> SyncResult {
    let path = ctx.config().data_dir.join("orders.jsonl");
    let since = ctx.replication_start_datetime();
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let order: Order = burler::serde_json::from_str(&line?)
            .map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
        if since.is_none_or(|start| order.updated_at >= start) {
            ctx.emit(order)?;
        }
    }
    Ok(())
}

async fn sync_customers(ctx: Ctx<Customer>) -> SyncResult {
    let path = ctx.config().data_dir.join("customers.csv");
    let mut reader =
        csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    for row in reader.deserialize() {
        ctx.emit(row.map_err(|e| format!("{}: {e}", path.display()))?)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    Tap::new("{{tap_name}}")
        .version(env!("CARGO_PKG_VERSION"))
        .description("{{description}}")
        .config::<Config>()
        .secret(SECRETS)
        .stream(
            Stream::new("orders")
                .schema_from_type()
                .key(["id"])
                .incremental("updated_at")
                .bookmark_strategy(BookmarkStrategy::Records(20))
                .sync(sync_orders),
        )
        .stream(
            Stream::new("customers")
                .schema_from_type()
                .key(["id"])
                .sync(sync_customers),
        )
        .run()
}
