//! Creates the tests' fixture database, to try the tap by hand (or under Meltano) without a
//! real one: `cargo run --example fixture -- shop.db`, then `{"database": "shop.db"}` as config.

#[path = "../tests/fixture/mod.rs"]
#[allow(dead_code)] // the row counts are for the tests
mod fixture;

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: cargo run --example fixture -- DATABASE_FILE");
        return ExitCode::from(2);
    };
    let path = std::path::PathBuf::from(path);
    if path.exists() {
        eprintln!("{}: already exists", path.display());
        return ExitCode::from(1);
    }
    match fixture::create(&path) {
        Ok(()) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{}: {err}", path.display());
            ExitCode::from(1)
        }
    }
}
