# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, DIFFERENTIAL*, NOTES: read by run-bug
# Bug 25 (mutable value in a context): a waiter frames its GET reply in the
# value buffer of the singleflight call, which every waiter of that load
# answers from, and then puts the value back. Alone it always finds the
# value intact; a waiter on the other worker that reads the buffer while it
# is framed sends the frame as the value. Many clients GET the same keys
# while they load (their waits split over 2 workers); each value is
# checked against what the synthetic origin gives for its key. The
# differential, one worker, must not surface: then it is no race.
# What bug 25's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(tsan)
SAN_SITES='server/loader/loader\.c'
# The differential (run-bug --differential): the same load on one worker thread: no two threads, no race.
DIFFERENTIAL="one worker"
DIFFERENTIAL_ARGS=(--threads 1)
SCENARIO_SECONDS=4
SERVER_ARGS=(--threads 2 --loader synthetic --loader-synthetic-latency-ms 20
             --loader-synthetic-value-size 200 --loader-threads 4)

. "$HERE/bugs/loader_lib.sh"

scenario() {
    bug_server || return 2
    loader_waiters --clients 20 --keys 10 --size 200 --duration "$(drive_seconds)" --stop-early
}
