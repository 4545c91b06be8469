# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, DIFFERENTIAL*, NOTES: read by run-bug
# Bug 2 (counter increment): while the bug is on, every worker bumps one
# shared total_commands_processed (and keyspace_hits/misses) with a plain
# ++. mmcache-load's stats checker knows exactly how many commands, hits
# and misses it caused, and compares them with INFO's.
#
# Two worker threads (the race needs two writers), GET/SET only, deep
# pipelines so both workers count at full speed. Rounds of 2 s, stopping at
# the first round whose INFO undercounts; the correct server must match
# exactly in every round.
# What bug 2's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(tsan)
SAN_SITES='server/cmd/dispatch\.c'
# The differential (run-bug --differential): the same load on one worker thread: no two threads, no race.
DIFFERENTIAL="one worker"
DIFFERENTIAL_ARGS=(--threads 1)
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2)

# "INFO total_commands_processed: expected it to move by 1093425 (...), got 1086690 (22 -> ...)"
# -> "total_commands_processed 1,086,690 of 1,093,425 (6,735 lost)"
b02_lost() {
    awk '/^ +- INFO [a-z_]+: expected it to move by/ {
            name = $3; sub(/:$/, "", name)
            want = $9; got = $0
            sub(/.*, got /, "", got); sub(/ .*/, "", got)
            kind = "extra"; if (want + 0 > got + 0) kind = "lost"
            printf "%s %s %d %d\n", name, kind, want, got
         }' "$LOAD_OUT" | while read -r name kind want got; do
        if [ "$kind" = lost ]; then
            printf "INFO %s counted %s, the client caused %s: %s lost\n" "$name" \
                "$(commas "$got")" "$(commas "$want")" "$(commas $((want - got)))"
        else
            printf "INFO %s counted %s, the client caused %s: %s extra\n" "$name" \
                "$(commas "$got")" "$(commas "$want")" "$(commas $((got - want)))"
        fi
    done
}

scenario() {
    bug_server || return 2
    local fail what
    rounds_begin
    while next_round; do
        bug_load --check stats,liveness --clients 40 --threads 2 --pipeline 8 \
            --duration "$ROUND_SECS" --ratio 1:1:0:0:0
        fail=$(load_failures | grep '^stats' | head -1)
        if [ -n "$fail" ]; then
            what=$(b02_lost | paste -sd ";" | sed "s/;/, /g")
            surfaced "${what:-${fail#stats FAILED }} (round $ROUND, $(commas "$(load_ops)") requests at $(commas "$(load_rps)") ops/s)"
            return 0
        fi
        srv_alive || return 0
    done
    note "every round exact: $(awk '/^  stats/ { sub(/^ +stats +[a-z]+ +/, ""); print; exit }' "$LOAD_OUT") (last of $ROUND rounds)"
}
