#!/usr/bin/env bash
# test_clients CLIENT: a real client library's transactions against the
# server (tests/integration/clients/): CLIENT redis-py (Debian's
# python3-redis: pipeline(transaction=True), WATCH retry loops) or node
# (ioredis from tests/integration/clients/node_modules: multi().exec(),
# WATCH). Exit 77 (Skipped) when the library is not installed
# (scripts/install-deps.sh test installs both).
#
# Server: $MMCACHE_BIN (--threads 2), or redis-server under
# MMCACHE_TEST_AGAINST=redis. Loopback only; stopped by PID.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
client=${1:?usage: test_clients.sh redis-py|node}

case $client in
    redis-py)
        "$IT_PYTHON" -c 'import redis' 2>/dev/null ||
            { echo "skip - redis-py (python3-redis) is not installed"; exit 77; }
        run=("$IT_PYTHON" "$HERE/clients/txn_redis_py.py") ;;
    node)
        command -v node >/dev/null && [ -d "$HERE/clients/node_modules/ioredis" ] ||
            { echo "skip - node or ioredis (tests/integration/clients) is not installed"; exit 77; }
        run=(node "$HERE/clients/txn_ioredis.js") ;;
    *) echo "unknown client $client" >&2; exit 2 ;;
esac

trap it_stop_all EXIT
trap 'exit 130' INT TERM
if [ "${MMCACHE_TEST_AGAINST:-}" = redis ]; then
    it_start redis "${REDIS_SERVER_BIN:-redis-server}" || exit 1
else
    BIN=${MMCACHE_BIN:-$ROOT/build/mmcache}
    it_start mmcache "$BIN" --threads 2 || exit 1
fi
timeout 120 "${run[@]}" "$IT_PORT"
rc=$?
it_stop "$IT_PID"
[ "$IT_STATUS" -eq 0 ] || { echo "FAIL - server exit status $IT_STATUS after SIGTERM"; exit 1; }
exit $rc
