# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, NOTES: read by run-bug
# Bug 12 (atomic write, non-atomic read): at start-up the main thread waits
# in a spin loop until every worker thread has counted itself (an atomic
# increment); the bugged wait reads the counter through a plain pointer
# cast, gcc -O2 hoists that load out of the loop, and main spins forever on
# the count it read first: the server never starts its acceptor. The
# listening socket is open, so clients connect, but nobody answers.
# The scenario: start the server, it must answer PING within 4 s.
SCENARIO_SECONDS=4
SERVER_ARGS=(--threads 4)

scenario() {
    bug_server_bg || return 2
    local cpu ready=""
    if srv_wait_ping "$(drive_seconds)"; then
        note "answered PING $PING_MS ms after start"
        read_tried
        return 0
    fi
    if srv_check_death; then
        surfaced "server died of $SRV_DIED during start-up"
        return 0
    fi
    cpu=$(thread_cpu_share "$SRV_PID" 1)
    grep -q "Ready to accept connections" "$SRV_LOG" || ready=" (the log never says Ready to accept connections)"
    surfaced "no reply to PING $(drive_seconds) s after start: start-up never completed$ready, the main thread busy-waits in the start latch (thread state $(awk '{ print $3 }' "/proc/$SRV_PID/task/$SRV_PID/stat" 2>/dev/null), ${cpu}% of a CPU while it yields)"
    bug_stop 0
    return 0
}
