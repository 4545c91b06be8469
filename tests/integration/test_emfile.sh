#!/usr/bin/env bash
# test_emfile: run the server with a small descriptor limit and open more
# connections than it can hold. It must turn the extra clients away with
# Redis's error (not leave them hanging), must not spin on the listener
# that stays readable while accept() fails with EMFILE, and must serve
# again once clients leave. mmcache only: Redis caps maxclients by the fd
# limit at start-up instead.
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
IT_PREFIX=(prlimit --nofile=48:48)
it_start mmcache "$BIN" --threads 2 || exit 1

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

for fd in "${fds[@]}"; do exec {fd}>&-; done
sleep 0.3
check "serves again once clients left" '[ "$(redis-cli -p "$IT_PORT" ping)" = PONG ]'

it_stop "$IT_PID"
check "exit 0 on SIGTERM (status $IT_STATUS)" '[ "$IT_STATUS" -eq 0 ]'
if [ $fails -ne 0 ]; then
    echo "----- server log $IT_LOG -----"
    tail -n 40 "$IT_LOG"
fi
echo "test_emfile: $((5 - fails)) passed, $fails failed"
[ $fails -eq 0 ]
