# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, NOTES: read by run-bug
# Bug 3 (concurrent map writes): SET links and unlinks items in the shard's
# table, LRU and TTL index without the shard lock. SET-heavy load from two
# workers into 2 shards over a small keyspace (so SETs replace items other
# SETs and GETs are using). Evidence: the table's Go-style detector
# ("fatal error: concurrent map writes"), the server dying, values the
# tagged checker rejects, or keys that KEYS and DBSIZE disagree about.
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2 --shards 2)

scenario() {
    bug_server || return 2
    local until=$(( $(elapsed) + $(drive_seconds) * 1000 )) fail="" rounds=0 sets=0
    while [ "$(elapsed)" -lt "$until" ] && srv_alive; do
        rounds=$((rounds + 1))
        bug_load --check tagged,liveness --clients 32 --threads 2 --pipeline 16 \
            --keyspace 256 --ratio 1:4:0:0:0 --reply-timeout 3000 --duration 0.5
        sets=$((sets + $(awk '/^throughput:/ { for (i = 1; i <= NF; i++) if ($i == "set") { sub(/[^0-9].*/, "", $(i + 1)); print $(i + 1); exit } }' "$LOAD_OUT")))
        fail=$(load_failures | head -1)
        [ -n "$fail" ] && break
        # The keyspace as the LRU lists it must match the count.
        local n u d
        n=$(cli dbsize | tr -dc 0-9)
        u=$(cli keys '*' | sort | uniq -c | awk '{ t++; if ($1 > 1) d++ } END { print t + 0, d + 0 }')
        d=${u#* } u=${u% *}
        if srv_alive && [ -n "$n" ] && { [ "$d" -gt 0 ] || [ "$u" -ne "$n" ]; }; then
            surfaced "DBSIZE says $n keys, KEYS lists $u distinct ($d listed twice)"
            break
        fi
    done
    sleep 0.2   # let an abort land in the log
    local det
    det=$(grep -m1 -o 'fatal error: concurrent map writes[^"]*' "$SRV_LOG" 2>/dev/null)
    [ -n "$det" ] && surfaced "server: \"$det\""
    if [ -n "$fail" ] && srv_alive; then
        surfaced "${fail}$(f=$(load_first_failure); [ -n "$f" ] && printf ': %s' "$f")"
    elif [ -n "$fail" ] && [ -z "$det" ]; then
        surfaced "the SET load's connections were reset after $(commas "$sets") SETs"
    fi
    is_surfaced || note "$rounds rounds, $(commas "$sets") SETs: every value intact, KEYS and DBSIZE agree"
}
