# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 10 (loop variable captured): the worker start loop hands each new
# thread the address of its loop variable; a thread that reads it late
# runs another worker's loop, and some worker runs on no thread at all.
# The acceptor still hands it every Nth connection: those never get a reply.
# The scenario opens 16 connections (one PING each) and counts the silent
# ones; the watchdog names the worker whose loop never turns.
# What bug 10's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash hang nostop tsan)
SAN_SITES='server/net/'
SCENARIO_SECONDS=3
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server_bg || return 2
    # Not bug_server: its PINGs wait 2 s each on a worker that never answers.
    if ! srv_wait_ping 10; then
        srv_check_death && return 0      # observe_end: how it died
        observe hang "no connection got a reply to PING within 10 s of start"
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
    if [ "$silent" -gt 0 ] && srv_alive; then
        observe hang "$silent of $m connections got no reply to PING within 2 s"
    elif [ "$silent" -eq 0 ]; then
        note "all $m connections answered PING"
    fi
    wd=$(grep -m1 -oE "Worker [0-9]+ has made no progress for [0-9.]+ s" "$SRV_LOG")
    [ -n "$wd" ] && observe hang "watchdog: $wd"
    srv_alive || return 0
    for i in 1 2; do   # INFO on a connection a live worker got
        CLI_TIMEOUT=1 read_tried
        [ -n "$TRIED" ] && break
    done
    # How the stop went (a worker that never saw it: the stop guard's
    # line) is observe_end's, in bug_finish.
    srv_term_wait 10 || bug_stop 0
    return 0
}
