//! The bounded-state benchmark tap: a three-level INCREMENTAL tree, accounts → campaigns → ads,
//! children emitted with `ctx.emit` in a loop, about `{"records": N}` records in all (each
//! account has 10 campaigns of 10 ads: 111 records per account). `bench/state.sh` counts the
//! STATE lines and bytes it writes against its RECORD bytes.

use burler::prelude::*;
use serde_json::{Value, json};

/// Campaigns per account, ads per campaign.
const FAN_OUT: u64 = 10;

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"},
        "parent_id": {"type": ["null", "string"]},
        "name": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"}}})
}

/// Record `i` under `parent`, updated `i` minutes into 2024, at or after the sync's start.
fn emit_children(ctx: &SyncContext<Value>, parent: Option<&str>, count: u64) -> SyncResult {
    let start = ctx
        .replication_start()
        .and_then(|v| v.as_str().map(str::to_owned));
    for i in 0..count {
        let updated_at = format!(
            "2024-{:02}-{:02}T{:02}:{:02}:00Z",
            1 + i / (28 * 1440) % 12,
            1 + i / 1440 % 28,
            i / 60 % 24,
            i % 60
        );
        if start.as_deref().is_some_and(|s| updated_at.as_str() < s) {
            continue;
        }
        let id = match parent {
            Some(p) => format!("{p}.{i}"),
            None => format!("a{i}"),
        };
        ctx.emit(json!({"id": id, "parent_id": parent, "name": format!("item {i}"), "updated_at": updated_at}))?;
    }
    Ok(())
}

/// A level of the tree, committing its bookmark every `every` of its records.
fn level(name: &str, every: u64) -> Stream<Value, Value, ()> {
    Stream::new(name)
        .schema(schema())
        .key(["id"])
        .incremental("updated_at")
        .bookmark_strategy(BookmarkStrategy::Records(every))
}

fn parent_id(ctx: &SyncContext<Value>) -> Option<String> {
    ctx.partition()
        .and_then(|p| p["id"].as_str())
        .map(str::to_owned)
}

fn main() -> std::process::ExitCode {
    let ads = level("ads", 1_000).sync(|ctx: SyncContext<Value>| async move {
        emit_children(&ctx, parent_id(&ctx).as_deref(), FAN_OUT)
    });
    let campaigns = level("campaigns", 1_000)
        .sync(|ctx: SyncContext<Value>| async move {
            emit_children(&ctx, parent_id(&ctx).as_deref(), FAN_OUT)
        })
        .substream(ads);
    // Every 10 accounts: a STATE about every 1,110 records.
    let accounts = level("accounts", 10)
        .sync(|ctx: SyncContext<Value>| async move {
            let records = ctx.config()["records"].as_u64().unwrap_or(25_000);
            let per_account = 1 + FAN_OUT + FAN_OUT * FAN_OUT;
            emit_children(&ctx, None, records.div_ceil(per_account))
        })
        .substream(campaigns);
    Tap::new("tap-bench-tree")
        .version(env!("CARGO_PKG_VERSION"))
        .stream(accounts)
        .run()
}
