#!/usr/bin/env bash
# Compares burler with singer-sdk and singer-python on the tap-bench workload (one stream
# `events`, N records of 12 fields, INCREMENTAL on updated_at, STATE every 10,000), and with the
# serde_json-only `limit` program. Prints one Markdown table (records/s, MB/s, peak RSS, ratios),
# the memory check at N_BIG and the concurrency benchmark.
#
#   N=1000000 bench/compare.sh                 # the default
#   N=200000 N_PY=50000 bench/compare.sh       # quicker; Python peers at N_PY are marked in the table
#
# Environment:
#   N          records per run (default 1,000,000)
#   N_PY       records for the Python peers (default N; when smaller, their rates are per-N_PY runs)
#   N_BIG      records of the burler memory run (default 10,000,000)
#   REPEAT     runs of each Rust program and output, the fastest kept (default 3; Python: 1 run)
#   BURLER_VENVS, PYTHON   where the venvs live and which Python builds them (as .ci/interop/setup.sh)
#   CARGO_TARGET_DIR       where cargo builds (default: the workspace's target/)
#
# Each program runs twice: stdout to /dev/null, and through a pipe (`| cat > /dev/null`). Output
# bytes are counted in one more run through `| wc -c`. Peak RSS is /usr/bin/time's maximum resident
# set size (for a pipe: the largest process of the pipeline, the tap).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-1000000}
N_PY=${N_PY:-$N}
N_BIG=${N_BIG:-10000000}
REPEAT=${REPEAT:-3}
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
PYTHON=${PYTHON:-python3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

log() { echo "compare: $*" >&2; }
# shellcheck source=bench/venv.sh
source "$ROOT/bench/venv.sh"

ensure_time() {
    [[ -x /usr/bin/time ]] && return 0
    log "installing GNU time"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq time >/dev/null
}

# measure MODE CMD...: runs CMD with stdout to /dev/null (MODE=null) or through `| cat > /dev/null`
# (MODE=pipe); prints "<wall seconds> <peak RSS KB>".
measure() {
    local mode=$1 stats
    shift
    stats=$(mktemp)
    local t0 t1
    t0=$(date +%s.%N)
    if [[ $mode == null ]]; then
        /usr/bin/time -v -o "$stats" "$@" >/dev/null 2>>"$WORK/stderr.log"
    else
        /usr/bin/time -v -o "$stats" bash -c '"$@" 2>>"$0" | cat > /dev/null' "$WORK/stderr.log" "$@"
    fi
    t1=$(date +%s.%N)
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$stats")
    rm -f "$stats"
    echo "$(echo "$t1 - $t0" | bc -l) $rss"
}

# best MODE RUNS CMD...: the fastest of RUNS measurements (its RSS: the largest seen).
best() {
    local mode=$1 runs=$2 wall rss best_wall="" max_rss=0 i
    shift 2
    for ((i = 0; i < runs; i++)); do
        read -r wall rss < <(measure "$mode" "$@")
        if [[ -z $best_wall ]] || (($(echo "$wall < $best_wall" | bc -l))); then best_wall=$wall; fi
        ((rss > max_rss)) && max_rss=$rss
    done
    echo "$best_wall $max_rss"
}

count_bytes() { "$@" 2>>"$WORK/stderr.log" | wc -c; }

main() {
    ensure_time
    command -v bc >/dev/null || { log "bc is required"; exit 2; }
    log "building tap-bench (release)"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -q -p tap-bench)
    mkdir -p "$VENVS"
    build_venv bench-singer-sdk
    build_venv bench-singer-python

    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    local bin="$TARGET/release"
    echo "{\"records\": $N}" >"$WORK/n.json"
    echo "{\"records\": $N_PY}" >"$WORK/n_py.json"
    echo "{\"records\": $N_BIG}" >"$WORK/n_big.json"

    # name | records | runs | command
    local -a names=(burler limit singer-sdk singer-python)
    local -A records=([burler]=$N [limit]=$N [singer-sdk]=$N_PY [singer-python]=$N_PY)
    local -A runs=([burler]=$REPEAT [limit]=$REPEAT [singer-sdk]=1 [singer-python]=1)
    local -A cmds=(
        [burler]="$bin/tap-bench --config $WORK/n.json"
        [limit]="$bin/limit $N"
        [singer-sdk]="$VENVS/bench-singer-sdk/bin/python $ROOT/bench/peers/tap_bench_sdk.py --config $WORK/n_py.json"
        [singer-python]="$VENVS/bench-singer-python/bin/python $ROOT/bench/peers/tap_bench_singer_python.py --config $WORK/n_py.json"
    )
    local -A wall rss bytes
    local name mode
    for name in "${names[@]}"; do
        # shellcheck disable=SC2086 # the commands are word lists without spaces in paths
        bytes[$name]=$(count_bytes ${cmds[$name]})
        for mode in null pipe; do
            log "$name ($mode, N=${records[$name]})"
            # shellcheck disable=SC2086
            read -r "wall[$name.$mode]" "rss[$name.$mode]" < <(best "$mode" "${runs[$name]}" ${cmds[$name]})
        done
    done

    echo "### tap-bench, N = $N ($(date -u +%Y-%m-%d), commit $(git -C "$ROOT" rev-parse --short HEAD))"
    echo
    echo "Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM."
    echo
    echo "| program | output | records | wall s | records/s | MB/s | peak RSS MB | × singer-sdk | × limit |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    for mode in null pipe; do
        local sdk_rate limit_rate
        sdk_rate=$(echo "${records[singer-sdk]} / ${wall[singer-sdk.$mode]}" | bc -l)
        limit_rate=$(echo "${records[limit]} / ${wall[limit.$mode]}" | bc -l)
        for name in "${names[@]}"; do
            local w=${wall[$name.$mode]} n=${records[$name]} rate mbs label
            rate=$(echo "$n / $w" | bc -l)
            mbs=$(echo "${bytes[$name]} / $w / 1000000" | bc -l)
            label=$([[ $mode == null ]] && echo '`> /dev/null`' || echo '`| cat > /dev/null`')
            local note=""
            [[ $n != "$N" ]] && note=" (N=$n)"
            printf '| %s%s | %s | %d | %.2f | %.0f | %.1f | %.1f | %.1f× | %.2f× |\n' \
                "$name" "$note" "$label" "$n" "$w" "$rate" "$mbs" \
                "$(echo "${rss[$name.$mode]} / 1024" | bc -l)" \
                "$(echo "$rate / $sdk_rate" | bc -l)" "$(echo "$rate / $limit_rate" | bc -l)"
        done
    done
    echo
    echo "Rust programs: fastest of $REPEAT runs; Python peers: one run. MB/s counts each program's own output bytes."

    log "burler memory run (N=$N_BIG)"
    local big_wall big_rss
    read -r big_wall big_rss < <(measure null "$bin/tap-bench" --config "$WORK/n_big.json")
    echo
    echo "### Memory: burler at N = $N_BIG"
    echo
    printf 'Peak RSS %.1f MB at N = %d (%.0f records/s) vs %.1f MB at N = %d: ratio %.2f (target ≤ 1.2).\n' \
        "$(echo "$big_rss / 1024" | bc -l)" "$N_BIG" "$(echo "$N_BIG / $big_wall" | bc -l)" \
        "$(echo "${rss[burler.null]} / 1024" | bc -l)" "$N" "$(echo "$big_rss / ${rss[burler.null]}" | bc -l)"

    log "concurrency benchmark"
    echo
    echo "### Concurrency: 4 streams, loopback HTTP API, 20 ms per page"
    echo
    echo '```'
    "$bin/concurrency" 2>>"$WORK/stderr.log"
    echo '```'
}

main "$@"
