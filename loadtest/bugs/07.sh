# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, NOTES: read by run-bug
# Bug 7 (broken double-checked locking): the pool pointer is published
# before the pool is built and read without acquire. On a fresh server,
# many clients miss distinct keys at once (2 workers): a miss on the fast
# path queues its load into a half-built pool, whose initialisation then
# wipes the queue. Evidence: first misses answered "-ERR loader timeout"
# (the origin answers in 1 ms) or never, or a crash; TSan reports the race.
SCENARIO_SECONDS=8
SERVER_ARGS=(--threads 2 --loader synthetic --loader-synthetic-latency-ms 1
             --loader-threads 4 --loader-timeout-ms 1500)

. "$HERE/bugs/loader_lib.sh"

check7() {
    local n=${#NOTES[@]}
    loader_judge "first misses (origin latency 1 ms)"
    is_surfaced && return 0
    NOTES=("${NOTES[@]:0:n}")
    note "server $1: $(drive_field answers) first misses all right, slowest $(drive_field slowest_ms) ms"
}

scenario() {
    LOADER_ROUNDS=3
    loader_fresh_bursts check7 --clients 40 --keys 4 --size 0 --timeout 4
}
