# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 1 (unsynchronised flag): at SIGTERM the acceptor waits, in a spin
# loop, until every worker says it has seen the stop; the bugged handshake
# polls a plain bool, whose load gcc -O2 hoists out of the loop, so the
# acceptor spins on the value it read first and the server never exits.
# The scenario: load running, SIGTERM; a correct stop takes milliseconds.
# A stop that cannot finish is ended 8 s after the signal by the stop
# guard, whose log line is the evidence: where the main thread was and
# whether each worker had set its flag (bug 1: all had, and the main
# thread still waited).
# What bug 1's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(nostop tsan)
SAN_SITES='server/net/worker\.c'
SCENARIO_SECONDS=2
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server || return 2
    # Clients connected and requests in flight when the signal comes.
    bug_load --check none --clients 20 --threads 2 --pipeline 4 \
        --duration $(( $(drive_seconds) + 3 )) --reply-timeout 3000 &
    local lp=$!
    sleep "$(drive_seconds)"
    # Bounded by the stop guard (8 s); a correct stop takes milliseconds.
    if srv_term_wait 10; then
        [ -z "$(stop_guard_line)" ] && [ "$SRV_STATUS" -eq 0 ] &&
            note "SIGTERM at ${TERM_AT} s under load: exited in ${TERM_MS} ms"
    else
        bug_stop 0
    fi
    # What the stop guard measured when the stop could not finish (which
    # workers had set their flags, where the main thread was): observe_end.
    wait "$lp" 2>/dev/null
    return 0
}
