# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, DIFFERENTIAL*, NOTES: read by run-bug
# Bug 4 (read while writing): GET looks the key up and copies its value
# without the shard lock while SETs and DELs on the other worker free and
# replace items. GET-heavy load with SET/DEL churn on a small keyspace:
# the tagged checker rejects every value that is not an intact value of
# the key asked for (bad checksum, another key's value, freed memory).
# What bug 4's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash nostop hang tsan asan)
SAN_SITES='cache/'
# The differential (run-bug --differential): the same load on one worker thread: no two threads, no race.
DIFFERENTIAL="one worker"
DIFFERENTIAL_ARGS=(--threads 1)
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2 --shards 4)

scenario() {
    bug_server || return 2
    local until=$(( $(elapsed) + $(drive_seconds) * 1000 )) fail="" rounds=0 gets=0
    while [ "$(elapsed)" -lt "$until" ] && srv_alive; do
        rounds=$((rounds + 1))
        bug_load --check tagged,liveness --clients 32 --threads 2 --pipeline 16 \
            --keyspace 128 --value-size 512 --ratio 6:3:0:1:0 --fill \
            --reply-timeout 3000 --duration 0.5
        gets=$((gets + $(awk '/^throughput:/ { for (i = 1; i <= NF; i++) if ($i == "(get") { sub(/[^0-9].*/, "", $(i + 1)); print $(i + 1); exit } }' "$LOAD_OUT")))
        fail=$(load_failures | grep -v '^liveness' | head -1)
        [ -n "$fail" ] && break
    done
    if [ -n "$fail" ]; then
        local first n reads
        first=$(load_first_failure | sed "s/: '.*//")
        n=$(sed -n 's/.*(\([0-9]*\) failures in all).*/\1/p' "$LOAD_OUT" | head -1)
        [ -n "$n" ] || n=$(awk '/^  tagged +FAILED/ { f = 1; next } f && /^ +- / { n++ } f && !/^ +- / { f = 0 } END { print n + 0 }' "$LOAD_OUT")
        reads=$(awk '/^  tagged +FAILED/ { print $3; exit }' "$LOAD_OUT")
        surfaced "$(commas "$n") of $(commas "$reads") GETs returned a wrong value${first:+ ($first)}"
    elif ! srv_alive; then
        END_CONTEXT="after $(commas "$gets") GETs"
    else
        note "$rounds rounds, $(commas "$gets") GETs: every value intact"
    fi
}
