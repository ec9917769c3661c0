#!/usr/bin/env bash
# What each middleware crate considered for burler-http would cost it: the crates it adds to
# burler-http's dependency tree, the seconds cargo spends compiling them (debug, the sum of
# their build units in `cargo build --timings`), and how much it grows a small release binary
# (stripped) that uses it. The figures behind the choices written in burler-http's crate docs.
#
#   bench/middleware-cost.sh        # ~5 minutes on 2 cores; needs python3
#
# A scratch workspace (in a temporary directory) holds one tiny program per candidate next to a
# baseline that uses reqwest, tokio and rustls as burler-http does; all build in one target
# directory, so shared crates are compiled once and each program's size differs from the
# baseline's by what its crate brings.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
log() { echo "middleware-cost: $*" >&2; }

BASE_DEPS='reqwest = { version = "0.13", default-features = false, features = ["json", "query", "form", "http2", "stream", "rustls-no-provider"] }
rustls = { version = "0.23", default-features = false, features = ["ring", "std", "tls12"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros", "time", "sync", "io-util", "net", "fs"] }'

# member NAME DEPS BODY: a program that sends one request through the candidate.
member() {
    mkdir -p "$WORK/$1/src"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2024"\n\n[dependencies]\n%s\n%s\n' \
        "$1" "$BASE_DEPS" "$2" >"$WORK/$1/Cargo.toml"
    cat >"$WORK/$1/src/main.rs" <<EOF
#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:9/".into());
    $3
}
EOF
}

member baseline '' \
    'let r = client.get(&url).send().await; println!("{:?}", r.map(|r| r.status()));'
member with-reqwest-middleware 'reqwest-middleware = "0.5"' \
    'let c = reqwest_middleware::ClientBuilder::new(client).build(); let r = c.get(&url).send().await; println!("{:?}", r.map(|r| r.status()));'
member with-reqwest-retry 'reqwest-middleware = "0.5"
reqwest-retry = "0.9"' \
    'let p = reqwest_retry::policies::ExponentialBackoff::builder().build_with_max_retries(3); let c = reqwest_middleware::ClientBuilder::new(client).with(reqwest_retry::RetryTransientMiddleware::new_with_policy(p)).build(); let r = c.get(&url).send().await; println!("{:?}", r.map(|r| r.status()));'
member with-governor 'governor = { version = "0.10", default-features = false, features = ["std", "jitter"] }' \
    'let l = governor::RateLimiter::direct(governor::Quota::per_second(std::num::NonZeroU32::MIN)); l.until_ready().await; let r = client.get(&url).send().await; println!("{:?}", r.map(|r| r.status()));'
member with-backon 'backon = { version = "1", default-features = false, features = ["tokio-sleep"] }' \
    'use backon::Retryable; let r = (|| async { client.get(&url).send().await }).retry(backon::ExponentialBuilder::default()).sleep(tokio::time::sleep).await; println!("{:?}", r.map(|r| r.status()));'
member with-oauth2 'oauth2 = { version = "5", default-features = false }' \
    'let c = oauth2::basic::BasicClient::new(oauth2::ClientId::new("id".into())).set_client_secret(oauth2::ClientSecret::new("s".into())).set_token_uri(oauth2::TokenUrl::new(url.clone()).unwrap()); let http = |req: oauth2::HttpRequest| { let client = client.clone(); async move { let (parts, body) = req.into_parts(); let mut rb = client.request(parts.method, parts.uri.to_string()).body(body); for (k, v) in parts.headers.iter() { rb = rb.header(k, v); } let resp = rb.send().await?; let mut out = oauth2::HttpResponse::new(Vec::new()); *out.status_mut() = resp.status(); *out.headers_mut() = resp.headers().clone(); *out.body_mut() = resp.bytes().await?.to_vec(); Ok::<_, reqwest::Error>(out) } }; println!("{}", c.exchange_client_credentials().request_async(&http).await.is_ok());'

CANDIDATES=(with-reqwest-middleware with-reqwest-retry with-governor with-backon with-oauth2)
{
    echo '[workspace]'
    echo 'resolver = "3"'
    printf 'members = ["baseline"'
    printf ', "%s"' "${CANDIDATES[@]}"
    echo ']'
} >"$WORK/Cargo.toml"

log "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
log "debug build with --timings"
(cd "$WORK" && cargo build -q --workspace --timings)
log "release build"
(cd "$WORK" && cargo build -q --workspace --release)
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# burler-http's tree without the middleware crate it uses, so that one is measured too.
(cd "$ROOT" && cargo tree -p burler-http -e normal,build --prefix none \
    --prune reqwest-middleware --prune async-trait) >"$WORK/burler-http.tree"
for name in baseline "${CANDIDATES[@]}"; do
    (cd "$WORK" && cargo tree -p "$name" -e normal,build --prefix none) >"$WORK/$name.tree"
    strip -o "$WORK/$name.stripped" "$WORK/target/release/$name"
done

python3 - "$WORK" "${CANDIDATES[@]}" <<'EOF'
import json, os, re, sys

work, candidates = sys.argv[1], sys.argv[2:]

def crates(path):
    """Crates as `name@major` (`name@0.minor` before 1.0): a semver-compatible version already in
    the tree is not new, a second major version (two `rand`s) is."""
    names = set()
    for line in open(path):
        line = line.strip().replace(" (*)", "").replace(" (proc-macro)", "")
        if line:
            names.add(key(*line.split(" ")[:2]))
    return names

timing = open(os.path.join(work, "target/cargo-timings/cargo-timing.html")).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", timing, re.S).group(1))
def key(name, version):
    major, minor = version.lstrip("v").split(".")[:2]
    return f"{name}@{major if major != '0' else '0.' + minor}"

seconds = {}
for unit in units:
    k = key(unit["name"], unit["version"])
    seconds[k] = seconds.get(k, 0.0) + unit["duration"]

ours = crates(os.path.join(work, "burler-http.tree"))
base = crates(os.path.join(work, "baseline.tree")) | ours
size = lambda name: os.path.getsize(os.path.join(work, name + ".stripped"))
print("| crate | crates it adds to burler-http | their compile time (debug, s) | stripped binary |")
print("|---|---:|---:|---:|")
for member in candidates:
    crate = member.removeprefix("with-")
    added = sorted(c for c in crates(os.path.join(work, member + ".tree")) - base
                   if not c.startswith(member + "@"))
    compile_s = sum(seconds.get(name, 0.0) for name in added)
    grows = (size(member) - size("baseline")) / 1024
    print(f"| {crate} | {len(added)} ({', '.join(added)}) | {compile_s:.1f} | +{grows:.0f} KiB |")
EOF
