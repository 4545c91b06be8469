# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, DIFFERENTIAL*, NOTES: read by run-bug
# Bug 3 (concurrent map writes): SET links and unlinks items in the shard's
# table, LRU and TTL index without the shard lock. SET-heavy load from two
# workers into 2 shards over a small keyspace (so SETs replace items other
# SETs and GETs are using). Evidence: what the bug does to the table:
# values the tagged checker rejects (a SET lost, a torn or foreign value),
# keys that KEYS and DBSIZE disagree about, the server dying. The table's
# Go-style detector line ("concurrent map writes") is an extra signal,
# never the verdict by itself (bug-lab rule 8).
# What bug 3's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash nostop hang tsan asan)
SAN_SITES='cache/'
# The differential (run-bug --differential): the same load on one worker thread: no two threads, no race.
DIFFERENTIAL="one worker"
DIFFERENTIAL_ARGS=(--threads 1)
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2 --shards 2)

scenario() {
    bug_server || return 2
    local until=$(( $(elapsed) + $(drive_seconds) * 1000 )) fail="" rounds=0 sets=0
    while [ "$(elapsed)" -lt "$until" ] && srv_alive; do
        rounds=$((rounds + 1))
        bug_load --check tagged,liveness --clients 32 --threads 2 --pipeline 16 \
            --keyspace 1024 --ratio 1:4:0:0:0 --reply-timeout 3000 --duration 0.3
        sets=$((sets + $(awk '/^throughput:/ { for (i = 1; i <= NF; i++) if ($i == "set") { sub(/[^0-9].*/, "", $(i + 1)); print $(i + 1); exit } }' "$LOAD_OUT")))
        fail=$(load_failures | grep '^tagged' | head -1)
        if [ -n "$fail" ]; then
            surfaced "${fail#tagged FAILED }$(f=$(load_first_failure); [ -n "$f" ] && printf ': %s' "$f") (round $rounds)"
            break
        fi
        srv_alive || break
        # The keyspace as the LRU lists it must match the table's count.
        local n u d
        n=$(CLI_TIMEOUT=2 cli dbsize | tr -dc 0-9)
        if ! u=$(timeout 2 redis-cli -h 127.0.0.1 -p "$SRV_PORT" keys '*' 2>/dev/null); then
            srv_alive && observe hang "after $(commas "$sets") SETs KEYS got no reply within 2 s (round $rounds)"
            break
        fi
        u=$(printf '%s\n' "$u" | sed '/^$/d' | sort | uniq -c | awk '{ t++; if ($1 > 1) d++ } END { print t + 0, d + 0 }')
        d=${u#* } u=${u% *}
        if srv_alive && [ -n "$n" ] && { [ "$d" -gt 0 ] || [ "$u" -ne "$n" ]; }; then
            surfaced "after $(commas "$sets") SETs DBSIZE says $n keys, KEYS lists $u distinct ($d listed twice) (round $rounds)"
            break
        fi
    done
    srv_alive || END_CONTEXT="during round $rounds, after $(commas "$sets") SETs"
    sleep 0.2   # let the detector's line land in the log
    # The table's own detector (Go's hashWriting check): an extra signal
    # beside what the bug did, never a verdict by itself.
    if grep -q '^concurrent map writes' "$SRV_LOG" 2>/dev/null; then
        if is_surfaced; then
            surfaced "the table's detector saw two unlocked SETs in one shard at once"
        else
            note "the table's detector saw two unlocked SETs in one shard at once"
        fi
    fi
    is_surfaced || note "$rounds rounds, $(commas "$sets") SETs: every value intact, KEYS and DBSIZE agree"
}
