#!/usr/bin/env bash
# CI of tap-shop: formatting, lints, the tests (the test kit's standard suite against the
# fixture, resume check included), and the README's about section against what the built tap
# prints for `--about --format markdown`. `./ci.sh --fix` formats the code and rewrites that
# section instead of checking them.
set -euo pipefail
cd "$(dirname "$0")"
fix=no
[[ ${1:-} == --fix ]] && fix=yes
if [[ $fix == yes ]]; then cargo fmt; else cargo fmt --check; fi
cargo clippy --all-targets -- -D warnings
cargo test
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --quiet -- --about --format markdown >"$work/about.md"
awk -v about="$work/about.md" '
    /^<!-- about:start -->$/ { print; while ((getline line < about) > 0) print line; skip = 1; next }
    /^<!-- about:end -->$/ { skip = 0 }
    !skip { print }' README.md >"$work/README.md"
if cmp -s README.md "$work/README.md"; then
    echo "README.md: the about section is up to date"
elif [[ $fix == yes ]]; then
    cp "$work/README.md" README.md
    echo "README.md: the about section rewritten"
else
    echo "README.md: the about section differs from \`tap-shop --about --format markdown\` (./ci.sh --fix rewrites it)" >&2
    exit 1
fi
