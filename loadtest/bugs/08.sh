# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 8 (slice header race): KEYS gathers into one buffer {buf, len, cap}
# kept by the cache and shared by every caller. 1000 keys are written once
# and never changed; two connections run KEYS back to back (so both
# workers run it at once) while this script checks KEYS replies: each must
# list the 1000 keys exactly once.
# What bug 8's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash tsan asan)
SAN_SITES='cache/scan\.c'
# 15 s, not 6: on a busy machine (the K = 20 matrix of 2026-12-06, with
# builds beside it) the amplified race surfaced in 1.4-3.9 s in 17 runs and
# not at all in 6 s in 3; a run that surfaces stops there, so only the
# runs that find nothing (the correct server's) take the longer drive.
SCENARIO_SECONDS=15
SERVER_ARGS=(--threads 2 --shards 16)
STABLE=1000

scenario() {
    bug_server || return 2
    keys_seed bug8: "$STABLE"
    local hp=() i secs n=0 r tot miss dup for worst="" until
    secs=$(drive_seconds)
    for i in 1 2; do
        timeout "$secs" redis-cli -h 127.0.0.1 -p "$SRV_PORT" -r 100000000 -i 0 \
            keys 'bug8:*' >/dev/null 2>&1 &
        hp+=($!)
    done
    until=$(( $(elapsed) + secs * 1000 ))
    sleep 0.1
    while [ "$(elapsed)" -lt "$until" ] && srv_alive; do
        r=$(keys_census bug8: "$STABLE")
        read -r tot miss dup for <<<"$r"
        srv_alive && [ -n "$tot" ] || break
        n=$((n + 1))
        if [ "$miss" -gt 0 ] || [ "$dup" -gt 0 ] || [ "$for" -gt 0 ]; then
            worst="KEYS #$n returned $tot names for $STABLE unchanging keys: $miss missing, $dup duplicates, $for garbage"
            break
        fi
    done
    kill "${hp[@]}" 2>/dev/null
    wait "${hp[@]}" 2>/dev/null
    if [ -n "$worst" ]; then
        surfaced "$worst"
    elif ! srv_alive; then
        END_CONTEXT="during KEYS #$((n + 1)), three KEYS at a time"
    else
        note "$n KEYS beside two KEYS loops, each returned all $STABLE keys exactly once"
    fi
}
