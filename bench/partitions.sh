#!/usr/bin/env bash
# Parallel partitions: one stream with P for-each partitions, each read page by page from a
# loopback HTTP API that answers every page after a simulated latency
# (examples/tap-bench/src/bin/concurrency.rs with --partitions 1), synced with
# max_concurrent_partitions(1) and then (LIMIT). Each program run prints both wall times; the
# script repeats it and prints the medians and the speed-up as a Markdown table.
#
# Usage: bench/partitions.sh
#   P=8 LIMIT=4 PAGES=10 PAGE=100 LATENCY_MS=20 REPEAT=5    (the defaults)
#   BIN=path   use this concurrency binary instead of building target/release/concurrency
set -euo pipefail
cd "$(dirname "$0")/.."
P=${P:-8}
LIMIT=${LIMIT:-4}
PAGES=${PAGES:-10}
PAGE=${PAGE:-100}
LATENCY_MS=${LATENCY_MS:-20}
REPEAT=${REPEAT:-5}
bin=${BIN:-}
if [[ -z $bin ]]; then
    cargo build -q --release -p tap-bench --bin concurrency
    bin=${CARGO_TARGET_DIR:-target}/release/concurrency
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((i = 0; i < REPEAT; i++)); do
    "$bin" --partitions 1 --streams "$P" --concurrent "$LIMIT" --pages "$PAGES" \
        --page-size "$PAGE" --latency-ms "$LATENCY_MS" 2>>"$work/err.log" >"$work/run.$i" || {
        echo "run $i failed: $(tail -n 1 "$work/err.log")" >&2
        exit 1
    }
done
python3 - "$work" "$REPEAT" "$P" "$LIMIT" "$PAGES" "$PAGE" "$LATENCY_MS" <<'EOF'
import re, statistics, sys
work, repeat, parts, limit, pages, page, latency = sys.argv[1:]
one, many = [], []
for i in range(int(repeat)):
    text = open(f"{work}/run.{i}").read()
    times = re.findall(r"max_concurrent_partitions\((\d+)\): ([0-9.]+) s", text)
    for setting, secs in times:
        (one if setting == "1" else many).append(float(secs))
records = int(parts) * int(pages) * int(page)
a, b = statistics.median(one), statistics.median(many)
print(f"{parts} partitions x {pages} pages x {page} records ({records:,} records), "
      f"{latency} ms per page, median of {repeat} runs")
print()
print("| setting | wall s | records/s |")
print("|---|---:|---:|")
print(f"| max_concurrent_partitions(1) | {a:.3f} | {records / a:,.0f} |")
print(f"| max_concurrent_partitions({limit}) | {b:.3f} | {records / b:,.0f} |")
print()
print(f"speed-up: {a / b:.2f}x (runs: 1 -> {', '.join(f'{x:.3f}' for x in one)}; "
      f"{limit} -> {', '.join(f'{x:.3f}' for x in many)})")
EOF
