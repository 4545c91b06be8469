# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 6 (lazy init race): the loader pool is created on the first load by
# check-then-create without a lock. On a fresh server, many clients miss
# distinct keys at once (2 workers): more than one first miss sees no pool
# and builds one. Evidence: INFO loader_pool_inits above 1, and more
# mmc-loader threads in /proc than loader-threads.
# What bug 6's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(tsan leak)
SAN_SITES='server/loader/loader_pool\.c'
SCENARIO_SECONDS=8
SERVER_ARGS=(--threads 2 --loader synthetic --loader-synthetic-latency-ms 1
             --loader-threads 4)

. "$HERE/bugs/loader_lib.sh"

check6() {
    local inits threads
    inits=$(info_field loader_pool_inits)
    threads=$(loader_threads_running)
    if [ -n "$inits" ] && [ "$inits" -gt 1 ]; then
        surfaced "INFO loader_pool_inits:$inits after the first burst of misses, $threads mmc-loader threads running, loader-threads is 4 (fresh server $1)"
    else
        note "server $1: loader_pool_inits:${inits:-?}, $threads loader threads"
    fi
    loader_judge "first misses"
}

scenario() {
    LOADER_ROUNDS=3
    loader_fresh_bursts check6 --clients 40 --keys 4 --size 0 --timeout 5
}
