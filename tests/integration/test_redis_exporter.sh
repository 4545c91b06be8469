#!/usr/bin/env bash
# test_redis_exporter: Prometheus's redis_exporter (Debian's
# prometheus-redis-exporter) against mmcache and against redis-server,
# after the same traffic: it must export at least MIN metric names
# against mmcache (issue 21: 126 of the 127 it exports against Redis
# 7.0 since SLOWLOG and LATENCY exist; only redis_config_io_threads is
# missing), report redis_up 1, and log no error.
#
# An error about a command that mmcache does not have (COMMAND INFO says
# it is unknown) is named as such and not counted; once the command
# exists, its error fails the test.
#
# Skipped without the exporter, redis-server or curl, and in a sanitizer
# build (no jemalloc: INFO has no allocator_* fields there).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

MIN=${MMCACHE_EXPORTER_MIN_NAMES:-126}
EXPORTER=${REDIS_EXPORTER_BIN:-prometheus-redis-exporter}
REDIS=${REDIS_SERVER_BIN:-redis-server}
BIN=${MMCACHE_BIN:-$ROOT/build/mmcache}
for t in "$EXPORTER" "$REDIS" curl; do
    command -v "$t" >/dev/null || { echo "skipped: needs $t (scripts/install-deps.sh test)"; exit 77; }
done
[ -x "$BIN" ] || { echo "no server binary at $BIN (set MMCACHE_BIN)"; exit 1; }
if ldd "$BIN" 2>/dev/null | grep -Eq 'lib(a|t)san'; then
    echo "skipped: a sanitizer build (no jemalloc, so no allocator_* INFO fields)"
    exit 77
fi

fails=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmcache-exporter-XXXXXX")
EXPORTER_PID=
cleanup() {
    [ -n "$EXPORTER_PID" ] && kill "$EXPORTER_PID" 2>/dev/null && wait "$EXPORTER_PID" 2>/dev/null
    it_stop_all
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The same traffic for both: a key, one with a TTL, a list, a hit, a
# miss, an error reply.
traffic() { # PORT
    printf '%s\n' "set k v" "set e v ex 1000" "lpush l a" "get k" "get nokey" "incr k" |
        timeout 10 redis-cli -h 127.0.0.1 -p "$1" >/dev/null
}

# scrape NAME PORT: run the exporter against 127.0.0.1:PORT, keep its
# /metrics in $TMP/NAME.prom, its log in $TMP/NAME.log, the distinct
# metric names in $TMP/NAME.names.
scrape() {
    local name=$1 port=$2 web i
    web=$(it_free_port)
    "$EXPORTER" -redis.addr "redis://127.0.0.1:$port" -web.listen-address "127.0.0.1:$web" \
        -redis-only-metrics >"$TMP/$name.log" 2>&1 &
    EXPORTER_PID=$!
    : >"$TMP/$name.prom"
    for i in $(seq 100); do
        curl -s --max-time 10 "http://127.0.0.1:$web/metrics" >"$TMP/$name.prom" 2>/dev/null &&
            grep -q '^redis_up ' "$TMP/$name.prom" && break
        sleep 0.1
    done
    kill "$EXPORTER_PID" 2>/dev/null
    wait "$EXPORTER_PID" 2>/dev/null
    EXPORTER_PID=
    grep -v '^#' "$TMP/$name.prom" | sed 's/[{ ].*//' | sort -u >"$TMP/$name.names"
}

it_start redis "$REDIS" || exit 1
traffic "$IT_PORT"
scrape redis "$IT_PORT"
it_start mmcache "$BIN" || exit 1
MPORT=$IT_PORT
traffic "$MPORT"
scrape mmcache "$MPORT"

Y=$(wc -l <"$TMP/redis.names") X=$(wc -l <"$TMP/mmcache.names")
echo "# redis_exporter: $X metric names against mmcache, $Y against redis-server"
echo "# missing against mmcache: $(comm -23 "$TMP/redis.names" "$TMP/mmcache.names" | tr '\n' ' ')"
for s in redis mmcache; do
    grep -qx 'redis_up 1' "$TMP/$s.prom" && pass "redis_up 1 against $s" || fail "redis_up 1 against $s"
done
[ "$X" -ge "$MIN" ] && pass "$X names against mmcache >= $MIN" || fail "$X names against mmcache < $MIN"
[ "$Y" -ge "$MIN" ] && pass "$Y names against redis-server >= $MIN (the control)" ||
    fail "$Y names against redis-server < $MIN (the control)"

errors() { grep -E 'level=(error|fatal)' "$1"; }
if errors "$TMP/redis.log" >/dev/null; then
    fail "errors in the exporter's log against redis-server"; errors "$TMP/redis.log"
else
    pass "no error in the exporter's log against redis-server"
fi
: >"$TMP/errs"
while IFS= read -r line; do
    cmd=$(printf '%s\n' "$line" | sed -n 's/.*cmd \([A-Z]*\) .*unknown command.*/\1/p')
    if [ -n "$cmd" ] && [ -z "$(timeout 10 redis-cli -h 127.0.0.1 -p "$MPORT" command info "$cmd" | tr -d '\n')" ]; then
        echo "# not counted: mmcache has no $cmd yet: $line"
    else
        printf '%s\n' "$line" >>"$TMP/errs"
    fi
done < <(errors "$TMP/mmcache.log")
if [ -s "$TMP/errs" ]; then
    fail "errors in the exporter's log against mmcache"; cat "$TMP/errs"
else
    pass "no error in the exporter's log against mmcache"
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
