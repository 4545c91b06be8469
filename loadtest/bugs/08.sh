# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 8 (slice header race): KEYS gathers into one buffer {buf, len, cap}
# kept by the cache and shared by every caller. 1000 keys are written once
# and never changed; two connections, opened one after the other (so the
# acceptor gives them to the two workers), run KEYS back to back and every
# reply is checked (lib.sh keys_watch): each must list the 1000 keys
# exactly once.
# What bug 8's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash tsan asan)
SAN_SITES='cache/scan\.c'
# 15 s, not 6: only the runs that find nothing (the correct server's) take
# the whole drive; with 12 CPU-bound loops beside it (each in its own
# autogroup, like other sessions) the amplified race surfaced in 10 of 10
# runs, in 6.5-9.3 s of the run.
SCENARIO_SECONDS=15
SERVER_ARGS=(--threads 2 --shards 16)
STABLE=1000

scenario() {
    bug_server || return 2
    keys_seed bug8: "$STABLE"
    local hp=() i secs r worst="" ended n=0 nth tot miss dup for first
    secs=$(drive_seconds)
    for i in 1 2; do
        keys_watch bug8: "$STABLE" "$secs" >"$WORK/keys8.$i" &
        hp+=($!)
    done
    while srv_alive; do
        sleep 0.2
        ended=0
        for i in 1 2; do
            r=$(cat "$WORK/keys8.$i")
            case $r in
            bad*) read -r _ nth tot miss dup for first <<<"$r"
                  worst="KEYS #$nth on connection $i returned $tot names for $STABLE unchanging keys: $miss missing, $dup duplicates, $for garbage${first:+ (first: $first)}" ;;
            ok*) ended=$((ended + 1)) ;;
            esac
        done
        [ -n "$worst" ] || [ "$ended" -eq 2 ] && break
    done
    kill "${hp[@]}" 2>/dev/null
    wait "${hp[@]}" 2>/dev/null
    for i in 1 2; do
        r=$(cat "$WORK/keys8.$i")
        case $r in ok*) n=$((n + ${r#ok })) ;; esac
    done
    if [ -n "$worst" ]; then
        surfaced "$worst"
    elif ! srv_alive; then
        END_CONTEXT="during KEYS on two connections at once"
    else
        note "$n KEYS on two connections at once, each returned all $STABLE keys exactly once"
    fi
}
