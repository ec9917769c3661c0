//! tap-bench-raw: the `events` workload read from a REST API, every record passed through as the
//! API sent it (`Box<RawValue>`: no field is copied into a string of its own; the replication key
//! is read from the record's text as the line is written). See [`tap_bench::rest`].

use burler::serde_json::value::RawValue;

fn main() -> std::process::ExitCode {
    tap_bench::rest::tap::<Box<RawValue>>("tap-bench-raw").run()
}
