# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 17 (recursive mutex): a SET over maxmemory evicts through the
# cache-wide evictor while holding its own shard's lock, and relocks that
# lock when the evictor's walk reaches it: the worker deadlocks on itself.
# 2 MB maxmemory, 1 KB values over 20,000 keys: nearly every SET evicts.
# Liveness (1.5 s reply timeout) reports the connections left unanswered;
# the server then cannot finish a graceful stop (a worker is stuck): the
# stop guard ends it 8 s after SIGTERM and logs what it measured.
# What bug 17's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(hang nostop tsan)
SAN_SITES='cache/evict\.c|cache/shard\.c'
SCENARIO_SECONDS=5
SERVER_ARGS=(--threads 2 --shards 4 --maxmemory 2mb --maxmemory-policy allkeys-lru)

scenario() {
    bug_server || return 2
    bug_load --check liveness --clients 16 --threads 2 --pipeline 4 \
        --keyspace 20000 --value-size 1024 --ratio 1:4:0:0:0 \
        --reply-timeout 1500 --duration "$(drive_seconds)"
    local evicted n wd
    if load_failures | grep -q '^liveness'; then
        n=$(sed -n 's/.*(\([0-9]*\) failures in all).*/\1/p' "$LOAD_OUT" | head -1)
        [ -n "$n" ] || n=$(grep -c 'no reply to' "$LOAD_OUT")
        if ! srv_alive; then
            return 0     # not a hang: observe_end says how it died
        fi
        observe hang "no reply within 1.5 s on $n of 16 connections ($(load_first_failure))"
        for (( n = 0; n < 15; n++ )); do   # the watchdog speaks after 2 s
            grep -q 'has made no progress' "$SRV_LOG" 2>/dev/null && break
            sleep 0.1
        done
        wd=$(grep -oE 'Worker [0-9]+ has made no progress for [0-9.]+ s[^(]*' "$SRV_LOG" 2>/dev/null | sed 's/ *$//' |
             sort -u -k2,2n | paste -sd ',' | sed 's/,/, /g')
        [ -n "$wd" ] && observe hang "watchdog: $wd"
        # A stuck worker cannot drain: the stop guard ends the server 8 s
        # after SIGTERM (observe_end reports its line).
        CLI_TIMEOUT=1
        read_tried
        bug_stop 10
    else
        evicted=$(info_field evicted_keys)
        note "$(commas "$(load_ops)") requests all answered, $(commas "${evicted:-?}") keys evicted"
    fi
}
