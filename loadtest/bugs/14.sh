# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 14 (range over map while writing): KEYS walks each shard's LRU list
# without the shard lock while writers insert, move and free items. A
# fixed set of keys (bug14:stable:0..999) is written once and never
# touched again; churn (SET/GET/DEL on other keys) runs beside it; every
# KEYS bug14:stable:* must return each of the 1000 exactly once.
# What bug 14's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash tsan asan)
SAN_SITES='cache/scan\.c'
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2 --shards 4)
STABLE=1000

scenario() {
    bug_server || return 2
    keys_seed bug14:stable: "$STABLE"
    bug_load --check liveness --clients 16 --threads 2 --pipeline 16 \
        --keyspace 2000 --ratio 4:4:0:2:0 --duration "$(drive_seconds)" &
    local lp=$! n=0 r tot miss dup for worst=""
    sleep 0.2
    while kill -0 "$lp" 2>/dev/null && srv_alive; do
        r=$(keys_census bug14:stable: "$STABLE") || break
        read -r tot miss dup for <<<"$r"
        [ -n "$tot" ] || break
        srv_alive || break
        n=$((n + 1))
        if [ "$miss" -gt 0 ] || [ "$dup" -gt 0 ] || [ "$for" -gt 0 ]; then
            worst="KEYS #$n returned $tot names for $STABLE never-changing keys: $miss missing, $dup duplicates, $for garbage"
            break
        fi
    done
    kill $(pgrep -P "$lp") "$lp" 2>/dev/null
    wait "$lp" 2>/dev/null
    if [ -n "$worst" ]; then
        surfaced "$worst"
    elif ! srv_alive; then
        END_CONTEXT="during KEYS #$((n + 1)) under churn"
    else
        note "$n KEYS under churn, each returned all $STABLE stable keys exactly once"
    fi
}
