# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, NOTES: read by run-bug
# Bug 25 (mutable value in a context): a waiter frames its GET reply in the
# value buffer of the singleflight call, which every waiter of that load
# answers from. Many clients GET the same keys while they load; each value
# is checked against what the synthetic origin gives for its key.
SCENARIO_SECONDS=4
SERVER_ARGS=(--threads 2 --loader synthetic --loader-synthetic-latency-ms 20
             --loader-synthetic-value-size 200 --loader-threads 4)

. "$HERE/bugs/loader_lib.sh"

scenario() {
    bug_server || return 2
    loader_waiters --clients 20 --keys 10 --size 200 --duration "$(drive_seconds)" --stop-early
}
