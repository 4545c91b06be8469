# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, NOTES: read by run-bug
# Bug 1 (unsynchronised flag): at SIGTERM the acceptor waits, in a spin
# loop, until every worker says it has seen the stop; the bugged handshake
# polls a plain bool, whose load gcc -O2 hoists out of the loop, so the
# acceptor spins on the value it read first and the server never exits.
# The scenario: load running, SIGTERM, the server must be gone within 4 s.
SCENARIO_SECONDS=2
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server || return 2
    # Clients connected and requests in flight when the signal comes.
    bug_load --check none --clients 20 --threads 2 --pipeline 4 \
        --duration $(( $(drive_seconds) + 3 )) --reply-timeout 3000 &
    local lp=$! cpu
    sleep "$(drive_seconds)"
    if srv_term_wait 4; then
        if [ "$SRV_STATUS" -gt 128 ]; then
            surfaced "SIGTERM at ${TERM_AT} s under load: died of $(sig_name $((SRV_STATUS - 128)))"
        elif [ "$SRV_STATUS" -ne 0 ]; then
            surfaced "SIGTERM at ${TERM_AT} s under load: exited with status $SRV_STATUS"
        else
            note "SIGTERM at ${TERM_AT} s under load: exited in ${TERM_MS} ms"
        fi
    else
        cpu=$(thread_cpu_share "$SRV_PID" 1)
        surfaced "SIGTERM at ${TERM_AT} s under load, still running 5 s later: the main thread busy-waits in the stop handshake (thread state $(awk '{ print $3 }' "/proc/$SRV_PID/task/$SRV_PID/stat" 2>/dev/null), ${cpu}% of a CPU while it yields), the workers' stop flags never seen"
        bug_stop 0
    fi
    wait "$lp" 2>/dev/null
    return 0
}
