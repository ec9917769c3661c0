//! Log lines on stderr in the shape Singer tooling expects: `LEVEL message`.
//!
//! singer-python prints `INFO METRIC: {...}` and orchestrators (Meltano) parse level prefixes, so
//! the formatter writes the level name first (`WARNING`, not `WARN`) and nothing else before the
//! message. The level is set with `BURLER_LOG` (or `RUST_LOG`), e.g. `BURLER_LOG=debug`.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events as `LEVEL message key=value…`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SingerLogFormat;

impl<S, N> FormatEvent<S, N> for SingerLogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARNING",
            Level::INFO => "INFO",
            Level::DEBUG => "DEBUG",
            Level::TRACE => "TRACE",
        };
        write!(writer, "{level} ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Installs the stderr subscriber once; later calls (and a subscriber set by the caller) win quietly.
pub fn init() {
    let filter = std::env::var("BURLER_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(SingerLogFormat)
        .try_init();
}
