# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 7 (broken double-checked locking): the pool pointer is published with
# a relaxed store and read without acquire. Natural: the pool is built,
# then published: x86-64 keeps the stores in order, only TSan sees the
# race (INFO loader reads the pointer on the other worker). Amplified: the
# order the memory model allows, by hand (pointer first, then the build):
# on a fresh server many clients miss distinct keys at once (2 workers), a
# miss on the fast path queues its load into the half-built pool, whose
# initialisation wipes the queue. Evidence: first misses answered "-ERR
# loader timeout" (the origin answers in 1 ms) or never; TSan's race.
# What bug 7's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash tsan)
SAN_SITES='server/loader/loader_pool\.c'
SCENARIO_SECONDS=8
SERVER_ARGS=(--threads 2 --loader synthetic --loader-synthetic-latency-ms 1
             --loader-threads 4 --loader-timeout-ms 1500)

. "$HERE/bugs/loader_lib.sh"

check7() {
    local n=${#NOTES[@]}
    loader_judge "first misses (origin latency 1 ms)"
    is_surfaced && return 0
    NOTES=("${NOTES[@]:0:n}")
    if [ -n "$(drive_field polls)" ]; then
        note "server $1: a lone first miss answered right, $(drive_field polls) INFO loader on the other worker meanwhile"
    else
        note "server $1: $(drive_field answers) first misses all right, slowest $(drive_field slowest_ms) ms"
    fi
}

# The load shapes. Amplified: many first misses at once from 40
# connections on 2 workers, some of which take the fast path while the
# pool is half built. Natural: a first miss alone on one worker while a
# connection on the other polls INFO loader, a reader of the pool pointer
# that shares no lock with the thread creating the pool: on x86-64 nothing
# shows, TSan sees the fields read with no happens-before to their writes.
scenario() {
    LOADER_ROUNDS=3
    if [ "$AMPLIFY" = no ]; then
        LOADER_MODE=lone
        loader_fresh_bursts check7 --size 0 --timeout 4
    else
        loader_fresh_bursts check7 --clients 40 --keys 4 --size 0 --timeout 4
    fi
}
