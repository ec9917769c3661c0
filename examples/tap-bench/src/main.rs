//! tap-bench: the `events` benchmark workload as a burler tap. Config: `{"records": N}`.

use burler::prelude::*;
use tap_bench::Event;

/// The tap's settings.
#[burler::config]
struct Config {
    /// How many records to emit (default 1,000,000).
    records: Option<u64>,
}

async fn sync_events(ctx: SyncContext<Event, Config>) -> SyncResult {
    let n = ctx.config().records.unwrap_or(1_000_000);
    // A resumed run starts at the bookmark's record: the ids follow updated_at.
    let start = ctx
        .replication_start()
        .and_then(|b| b.as_str().and_then(Event::first_id_at_or_after))
        .unwrap_or(1);
    for id in start..=n {
        ctx.emit(Event::new(id))?;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    Tap::new("tap-bench")
        .version(env!("CARGO_PKG_VERSION"))
        .config::<Config>()
        .stream(
            Stream::new("events")
                .schema_from_type()
                .key(["id"])
                .incremental("updated_at")
                .bookmark_strategy(BookmarkStrategy::Records(10_000))
                .sync(sync_events),
        )
        .run()
}
