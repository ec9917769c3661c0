//! A tap crate outside the workspace, whose `Cargo.toml` lists only `burler` and `burler-http`,
//! builds and runs: the README's tap (examples/tap-orders) and this REST tap (its `main.rs`, with
//! the embedded demo shop left out, since that lives in this example's library). Serde, schemars,
//! chrono and futures come through burler's re-exports, derive macros included.
//!
//! The crate is built with `cargo build --offline` into the workspace's own target directory and
//! from the workspace's `Cargo.lock`, so the framework's compiled artifacts are reused.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The target directory this test binary was built in (target/debug/deps/<test> → target).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// The REST tap's `main.rs` without the embedded demo shop (a module of this example's library):
/// a missing `base_url` is an error instead.
fn rest_tap_source() -> String {
    let source = include_str!("../src/main.rs");
    let embedded = "None | Some(\"embedded\") => tap_rest::fixture::spawn(&config.api_token)?,";
    assert!(source.contains(embedded), "tap-rest's main.rs changed: update this test");
    source.replace(embedded, "None | Some(\"embedded\") => return Err(\"no base_url\".into()),")
}

/// Writes the crate: `Cargo.toml` (burler and burler-http by path, nothing else), the workspace's
/// lock file (so the same versions are picked), and the two taps as binaries.
fn write_crate(dir: &Path) {
    let root = repo();
    let manifest = format!(
        "[package]\nname = \"standalone-taps\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\nburler = {{ path = {:?} }}\nburler-http = {{ path = {:?} }}\n\n\
         [workspace]\n",
        root.join("crates/burler"),
        root.join("crates/burler-http"),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let bin = dir.join("src/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let orders = std::fs::read_to_string(root.join("examples/tap-orders/src/main.rs")).unwrap();
    // Names of their own: the workspace's tap-orders and tap-rest live in the same target dir.
    std::fs::write(bin.join("standalone-tap-orders.rs"), orders).unwrap();
    std::fs::write(bin.join("standalone-tap-rest.rs"), rest_tap_source()).unwrap();
}

/// Runs a built tap with `config`; its Singer messages (the run must succeed).
fn sync(exe: &Path, dir: &Path, config: &Value) -> Vec<Value> {
    let path = dir.join(format!("{}.json", exe.file_name().unwrap().to_string_lossy()));
    std::fs::write(&path, config.to_string()).unwrap();
    let out = Command::new(exe).arg("--config").arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn record_count(msgs: &[Value], stream: &str) -> usize {
    msgs.iter().filter(|m| m["type"] == "RECORD" && m["stream"] == stream).count()
}

#[test]
fn a_tap_crate_with_only_burler_and_burler_http_builds_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    write_crate(dir.path());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = target_dir();
    let mut build = Command::new(cargo);
    build.args(["build", "--offline", "--quiet", "--bins"]).current_dir(dir.path());
    // The variables `cargo test` sets for this test (CARGO_PKG_NAME, CARGO_MANIFEST_DIR, …) would
    // reach build scripts that watch them (ring's does): the framework would be rebuilt here and
    // again by the next workspace build.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if (name.starts_with("CARGO_") && name != "CARGO_HOME") || name == "OUT_DIR" {
            build.env_remove(&*name);
        }
    }
    let out = build.env("CARGO_TARGET_DIR", &target).output().unwrap();
    assert!(out.status.success(), "cargo build: {}", String::from_utf8_lossy(&out.stderr));
    let exe =
        |name: &str| target.join("debug").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));

    let data = repo().join("examples/tap-files/data");
    let orders = sync(&exe("standalone-tap-orders"), dir.path(), &json!({"data_dir": data}));
    assert!(record_count(&orders, "orders") > 0, "{orders:?}");

    let base_url = tap_rest::fixture::spawn("tok").unwrap();
    let config = json!({"api_token": "tok", "base_url": base_url, "requests_per_second": 0});
    let shop = sync(&exe("standalone-tap-rest"), dir.path(), &config);
    assert_eq!(record_count(&shop, "orders"), tap_rest::fixture::ORDERS);
    assert_eq!(record_count(&shop, "customers"), tap_rest::fixture::CUSTOMERS);
}
