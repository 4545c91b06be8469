# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 5 (WaitGroup.Add inside goroutine): a load counts itself in the
# pool's pending count when a loader thread starts it, not when a worker
# queues it. Slow loads of many distinct keys (more than the loader
# threads can run at once) are in flight when SIGTERM arrives: shutdown's
# drain sees only the running ones, stops the threads, and the queued
# loads are never run (their singleflight calls never complete, their
# memory leaks; a debug build's sf_destroy asserts).
# What bug 5's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash tsan asan leak)
SAN_SITES='server/loader/|cache/singleflight\.c'
SCENARIO_SECONDS=4
SERVER_ARGS=(--threads 2 --loader synthetic --loader-synthetic-latency-ms 200
             --loader-threads 1 --loader-timeout-ms 5000)

. "$HERE/bugs/loader_lib.sh"

scenario() {
    local round lost
    for (( round = 1; round <= 3; round++ )); do
        bug_server || return 2
        loader_drive fire --clients 10 --keys 10 --duration 0.3 --tag "r$round"
        read_tried
        bug_stop 10
        observe_end "round $round, SIGTERM with loads in flight"
        lost=$(sed -n 's/.*Loader: \([0-9]*\) loads were still queued.*/\1/p' "$SRV_LOG" | tail -1)
        [ -n "$lost" ] && surfaced "SIGTERM with $(drive_field sent) loads queued: $lost were never run (server log: \"$lost loads were still queued when the loader threads stopped\")"
        is_surfaced && return 0
        note "round $round: SIGTERM with $(drive_field sent) loads queued, all run"
        [ "$(remaining)" -gt 8 ] || break
    done
}
