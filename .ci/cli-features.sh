#!/usr/bin/env bash
# The check-only build of the `burler` command (`cargo install --no-default-features`):
# its dependency tree holds no framework crate (burler, burler-http, burler-sql, burler-manifest),
# and its lints and tests pass (`burler check`, `meltano`, `schema` and `state` there, `burler new`, `run`
# and `manifest` refused in one line).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree --offline -p burler-cli --no-default-features -e normal --prefix none)
framework=$(grep -E '^burler(-http|-sql|-manifest)? v' <<<"$tree" | sort -u || true)
if [[ -n $framework ]]; then
    echo "cli-features.sh: the check-only burler-cli depends on the framework:" >&2
    echo "$framework" >&2
    exit 1
fi
crates=$(grep '^burler' <<<"$tree" | cut -d' ' -f1 | sort -u | paste -sd' ')
echo "cli-features.sh: the check-only burler-cli builds $crates: no framework"
cargo clippy -p burler-cli --no-default-features --all-targets -- -D warnings
cargo test -p burler-cli --no-default-features
