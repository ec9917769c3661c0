#!/usr/bin/env bash
# Bounded-state benchmark: a three-level INCREMENTAL tree (accounts -> campaigns -> ads, children
# emitted with ctx.emit; examples/tap-bench/src/bin/tree.rs) at several record counts. Prints, per
# size, the STATE lines and bytes the tap writes against its RECORD bytes: the ratio must stay low
# and must not grow with the record count.
#
# Usage: bench/state.sh [N...]            default sizes: 25000 250000
#   TREE_BIN=path   use this binary instead of building target/release/tree (e.g. one built from
#                   an older commit, to compare)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(25000 250000)
bin=${TREE_BIN:-}
if [[ -z $bin ]]; then
    cargo build -q --release -p tap-bench --bin tree
    bin=${CARGO_TARGET_DIR:-target}/release/tree
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| records | RECORD bytes | STATE lines | STATE bytes | STATE bytes / RECORD bytes | largest STATE line |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    echo "{\"records\": $n}" >"$work/config.json"
    "$bin" --config "$work/config.json" >"$work/out.jsonl" 2>"$work/err.log" || {
        echo "tap failed at N=$n: $(tail -n 1 "$work/err.log")" >&2
        exit 1
    }
    python3 - "$work/out.jsonl" <<'EOF'
import sys
records = record_bytes = states = state_bytes = largest = 0
with open(sys.argv[1], "rb") as out:
    for line in out:
        if line.startswith(b'{"type":"RECORD"'):
            records += 1
            record_bytes += len(line)
        elif line.startswith(b'{"type":"STATE"'):
            states += 1
            state_bytes += len(line)
            largest = max(largest, len(line))
ratio = 100.0 * state_bytes / max(record_bytes, 1)
print(f"| {records:,} | {record_bytes:,} | {states:,} | {state_bytes:,} | {ratio:.3f}% | {largest:,} |")
EOF
done
