#!/usr/bin/env bash
# Interop of what an operator turns on in any burler tap's config, into real targets:
#   map            examples/tap-rest with stream maps: customers aliased to `clients`, `email`
#                  dropped, `email_hash` = md5(config salt + email), a `__filter__` (country !=
#                  'BR'), and a clone `customer_names` (`__source__`, `__else__: null`, a
#                  computed `name_upper`)                          -> target-jsonl, target-duckdb
#   flatten-rest   examples/tap-rest with a stream map that builds a two-level object and
#                  flattening_enabled at flattening_max_depth 1 (profile__name; profile__contact
#                  as JSON text)                                   -> target-jsonl, target-duckdb
#   flatten-bench  examples/tap-bench (nested `address`, array `tags`) flattened at depth 1
#                                                                   -> target-jsonl, target-duckdb
#   batch          examples/tap-rest with batch_config jsonl + gzip (16 records a file)
#                                        -> meltanolabs-target-csv (singer-sdk, reads BATCH)
#   batch-parquet  the same in Parquet, from tap-rest built with burler's `parquet` feature
#                                        -> meltanolabs-target-csv (+ pyarrow)
#                  Only with INTEROP_PARQUET=1 (builds it here: cargo build -p tap-rest --features
#                  burler/parquet, which compiles arrow and parquet for that feature set, about
#                  3 minutes on 2 cores, too much for every CI run; the workspace's tap-rest binary
#                  is put back afterwards) or BURLER_PARQUET_TAP=path (that binary, no build).
# The expected output is derived by lib/check_transforms.py from a plain run of the same tap
# (Python re-does each map), and every target must hold exactly those columns, rows and values.
# A BATCH run's own stdout is checked too: BATCH messages only, every file readable, no record
# missing.
#
# Usage: .ci/interop/transforms.sh            (after cargo build --workspace --bins)
# Binaries: ${CARGO_TARGET_DIR:-target}/debug/{tap-rest,tap-bench}. Venvs: target-jsonl,
# target-duckdb, target-csv (and target-csv-parquet for batch-parquet) from .ci/interop/setup.sh (run first, a no-op when up to date;
# INTEROP_SKIP_SETUP=1 skips it) under ${BURLER_VENVS:-~/.cache/burler-venvs}. Each tap and target
# run is limited to ${INTEROP_TIMEOUT:-300} s. INTEROP_KEEP=1 keeps the work dir (printed).
#
# Every check prints `PASS <what>` or `FAIL <what>: <why>`; the last line is `N passed, M failed`
# and the exit code is non-zero when M > 0.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIB="$REPO/.ci/interop/lib"
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR="$REPO/$TARGET_DIR"
TIMEOUT=${INTEROP_TIMEOUT:-300}
REST_DIR="$REPO/examples/tap-rest"
BENCH_DIR="$REPO/examples/tap-bench"
SETTINGS="$REPO/.ci/interop/data/transforms"
PASSED=0
FAILED=0

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-300; }

# Runs a checker and tallies the PASS/FAIL lines it prints; one that crashes or gives no
# verdict is itself a failure ($1 names the checks).
tally() {
    local what=$1 out line verdicts=0 status
    shift
    out=$("$@" 2>&1)
    status=$?
    while IFS= read -r line; do
        case $line in
            PASS*) echo "$line"; PASSED=$((PASSED + 1)); verdicts=$((verdicts + 1)) ;;
            FAIL*) echo "$line"; FAILED=$((FAILED + 1)); verdicts=$((verdicts + 1)) ;;
            ?*) echo "  $line" ;;
        esac
    done <<<"$out"
    [[ $status == 0 && $verdicts -gt 0 ]] || fail "$what" "checker exited $status with $verdicts verdicts"
}

# config CASE BASE: writes $WORK/CASE.json, the example config BASE (none: {}) with the keys of
# data/transforms/CASE.json added ("@WORK@" in it is the work dir).
config() {
    python3 - "$2" "$SETTINGS/$1.json" "$WORK" "$WORK/$1.json" <<'PY'
import json, sys
base, settings, work, out = sys.argv[1:]
config = json.load(open(base)) if base else {}
config.update(json.loads(open(settings).read().replace("@WORK@", work)))
json.dump(config, open(out, "w"), indent=1)
PY
}

# run_tap CASE BIN DIR: runs the tap BIN in DIR with $WORK/CASE.json; stdout to $WORK/CASE.out.
run_tap() {
    local case=$1 bin=$2 dir=$3
    if [[ ! -x $bin ]]; then fail "$case: tap" "$bin missing (cargo build --workspace --bins)"; return 1; fi
    if (cd "$dir" && timeout "$TIMEOUT" "$bin" --config "$WORK/$case.json") >"$WORK/$case.out" 2>"$WORK/$case.err"; then
        pass "$case: $(basename "$bin") exited 0 ($(grep -c '"type":"RECORD"' "$WORK/$case.out") RECORD, $(grep -c '"type":"BATCH"' "$WORK/$case.out") BATCH messages)"
    else
        fail "$case: $(basename "$bin")" "exit non-zero: $(last_line "$WORK/$case.err")"; return 1
    fi
}

# load CASE KIND PLAIN [EXPECT]: feeds $WORK/CASE.out to the target KIND (jsonl, duckdb, csv) and
# checks what it wrote against check_transforms.py's case EXPECT (default CASE) of the plain run
# PLAIN ($WORK/PLAIN.out).
load() {
    local case=$1 kind=$2 plain=$3 expect=${4:-$1} venv out location label
    case $kind in jsonl) venv=target-jsonl ;; duckdb) venv=target-duckdb ;; csv) venv=target-csv ;;
        csv-parquet) venv=target-csv-parquet ;; esac
    out="$WORK/$case.$kind"
    label="$case | $venv"
    mkdir -p "$out"
    case $kind in
        jsonl) echo "{\"destination_path\": \"$out\", \"do_timestamp_file\": false}" >"$out.json"; location=$out ;;
        csv*) echo "{\"output_path\": \"$out\"}" >"$out.json"; location=$out ;;
        duckdb) location="$out/transforms.duckdb"
                echo "{\"path\": \"$location\", \"default_target_schema\": \"main\"}" >"$out.json" ;;
    esac
    if ! timeout "$TIMEOUT" "$VENVS/$venv/bin/${venv%-parquet}" --config "$out.json" <"$WORK/$case.out" >"$out.state" 2>"$out.err"; then
        fail "$label" "target exited non-zero: $(grep -E 'Error|Exception|CRITICAL' "$out.err" | tail -n 1 | cut -c1-300)"; return
    fi
    if tail -n 1 "$out.state" | python3 -c 'import json,sys; assert isinstance(json.loads(sys.stdin.read()), dict)' 2>/dev/null; then
        pass "$label: target exited 0 and emitted the final state"
    else
        fail "$label: final state" "last stdout line is not a JSON object: $(last_line "$out.state")"
    fi
    tally "$label: output" "$VENVS/$venv/bin/python" "$LIB/check_transforms.py" "$expect" "${kind%-*}" "$location" \
        "$WORK/$plain.out" "$label"
}

# A tap-rest built with burler's `parquet` feature, copied into the work dir; the workspace's
# tap-rest binary is put back (the other checks run it), no second build. Prints its path.
parquet_tap() {
    if [[ -n ${BURLER_PARQUET_TAP:-} ]]; then echo "$BURLER_PARQUET_TAP"; return; fi
    local bin="$TARGET_DIR/debug/tap-rest" status=0
    cp "$bin" "$WORK/tap-rest-plain" 2>/dev/null
    (cd "$REPO" && cargo build -q -p tap-rest --features burler/parquet) >"$WORK/parquet-build.log" 2>&1 \
        && cp "$bin" "$WORK/tap-rest-parquet" || status=1
    if [[ -f $WORK/tap-rest-plain ]]; then cp "$WORK/tap-rest-plain" "$bin"; fi
    [[ $status == 0 ]] && echo "$WORK/tap-rest-parquet"
}

main() {
    if [[ ${INTEROP_SKIP_SETUP:-0} != 1 ]]; then
        local setup_log="${TMPDIR:-/tmp}/burler-transforms-setup.log"
        local venvs=(target-jsonl target-duckdb target-csv)
        [[ ${INTEROP_PARQUET:-0} != 1 && -z ${BURLER_PARQUET_TAP:-} ]] || venvs+=(target-csv-parquet)
        if "$REPO/.ci/interop/setup.sh" "${venvs[@]}" >"$setup_log" 2>&1; then
            pass "setup: target venvs in $VENVS"
        else
            fail "setup" "$(last_line "$setup_log") (full log: $setup_log)"
        fi
    fi
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/burler-transforms.XXXXXX")
    echo "== stream maps, flattening and BATCH into real targets, work dir $WORK"
    local rest="$TARGET_DIR/debug/tap-rest" bench="$TARGET_DIR/debug/tap-bench" kind
    local case
    for case in plain-rest map flatten-rest batch batch-parquet; do config $case "$REST_DIR/config.json"; done
    for case in plain-bench flatten-bench; do config $case ""; done
    if run_tap plain-rest "$rest" "$REST_DIR"; then
        if run_tap map "$rest" "$REST_DIR"; then for kind in jsonl duckdb; do load map $kind plain-rest; done; fi
        if run_tap flatten-rest "$rest" "$REST_DIR"; then for kind in jsonl duckdb; do load flatten-rest $kind plain-rest; done; fi
        if run_tap batch "$rest" "$REST_DIR"; then
            tally "batch: tap output" python3 "$LIB/check_transforms.py" messages "$WORK/batch.out" "$WORK/plain-rest.out" "batch: tap output"
            load batch csv plain-rest
        fi
        local parquet
        if [[ ${INTEROP_PARQUET:-0} != 1 && -z ${BURLER_PARQUET_TAP:-} ]]; then
            echo "   batch-parquet not run (INTEROP_PARQUET=1 or BURLER_PARQUET_TAP=path runs it)"
        elif ! parquet=$(parquet_tap); then
            fail "batch-parquet: build" "$(last_line "$WORK/parquet-build.log")"
        elif run_tap batch-parquet "$parquet" "$REST_DIR"; then
            tally "batch-parquet: tap output" "$VENVS/target-csv-parquet/bin/python" "$LIB/check_transforms.py" messages \
                "$WORK/batch-parquet.out" "$WORK/plain-rest.out" "batch-parquet: tap output"
            load batch-parquet csv-parquet plain-rest batch
        fi
    fi
    if run_tap plain-bench "$bench" "$BENCH_DIR" && run_tap flatten-bench "$bench" "$BENCH_DIR"; then
        for kind in jsonl duckdb; do load flatten-bench $kind plain-bench; done
    fi
    if [[ ${INTEROP_KEEP:-0} == 1 ]]; then echo "   kept $WORK"; else rm -rf "$WORK"; fi
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}

main "$@"
