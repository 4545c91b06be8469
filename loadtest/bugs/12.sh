# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 12 (atomic write, non-atomic read): at start-up the main thread waits
# in a spin loop until every worker thread has counted itself (an atomic
# increment); the bugged wait reads the counter through a plain pointer
# cast, gcc -O2 hoists that load out of the loop, and main spins forever on
# the count it read first: the server never starts its acceptor. The
# listening socket is open, so clients connect, but nobody answers.
# The scenario: start the server, it must answer PING within 4 s of server
# time (lib.sh, "waits in server time"); if it does not, SIGTERM, and the
# stop guard's log line says what it measured (where the main thread was,
# its CPU share, how many workers had counted themselves in the latch).
# What bug 12's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(hang tsan)
SAN_SITES='server/net/worker\.c'
SCENARIO_SECONDS=4
SERVER_ARGS=(--threads 4)

scenario() {
    bug_server_bg || return 2
    local ready="" guard rc
    srv_wait_ping "$(drive_seconds)"   # in server time (lib.sh)
    rc=$?
    if [ "$rc" -eq 0 ]; then
        note "answered PING $PING_MS ms after start"
        read_tried
        return 0
    fi
    srv_check_death && return 0      # observe_end reports how it died
    if [ "$rc" -eq 2 ]; then
        inconclusive "the server did not get to run: $(st_words) after start, no reply to PING yet (machine stalled)"
        return 0
    fi
    grep -q "Ready to accept connections" "$SRV_LOG" || ready=", the log never says Ready to accept connections"
    # SIGTERM before the acceptor runs: the stop guard measures where the
    # main thread is and how many workers counted themselves, then exits.
    srv_term_wait 10 || bug_stop 10
    guard=$(grep -m1 -o 'Received SIGTERM during start-up: .*' "$SRV_LOG" |
            sed -e 's/^Received SIGTERM during start-up: //' -e 's/\. Exiting now$//')
    observe hang "no reply to PING in $(st_words) after start$ready${guard:+; at SIGTERM $guard}"
    return 0
}
