# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 10 (loop variable captured): the worker start loop hands each new
# thread the address of its loop variable; a thread that reads it late
# runs another worker's loop, and some worker runs on no thread at all.
# The acceptor still hands it every Nth connection: those never get a reply.
# The scenario opens 16 connections (one PING each) and counts the silent
# ones; the watchdog names the worker whose loop never turns.
# Its waits count server time, not wall time (lib.sh, "waits in server
# time"): on a loaded machine a correct server that got no CPU for 10 s
# was once called silent.
# What bug 10's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash hang nostop tsan)
SAN_SITES='server/net/'
SCENARIO_SECONDS=3
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server_bg || return 2
    # Not bug_server: its PINGs wait 2 s each on a worker that never answers.
    local m=16 wd rc silent
    srv_wait_ping 10
    rc=$?
    if [ "$rc" -ne 0 ]; then
        srv_check_death && return 0      # observe_end: how it died
        if [ "$rc" -eq 2 ]; then
            inconclusive "the server did not get to run: $(st_words) after start, no reply to PING yet (machine stalled)"
        else
            observe hang "no connection got a reply to PING in $(st_words) after start"
        fi
        return 0
    fi
    probe_pings "$m" 2
    rc=$?
    silent=$((PROBE_SILENT + PROBE_OTHER))
    # The watchdog speaks 2 s after a loop stopped turning (or never turned).
    sleep 0.5
    if [ "$rc" -eq 2 ]; then
        inconclusive "the server did not get to run: $PROBE_SILENT of $m connections had no reply to PING after $(st_words) (machine stalled)"
    elif [ "$silent" -gt 0 ] && srv_alive; then
        observe hang "$silent of $m connections got no reply to PING in $(st_words)$(
            [ "$PROBE_OTHER" -gt 0 ] && printf "; %d of them closed or answered otherwise (one %s)" "$PROBE_OTHER" "$PROBE_WHAT")"
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
