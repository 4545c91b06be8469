# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, NOTES: read by run-bug
# Bug 10 (loop variable captured): the worker start loop hands each new
# thread the address of its loop variable; a thread that reads it late
# runs another worker's loop, and some worker runs on no thread at all.
# The acceptor still hands it every Nth connection: those never get a reply.
# The scenario opens 16 connections (one PING each) and counts the silent
# ones; the watchdog names the worker whose loop never turns.
SCENARIO_SECONDS=3
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server_bg || return 2
    # Not bug_server: its PINGs wait 2 s each on a worker that never answers.
    if ! srv_wait_ping 10; then
        srv_check_death && { surfaced "server died of $SRV_DIED during start-up"; return 0; }
        surfaced "no connection got a reply to PING within 10 s of start"
        bug_stop 0
        return 0
    fi
    local m=16 i silent=0 wd pids=()
    for (( i = 1; i <= m; i++ )); do
        ( CLI_TIMEOUT=2 cli ping >"$WORK/ping.$i" 2>&1 ) &
        pids+=($!)
    done
    wait "${pids[@]}"   # not a bare wait: the server is our child too
    for (( i = 1; i <= m; i++ )); do
        [ "$(tr -d '\r\n' <"$WORK/ping.$i")" = PONG ] || silent=$((silent + 1))
    done
    # The watchdog speaks 2 s after a loop stopped turning (or never turned).
    sleep 0.5
    if srv_check_death; then
        surfaced "server died of $SRV_DIED after $(elapsed_s) s"
    fi
    if [ "$silent" -gt 0 ]; then
        surfaced "$silent of $m connections got no reply to PING within 2 s"
    else
        note "all $m connections answered PING"
    fi
    wd=$(grep -m1 -oE "Worker [0-9]+ has made no progress for [0-9.]+ s" "$SRV_LOG")
    [ -n "$wd" ] && surfaced "watchdog: $wd"
    srv_alive || return 0
    for i in 1 2; do   # INFO on a connection a live worker got
        CLI_TIMEOUT=1 read_tried
        [ -n "$TRIED" ] && break
    done
    if ! srv_term_wait 4; then
        surfaced "SIGTERM at ${TERM_AT} s: still running 4 s later (a worker never saw the stop)"
        bug_stop 0
    elif [ "$SRV_STATUS" -gt 128 ]; then
        surfaced "died of $(sig_name $((SRV_STATUS - 128))) on SIGTERM"
    elif [ "$SRV_STATUS" -ne 0 ]; then
        surfaced "exited with status $SRV_STATUS on SIGTERM"
    fi
    return 0
}
