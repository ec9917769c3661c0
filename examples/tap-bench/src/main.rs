//! tap-bench: the `events` benchmark workload as a burler tap. Config: `{"records": N}`.

use burler::prelude::*;
use tap_bench::Event;

/// The tap's settings.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    /// How many records to emit (default 1,000,000).
    records: Option<u64>,
}

async fn sync_events(ctx: SyncContext<Event, Config>) -> SyncResult {
    let n = ctx.config().records.unwrap_or(1_000_000);
    let start = ctx.bookmark().is_some() as u64; // a resumed run re-reads from the top: the data is synthetic
    for id in start.max(1)..=n {
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
                .bookmark_every(10_000)
                .sync(sync_events),
        )
        .run()
}
