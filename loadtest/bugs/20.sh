# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 20 (returning while a goroutine writes): the loader completes the
# singleflight call, handing every waiter to its worker, before the value
# is copied into the call's buffer. Many clients GET the same keys while
# they load (large values: a longer copy); each value is checked against
# what the synthetic origin gives for its key.
# What bug 20's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(tsan asan)
SAN_SITES='cache/singleflight\.c'
SCENARIO_SECONDS=4
SERVER_ARGS=(--threads 2 --loader synthetic --loader-synthetic-latency-ms 5
             --loader-synthetic-value-size 65536 --loader-threads 4)

. "$HERE/bugs/loader_lib.sh"

scenario() {
    bug_server || return 2
    loader_waiters --clients 16 --keys 8 --size 65536 --duration "$(drive_seconds)" --stop-early
}
