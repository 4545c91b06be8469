#!/usr/bin/env bash
# test_against_servers KIND: every mmcache-load checker against a correct
# server (KIND mmcache: $MMCACHE_BIN; KIND redis: redis-server) must pass
# with zero failures; a checker SKIPPED (e.g. "server refused CONFIG SET")
# is a failure here, since both servers take CONFIG SET. Exit 77 (ctest:
# Skipped) when redis-server is not installed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=servers.sh
. "$HERE/servers.sh"
kind=${1:?usage: test_against_servers.sh mmcache|redis}
ld_server_kind "$kind"

work=$(mktemp -d "${TMPDIR:-/tmp}/ld-servers.XXXXXX")
trap 'it_stop_all; it_remove_logs; rm -rf "$work"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

it_start "$kind" "$BIN" "${SERVER_ARGS[@]}" || exit 1
echo "$kind pid $IT_PID port $IT_PORT"

load() { # OUTFILE args...: one bounded run, its output shown
    local out=$1; shift
    timeout 90 "$LOAD" --port "$IT_PORT" --server-pid "$IT_PID" "$@" >"$out" 2>&1
    local rc=$?
    cat "$out"
    return $rc
}

# every checker passed (none skipped), and the config writer's CONFIG SETs
# were acknowledged
all_passed() { # OUTFILE
    local c
    for c in tagged counter stats monotonic liveness queue hash set; do
        grep -Eq "^  $c +passed" "$1" || { echo "   $c did not pass"; return 1; }
    done
    grep -Eq "^  config +passed .* [1-9][0-9]* CONFIG SETs acknowledged" "$1"
}

# 1. the default mix, pipelined, every checker, the tool writing configs
load "$work/a" --check all --config-writer --clients 16 --threads 2 --pipeline 8 \
    --requests 60000 --duration 10 --key-prefix "it-$kind"
rc=$?
check "mix with every checker: exit 0 (got $rc)" '[ $rc -eq 0 ]'
check "mix with every checker: all passed" 'all_passed "$work/a"'
check "no errors" 'grep -q "^errors: none" "$work/a"'

# 2. zipf, MGET-heavy, filled first, larger values, one request in flight,
#    JSON out; the same prefix again, so its clean-up is exercised
load "$work/b" --check all --json --clients 12 --threads 2 --pipeline 1 --fill \
    --dist zipf --keyspace 2000 --ratio 40:20:5:5:30 --mget-keys 8 --value-size 300 \
    --requests 20000 --duration 10 --key-prefix "it-$kind"
rc=$?
check "zipf/MGET/--fill run, JSON: exit 0 (got $rc)" '[ $rc -eq 0 ]'
check "JSON says pass" 'grep -q "\"result\": \"pass\"" "$work/b"'
check "JSON: no checker failed" '! grep -q "\"verdict\": \"failed\"" "$work/b"'
if command -v python3 >/dev/null; then
    check "JSON parses" 'python3 -m json.tool <"$work/b" >/dev/null 2>&1 || python3 -c "import json,sys; s=sys.stdin.read(); json.loads(s[s.index(\"{\"):s.rindex(\"}\")+1])" <"$work/b"'
fi

# 3. duration-bounded only, 1 thread, many clients; config changes come
#    from nobody (no writer): the readers still check every snapshot
load "$work/c" --check all --clients 40 --threads 1 --pipeline 2 --duration 1 \
    --key-prefix "it-$kind-c"
rc=$?
check "--duration only, no config writer: exit 0 (got $rc)" '[ $rc -eq 0 ]'
check "config readers ran" 'grep -Eq "^  config +passed .*[1-9][0-9]* CONFIG GET snapshots" "$work/c"'
for f in a c; do
    check "run $f: no checker SKIPPED" '! grep -Eq "^  [a-z]+ +SKIPPED" "$work/$f"'
done
check "run b: no checker skipped" '! grep -q "\"verdict\": \"skipped\"" "$work/b"'

# 3b. the transaction checkers (not in "all"): against either server they
#     must pass for 20 s of transfers by MULTI and by WATCH loops, audits
#     by MULTI and by MGET, and summed reads (mmcache: 2 workers, the
#     accounts on different shards: docs/transactions.md).
load "$work/t" --check bank,monotonic-sum,liveness --clients 4 --threads 2 \
    --duration 20 --key-prefix "it-$kind-t"
rc=$?
check "bank,monotonic-sum for 20 s: exit 0 (got $rc)" '[ $rc -eq 0 ]'
check "bank: transfers by MULTI and by WATCH committed, audits ran, totals exact" \
      'grep -Eq "^  bank +passed .* [1-9][0-9]* transfers committed \([1-9][0-9]* MULTI, [1-9][0-9]* WATCH.* [1-9][0-9]* audits .*final total 16000 of 16000, 0 accounts off" "$work/t"'
check "monotonic-sum: MULTI pairs and summed reads ran" \
      'grep -Eq "^  monotonic-sum +passed .*[1-9][0-9]* MULTI pairs.*[1-9][0-9]* sums read" "$work/t"'

# 4. a usage error is exit 2 and touches nothing
"$LOAD" --port "$IT_PORT" --ratio 1:2 >/dev/null 2>&1
rc=$?
check "usage error: exit 2 (got $rc)" '[ $rc -eq 2 ]'

# 5. nothing listening: exit 1, said plainly
port=$(it_free_port)
"$LOAD" --port "$port" --requests 10 --connect-timeout 500 >"$work/d" 2>&1
rc=$?
check "no server: exit 1 (got $rc)" '[ $rc -eq 1 ]'
check "no server: the connect error is reported" 'grep -q "Connection refused" "$work/d"'

# 6. (mmcache with config files) config changed from outside: files of
#    generation k and SIGHUP, by loadtest/run-scenario; the readers must
#    see generations go by, each snapshot whole
if [ "$kind" = mmcache ] && "$BIN" --help 2>&1 | grep -q -- '--config FILE'; then
    MMCACHE_BIN=$BIN MMCACHE_LOAD_BIN=$LOAD "$ROOT/loadtest/run-scenario" \
        --server-arg --threads --server-arg 2 --sighup-every 20 -- \
        --check config,monotonic,liveness --clients 8 --duration 1.5 \
        --key-prefix "it-hup" >"$work/e" 2>&1
    rc=$?
    cat "$work/e"
    check "SIGHUP + config files: run-scenario PASS (got $rc)" '[ $rc -eq 0 ]'
    check "SIGHUP + config files: readers saw new generations" \
          'grep -Eq "^  config +passed .*latest generation seen [1-9]" "$work/e"'
else
    echo "skip - SIGHUP scenario: this mmcache takes no config file"
fi

it_stop "$IT_PID"
check "$kind exits 0 on SIGTERM (status $IT_STATUS)" '[ "$IT_STATUS" -eq 0 ]'
[ $fails -eq 0 ] || { echo "----- server log -----"; tail -n 30 "$IT_LOG"; }
echo "test_against_servers $kind: $fails failed"
[ $fails -eq 0 ]
