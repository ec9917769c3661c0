#!/usr/bin/env bash
# Scale-out past one process: tap-files (examples/tap-files) over a data directory with 12 event
# files (12 for-each partitions of `events`) split between 3 workers with `--partitions K/3`,
# their states joined with `burler state merge`; twice, the second time after new events, so the
# second round shows each worker resuming its partitions from the merged state.
#
#   1. plain processes: three tap processes side by side, then `burler state merge --base`;
#   2. Meltano: three `meltano run tap-files target-jsonl --state-id-suffix wK` side by side,
#      each with BURLER_PARTITIONS=K/3 in its environment and its own project directory (as on
#      separate machines), sharing one state backend; states read with `meltano state get`,
#      merged, and set back on every worker's state ID with `meltano state set`.
#
# Checks (PASS/FAIL lines, then `N passed, M failed`; exit 1 on a failure): the workers' records
# together are the records of one unsplit run, each exactly once; `orders` and `customers` (no
# partitions) come from one worker; the merged state holds all 12 partitions; the second round
# sends only the new events. Needs target/debug/tap-files and target/debug/burler (cargo build
# --workspace --bins) and the meltano and target-jsonl venvs of .ci/interop/setup.sh (run by
# .ci/interop.sh before this in .ci/run). SCALE_OUT_KEEP=1 keeps the work dir (printed).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
TAP=$TARGET/debug/tap-files
BURLER=$TARGET/debug/burler
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
MELTANO=$VENVS/meltano/bin/meltano
WORKERS=3
PASSED=0
FAILED=0
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_DISABLE_TRACKING=true
export MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS='[]' MELTANO_HUB_URL=http://127.0.0.1:9 NO_COLOR=1

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
check() { # check WHAT COMMAND...: PASS when the command succeeds, else FAIL with its last line.
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$what${out:+ ($(tail -n 1 <<<"$out"))}"; else fail "$what" "$(tail -n 1 <<<"$out")"; fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/burler-scale-out.XXXXXX")
trap '[[ ${SCALE_OUT_KEEP:-0} == 1 ]] && echo "kept $WORK" || rm -rf "$WORK"' EXIT
# The workers' shared state backend (in production: s3://, gs://, azure:// or a database).
export MELTANO_STATE_BACKEND_URI="file://$WORK/meltano-state"

# events/eNN.jsonl: 12 files of `per` events each (minute i of file NN), from `first` on.
write_events() {
    local first=$1 per=$2 n i
    mkdir -p "$WORK/data/events"
    for n in $(seq -w 1 12); do
        for ((i = first; i < first + per; i++)); do
            printf '{"id":"e%s-%d","kind":"view","at":"2024-03-%02dT10:%02d:00Z"}\n' "$n" "$i" "$((10#$n))" "$i"
        done >>"$WORK/data/events/e$n.jsonl"
    done
}

setup_data() {
    mkdir -p "$WORK/data"
    cp "$REPO/examples/tap-files/data/orders.jsonl" "$REPO/examples/tap-files/data/customers.csv" "$WORK/data/"
    write_events 1 5
    printf '{"data_dir": "%s", "start_date": "2024-01-01T00:00:00Z"}\n' "$WORK/data" >"$WORK/config.json"
}

# verify_split DIR REFERENCE NEW_ONLY: the worker outputs DIR/out.K against the unsplit run.
verify_split() {
    python3 - "$@" "$WORKERS" <<'PY'
import collections, json, sys
work, reference, label, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def records(path):
    out = []
    for line in open(path):
        m = json.loads(line)
        if m["type"] == "RECORD":
            out.append((m["stream"], str(m["record"].get("id"))))
    return out
runs = [records(f"{work}/out.{k}") for k in range(1, workers + 1)]
seen = collections.Counter(r for run in runs for r in run)
want = set(records(reference))
twice = [r for r, n in seen.items() if n > 1]
if twice or set(seen) != want:
    sys.exit(f"{label}: duplicated {twice[:3]}, missing {sorted(want - set(seen))[:3]}, "
             f"extra {sorted(set(seen) - want)[:3]}")
for stream in ("orders", "customers"):
    holders = [k + 1 for k, run in enumerate(runs) if any(s == stream for s, _ in run)]
    if len(holders) > 1:
        sys.exit(f"{label}: {stream} synced by workers {holders}")
print(f"{label}: {len(seen)} records, once each, split {[len(r) for r in runs]}")
PY
}

# merged_partitions FILE: the merged state must hold a bookmark for each of the 12 event files.
merged_partitions() {
    python3 - "$1" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
state = state.get("singer_state", state)
parts = state["bookmarks"]["events"]["partitions"]
files = sorted(p["context"]["file"] for p in parts)
if files != [f"e{n:02d}.jsonl" for n in range(1, 13)]:
    sys.exit(f"partitions in the merged state: {files}")
PY
}

# Last STATE value of a tap's output, as a state file.
last_state() { grep '"type":"STATE"' "$1" | tail -n 1 | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())["value"]))'; }

plain_round() { # plain_round N: the unsplit run and the workers, from state.json
    local round=$1 dir="$WORK/plain.$1" k pids=()
    mkdir -p "$dir"
    "$TAP" --config "$WORK/config.json" --state "$WORK/state.json" >"$dir/reference" 2>"$dir/reference.err"
    for ((k = 1; k <= WORKERS; k++)); do
        "$TAP" --config "$WORK/config.json" --state "$WORK/state.json" --partitions "$k/$WORKERS" \
            >"$dir/out.$k" 2>"$dir/err.$k" &
        pids+=($!)
    done
    local failed=0
    for k in "${!pids[@]}"; do wait "${pids[$k]}" || failed=1; done
    if [[ $failed != 0 ]]; then fail "plain round $round: workers" "$(tail -n 1 "$dir"/err.*)"; return; fi
    check "plain round $round: 3 workers sync every record of one run exactly once" \
        verify_split "$dir" "$dir/reference" "round $round"
    for ((k = 1; k <= WORKERS; k++)); do last_state "$dir/out.$k" >"$dir/state.$k"; done
    if "$BURLER" state merge --base "$WORK/state.json" "$dir"/state.* >"$dir/merged" 2>"$dir/merge.err"; then
        check "plain round $round: merged state holds all 12 partitions" merged_partitions "$dir/merged"
        cp "$dir/merged" "$WORK/state.json"
    else
        fail "plain round $round: burler state merge" "$(tail -n 1 "$dir/merge.err")"
    fi
}

# One Meltano project per worker (as on separate machines: Meltano keeps a run's files in the
# project, so two runs of one extractor in one project overwrite each other's), all sharing one
# state backend, as workers share a bucket in production; each worker has its own state ID
# (--state-id-suffix wK).
meltano_project() {
    local project=$WORK/meltano k
    mkdir -p "$project"
    "$TAP" --about --format json >"$WORK/about.json"
    python3 "$REPO/.ci/interop/lib/meltano_project.py" "$WORK/about.json" "$WORK/config.json" \
        tap-files "$TAP" "$VENVS" "$project" || return 1
    (cd "$project" && timeout 300 "$MELTANO" state list) >"$WORK/meltano.init.log" 2>&1 || {
        echo "meltano state list: $(tail -n 1 "$WORK/meltano.init.log")" >&2; return 1; }
    for ((k = 1; k <= WORKERS; k++)); do cp -r "$project" "$WORK/meltano.w$k"; done
}

meltano_round() { # meltano_round N
    local round=$1 dir="$WORK/meltano.$1" project="$WORK/meltano" k pids=()
    mkdir -p "$dir"
    for ((k = 1; k <= WORKERS; k++)); do
        mkdir -p "$dir/jsonl.$k"
        (cd "$WORK/meltano.w$k" && BURLER_PARTITIONS="$k/$WORKERS" TARGET_JSONL_DESTINATION_PATH="$dir/jsonl.$k" \
            timeout 300 "$MELTANO" run tap-files target-jsonl --state-id-suffix "w$k") >"$dir/log.$k" 2>&1 &
        pids+=($!)
    done
    local failed=0
    for k in "${!pids[@]}"; do wait "${pids[$k]}" || failed=1; done
    if [[ $failed != 0 ]]; then
        fail "meltano round $round: workers" "$(grep -ahE 'CRITICAL|error' "$dir"/log.* | head -n 1)"; return
    fi
    pass "meltano round $round: 3 x meltano run (BURLER_PARTITIONS=K/3) exited 0"
    # target-jsonl writes one file per stream: rebuild RECORD lines to compare with the reference.
    for ((k = 1; k <= WORKERS; k++)); do
        python3 - "$dir/jsonl.$k" >"$dir/out.$k" <<'PY'
import json, os, sys
for name in sorted(os.listdir(sys.argv[1])):
    for line in open(os.path.join(sys.argv[1], name)):
        print(json.dumps({"type": "RECORD", "stream": name[:-len(".jsonl")], "record": json.loads(line)}))
PY
        (cd "$project" && "$MELTANO" state get "ci:tap-files-to-target-jsonl:w$k") 2>/dev/null | tail -n 1 >"$dir/state.$k"
    done
    check "meltano round $round: the workers' rows are one run's records, once each" \
        verify_split "$dir" "$WORK/plain.$round/reference" "meltano round $round"
    if ! "$BURLER" state merge --base "$WORK/meltano.state" "$dir"/state.* >"$dir/merged" 2>"$dir/merge.err"; then
        fail "meltano round $round: burler state merge" "$(tail -n 1 "$dir/merge.err")"; return
    fi
    check "meltano round $round: merged state holds all 12 partitions" merged_partitions "$dir/merged"
    cp "$dir/merged" "$WORK/meltano.state"
    for ((k = 1; k <= WORKERS; k++)); do
        (cd "$project" && "$MELTANO" state set --force "ci:tap-files-to-target-jsonl:w$k" "$(cat "$dir/merged")") \
            >>"$dir/set.log" 2>&1 || { fail "meltano round $round: state set" "$(tail -n 1 "$dir/set.log")"; return; }
    done
}

main() {
    [[ -x $TAP && -x $BURLER ]] || { echo "build first: cargo build --workspace --bins" >&2; exit 2; }
    setup_data
    echo '{}' >"$WORK/state.json"
    echo '{"singer_state": {}}' >"$WORK/meltano.state"
    plain_round 1
    local have_meltano=0
    if [[ -x $MELTANO ]] && meltano_project; then have_meltano=1; meltano_round 1; else
        fail "meltano" "no Meltano venv at $VENVS/meltano (run .ci/interop/setup.sh)"; fi
    write_events 6 3
    plain_round 2
    if [[ $have_meltano == 1 ]]; then meltano_round 2; fi
    # Each file resumes at its bookmark, inclusive: its 3 new events and the one at the bookmark.
    check "round 2 sends only the events from each partition's bookmark on (12 files x 4)" python3 -c '
import sys
n = sum(1 for l in open(sys.argv[1]) if "\"stream\":\"events\"" in l and "\"RECORD\"" in l)
sys.exit(0 if n == 48 else f"{n} events in round 2")' "$WORK/plain.2/reference"
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}

main "$@"
