#!/usr/bin/env bash
# test_metrics: the Prometheus endpoint (metrics-port, server/metrics/).
# A real HTTP client (curl) scrapes GET /metrics: the families the issue
# names are there with HELP and TYPE lines, promtool (Debian's prometheus
# package) accepts the text when installed, and counters follow traffic
# (hits, misses, per-command calls, config generation, the bug lab), and
# the lock-wait profile's top shards are INFO's.
# Then the attacker's requests: other paths 404, other methods 405,
# garbage 400, an oversized head 431, a head sent forever is cut at the
# deadline, connections over the cap are shed; Redis clients are served
# throughout. Last, SIGHUP with a changed metrics-port keeps the running
# one ("restart to apply").
#
# Server: $MMCACHE_BIN (default build/mmcache). mmcache only: Redis has
# no metrics endpoint (skipped under MMCACHE_TEST_AGAINST=redis).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

if [ "${MMCACHE_TEST_AGAINST:-}" = redis ]; then
    echo "skipped against redis-server: mmcache's own endpoint"
    exit 77
fi
command -v curl >/dev/null || { echo "skipped: needs curl (scripts/install-deps.sh test)"; exit 77; }
BIN=${MMCACHE_BIN:-$ROOT/build/mmcache}
[ -x "$BIN" ] || { echo "no server binary at $BIN (set MMCACHE_BIN)"; exit 1; }
it_sanitizers "$BIN"

fails=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
expect_eq() { # NAME GOT WANT
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; printf '  want: %q\n  got:  %q\n' "$3" "$2"; fi
}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmcache-metrics-XXXXXX")
cleanup() { it_stop_all; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

MPORT=$(it_free_port)
it_start mmcache "$BIN" --metrics-port "$MPORT" --threads 2 || exit 1
PORT=$IT_PORT
cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }
scrape() { curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics"; }
# value NAME_WITH_LABELS: the sample's value in a fresh scrape
value() { scrape | awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print "none" }'; }

# ---- the text ---------------------------------------------------------------
cli set k v >/dev/null
cli get k >/dev/null
scrape >"$TMP/m1" || fail "scrape"
for fam in mmcache_commands_total:counter mmcache_command_duration_seconds:histogram \
           mmcache_keyspace_hits_total:counter mmcache_keyspace_misses_total:counter \
           mmcache_memory_used_bytes:gauge mmcache_memory_max_bytes:gauge \
           mmcache_evicted_keys_total:counter mmcache_expired_keys_total:counter \
           mmcache_connected_clients:gauge mmcache_config_generation:gauge \
           mmcache_config_reload_failures_total:counter mmcache_loader_origin_calls_total:counter \
           mmcache_loader_singleflight_joins_total:counter mmcache_shard_lock_waits_total:counter \
           mmcache_shard_lock_top_waits_total:counter mmcache_shard_lock_top_wait_seconds_total:counter \
           mmcache_bug_injected:gauge mmcache_bug_tried_total:counter \
           mmcache_loader_origin_duration_seconds:histogram; do
    name=${fam%%:*} type=${fam##*:}
    if grep -qx "# HELP $name .*" "$TMP/m1" && grep -qx "# TYPE $name $type" "$TMP/m1"; then
        pass "HELP and TYPE $type of $name"
    else
        fail "HELP and TYPE $type of $name"
    fi
done
# every family's HELP is followed by its TYPE, every sample follows its TYPE
awk '/^# HELP /{h=$3; next} /^# TYPE /{if ($3 != h) bad=1; t=$3; next}
     {n=$1; sub(/\{.*/, "", n); if (n != t && n != t "_bucket" && n != t "_sum" && n != t "_count") bad=1}
     END {exit bad}' "$TMP/m1" && pass "every sample under its family's HELP and TYPE" ||
    fail "every sample under its family's HELP and TYPE"
if command -v promtool >/dev/null; then
    if promtool check metrics <"$TMP/m1" >"$TMP/promtool" 2>&1; then
        pass "promtool check metrics"
    else
        fail "promtool check metrics"; cat "$TMP/promtool"
    fi
else
    echo "skip - promtool check metrics (no promtool: apt-get install prometheus)"
fi

# The lock-wait profile: one sample per shard of INFO's shard_lock_wait_top
# lines (5: the server has more shards), same shards, same waits.
want=$(cli info stats | tr -d '\r' |
    sed -n 's/^shard_lock_wait_top:shard=\([0-9]*\),waits=\([0-9]*\),.*/\1 \2/p' | sort)
got=$(scrape | sed -n 's/^mmcache_shard_lock_top_waits_total{shard="\([0-9]*\)"} \([0-9]*\)$/\1 \2/p' | sort)
expect_eq "shard_lock_top_waits_total: INFO's top shards" "$got" "$want"
expect_eq "shard_lock_top_waits_total: 5 shards" "$(printf '%s\n' "$got" | grep -c .)" 5
expect_eq "shard_lock_top_wait_seconds_total: 5 shards" \
    "$(scrape | grep -c '^mmcache_shard_lock_top_wait_seconds_total{shard="[0-9]*"} [0-9.]*$')" 5

# ---- counters follow traffic -----------------------------------------------
h0=$(value mmcache_keyspace_hits_total) m0=$(value mmcache_keyspace_misses_total)
g0=$(value 'mmcache_commands_total{cmd="get"}') c0=$(value mmcache_command_duration_seconds_count)
for _ in 1 2 3 4 5; do cli get k >/dev/null; done
cli get nokey >/dev/null
expect_eq "5 GETs of a key: hits +5" "$(( $(value mmcache_keyspace_hits_total) - h0 ))" 5
expect_eq "1 GET of no key: misses +1" "$(( $(value mmcache_keyspace_misses_total) - m0 ))" 1
expect_eq "commands_total{cmd=get} +6" "$(( $(value 'mmcache_commands_total{cmd="get"}') - g0 ))" 6
c1=$(value mmcache_command_duration_seconds_count)
[ "$((c1 - c0))" -ge 6 ] && pass "command_duration_seconds_count +6 or more" ||
    fail "command_duration_seconds_count +6 or more ($c0 -> $c1)"
inf=$(value 'mmcache_command_duration_seconds_bucket{le="+Inf"}')
[ "$inf" -ge "$c1" ] && pass "+Inf bucket counts every command" || fail "+Inf bucket $inf < count $c1"
gen0=$(value mmcache_config_generation)
cli config set maxmemory 100mb >/dev/null
expect_eq "CONFIG SET: config_generation +1" "$(( $(value mmcache_config_generation) - gen0 ))" 1
expect_eq "memory_max_bytes follows maxmemory" "$(value mmcache_memory_max_bytes)" 104857600
cli config set inject-bug 21 >/dev/null
for _ in 1 2 3; do cli info server >/dev/null; done
expect_eq "bug 21 selected" "$(value 'mmcache_bug_injected{bug="21"}')" 1
t=$(value 'mmcache_bug_tried_total{bug="21"}')
[ "$t" != none ] && [ "$t" -gt 0 ] && pass "bug 21's tried count moved ($t)" || fail "bug 21 tried: $t"
cli config set inject-bug none >/dev/null
expect_eq "no bug selected" "$(value 'mmcache_bug_injected{bug="21"}')" 0

# ---- HTTP answers ------------------------------------------------------------
code() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@"; }
expect_eq "GET /metrics?x=1: 200" "$(code "http://127.0.0.1:$MPORT/metrics?x=1")" 200
expect_eq "HEAD /metrics: 200" "$(code -I "http://127.0.0.1:$MPORT/metrics")" 200
expect_eq "GET /: 404" "$(code "http://127.0.0.1:$MPORT/")" 404
expect_eq "GET /metricsx: 404" "$(code "http://127.0.0.1:$MPORT/metricsx")" 404
expect_eq "GET of a long path: 404" "$(code "http://127.0.0.1:$MPORT/$(printf 'a%.0s' $(seq 300))")" 404
expect_eq "POST /metrics: 405" "$(code -X POST -d x "http://127.0.0.1:$MPORT/metrics")" 405
big=$(head -c 20000 /dev/zero | tr '\0' a)
expect_eq "POST of 20000 bytes: 405, not 431" "$(code -X POST -d "$big" "http://127.0.0.1:$MPORT/metrics")" 405
expect_eq "DELETE /metrics: 405" "$(code -X DELETE "http://127.0.0.1:$MPORT/metrics")" 405
big=$(head -c 9000 /dev/zero | tr '\0' a)
expect_eq "a 9000-byte header: 431" "$(code -H "X-Big: $big" "http://127.0.0.1:$MPORT/metrics")" 431
# raw REQUEST-BYTES -> the status line of the reply ("" when closed without one)
raw() {
    local fd line=
    exec {fd}<>"/dev/tcp/127.0.0.1/$MPORT" || return 1
    printf '%b' "$1" >&"$fd" 2>/dev/null
    IFS= read -r -t 10 line <&"$fd"
    exec {fd}>&-
    printf '%s' "${line%$'\r'}"
}
expect_eq "garbage: 400" "$(raw 'garbage\r\n\r\n')" "HTTP/1.1 400 Bad Request"
expect_eq "binary: 400" "$(raw '\x00\x01\x02\xff\r\n\r\n')" "HTTP/1.1 400 Bad Request"
expect_eq "a RESP command: 400" "$(raw '*1\r\n$4\r\nPING\r\n')" "HTTP/1.1 400 Bad Request"
expect_eq "bad version: 400" "$(raw 'GET /metrics HTTP/9x\r\n\r\n')" "HTTP/1.1 400 Bad Request"
expect_eq "HTTP/1.0 GET: 200" "$(raw 'GET /metrics HTTP/1.0\r\n\r\n')" "HTTP/1.1 200 OK"
expect_eq "Redis clients served after them" "$(cli get k)" v

# A head that never ends: cut at the deadline (5 s), not held open.
exec {slow}<>"/dev/tcp/127.0.0.1/$MPORT"
printf 'GET /metrics HTTP/1.1\r\nX-Slow: ' >&"$slow"
start=$(date +%s)
IFS= read -r -t 30 _ <&"$slow"
st=$? took=$(( $(date +%s) - start ))
exec {slow}>&-
[ "$st" -le 128 ] && [ "$took" -ge 3 ] && pass "an endless head is closed at the deadline (${took}s)" ||
    fail "an endless head: read status $st after ${took}s"

# The connection cap: 16 open connections, the 17th is closed at once.
fds=()
for _ in $(seq 16); do
    exec {f}<>"/dev/tcp/127.0.0.1/$MPORT" && fds+=("$f")
done
printf 'GET /metrics HTTP/1.1\r\n' >&"${fds[0]}"
expect_eq "a 17th connection gets no reply" "$(code "http://127.0.0.1:$MPORT/metrics")" 000
expect_eq "Redis clients served while the cap holds" "$(cli ping)" PONG
for f in "${fds[@]}"; do exec {f}>&-; done
ok=000
for _ in $(seq 50); do ok=$(code "http://127.0.0.1:$MPORT/metrics"); [ "$ok" = 200 ] && break; sleep 0.1; done
expect_eq "served again once they closed" "$ok" 200

# ---- SIGHUP: metrics-port is a restart setting -------------------------------
# (first a stop with an HTTP connection open: it is closed, the stop ends)
exec {open}<>"/dev/tcp/127.0.0.1/$MPORT"
printf 'GET /metrics HTTP/1.1\r\n' >&"$open"
it_stop "$IT_PID"
exec {open}>&-
expect_eq "exit status after SIGTERM with an HTTP connection open" "$IT_STATUS" 0
M2=$(it_free_port)
printf 'metrics-port %s\n' "$MPORT" >"$TMP/m.conf"
# the config file must be the first argument, before lib.sh's --port
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$BIN" "$TMP/m.conf" >"$TMP/with-conf"
chmod +x "$TMP/with-conf"
it_start mmcache "$TMP/with-conf" || exit 1
PORT=$IT_PORT
expect_eq "metrics-port from the config file" "$(code "http://127.0.0.1:$MPORT/metrics")" 200
printf 'metrics-port %s\n' "$M2" >"$TMP/m.conf"
kill -HUP "$IT_PID"
for _ in $(seq 100); do grep -q "metrics-port: the new config says" "$IT_LOG" && break; sleep 0.1; done
grep -q "keeping $MPORT (restart to apply)" "$IT_LOG" && pass "SIGHUP: the log says restart to apply" ||
    { fail "SIGHUP: the log says restart to apply"; tail -5 "$IT_LOG"; }
expect_eq "SIGHUP: the old port still serves" "$(code "http://127.0.0.1:$MPORT/metrics")" 200
expect_eq "SIGHUP: the new port is not opened" "$(code "http://127.0.0.1:$M2/metrics")" 000
expect_eq "CONFIG SET metrics-port refused" "$(cli config set metrics-port "$M2" | head -c 37)" \
    "ERR CONFIG SET failed (possibly relat"
it_stop "$IT_PID"
expect_eq "exit status after SIGTERM" "$IT_STATUS" 0

[ "$fails" -eq 0 ] && it_remove_logs
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
