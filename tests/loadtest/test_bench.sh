#!/usr/bin/env bash
# test_bench KIND: mmcache-load --bench txn and --bench mget-mset, tiny,
# against a real server (KIND mmcache: $MMCACHE_BIN; KIND redis:
# redis-server). Each must report every request checked out, and the
# server's keys must add up: after N transactions of INCR a, INCR b the
# txn keys sum to 2N; after the MSETs every key the MGETs read holds a
# value of --value-size bytes. Exit 77 (ctest: Skipped) without
# redis-server.
# shellcheck disable=SC2016 # check() evals its second argument later
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=servers.sh
. "$HERE/servers.sh"
kind=${1:?usage: test_bench.sh mmcache|redis}
ld_server_kind "$kind"
command -v redis-cli >/dev/null || { echo "skipped: no redis-cli"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ld-bench.XXXXXX")
trap 'it_stop_all; it_remove_logs; rm -rf "$work"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

it_start "$kind" "$BIN" "${SERVER_ARGS[@]}" || exit 1
echo "$kind pid $IT_PID port $IT_PORT"
KEYS=40
TXNS=500
PAIRS=300

load() { # OUTFILE args...: one bounded run, its output shown
    local out=$1; shift
    timeout 60 "$LOAD" --port "$IT_PORT" --clients 6 --threads 2 --pipeline 4 \
        --keyspace "$KEYS" --check none --no-progress --key-prefix bt "$@" >"$out" 2>&1
    local rc=$?
    cat "$out"
    return $rc
}

# the sum of keys bt:<kind>:0..KEYS-1 read as integers (nil: 0)
sum_keys() { # KIND
    local i args=()
    for (( i = 0; i < KEYS; i++ )); do args+=("bt:$1:$i"); done
    redis-cli -p "$IT_PORT" mget "${args[@]}" | awk '{ s += $1 } END { print s + 0 }'
}

# every key of bt:w: the MGETs read holds a 16-byte value: the number of
# keys that exist and the number of those whose value is not 16 bytes
mset_keys() {
    local i n=0 bad=0 len
    for (( i = 0; i < KEYS; i++ )); do
        len=$(redis-cli -p "$IT_PORT" strlen "bt:w:$i")
        [ "$len" = 0 ] && continue
        n=$((n + 1))
        [ "$len" = 16 ] || bad=$((bad + 1))
    done
    echo "$n $bad"
}

load "$work/t" --bench txn --requests "$TXNS"
rc=$?
check "txn: exit 0 (got $rc)" '[ $rc -eq 0 ]'
check "txn: $TXNS transactions checked out" \
    'grep -q "^bench txn: $TXNS requests of 4 commands" "$work/t"'
check "txn: $((TXNS * 4)) commands answered" 'grep -q "^throughput: $((TXNS * 4)) ops" "$work/t"'
got=$(sum_keys x)
check "txn: the keys sum to 2 x $TXNS (got $got)" '[ "$got" = $((TXNS * 2)) ]'

load "$work/m" --bench mget-mset --requests "$PAIRS" --value-size 16
rc=$?
check "mget-mset: exit 0 (got $rc)" '[ $rc -eq 0 ]'
check "mget-mset: $PAIRS pairs checked out" \
    'grep -q "^bench mget-mset: $PAIRS requests of 2 commands" "$work/m"'
read -r have bad <<<"$(mset_keys)"
check "mget-mset: keys written ($have of $KEYS), all 16 bytes ($bad not)" \
    '[ "$have" -gt $((KEYS / 2)) ] && [ "$bad" = 0 ]'

# an EXEC whose array is not two integers must fail the run: the one txn
# key (--keyspace 1) made a string, each INCR fails inside EXEC (its array
# holds two errors): exit 1, no transaction counted
redis-cli -p "$IT_PORT" set bt:x:0 notanumber >/dev/null
load "$work/e" --bench txn --requests 50 --keyspace 1 >/dev/null
rc=$?
check "txn on a non-integer key: exit 1 (got $rc)" '[ $rc -eq 1 ]'
check "txn on a non-integer key: none checked out" \
    'grep -q "^bench txn: 0 requests" "$work/e"'

echo "$fails failure(s)"
[ "$fails" = 0 ]
