#!/usr/bin/env bash
# What the operator's transforms cost on the tap-bench workload (examples/tap-bench: one stream
# `events`, N records of 12 fields with a nested `address` and an array `tags`): the plain run
# against the same run with a 3-expression stream map, with flattening, and with both, all in one
# invocation. Runs are interleaved (plain, map, flattening, both, plain, ...) so a machine whose
# speed drifts moves every row alike. Prints a Markdown table: median wall seconds of REPEAT runs
# (stdout to /dev/null), records/s, the ratio to plain, output bytes per record and peak RSS.
#
#   bench/maps.sh                       N=1000000, REPEAT=5
#   N=200000 REPEAT=3 bench/maps.sh     quicker
#   TAP_BENCH=path bench/maps.sh        this binary instead of building target/release/tap-bench
#
# The stream map (singer-sdk's syntax; burler evaluates it as CEL):
#   email_hash = md5(email), amount_cents = int(amount * 100.0), name = name.upper()
# Flattening: flattening_enabled, flattening_max_depth 1 (address__street/city/zip; tags as JSON
# text). Before timing, a 1,000-record run of each config must show what it is meant to do.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-1000000}
REPEAT=${REPEAT:-5}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${TAP_BENCH:-}

log() { echo "maps: $*" >&2; }

MAP='"stream_maps": {"events": {"email_hash": "md5(email)", "amount_cents": "int(amount * 100.0)", "name": "name.upper()"}}'
FLAT='"flattening_enabled": true, "flattening_max_depth": 1'
NAMES=(plain map flattening "map + flattening")
declare -A SETTINGS=([plain]="" [map]=", $MAP" [flattening]=", $FLAT" ["map + flattening"]=", $MAP, $FLAT")
# What a record of each config must hold (checked on a small run before timing).
declare -A PROOF=([plain]='"address":\{' [map]='"amount_cents":' [flattening]='"address__city":'
    ["map + flattening"]='"email_hash":.*"address__city":|"address__city":.*"email_hash":')

# config NAME RECORDS: the path of a tap-bench config for that row.
config() {
    local file
    file="$WORK/$(echo "$1" | tr -c 'a-z\n' '_')-$2.json"
    echo "{\"records\": $2${SETTINGS[$1]}}" >"$file"
    echo "$file"
}

# run NAME: one timed run of the full N; prints "<wall seconds> <peak RSS KB>".
run() {
    local cfg t0 t1
    cfg=$(config "$1" "$N")
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -o "$WORK/rss" "$BIN" --config "$cfg" >/dev/null 2>>"$WORK/stderr.log"
    t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc -l) $(cat "$WORK/rss")"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

main() {
    [[ -x /usr/bin/time ]] || { log "GNU time (/usr/bin/time) is required"; exit 2; }
    command -v bc >/dev/null || { log "bc is required"; exit 2; }
    if [[ -z $BIN ]]; then
        log "building tap-bench (release)"
        (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -q -p tap-bench --bin tap-bench)
        BIN="$TARGET/release/tap-bench"
    fi
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    local name
    declare -A bytes
    for name in "${NAMES[@]}"; do
        "$BIN" --config "$(config "$name" 1000)" 2>>"$WORK/stderr.log" >"$WORK/sample.jsonl"
        if ! grep -m 1 '"type":"RECORD"' "$WORK/sample.jsonl" | grep -Eq "${PROOF[$name]}"; then
            log "the $name config does not do what it should: $(grep -m 1 '"type":"RECORD"' "$WORK/sample.jsonl")"
            exit 1
        fi
        bytes[$name]=$(grep '"type":"RECORD"' "$WORK/sample.jsonl" | wc -c)
    done
    local i wall rss
    declare -A walls peaks
    for ((i = 1; i <= REPEAT; i++)); do
        for name in "${NAMES[@]}"; do
            log "run $i/$REPEAT: $name (N=$N)"
            read -r wall rss < <(run "$name")
            walls[$name]+="$wall "
            ((rss > ${peaks[$name]:-0})) && peaks[$name]=$rss
        done
    done
    echo "### tap-bench with stream maps and flattening, N = $N ($(date -u +%Y-%m-%d), commit $(git -C "$ROOT" rev-parse --short HEAD))"
    echo
    echo "Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1). Median of $REPEAT interleaved runs, stdout to /dev/null."
    echo
    echo "| config | wall s (median) | min–max | records/s | × plain (time) | RECORD bytes/record | peak RSS MB |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    local plain
    plain=$(tr ' ' '\n' <<<"${walls[plain]}" | grep . | median)
    for name in "${NAMES[@]}"; do
        local list med lo hi
        list=$(tr ' ' '\n' <<<"${walls[$name]}" | grep .)
        med=$(median <<<"$list")
        lo=$(sort -g <<<"$list" | head -n 1)
        hi=$(sort -g <<<"$list" | tail -n 1)
        printf '| %s | %.2f | %.2f–%.2f | %.0f | %.2f× | %.0f | %.1f |\n' "$name" "$med" "$lo" "$hi" \
            "$(echo "$N / $med" | bc -l)" "$(echo "$med / $plain" | bc -l)" \
            "$(echo "${bytes[$name]} / 1000" | bc -l)" "$(echo "${peaks[$name]} / 1024" | bc -l)"
    done
}

main "$@"
