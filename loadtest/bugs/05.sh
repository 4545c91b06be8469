# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, NOTES: read by run-bug
# Bug 5 (WaitGroup.Add inside goroutine): a load counts itself in the
# pool's pending count when a loader thread starts it, not when a worker
# queues it. Slow loads of many distinct keys (more than the loader
# threads can run at once) are in flight when SIGTERM arrives: shutdown's
# drain sees only the running ones, stops the threads, and the queued
# loads are never run (their singleflight calls never complete, their
# memory leaks; a debug build's sf_destroy asserts).
SCENARIO_SECONDS=4
SERVER_ARGS=(--threads 2 --loader synthetic --loader-synthetic-latency-ms 200
             --loader-threads 1 --loader-timeout-ms 5000)

. "$HERE/bugs/loader_lib.sh"

scenario() {
    local round lost
    for (( round = 1; round <= 3; round++ )); do
        bug_server || return 2
        loader_drive fire --clients 10 --keys 10 --duration 0.3 --tag "r$round"
        bug_stop 10
        case $SRV_STOPPED in
        killed) surfaced "server did not stop within 10 s of SIGTERM (round $round)"; return 0 ;;
        esac
        if [ "$SRV_STATUS" -gt 128 ]; then
            surfaced "server died of $(sig_name $((SRV_STATUS - 128))) while stopping with loads in flight (round $round)"
        elif [ "$SRV_STATUS" -ne 0 ]; then
            surfaced "server exited with status $SRV_STATUS on SIGTERM with loads in flight (round $round)"
        fi
        lost=$(sed -n 's/.*Loader: \([0-9]*\) loads were still queued.*/\1/p' "$SRV_LOG" | tail -1)
        [ -n "$lost" ] && surfaced "SIGTERM with $(drive_field sent) loads queued: $lost were never run (server log: \"$lost loads were still queued when the loader threads stopped\")"
        is_surfaced && return 0
        note "round $round: SIGTERM with $(drive_field sent) loads queued, all run"
        [ "$(remaining)" -gt 8 ] || break
    done
}
