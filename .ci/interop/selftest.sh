#!/usr/bin/env bash
# Self-test of .ci/interop.sh: a good tap passes, a misbehaving one is caught.
# Runs the harness on .ci/interop/fake-tap (must pass) and .ci/interop/fake-tap/broken (must fail
# with the faults it was built with), then prints `N passed, M failed`.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PASSED=0
FAILED=0
pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }

good=$("$REPO/.ci/interop.sh" "$REPO/.ci/interop/fake-tap" 2>&1)
if [[ $? == 0 && $good == *$'\n'*" passed, 0 failed" ]]; then
    pass "interop self-test: fake tap passes ($(tail -n 1 <<<"$good"))"
else
    fail "interop self-test: fake tap passes" "$(grep -E '^FAIL' <<<"$good" | head -n 3 | tr '\n' ' ')"
fi

bad=$(INTEROP_SKIP_SETUP=1 "$REPO/.ci/interop.sh" "$REPO/.ci/interop/fake-tap/broken" 2>&1)
status=$?
expect_fail() {
    if grep -q -F -- "FAIL $1" <<<"$bad"; then pass "interop self-test: catches $2"; else fail "interop self-test: catches $2" "no 'FAIL $1' line"; fi
}
if [[ $status != 0 ]]; then pass "interop self-test: broken tap exits non-zero"; else fail "interop self-test: broken tap exits non-zero" "exit 0"; fi
expect_fail "tap-fake | target-jsonl: customers has 39 rows, expected 40" "a lost row (count)"
expect_fail "tap-fake | target-jsonl: customers row id=7: 0 rows match" "a lost row (spot check)"
expect_fail "tap-fake | meltano: run 2 is incremental: orders: 120 rows in run 1, 120 in run 2" "a tap ignoring state"
if grep -q '^PASS tap-fake | target-jsonl: orders has 120 rows' <<<"$bad"; then
    pass "interop self-test: still passes what is right"
else
    fail "interop self-test: still passes what is right" "no PASS for orders"
fi
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
