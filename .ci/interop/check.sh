#!/usr/bin/env bash
# Conformance checks: runs `burler check` (the debug binary) against every example tap with an
# interop.env (examples/*/interop.env), the third-party tap tap-spreadsheets (.ci/interop/data,
# from its venv) — each must pass — and against .ci/interop/broken-tap, which must fail with a
# report naming its faults.
#
# Usage: .ci/interop/check.sh [EXAMPLE_DIR...]      (default: all of the above)
# Settings come from each EXAMPLE_DIR/interop.env (TAP_NAME, TAP_BIN, CONFIG; see .ci/interop.sh):
# "@EXAMPLE_DIR@" in the config is replaced by the absolute example path, and the tap runs with
# EXAMPLE_DIR as working directory. Binaries: ${CARGO_TARGET_DIR:-target}/debug/{burler,TAP_NAME}
# (build them first: cargo build --workspace --bins). Venvs: ${BURLER_VENVS:-~/.cache/burler-venvs}
# (.ci/interop/setup.sh). Each tap run is limited to ${INTEROP_TIMEOUT:-300} s.
#
# Every check prints `PASS <what>` or `FAIL <what>: <why>` followed by burler check's report,
# indented; the last line is `N passed, M failed` and the exit code is non-zero when M > 0.
#
# RESUME_PENDING names example taps whose resume-anywhere check (`burler check --cuts`) is not run
# yet: tap-rest commits the `orders` bookmark before the `order_lines` of those orders are written
# (the engine rewrite fixes it), so resuming from such a STATE loses order_lines. Run
# `RESUME_PENDING= .ci/interop/check.sh` to check every tap.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR="$REPO/$TARGET_DIR"
BURLER=${BURLER_BIN:-$TARGET_DIR/debug/burler}
TIMEOUT=${INTEROP_TIMEOUT:-300}
RESUME_PENDING=${RESUME_PENDING-tap-rest}
BROKEN="$REPO/.ci/interop/broken-tap"
PASSED=0
FAILED=0

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
indent() { sed 's/^/    /' "$1"; }

# Runs burler check on the tap of EXAMPLE_DIR ($1); expects it to pass.
check_example() {
    local dir=$1 work
    dir=$(cd "$dir" 2>/dev/null && pwd) || { fail "$1" "no such directory"; return; }
    unset TAP_NAME TAP_BIN CONFIG
    # shellcheck disable=SC1091
    EXAMPLE_DIR=$dir source "$dir/interop.env" || { fail "$dir" "interop.env does not load"; return; }
    TAP_NAME=${TAP_NAME:-$(basename "$dir")}
    TAP_BIN=${TAP_BIN:-$TARGET_DIR/debug/$TAP_NAME}
    [[ $TAP_BIN == /* ]] || TAP_BIN="$REPO/$TAP_BIN"
    local label="burler check $TAP_NAME"
    if [[ ! -x $TAP_BIN ]]; then fail "$label" "tap binary $TAP_BIN missing (build it first)"; return; fi
    if [[ -z ${CONFIG:-} || ! -f $dir/$CONFIG ]]; then fail "$label" "CONFIG '${CONFIG:-}' not found in $dir"; return; fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.$TAP_NAME.XXXXXX")
    sed "s|@EXAMPLE_DIR@|$dir|g" "$dir/$CONFIG" >"$work/config.json"
    local options=()
    if [[ " $RESUME_PENDING " == *" $TAP_NAME "* ]]; then
        options+=(--skip-resume)
        echo "NOTE $TAP_NAME: resume-anywhere check not run (RESUME_PENDING)"
    fi
    (cd "$dir" && "$BURLER" check --timeout "$TIMEOUT" "${options[@]}" --config "$work/config.json" -- "$TAP_BIN") >"$work/report" 2>"$work/stderr"
    local status=$?
    if [[ $status == 0 ]]; then
        pass "$label: $(tail -n 1 "$work/report")"
    else
        fail "$label" "exit $status: $(grep -E '^FAIL' "$work/report" | head -n 3 | tr '\n' ';' | cut -c1-300)$(tail -n 1 "$work/stderr")"
    fi
    indent "$work/report"
    # A burler tap (built in this workspace) must also pass its own --verify.
    if [[ $TAP_BIN == "$TARGET_DIR"/* ]]; then
        if (cd "$dir" && "$TAP_BIN" --config "$work/config.json" --verify) >"$work/verify" 2>&1; then
            pass "$TAP_NAME --verify: $(tail -n 1 "$work/verify")"
        else
            fail "$TAP_NAME --verify" "$(tr '\n' ';' <"$work/verify" | cut -c1-300)"
        fi
    fi
    rm -rf "$work"
}

# Runs burler check on the broken tap; expects exit 1 and a FAIL line for each of its faults.
check_broken() {
    local work label="burler check tap-broken (must fail)"
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.broken.XXXXXX")
    "$BURLER" check --timeout "$TIMEOUT" --config "$BROKEN/config.json" -- python3 "$BROKEN/tap-broken" >"$work/report" 2>"$work/stderr"
    local status=$? missing=() name
    for name in "catalog metadata" "message order" "records match their schema" \
        "key properties present and unique" "bookmarks advance" \
        "second run: no record older than the bookmark" "second run: no more records than the first"; do
        grep -q "^FAIL $name: " "$work/report" || missing+=("$name")
    done
    if [[ $status != 1 ]]; then
        fail "$label" "expected exit 1, got $status: $(tail -n 1 "$work/stderr")"
    elif [[ ${#missing[@]} -gt 0 ]]; then
        fail "$label" "exit 1, but no FAIL for: $(printf '%s; ' "${missing[@]}")"
    else
        pass "$label: exit 1, every fault reported ($(tail -n 1 "$work/report"))"
    fi
    indent "$work/report"
    rm -rf "$work"
}

main() {
    if [[ ! -x $BURLER ]]; then
        fail "burler check" "$BURLER missing (cargo build -p burler-cli)"
        echo "$PASSED passed, $FAILED failed"
        return 1
    fi
    local args=("$@") dir env
    if [[ ${#args[@]} -eq 0 ]]; then
        for env in "$REPO"/examples/*/interop.env; do [[ -f $env ]] && args+=("$(dirname "$env")"); done
        args+=("$REPO/.ci/interop/data")
    fi
    for dir in "${args[@]}"; do check_example "$dir"; done
    check_broken
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}

main "$@"
