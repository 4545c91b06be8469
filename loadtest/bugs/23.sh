# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, DIFFERENTIAL*, NOTES: read by run-bug
# Bug 23 (unaligned atomic load): while the bug is on, each worker counts
# its commands in a uint64_t that crosses a cache line (its lowest byte in
# one line, bytes 1..7 in the next), and INFO reads it with an 8-byte
# load. x86-64 performs a load that crosses a line as one access per line:
# a read that straddles a carry out of the low byte combines old and new
# halves, a total off by up to 255, so the next INFO goes backwards.
#
# mmcache-load's monotonic checker polls INFO back to back (one poller per
# client thread) and fails when total_commands_processed goes backwards on
# one connection. The workload is kept light (2 clients, no pipelining) so
# that fewer than ~255 commands run between two readings: a tear of up to
# 255 must stand out against the counter's own growth. Rounds of 2 s, stop
# at the first round with a backward step.
#
# Natural form (bug-amplify no): the tear needs a carry inside the load's
# two line accesses, nanoseconds apart: measured 1 backward step in ~3
# million back-to-back reads in a tight C loop here, never at INFO's rate.
# The ASan+UBSan build reports the misaligned load itself, TSan the plain
# load racing with the worker's store. Amplified: the load done as the CPU
# splits it, one access per line, with sched_yield between (an aligned
# counter is one access: the differential run, bug-misalign no, has no
# window at all and must not surface).
# What bug 23's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(tsan)
SAN_SITES='server/cmd/info\.c|server/cmd/dispatch\.c'
# The differential (run-bug --differential): the same code with the counter 8-byte aligned inside one cache line.
DIFFERENTIAL="counter aligned"
DIFFERENTIAL_ARGS=(--bug-misalign no)
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server || return 2
    local fail first readings
    rounds_begin
    while next_round; do
        bug_load --check monotonic,liveness --clients 2 --threads 2 --pipeline 1 \
            --duration "$ROUND_SECS" --info-interval-ms 0 --ratio 1:1:0:0:0
        fail=$(load_failures | grep '^monotonic' | head -1)
        if [ -n "$fail" ]; then
            first=$(load_first_failure)
            # "INFO total_commands_processed on one connection: expected 501 or more, got 350 (went backwards by 151)"
            first=$(printf "%s" "$first" | sed -E 's/^INFO ([a-z_]+) on one connection: expected ([0-9]+) or more, got ([0-9]+) \(went backwards by ([0-9]+)\)/INFO \1 went backwards \2 -> \3 on one connection (by \4)/')
            readings=$(printf "%s" "${fail#monotonic FAILED }" | grep -oE '^[0-9]+')
            local all
            all=$(awk '/^ +\([0-9]+ failures in all\)/ { gsub(/[^0-9]/, ""); print; exit }' "$LOAD_OUT")
            surfaced "$first, ${all:-$(load_failures | grep -c .)} backward steps in $(commas "${readings:-0}") INFO readings (round $ROUND)"
            return 0
        fi
        if load_failures | grep -q .; then
            note "$(load_failures | head -1)"
        fi
        srv_alive || return 0
    done
    note "every round monotonic: $(awk '/^  monotonic/ { sub(/^ +monotonic +[a-z]+ +/, ""); print; exit }' "$LOAD_OUT") (last of $ROUND rounds)"
}
