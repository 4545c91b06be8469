#!/usr/bin/env bash
# test_emfile: the descriptor limit. At start the server fits maxclients
# to RLIMIT_NOFILE as Redis does (raising the soft limit, else lowering
# maxclients, with Redis's log lines); CONFIG SET cannot go past it. Then,
# with the running server's soft limit cut further (prlimit --pid) so that
# accept() fails with EMFILE, it must turn the extra clients away with
# Redis's error (not leave them hanging), not spin on the listener that
# stays readable, log those errors at most once a second (501 refused
# connections once wrote 1790 lines), and serve again once clients leave.
# mmcache only: Redis has no EMFILE path (and no prlimit-cut soft limit
# mid-run to meet one).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

if [ "${MMCACHE_TEST_AGAINST:-}" = redis ]; then
    echo "skipped against redis-server: mmcache's own, not Redis's: the EMFILE path"
    exit 77
fi
BIN=${MMCACHE_BIN:-$ROOT/build/mmcache}
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

trap 'it_stop_all' EXIT
# 64 descriptors: the server keeps 32 + 5 per worker + 1 per loader thread
# (50 with 2 workers and 8 loader threads) and fits maxclients in the rest.
IT_PREFIX=(prlimit --nofile=64:64)
it_start mmcache "$BIN" --threads 2 --loader-threads 8 || exit 1
check "maxclients lowered to fit the limit, with Redis's log line" \
      'grep -q "Current maximum open files is 64. maxclients has been reduced to 14 to compensate for low ulimit" "$IT_LOG"'
check "CONFIG GET maxclients says 14" '[ "$(redis-cli -p "$IT_PORT" config get maxclients | tail -1)" = 14 ]'
check "CONFIG SET maxclients past the limit is refused" \
      '[ "$(redis-cli -p "$IT_PORT" config set maxclients 15)" = "ERR CONFIG SET failed (possibly related to argument '"'"'maxclients'"'"') - The operating system is not able to handle the specified number of clients, try with 14" ]'

# Now fewer descriptors than maxclients needs: accept() meets EMFILE.
prlimit --pid "$IT_PID" --nofile=32:64
fds=()
for _ in $(seq 80); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$IT_PORT" && fds+=("$fd")
done
check "opened 80 connections" '[ ${#fds[@]} -eq 80 ]'

# The last connections cannot have been given a descriptor: each must be
# told so and closed, within a bound.
rejected=0
for fd in "${fds[@]:60}"; do
    if IFS= read -r -t 1 line <&"$fd" && [ "$line" = $'-ERR max number of clients reached\r' ]; then
        rejected=$((rejected + 1))
    fi
done
check "the 20 connections beyond the limit were rejected with the Redis error ($rejected)" \
      '[ $rejected -eq 20 ]'

t0=$(cpu_ticks "$IT_PID"); sleep 2; t1=$(cpu_ticks "$IT_PID")
check "no busy loop while out of descriptors ($((t1 - t0)) ticks in 2 s)" '[ $((t1 - t0)) -lt 20 ]'
lines=$(grep -c "Error accepting" "$IT_LOG")
check "accept errors logged at most once a second ($lines lines for ~70 refusals)" \
      '[ "$lines" -ge 1 ] && [ "$lines" -le 5 ]'

for fd in "${fds[@]}"; do exec {fd}>&-; done
sleep 0.3
check "serves again once clients left" '[ "$(redis-cli -p "$IT_PORT" ping)" = PONG ]'
check "a later accept error says how many were held back" \
      'exec {fd2}<>"/dev/tcp/127.0.0.1/$IT_PORT"; sleep 1.2; for _ in $(seq 40); do exec {fd3}<>"/dev/tcp/127.0.0.1/$IT_PORT"; done; sleep 0.3; grep -q "more like it in the last" "$IT_LOG"'

it_stop "$IT_PID"
check "exit 0 on SIGTERM (status $IT_STATUS)" '[ "$IT_STATUS" -eq 0 ]'
if [ $fails -ne 0 ]; then
    echo "----- server log $IT_LOG -----"
    tail -n 40 "$IT_LOG"
fi
echo "test_emfile: $((10 - fails)) passed, $fails failed"
[ $fails -eq 0 ]
