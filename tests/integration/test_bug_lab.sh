#!/usr/bin/env bash
# The bug lab's fast subset, for CI (the full matrix is loadtest/bug-matrix):
#   1. the correct server passes every checker of mmcache-load (with a
#      CONFIG SET writer, so the config checker runs too);
#   2. bug 13 (the demo bug) is SURFACED by its scenario: one retry, since
#      a race is a probability (the matrix measures it);
#   3. bug 13's scenario against the correct server: NOT SURFACED;
#   4. the differentials of 13 (one worker) and 23 (the counter aligned):
#      NOT SURFACED (bug-lab rule 8);
#   5. the two controls, 16 and 24, with the bug selected: NOT SURFACED
#      (no retry: a detector that fires on correct code is a defect).
# Env: MMCACHE_BIN, MMCACHE_LOAD_BIN (default build/...).
set -u
if [ "${MMCACHE_TEST_AGAINST:-}" = redis ]; then
    echo "skipped against redis-server: mmcache's own, not Redis's: the bug lab"
    exit 77
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MMCACHE_BIN:-$ROOT/build/mmcache}
LOAD=${MMCACHE_LOAD_BIN:-$ROOT/build/mmcache-load}
fail=0
ok() { echo "PASS  $*"; }
bad() { echo "FAIL  $*"; fail=1; }

out=$("$ROOT/loadtest/run-scenario" --bin "$BIN" --load "$LOAD" -- --check all \
      --config-writer --duration 4 --pipeline 4 2>&1)
rc=$?
verdict=$(printf '%s\n' "$out" | tail -1)
if [ $rc -eq 0 ]; then ok "correct server, every checker: $verdict"; else
    printf '%s\n' "$out"; bad "correct server, every checker: $verdict"; fi

run() { "$ROOT/loadtest/run-bug" "$@" --bin "$BIN" --load "$LOAD" --time 30; }

line=$(run 13); rc=$?
if [ $rc -ne 0 ]; then
    echo "      first try: $line"
    line=$(run 13); rc=$?
fi
if [ $rc -eq 0 ]; then ok "$line"; else bad "bug 13 not surfaced twice: $line"; fi

line=$(run 13 --correct); rc=$?
if [ $rc -eq 1 ]; then ok "$line"; else bad "false verdict: $line"; fi

# Differentials: the bug on, just its mechanism removed (one worker for
# 13; for 23 the counter aligned): NOT SURFACED, or the verdict was not
# the bug's.
for bug in 13 23; do
    line=$(run $bug --differential); rc=$?
    if [ $rc -eq 1 ]; then ok "$line"; else bad "differential: $line"; fi
done

for control in 16 24; do
    line=$(run $control); rc=$?
    if [ $rc -eq 1 ]; then ok "$line"; else bad "control: $line"; fi
done
exit $fail
