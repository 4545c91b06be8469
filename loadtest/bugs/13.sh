# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, DIFFERENTIAL*, NOTES: read by run-bug
# Bug 13 (mutex copied by value): the shard lock helper takes struct shard
# by value and locks the copy, so no INCR, SET or GET is excluded from any
# other. Few shards, two workers, INCR-heavy on 4 shared counters: the
# counter checker counts the INCRs that were acknowledged and then lost,
# and the unguarded LRU and item frees usually crash the server too.
# Short rounds, so it stops driving as soon as one round shows a loss.
# What bug 13's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash nostop hang tsan asan)
SAN_SITES='cache/'
# The differential (run-bug --differential): the same load on one worker thread: no two threads, no race.
DIFFERENTIAL="one worker"
DIFFERENTIAL_ARGS=(--threads 1)
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2 --shards 1)

scenario() {
    bug_server || return 2
    local until=$(( $(elapsed) + $(drive_seconds) * 1000 )) fail="" rounds=0
    while [ "$(elapsed)" -lt "$until" ] && srv_alive; do
        rounds=$((rounds + 1))
        bug_load --check counter,liveness --clients 32 --threads 2 --pipeline 16 \
            --counters 1 --keyspace 64 --ratio 1:1:8:0:0 --reply-timeout 3000 \
            --duration 0.5
        fail=$(load_failures | head -1)
        [ -n "$fail" ] && break
    done
    local lost
    lost=$(awk '/^  counter +FAILED/ && $3 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/ { print $3 " of " $5 }' "$LOAD_OUT" | head -1)
    if [ -n "$lost" ]; then
        surfaced "$(commas "${lost%% *}") of $(commas "${lost##* }") acknowledged INCRs lost"
    elif [ -n "$fail" ] && srv_alive; then
        observe hang "${fail}$(f=$(load_first_failure); [ -n "$f" ] && printf ': %s' "$f")"
    elif [ -z "$fail" ]; then
        note "$rounds rounds of INCRs, every acknowledged INCR counted"
    fi
}
