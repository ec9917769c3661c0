//! Serves the tests' fixture API on 127.0.0.1 until stopped, to try the tap by hand (or under
//! Meltano) without the real API: `cargo run --example fixture [TOKEN]` prints the base URL to
//! put in the config, with `"api_token": TOKEN` (default `demo-token`).

#[path = "../tests/fixture/mod.rs"]
#[allow(dead_code)] // the record counts are for the tests
mod fixture;

fn main() {
    let token = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "demo-token".to_owned());
    println!("{}", fixture::spawn(&token));
    loop {
        std::thread::park();
    }
}
