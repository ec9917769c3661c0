#!/usr/bin/env bash
# Throughput of a manifest tap against the compiled tap it mirrors: the `events` workload
# (examples/tap-bench, bin bench-api: N records of 12 fields in pages rendered once at start)
# read by tap-bench-rest (burler-http, typed records) and by `burler run bench/manifest/events.yaml`
# (burler-manifest: JSONPath selection, templated requests), both from the same local API, output
# to /dev/null. The compiled tap runs sequential (`prefetch: 0`, as the manifest runtime fetches
# one page at a time) and pipelined (its default, `prefetch: 2`). tap-bench-raw is the same
# compiled tap passing records through as the API sent them (`Box<RawValue>`), what a manifest
# tap does: the like-for-like comparison. The manifest tap runs twice: as it is (its stream
# passes records through) and with `BURLER_MANIFEST_PASSTHROUGH=0` (every page parsed into a
# `serde_json::Value` tree, the path of streams with filters or transformations). Prints a
# Markdown table (records/s and the ratio to each compiled reader) and the machine load.
#
#   bench/manifest.sh                   # N=200,000 in pages of 1,000, median of 5 runs
#   N=50000 REPEAT=3 bench/manifest.sh  # quicker
#
# Environment: N (records, default 200,000), PAGE (records per page, default 1,000), REPEAT
# (runs of each reader, the median kept; default 5), CARGO_TARGET_DIR (default: target/).
# Record counts are checked in one extra run of each reader.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-200000}
PAGE=${PAGE:-1000}
REPEAT=${REPEAT:-5}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN="$TARGET/release"

log() { echo "manifest: $*" >&2; }
fail() {
    log "$*"
    exit 1
}

# wall CMD...: runs CMD with stdout to /dev/null, prints its wall seconds.
wall() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>>"$WORK/stderr.log"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}

# median RUNS CMD...: the median wall seconds of RUNS runs.
median() {
    local runs=$1 i
    shift
    for ((i = 0; i < runs; i++)); do wall "$@"; done | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

# start_api: starts bench-api, prints its base URL.
start_api() {
    "$BIN/bench-api" --records "$N" --page-size "$PAGE" --latency-ms 0 >"$WORK/api.url" 2>>"$WORK/stderr.log" &
    API_PID=$!
    local i
    for ((i = 0; i < 600; i++)); do
        [[ -s $WORK/api.url ]] && break
        sleep 0.1
    done
    [[ -s $WORK/api.url ]] || fail "bench-api did not start"
    head -1 "$WORK/api.url"
}

count_records() { "$@" 2>>"$WORK/stderr.log" | grep -c '"type":"RECORD"' || true; }

main() {
    command -v bc >/dev/null || fail "bc is required"
    log "building tap-bench and burler (release)"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -q -p tap-bench -p burler-cli)
    WORK=$(mktemp -d)
    trap '[[ -n ${API_PID:-} ]] && kill "$API_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
    local base before
    base=$(start_api)
    echo "{\"base_url\": \"$base\", \"page_size\": $PAGE, \"prefetch\": 0}" >"$WORK/seq.json"
    echo "{\"base_url\": \"$base\", \"page_size\": $PAGE}" >"$WORK/pipelined.json"
    local manifest=(env BURLER_LOG=warn "$BIN/burler" run "$ROOT/bench/manifest/events.yaml" --config "$WORK/pipelined.json")
    local manifest_tree=(env BURLER_LOG=warn BURLER_MANIFEST_PASSTHROUGH=0 "$BIN/burler" run "$ROOT/bench/manifest/events.yaml" --config "$WORK/pipelined.json")
    local compiled_seq=("$BIN/tap-bench-rest" --config "$WORK/seq.json")
    local compiled=("$BIN/tap-bench-rest" --config "$WORK/pipelined.json")
    local raw_seq=("$BIN/tap-bench-raw" --config "$WORK/seq.json")
    local raw=("$BIN/tap-bench-raw" --config "$WORK/pipelined.json")
    log "checking record counts"
    local name
    for name in manifest manifest_tree compiled_seq compiled raw_seq raw; do
        local -n cmd=$name
        [[ $(count_records "${cmd[@]}") == "$N" ]] || fail "$name did not read $N records"
    done
    before=$(cut -d' ' -f1-3 /proc/loadavg)
    log "compiled, sequential ($REPEAT runs)"
    local s_seq s_pipe s_raw s_raw_pipe s_manifest s_tree
    s_seq=$(median "$REPEAT" "${compiled_seq[@]}")
    log "compiled, pipelined ($REPEAT runs)"
    s_pipe=$(median "$REPEAT" "${compiled[@]}")
    log "compiled passthrough, sequential ($REPEAT runs)"
    s_raw=$(median "$REPEAT" "${raw_seq[@]}")
    log "compiled passthrough, pipelined ($REPEAT runs)"
    s_raw_pipe=$(median "$REPEAT" "${raw[@]}")
    log "manifest ($REPEAT runs)"
    s_manifest=$(median "$REPEAT" "${manifest[@]}")
    log "manifest, pages parsed into trees ($REPEAT runs)"
    s_tree=$(median "$REPEAT" "${manifest_tree[@]}")
    echo "### Manifest tap vs compiled tap: $N records in pages of $PAGE ($(date -u +%Y-%m-%d), commit $(git -C "$ROOT" rev-parse --short HEAD))"
    echo
    echo "Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1); load average (1, 5, 15 min) $before before, $(cut -d' ' -f1-3 /proc/loadavg) after."
    echo
    echo "| reader | wall s | records/s | × tap-bench-rest, sequential | × tap-bench-rest, pipelined | × tap-bench-raw, sequential | × tap-bench-raw, pipelined |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    local row label s
    for row in "compiled tap-bench-rest, sequential (\`prefetch: 0\`)|$s_seq" "compiled tap-bench-rest, pipelined (default)|$s_pipe" "compiled tap-bench-raw (passthrough), sequential (\`prefetch: 0\`)|$s_raw" "compiled tap-bench-raw (passthrough), pipelined (default)|$s_raw_pipe" "\`burler run bench/manifest/events.yaml\`|$s_manifest" "\`burler run bench/manifest/events.yaml\`, \`BURLER_MANIFEST_PASSTHROUGH=0\`|$s_tree"; do
        label=${row%|*}
        s=${row#*|}
        printf '| %s | %.3f | %.0f | %.2f× | %.2f× | %.2f× | %.2f× |\n' "$label" "$s" "$(echo "$N / $s" | bc -l)" \
            "$(echo "$s_seq / $s" | bc -l)" "$(echo "$s_pipe / $s" | bc -l)" "$(echo "$s_raw / $s" | bc -l)" \
            "$(echo "$s_raw_pipe / $s" | bc -l)"
    done
    echo
    echo "Median of $REPEAT runs; every reader's output to \`/dev/null\`."
}

main "$@"
