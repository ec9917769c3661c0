#!/usr/bin/env bash
# Reading a paginated REST API: the raw-transfer limit, a bare Python client, tap-rest-api-msdk
# (singer-sdk's generic REST tap) and the burler REST tap (examples/tap-bench, bin tap-bench-rest:
# typed owned records) sequential, pipelined and with several pages in flight, then the same tap
# passing records through as the API sent them (bin tap-bench-raw: `Box<RawValue>` records, what
# tap-rest-api-msdk or a manifest tap does), all against the same local API
# (examples/tap-bench, bin bench-api: N records of 12 fields in pages rendered once at start).
# Then the same API with a simulated latency per page, sequential against pages in flight.
# Prints Markdown tables (records/s and ratios) and the machine load around the runs.
#
#   bench/http.sh                       # N=200,000 in pages of 1,000, 20 ms latency run, ~1 minute
#   N=50000 REPEAT=1 bench/http.sh      # quicker
#
# Environment:
#   N           records the API serves (default 200,000)
#   PAGE        records per page (default 1,000)
#   IN_FLIGHT   pages in flight for the "in flight" runs (default 4)
#   LATENCY_MS  latency per page of the second API (default 20)
#   REPEAT      runs of each Rust program and of the bare Python client, the median kept
#               (default 5; tap-rest-api-msdk: one run)
#   BURLER_VENVS, PYTHON   where the venv lives and which Python builds it (as bench/compare.sh)
#   CARGO_TARGET_DIR       where cargo builds (default: the workspace's target/)
#
# The `limit` row (examples/tap-bench, bin limit: the same records generated and written as RECORD
# lines with serde_json, no HTTP) is the ceiling for any tap that writes Singer output.
# Every reader writes to /dev/null. Record counts are checked: the readers print theirs, the
# burler tap's RECORD lines are counted in one extra run, tap-rest-api-msdk's from its
# record_count metric.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-200000}
PAGE=${PAGE:-1000}
IN_FLIGHT=${IN_FLIGHT:-4}
LATENCY_MS=${LATENCY_MS:-20}
REPEAT=${REPEAT:-5}
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
PYTHON=${PYTHON:-python3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
MSDK=bench-tap-rest-api-msdk

log() { echo "http: $*" >&2; }
# shellcheck source=bench/venv.sh
source "$ROOT/bench/venv.sh"
fail() {
    log "$*"
    exit 1
}


# start_api LATENCY: starts bench-api, prints its base URL; its pid goes to $WORK/pids.
start_api() {
    local out="$WORK/api-$1.url"
    "$BIN/bench-api" --records "$N" --page-size "$PAGE" --latency-ms "$1" >"$out" 2>>"$WORK/stderr.log" &
    echo $! >>"$WORK/pids"
    local i
    for ((i = 0; i < 600; i++)); do
        [[ -s $out ]] && break
        sleep 0.1
    done
    [[ -s $out ]] || fail "bench-api did not start"
    head -1 "$out"
}

stop_apis() {
    local pid
    [[ -f $WORK/pids ]] || return 0
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$WORK/pids"
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

# tap_config NAME BASE JSON-FIELDS: writes a tap-bench-rest config, prints its path.
tap_config() {
    local path="$WORK/$1.json"
    echo "{\"base_url\": \"$2\", \"page_size\": $PAGE$3}" >"$path"
    echo "$path"
}

check_count() {
    [[ $2 == "$N" ]] || fail "$1 read $2 records, expected $N"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

declare -a NAMES=(raw limit python msdk seq pipelined pipelined2 inflight raw-seq raw-pipelined raw-pipelined2 raw-inflight)
declare -A LABEL CMDS SECS

# define_readers BASE: the label and command of each reader against the API at BASE.
define_readers() {
    local base=$1
    LABEL=(
        [raw]="raw transfer (no parsing), \`http-raw\`"
        [limit]="Singer write limit, \`limit\` (same records as RECORD lines by serde_json, no HTTP)"
        [python]="bare Python client (http.client + json.loads)"
        [msdk]="tap-rest-api-msdk $(sed -n 's/^tap-rest-api-msdk==//p' "$ROOT/bench/requirements/$MSDK.txt") (singer-sdk)"
        [seq]="burler tap, sequential (\`prefetch: 0\`)"
        [pipelined]="burler tap, pipelined (\`prefetch: 1\`)"
        [pipelined2]="burler tap, pipelined (default: \`prefetch: 2\`)"
        [inflight]="burler tap, $IN_FLIGHT pages in flight (\`in_flight: $IN_FLIGHT\`)"
        [raw-seq]="burler tap, records passed through, sequential"
        [raw-pipelined]="burler tap, records passed through, pipelined (\`prefetch: 1\`)"
        [raw-pipelined2]="burler tap, records passed through, pipelined (default: \`prefetch: 2\`)"
        [raw-inflight]="burler tap, records passed through, $IN_FLIGHT pages in flight"
    )
    CMDS=(
        [raw]="$BIN/http-raw $base"
        [limit]="$BIN/limit $N"
        [python]="$PYTHON $ROOT/bench/peers/http_bare.py $base"
        [msdk]="$VENVS/$MSDK/bin/tap-rest-api-msdk --config $WORK/msdk.json"
        [seq]="$BIN/tap-bench-rest --config $(tap_config seq "$base" ', "prefetch": 0')"
        [pipelined]="$BIN/tap-bench-rest --config $(tap_config pipelined "$base" ', "prefetch": 1')"
        [pipelined2]="$BIN/tap-bench-rest --config $(tap_config pipelined2 "$base" '')"
        [inflight]="$BIN/tap-bench-rest --config $(tap_config inflight "$base" ", \"in_flight\": $IN_FLIGHT")"
        [raw-seq]="$BIN/tap-bench-raw --config $WORK/seq.json"
        [raw-pipelined]="$BIN/tap-bench-raw --config $WORK/pipelined.json"
        [raw-pipelined2]="$BIN/tap-bench-raw --config $WORK/pipelined2.json"
        [raw-inflight]="$BIN/tap-bench-raw --config $WORK/inflight.json"
    )
    cat >"$WORK/msdk.json" <<EOF
{"api_url": "$base", "next_page_token_path": "\$.next_page",
 "streams": [{"name": "events", "path": "/events", "records_path": "\$.data[*]",
              "primary_keys": ["id"], "replication_key": "updated_at"}]}
EOF
}

# check_counts: every reader but tap-rest-api-msdk reads N records (msdk: after its run).
check_counts() {
    log "checking record counts"
    local pages
    # shellcheck disable=SC2086 # the commands are word lists without spaces in paths
    pages=$(${CMDS[raw]} | cut -d' ' -f1)
    [[ $pages == $(((N + PAGE - 1) / PAGE)) ]] || fail "raw transfer read $pages pages"
    # shellcheck disable=SC2086
    check_count python "$(${CMDS[python]} | cut -d' ' -f2)"
    local name
    for name in seq pipelined pipelined2 inflight raw-seq raw-pipelined raw-pipelined2 raw-inflight; do
        # shellcheck disable=SC2086
        check_count "$name" "$(${CMDS[$name]} 2>>"$WORK/stderr.log" | grep -c '"type":"RECORD"')"
    done
}

run_readers() {
    local name runs records
    for name in "${NAMES[@]}"; do
        runs=$REPEAT
        [[ $name == msdk ]] && runs=1
        log "$name ($runs runs)"
        # shellcheck disable=SC2086
        SECS[$name]=$(median "$runs" ${CMDS[$name]})
    done
    records=$(grep -o '"metric": "record_count", "value": [0-9]*' "$WORK/stderr.log" | tail -1 | grep -o '[0-9]*$')
    check_count msdk "$records"
}

# run_latency BASE: the burler tap sequential, pipelined and in flight against the slow API.
run_latency() {
    log "latency runs ($LATENCY_MS ms per page)"
    SECS[slow-seq]=$(median "$REPEAT" "$BIN/tap-bench-rest" --config "$(tap_config slow-seq "$1" ', "prefetch": 0')")
    SECS[slow-pipelined]=$(median "$REPEAT" "$BIN/tap-bench-rest" --config "$(tap_config slow-pipelined "$1" '')")
    SECS[slow-inflight]=$(median "$REPEAT" "$BIN/tap-bench-rest" --config "$(tap_config slow-inflight "$1" ", \"in_flight\": $IN_FLIGHT")")
}

# print_tables LOAD_BEFORE LOAD_AFTER
print_tables() {
    local raw_rate msdk_rate name rate
    raw_rate=$(echo "$N / ${SECS[raw]}" | bc -l)
    msdk_rate=$(echo "$N / ${SECS[msdk]}" | bc -l)
    echo "### Reading a REST API: $N records in pages of $PAGE ($(date -u +%Y-%m-%d), commit $(git -C "$ROOT" rev-parse --short HEAD))"
    echo
    echo "Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM; load average (1, 5, 15 min) $1 before, $2 after."
    echo
    echo "| reader | wall s | records/s | × raw transfer | × tap-rest-api-msdk |"
    echo "|---|---:|---:|---:|---:|"
    for name in "${NAMES[@]}"; do
        rate=$(echo "$N / ${SECS[$name]}" | bc -l)
        printf '| %s | %.3f | %.0f | %.2f× | %.1f× |\n' "${LABEL[$name]}" "${SECS[$name]}" "$rate" \
            "$(echo "$rate / $raw_rate" | bc -l)" "$(echo "$rate / $msdk_rate" | bc -l)"
    done
    echo
    echo "Median of $REPEAT runs (tap-rest-api-msdk: one run); every reader's output to \`/dev/null\`."
    echo
    echo "### The same API with $LATENCY_MS ms latency per page"
    echo
    echo "| burler tap | wall s | records/s | × sequential |"
    echo "|---|---:|---:|---:|"
    local mode s
    for mode in "sequential (\`prefetch: 0\`)|slow-seq" "pipelined (default: \`prefetch: 2\`)|slow-pipelined" "$IN_FLIGHT pages in flight|slow-inflight"; do
        s=${SECS[${mode#*|}]}
        printf '| %s | %.3f | %.0f | %.2f× |\n' "${mode%|*}" "$s" "$(echo "$N / $s" | bc -l)" "$(echo "${SECS[slow-seq]} / $s" | bc -l)"
    done
}

main() {
    command -v bc >/dev/null || fail "bc is required"
    log "building tap-bench (release)"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -q -p tap-bench)
    mkdir -p "$VENVS"
    build_venv "$MSDK"
    WORK=$(mktemp -d)
    trap 'stop_apis; rm -rf "$WORK"' EXIT
    BIN="$TARGET/release"
    local base slow before
    base=$(start_api 0)
    slow=$(start_api "$LATENCY_MS")
    before=$(load)
    define_readers "$base"
    check_counts
    run_readers
    run_latency "$slow"
    print_tables "$before" "$(load)"
}

main "$@"
