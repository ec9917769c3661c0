//! tap-bench-rest: the `events` workload read from a REST API into typed owned records (see
//! [`tap_bench::rest`]).

fn main() -> std::process::ExitCode {
    tap_bench::rest::tap::<tap_bench::rest::ApiEvent>("tap-bench-rest").run()
}
