#!/usr/bin/env bash
# Interop tests: runs our Singer taps into real third-party targets and under Meltano.
#
# Usage:
#   .ci/interop.sh [TAP...]        no argument: the fake-tap self-test, the third-party tap
#                                  (.ci/interop/data) and every examples/*/interop.env
#   TAP is one of
#     EXAMPLE_DIR                  reads EXAMPLE_DIR/interop.env; binary from its TAP_BIN
#     EXAMPLE_DIR:TAP_BIN          same, with this binary
#     TAP_BIN                      an executable; its interop.env is examples/<basename>/interop.env
#   e.g. .ci/interop.sh examples/tap-files:target/debug/tap-files
#        .ci/interop.sh .ci/interop/fake-tap            (self-test, needs only python3)
#
# EXAMPLE_DIR/interop.env is sourced by bash (it may use $REPO, $VENVS, $EXAMPLE_DIR):
#   TAP_NAME=tap-files             plugin/stream-label name (default: basename of EXAMPLE_DIR)
#   TAP_BIN=...                    binary, relative to the repo root or absolute
#                                  (default: ${CARGO_TARGET_DIR:-target}/debug/$TAP_NAME)
#   CONFIG=config.json             config file, relative to EXAMPLE_DIR. Every "@EXAMPLE_DIR@" in it
#                                  is replaced by the absolute example path (Meltano runs the tap
#                                  from its own project dir, so paths in the config must be absolute)
#   CATALOG=catalog.json           optional, relative to EXAMPLE_DIR: passed as --catalog when piping
#                                  into targets (default: no catalog, the tap syncs its default streams)
#   EXPECTED_STREAMS="orders:120 customers:40"   rows each target must hold after one full run
#   SPOT_CHECKS=("customers|id=7|name=Customer 7" "orders|id=3|amount=3.75")
#                                  bash array: the row whose first key=value matches must have the
#                                  other values (numbers, booleans, date-times compared normalised)
#   INCREMENTAL_STREAM=orders      Meltano's 2nd run must send fewer rows of it than the 1st
#                                  (empty: the 2nd run only has to succeed)
#   TARGETS="jsonl csv duckdb"     targets to pipe into (default: all three)
#   MELTANO=yes                    "no" skips the Meltano checks
# Taps run with EXAMPLE_DIR as working directory when piped into targets.
#
# Every check prints `PASS <what>` or `FAIL <what>: <why>`; the last line is `N passed, M failed`
# and the exit code is non-zero when M > 0. Clients come from .ci/interop/setup.sh (run first,
# a no-op when the venvs are up to date; INTEROP_SKIP_SETUP=1 skips it). Venvs:
# ${BURLER_VENVS:-$HOME/.cache/burler-venvs}. Each tap/target/meltano command is limited to
# ${INTEROP_TIMEOUT:-300} s. INTEROP_KEEP=1 keeps the work dir (printed) for debugging.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIB="$REPO/.ci/interop/lib"
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
TIMEOUT=${INTEROP_TIMEOUT:-300}
PASSED=0
FAILED=0

# Meltano must stay offline and quiet: no telemetry, no Hub look-ups, no self-update hints.
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_DISABLE_TRACKING=true
export MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS='[]' MELTANO_HUB_URL=http://127.0.0.1:9
export MELTANO_CLI_LOG_LEVEL=info NO_COLOR=1 PYTHONUNBUFFERED=1

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }

# Runs a checking helper and tallies the PASS/FAIL lines it prints; a helper that crashes
# or prints no verdict is itself a failure ($1 names the checks).
run_checks() {
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
    if [[ $status != 0 || ( $verdicts == 0 && -n $EXPECTED_STREAMS ) ]]; then
        fail "$what" "checker exited $status with $verdicts verdicts"
    fi
}

# Last non-empty line of a log, squeezed to one short line for a FAIL reason.
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-300; }

# First error Meltano (or the tap through it) logged, without the timestamp.
meltano_failure() {
    grep -E 'CRITICAL|\[error|\[critical|Traceback' "$1" | head -n 1 | sed -E 's/^[0-9T:.-]+Z //' | cut -c1-300
}

venv_python() { echo "$VENVS/$1/bin/python"; }

target_venv() { case $1 in jsonl) echo target-jsonl ;; csv) echo target-csv ;; duckdb) echo target-duckdb ;; esac; }

# Writes the config of target $1 whose output goes to $2; prints the output location.
target_config() {
    local kind=$1 out=$2
    mkdir -p "$out"
    case $kind in
        jsonl) echo "{\"destination_path\": \"$out\", \"do_timestamp_file\": false}" >"$out.json"; echo "$out" ;;
        csv) echo "{\"output_path\": \"$out\"}" >"$out.json"; echo "$out" ;;
        duckdb) echo "{\"path\": \"$out/interop.duckdb\", \"default_target_schema\": \"main\"}" >"$out.json"
                echo "$out/interop.duckdb" ;;
    esac
}

# Resolves one argument into EXAMPLE_DIR and TAP_OVERRIDE.
resolve_arg() {
    local arg=$1
    TAP_OVERRIDE=""
    if [[ $arg == *:* ]]; then
        EXAMPLE_DIR=${arg%%:*}; TAP_OVERRIDE=${arg#*:}
    elif [[ -f $arg && -x $arg ]]; then
        EXAMPLE_DIR="$REPO/examples/$(basename "$arg")"; TAP_OVERRIDE=$arg
    else
        EXAMPLE_DIR=$arg
    fi
    EXAMPLE_DIR=$(cd "$EXAMPLE_DIR" 2>/dev/null && pwd) || { fail "$arg" "no such example directory"; return 1; }
    if [[ -n $TAP_OVERRIDE && $TAP_OVERRIDE != /* ]]; then TAP_OVERRIDE="$PWD/$TAP_OVERRIDE"; fi
}

# Loads EXAMPLE_DIR/interop.env into the settings used by the checks.
load_env() {
    unset TAP_NAME TAP_BIN CONFIG CATALOG EXPECTED_STREAMS SPOT_CHECKS INCREMENTAL_STREAM TARGETS MELTANO
    SPOT_CHECKS=()
    if [[ ! -f $EXAMPLE_DIR/interop.env ]]; then
        fail "$(basename "$EXAMPLE_DIR")" "no interop.env in $EXAMPLE_DIR"; return 1
    fi
    # shellcheck disable=SC1091
    source "$EXAMPLE_DIR/interop.env" || { fail "$(basename "$EXAMPLE_DIR")" "interop.env does not load"; return 1; }
    TAP_NAME=${TAP_NAME:-$(basename "$EXAMPLE_DIR")}
    TAP_BIN=${TAP_OVERRIDE:-${TAP_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/debug/$TAP_NAME}}
    [[ $TAP_BIN == /* ]] || TAP_BIN="$REPO/$TAP_BIN"
    EXPECTED_STREAMS=${EXPECTED_STREAMS:-}
    INCREMENTAL_STREAM=${INCREMENTAL_STREAM:-}
    TARGETS=${TARGETS:-jsonl csv duckdb}
    MELTANO=${MELTANO:-yes}
    if [[ ! -x $TAP_BIN ]]; then fail "$TAP_NAME" "tap binary $TAP_BIN missing or not executable (build it first)"; return 1; fi
    if [[ -z ${CONFIG:-} || ! -f $EXAMPLE_DIR/$CONFIG ]]; then fail "$TAP_NAME" "CONFIG '${CONFIG:-}' not found in $EXAMPLE_DIR"; return 1; fi
    if [[ -n ${CATALOG:-} && ! -f $EXAMPLE_DIR/$CATALOG ]]; then fail "$TAP_NAME" "CATALOG '$CATALOG' not found in $EXAMPLE_DIR"; return 1; fi
}

check_about() {
    local work=$1
    if ! (cd "$EXAMPLE_DIR" && timeout "$TIMEOUT" "$TAP_BIN" --about --format json) >"$work/about.json" 2>"$work/about.err"; then
        fail "$TAP_NAME: --about --format json" "exit non-zero: $(last_line "$work/about.err")"; return
    fi
    local why
    why=$(python3 - "$work/about.json" <<'PY'
import json, sys
try:
    about = json.load(open(sys.argv[1]))
except ValueError as err:
    print(f"not JSON: {err}"); sys.exit()
if not isinstance(about, dict) or not about.get("name"):
    print("no name"); sys.exit()
missing = {"catalog", "discover", "state"} - set(about.get("capabilities", []))
if missing:
    print(f"capabilities lack {sorted(missing)}")
elif not any(k in about for k in ("settings", "settings_schema", "config_schema")):
    print("no settings / settings_schema / config_schema")
PY
)
    if [[ -z $why ]]; then pass "$TAP_NAME: --about --format json"; else fail "$TAP_NAME: --about --format json" "$why"; fi
}

check_discover() {
    local work=$1
    if ! (cd "$EXAMPLE_DIR" && timeout "$TIMEOUT" "$TAP_BIN" --config "$work/config.json" --discover) >"$work/catalog.json" 2>"$work/discover.err"; then
        fail "$TAP_NAME: --discover" "exit non-zero: $(last_line "$work/discover.err")"; return
    fi
    local why
    why=$(python3 - "$work/catalog.json" "$EXPECTED_STREAMS" <<'PY'
import json, sys
try:
    catalog = json.load(open(sys.argv[1]))
except ValueError as err:
    print(f"not one JSON object: {err}"); sys.exit()
streams = catalog.get("streams") if isinstance(catalog, dict) else None
if not isinstance(streams, list) or not streams:
    print("no streams"); sys.exit()
names = {s.get("tap_stream_id") for s in streams}
bad = [s.get("tap_stream_id") for s in streams
       if not s.get("tap_stream_id") or not isinstance(s.get("schema"), dict)
       or not any(m.get("breadcrumb") == [] for m in s.get("metadata", []))]
missing = [item.split(":")[0] for item in sys.argv[2].split() if item.split(":")[0] not in names]
if bad:
    print(f"streams without tap_stream_id/schema/stream metadata: {bad}")
elif missing:
    print(f"expected streams missing: {missing}")
PY
)
    if [[ -z $why ]]; then pass "$TAP_NAME: --discover"; else fail "$TAP_NAME: --discover" "$why"; fi
}

check_target() {
    local kind=$1 work=$2 venv location label
    venv=$(target_venv "$kind")
    label="$TAP_NAME | $venv"
    location=$(target_config "$kind" "$work/$kind")
    local catalog_args=()
    [[ -n ${CATALOG:-} ]] && catalog_args=(--catalog "$EXAMPLE_DIR/$CATALOG")
    (cd "$EXAMPLE_DIR" && timeout "$TIMEOUT" "$TAP_BIN" --config "$work/config.json" "${catalog_args[@]}" 2>"$work/$kind.tap.err") \
        | timeout "$TIMEOUT" "$VENVS/$venv/bin/$venv" --config "$work/$kind.json" >"$work/$kind.state" 2>"$work/$kind.target.err"
    local codes=("${PIPESTATUS[@]}")
    # A target that dies makes the tap fail on a broken pipe: name the target first.
    local why=()
    [[ ${codes[1]} == 0 ]] || why+=("target exited ${codes[1]}: $(last_line "$work/$kind.target.err")")
    [[ ${codes[0]} == 0 ]] || why+=("tap exited ${codes[0]}: $(last_line "$work/$kind.tap.err")")
    if [[ ${#why[@]} -gt 0 ]]; then
        fail "$label: pipeline" "$(printf '%s; ' "${why[@]}" | sed 's/; $//')"; return
    fi
    pass "$label: pipeline exited 0"
    if tail -n 1 "$work/$kind.state" | python3 -c 'import json,sys; assert isinstance(json.loads(sys.stdin.read()), dict)' 2>/dev/null; then
        pass "$label: target emitted the final state"
    else
        fail "$label: target emitted the final state" "last stdout line is not a JSON object: $(last_line "$work/$kind.state")"
    fi
    run_checks "$label: output" "$(venv_python "$venv")" "$LIB/check_output.py" check "$kind" "$location" \
        "$label" "$EXPECTED_STREAMS" "${SPOT_CHECKS[@]}"
}

meltano_run() {
    local project=$1 out=$2 log=$3
    (cd "$project" && TARGET_JSONL_DESTINATION_PATH="$out" \
        timeout "$TIMEOUT" "$VENVS/meltano/bin/meltano" run "$TAP_NAME" target-jsonl) >"$log" 2>&1
}

check_meltano() {
    local work=$1 project="$1/meltano" label="$TAP_NAME | meltano"
    mkdir -p "$project"
    if ! python3 "$LIB/meltano_project.py" "$work/about.json" "$work/config.json" "$TAP_NAME" "$TAP_BIN" "$VENVS" "$project" 2>"$work/meltano.gen.err"; then
        fail "$label: project" "cannot write meltano.yml: $(last_line "$work/meltano.gen.err")"; return
    fi
    if ! meltano_run "$project" "$project/run1" "$work/meltano.run1.log"; then
        fail "$label: run 1" "meltano run failed: $(meltano_failure "$work/meltano.run1.log")"; return
    fi
    pass "$label: run 1 (meltano run $TAP_NAME target-jsonl) exited 0"
    run_checks "$label run 1: output" python3 "$LIB/check_output.py" check jsonl "$project/run1" \
        "$label run 1" "$EXPECTED_STREAMS" "${SPOT_CHECKS[@]}"
    local state
    state=$(cd "$project" && timeout "$TIMEOUT" "$VENVS/meltano/bin/meltano" state get "ci:$TAP_NAME-to-target-jsonl" 2>/dev/null | tail -n 1)
    if [[ $state == *singer_state* ]]; then
        pass "$label: state stored after run 1"
    else
        fail "$label: state stored after run 1" "meltano state get printed '${state:0:200}'"
    fi
    if ! meltano_run "$project" "$project/run2" "$work/meltano.run2.log"; then
        fail "$label: run 2" "meltano run failed: $(meltano_failure "$work/meltano.run2.log")"; return
    fi
    pass "$label: run 2 exited 0"
    [[ -n $INCREMENTAL_STREAM ]] || return
    local first second
    first=$(python3 "$LIB/check_output.py" count jsonl "$project/run1" "$INCREMENTAL_STREAM")
    second=$(python3 "$LIB/check_output.py" count jsonl "$project/run2" "$INCREMENTAL_STREAM")
    if [[ $first =~ ^[0-9]+$ && $second =~ ^[0-9]+$ && $second -lt $first ]]; then
        pass "$label: run 2 is incremental ($INCREMENTAL_STREAM: $first rows then $second)"
    else
        fail "$label: run 2 is incremental" "$INCREMENTAL_STREAM: $first rows in run 1, $second in run 2"
    fi
}

check_tap() {
    resolve_arg "$1" || return
    load_env || return
    local work kind
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-interop.$TAP_NAME.XXXXXX")
    sed "s|@EXAMPLE_DIR@|$EXAMPLE_DIR|g" "$EXAMPLE_DIR/$CONFIG" >"$work/config.json"
    echo "== $TAP_NAME ($TAP_BIN), work dir $work"
    check_about "$work"
    check_discover "$work"
    for kind in $TARGETS; do check_target "$kind" "$work"; done
    if [[ $MELTANO != no ]]; then check_meltano "$work"; fi
    if [[ ${INTEROP_KEEP:-0} == 1 ]]; then echo "   kept $work"; else rm -rf "$work"; fi
}

main() {
    local args=("$@")
    if [[ ${#args[@]} -eq 0 ]]; then
        args=("$REPO/.ci/interop/fake-tap" "$REPO/.ci/interop/data")
        local env
        for env in "$REPO"/examples/*/interop.env; do [[ -f $env ]] && args+=("$(dirname "$env")"); done
    fi
    if [[ ${INTEROP_SKIP_SETUP:-0} != 1 ]]; then
        local setup_log="${TMPDIR:-/tmp}/burler-interop-setup.log"
        if "$REPO/.ci/interop/setup.sh" >"$setup_log" 2>&1; then
            pass "setup: Python clients in $VENVS"
        else
            fail "setup" "$(last_line "$setup_log") (full log: $setup_log)"
        fi
    fi
    local arg
    for arg in "${args[@]}"; do check_tap "$arg"; done
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}

main "$@"
