#!/usr/bin/env bash
# The bug lab's waits in server time (loadtest/bugs/lib.sh): a liveness
# bound counts only time in which the server ran, so a server that the
# machine stops or starves is not called silent. Bug 10's scenario once
# said "no connection got a reply to PING within 10 s of start" of the
# correct server on a loaded box; SIGSTOP stands in for the load here.
#   1. the correct server stopped for 2 s while PINGs wait with a 1 s
#      bound (srv_wait_ping, probe_pings): answered once it runs, none silent;
#   2. stopped for longer than a wait's wall cap: INCONCLUSIVE (2), not silent;
#   3. a listener that runs but never answers: silent (1) within its bound
#      of server time, so a real hang still ends the wait with a verdict;
#   4. a reply that comes in two pieces is one reply, not "other".
# Env: MMCACHE_BIN (default build/mmcache).
set -u
if [ "${MMCACHE_TEST_AGAINST:-}" = redis ]; then
    echo "skipped against redis-server: mmcache's own, not Redis's: the bug lab"
    exit 77
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck disable=SC2034  # BIN .. TIME_LIMIT, SERVER_ARGS: read by loadtest/bugs/lib.sh
BIN=${MMCACHE_BIN:-$ROOT/build/mmcache} MODE=correct BUG=10 AMPLIFY=yes TIME_LIMIT=60
# shellcheck source=lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=../../loadtest/bugs/lib.sh
. "$ROOT/loadtest/bugs/lib.sh"
fail=0
ok() { echo "PASS  $*"; }
bad() { echo "FAIL  $*"; fail=1; }
FAKE_PID=""
cleanup() {
    [ -n "$SRV_PID" ] && kill -CONT "$SRV_PID" 2>/dev/null
    it_stop_all
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
    it_remove_logs
}
trap cleanup EXIT

# stop_for S: SIGSTOP the server now, SIGCONT it S seconds later (the
# subshell STOPPER; not a bare wait: the server is this shell's child too).
stop_for() {
    kill -STOP "$SRV_PID"
    ( sleep "$1"; kill -CONT "$SRV_PID" ) &
    STOPPER=$!
}

# shellcheck disable=SC2034  # read by bug_server
SERVER_ARGS=(--threads 2)
bug_sanitizers
bug_server || { echo "FAIL  the server did not start"; exit 1; }

stop_for 2
srv_wait_ping 1 8
rc=$?
wait "$STOPPER"
if [ "$rc" -eq 0 ] && [ "$ST_WALL_MS" -ge 1500 ]; then
    ok "srv_wait_ping: stopped 2 s, bound 1 s: PONG after $(st_words)"
else
    bad "srv_wait_ping: stopped 2 s, bound 1 s: rc $rc after $(st_words)"
fi

stop_for 2
probe_pings 4 1 8
rc=$?
wait "$STOPPER"
if [ "$rc" -eq 0 ] && [ "$PROBE_SILENT" -eq 0 ] && [ "$PROBE_OTHER" -eq 0 ] &&
   [ "$ST_WALL_MS" -ge 1500 ]; then
    ok "probe_pings: stopped 2 s, bound 1 s: 4 of 4 answered after $(st_words)"
else
    bad "probe_pings: stopped 2 s, bound 1 s: rc $rc, $PROBE_SILENT silent, $PROBE_OTHER other, $(st_words)"
fi

stop_for 3
probe_pings 2 1 2
rc=$?
wait "$STOPPER"
if [ "$rc" -eq 2 ]; then
    ok "probe_pings: stopped past its 2 s wall cap: inconclusive ($(st_words))"
else
    bad "probe_pings: stopped past its 2 s wall cap: rc $rc, $PROBE_SILENT silent ($(st_words))"
fi
it_stop "$SRV_PID" 10

# fake_server silent|split: a listener that runs (it polls every 20 ms)
# and never answers, or answers PONG in two pieces 0.3 s apart (a read
# cut mid-reply must keep its first piece). Sets SRV_PID, SRV_PORT.
fake_server() {
    local portfile i
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
    portfile=$(mktemp "${TMPDIR:-/tmp}/bug-lab-wait-XXXXXX")
    IT_LOGS+=("$portfile")
    "$IT_PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
s.setblocking(False)
print(s.getsockname()[1], flush=True)
held = []
end = time.time() + 30
while time.time() < end:
    try:
        c = s.accept()[0]
        held.append(c)
        if sys.argv[1] == "split":
            c.setblocking(True)
            c.recv(64)
            c.send(b"+PO")
            time.sleep(0.3)
            c.send(b"NG\r\n")
    except BlockingIOError:
        pass
    time.sleep(0.02)
' "$1" >"$portfile" &
    FAKE_PID=$! SRV_PID=$! SRV_PORT=""
    for (( i = 0; i < 100; i++ )); do
        read -r SRV_PORT <"$portfile" && [ -n "$SRV_PORT" ] && break
        sleep 0.1
    done
}

fake_server silent
srv_wait_ping 1 8
rc=$?
if [ "$rc" -eq 1 ] && [ "$ST_MS" -ge 1000 ]; then
    ok "srv_wait_ping: a listener that never answers: silent after $(st_words)"
else
    bad "srv_wait_ping: a listener that never answers: rc $rc after $(st_words)"
fi
probe_pings 4 1 8
rc=$?
if [ "$rc" -eq 0 ] && [ "$PROBE_SILENT" -eq 4 ]; then
    ok "probe_pings: a listener that never answers: 4 of 4 silent after $(st_words)"
else
    bad "probe_pings: a listener that never answers: rc $rc, $PROBE_SILENT silent ($(st_words))"
fi
fake_server split
probe_pings 2 2 8
rc=$?
if [ "$rc" -eq 0 ] && [ "$PROBE_SILENT" -eq 0 ] && [ "$PROBE_OTHER" -eq 0 ]; then
    ok "probe_pings: PONG in two pieces: 2 of 2 answered"
else
    bad "probe_pings: PONG in two pieces: rc $rc, $PROBE_SILENT silent, $PROBE_OTHER other"
fi
SRV_PID=""
exit $fail
