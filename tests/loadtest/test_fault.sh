#!/usr/bin/env bash
# test_fault FAULT: proof that a checker can fail. Starts the fake RESP
# server (fake_server.c) with one fault, runs mmcache-load with every
# checker on against it, and requires exit 1 with the matching checker
# FAILED and its evidence; "none" and "config-refuse" must pass (exit 0),
# so a failure is the fault's doing and not the fake's.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LOAD=${MMCACHE_LOAD_BIN:-$ROOT/build/mmcache-load}
FAKE=${LD_FAKE_SERVER:-$ROOT/build/tests/loadtest/ld_fake_server}
fault=${1:?usage: test_fault.sh FAULT}
every=7   # the fault acts at every 7th chance past the first 300 commands
requests=20000 duration=5
checks=all
# the transaction checkers are not in "all": their faults, and txn-none
# (the fake's MULTI, correct), run them by name
case $fault in
    txn-*|mget-torn|watch-ignore) checks=bank,monotonic-sum,liveness ;;
esac

# fault -> checker that must fail, and a pattern its evidence must match
case $fault in
    none|txn-none)    want=pass ;;
    config-refuse)    want=pass; evidence='SKIPPED  server refused CONFIG SET: ERR CONFIG SET is not supported yet' ;;
    wrong-value)      want=tagged;    evidence='cross-talk|not a tagged value' ;;
    corrupt)          want=tagged;    evidence='checksum mismatch' ;;
    drop-incr)        want=counter;   evidence='INCRs lost|expected [0-9]+, got' ;;
    drop-incr-exit)   want=counter;   evidence='acknowledged INCRs lost \(at least: INCR replies that repeated a value; the counters could not be read' ;;
    stall)            want=liveness;  evidence='no reply to [A-Z ]+ within 1000 ms' ;;
    reset)            want=liveness;  evidence='Connection reset by peer' ;;
    exit)             want=liveness;  evidence='server pid [0-9]+ (exited|is gone)' ;;
    stats-undercount) want=stats;     evidence='total_commands_processed: expected it to move by' ;;
    info-backwards)   want=monotonic; evidence='went backwards' ;;
    config-torn)      want=config;    evidence='expected fields of one generation, got timeout=[0-9]+ \(generation [0-9]+\) with maxmemory=[0-9]+ \(generation [0-9]+\)' ;;
    config-stale)     want=config;    evidence='stale|went backwards' ;;
    queue-lose)       want=queue;     evidence='was lost: neither popped nor in the key' ;;
    queue-dup)        want=queue;     evidence='popped more than once|still in the key after being popped' ;;
    # every chance counts (a producer's two elements in one list at a pop);
    # the fake makes one come whatever the timing (fake_list.c)
    queue-reorder)    want=queue;     evidence='out of the order pushed'; every=1 ;;
    hash-wrong-value) want=hash;      evidence='HGET [^ ]+:h:[0-9]/f[0-9]+: expected a value of [^ ]+/f[0-9]+ or nil, got a value of [^ ]+/f[0-9]+ \(cross-talk\)' ;;
    drop-hincr)       want=hash;      evidence='HINCRBY [^ ]+ c[0-9]+ \(this client.s own counter\): expected [0-9]+, got [0-9]+|counter [^ ]+ c[0-9]+: expected' ;;
    set-missing)      want=set;       evidence="expected client [0-9]+'s members|SISMEMBER [^ ]+ [^ ]+ \(this client's member\): expected 1, got 0|expected [0-9]+ removed, got" ;;
    set-extra)        want=set;       evidence="expected client [0-9]+'s members|SISMEMBER [^ ]+ [^ ]+ \(this client's member\): expected 0, got 1|expected [0-9]+ added, got" ;;
    zset-wrong-score) want=zset;      evidence="ZSCORE [^ ]+ [^ ]+ \(this client's member\): expected|client [0-9]+'s member [0-9]+: expected score|came with score '[0-9.e+-]+', not [0-9]+" ;;
    zset-disorder)    want=zset;      evidence='out of order' ;;
    zpop-dup)         want=zset;      evidence='popped more than once|still in the key after being popped' ;;
    # each must fail both transaction checkers (want2); watch-ignore only
    # the bank (monotonic-sum uses no WATCH)
    txn-interleave)   want=bank; want2=monotonic-sum
                      evidence='audit by (MULTI/EXEC|MGET): expected the 16 balances to sum to 16000, got [0-9]+'
                      evidence2='expected an even sum \(whole MULTI pairs\), got [0-9]+' ;;
    txn-half)         want=bank; want2=monotonic-sum
                      evidence='expected the 16 balances to sum to 16000, got [0-9]+ \(-[0-9]+: money lost\)'
                      evidence2='expected an even sum|the counters at the end: expected them to sum to [0-9]+ .*lost' ;;
    mget-torn)        want=bank; want2=monotonic-sum
                      evidence='audit by MGET: expected the 16 balances to sum to 16000, got'
                      evidence2='reader [0-9]+, MGET: (expected an even sum|expected the sum [0-9]+ or more|counter [0-9]+: expected [0-9]+ or more)' ;;
    watch-ignore)     want=bank;      evidence='expected the 16 balances to sum to 16000, got [0-9]+ \([-+][0-9]+: money (made|lost)\)' ;;
    *) echo "unknown fault $fault" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/ld-fault.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

server_fault=$fault
[ "$fault" = txn-none ] && server_fault=none
"$FAKE" --port-file "$work/port" --fault "$server_fault" --after 300 --every "$every" \
    >"$work/server.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "fake server did not start"; cat "$work/server.log"; exit 1; }
port=$(cat "$work/port")

# a short reply timeout only where a stall is the point: a loaded CI host
# can pause a sanitizer build for longer than one would like
reply_timeout=5000
[ "$fault" = stall ] && reply_timeout=1000
writer=()
[ "$checks" = all ] && writer=(--config-writer)
timeout 60 "$LOAD" --port "$port" --server-pid "$pid" --clients 8 --threads 2 \
    --pipeline 4 --keyspace 500 --requests "$requests" --duration "$duration" --reply-timeout "$reply_timeout" \
    --connect-timeout 2000 --check "$checks" "${writer[@]}" --key-prefix "fault-$fault" \
    >"$work/out" 2>&1
rc=$?
cat "$work/out"

# stop the server by PID and collect its status (only its parent can)
if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; fi
wait "$pid"
status=$?
pid=""
if [ "$status" -gt 128 ]; then
    echo "fake server: killed by signal $((status - 128)) (SIG$(kill -l $((status - 128))))"
else
    echo "fake server: exit status $status"
fi

fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }
if [ "$want" = pass ]; then
    check "exit 0 against fault '$fault' (got $rc)" '[ $rc -eq 0 ]'
    check "no checker failed" '! grep -q FAILED "$work/out"'
    if [ "$checks" != all ]; then
        check "bank and monotonic-sum ran transactions" \
              'grep -Eq "^  bank +passed .* [1-9][0-9]* transfers committed \([1-9][0-9]* MULTI, [1-9][0-9]* WATCH" "$work/out" &&
               grep -Eq "^  monotonic-sum +passed .*[1-9][0-9]* MULTI pairs" "$work/out"'
    elif [ -n "${evidence:-}" ]; then
        check "config checker skipped with the server's reason" 'grep -Eq "^  config +$evidence" "$work/out"'
        check "the skip is also said on stderr" 'grep -q "warning: checker config SKIPPED" "$work/out"'
    else
        check "config checker really ran (CONFIG SETs acknowledged)" \
              'grep -Eq "^  config +passed .* [1-9][0-9]* CONFIG SETs acknowledged" "$work/out"'
    fi
else
    check "exit 1 against fault '$fault' (got $rc)" '[ $rc -eq 1 ]'
    check "checker $want FAILED" 'grep -Eq "^  $want +FAILED" "$work/out"'
    check "its evidence names the fault ($evidence)" 'grep -Eq -- "$evidence" "$work/out"'
    if [ -n "${want2:-}" ]; then
        check "checker $want2 FAILED" 'grep -Eq "^  $want2 +FAILED" "$work/out"'
        check "its evidence names the fault ($evidence2)" 'grep -Eq -- "$evidence2" "$work/out"'
    fi
fi
if [ "$fault" = exit ] || [ "$fault" = drop-incr-exit ]; then
    check "the orchestrator saw the server die of SIGKILL (status $status)" '[ "$status" -eq 137 ]'
else
    check "fake server stopped by SIGTERM with status 0 (got $status)" '[ "$status" -eq 0 ]'
fi
echo "test_fault $fault: $fails failed"
[ $fails -eq 0 ]
