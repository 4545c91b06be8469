#!/usr/bin/env bash
# test_bug_lab_env: the bug lab's verdicts do not depend on the caller's
# environment (issue 14). With bug 13 on, the server locks and unlocks two
# different stack copies of a shard mutex at start-up; whether TSan sees
# them as one mutex depends on the stack's layout, which moves with the
# size of the process environment. A caller's TSAN_OPTIONS=halt_on_error=1
# (test.sh sets it for the TSan suite) once reached the bugged server and
# stopped it at start-up for some sizes: "the server did not start".
#
#   1. (TSan build) the hazard, shown: the bugged server started with the
#      caller's halt_on_error=1 and nothing else, at paddings 0, 16, 32, 48
#      bytes (one period of the alignment here); which of them it survives
#      is printed, not checked (it is the compiler's frame layout);
#   2. run-bug 13 at the same four paddings with TSAN_OPTIONS=halt_on_error=1
#      set by the caller, and at one more with TSAN_OPTIONS unset: every
#      run starts its server and SURFACES the bug;
#   3. run-bug 13 --correct with TSAN_OPTIONS unset: NOT SURFACED (the
#      correct server's options are run-bug's too).
# Env: MMCACHE_BIN, MMCACHE_LOAD_BIN (default build/...).
set -u
if [ "${MMCACHE_TEST_AGAINST:-}" = redis ]; then
    echo "skipped against redis-server: mmcache's own, not Redis's: the bug lab"
    exit 77
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/tests/integration/lib.sh"
BIN=${MMCACHE_BIN:-$ROOT/build/mmcache}
LOAD=${MMCACHE_LOAD_BIN:-$ROOT/build/mmcache-load}
HALT="halt_on_error=1 second_deadlock_stack=1"
PADS=(0 16 32 48)
fail=0
ok() { echo "PASS  $*"; }
bad() { echo "FAIL  $*"; fail=1; }
pad() { head -c "$1" /dev/zero | tr '\0' x; }
trap 'it_stop_all; it_remove_logs' EXIT

norand=()
if ldd "$BIN" 2>/dev/null | grep -q libtsan; then
    setarch "$(uname -m)" -R true 2>/dev/null && norand=(setarch "$(uname -m)" -R)
    for p in "${PADS[@]}"; do
        port=$(it_free_port)
        log=$(mktemp "${TMPDIR:-/tmp}/mmcache-it-XXXXXX")
        IT_LOGS+=("$log")
        env PAD="$(pad "$p")" TSAN_OPTIONS="$HALT" "${norand[@]}" "$BIN" --port "$port" \
            --bind 127.0.0.1 --inject-bug=13 >"$log" 2>&1 </dev/null &
        pid=$!
        IT_PIDS+=("$pid")
        up=""
        for _ in $(seq 200); do
            kill -0 "$pid" 2>/dev/null || break
            it_ping "$port" && { up=1; break; }
            sleep 0.05
        done
        it_stop "$pid" 10
        if [ -n "$up" ]; then
            echo "      padding $p, the caller's options: the bugged server started"
        else
            echo "      padding $p, the caller's options: the bugged server did not start" \
                 "(exit status $IT_STATUS: $(grep -m1 -o 'ThreadSanitizer: [a-z ]*' "$log"))"
        fi
    done
fi

# run PADDING set|unset run-bug-args...: run-bug's verdict line, run with
# PADDING bytes more environment and the caller's TSAN_OPTIONS set or unset
run() {
    (
        export PAD; PAD=$(pad "$1")
        if [ "$2" = set ]; then export TSAN_OPTIONS=$HALT; else unset TSAN_OPTIONS; fi
        shift 2
        "$ROOT/loadtest/run-bug" "$@" --bin "$BIN" --load "$LOAD" --time 30 2>&1 | tail -1
    )
}
expect() { # WANT-PREFIX WHAT LINE
    case $3 in "$1"*) ok "$2: $3" ;; *) bad "$2: $3" ;; esac
}

for p in "${PADS[@]}"; do
    expect "bug 13 SURFACED" "padding $p, TSAN_OPTIONS=\"$HALT\"" "$(run "$p" set 13)"
done
expect "bug 13 SURFACED" "padding 1000, TSAN_OPTIONS unset" "$(run 1000 unset 13)"
expect "bug 13 [correct server] NOT SURFACED" "padding 0, TSAN_OPTIONS unset" \
    "$(run 0 unset 13 --correct)"
exit $fail
