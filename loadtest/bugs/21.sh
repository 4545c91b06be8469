# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 21 (shared bytes.Buffer): INFO formats each line into one static
# buffer shared by every worker, without a lock. Eight clients ask INFO for
# four different sections back to back (two workers serve them at once);
# info_crosstalk.py holds each reply against the section's reference (read
# first, alone) and reports a reply that is malformed or carries another
# section's bytes.
# What bug 21's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(tsan)
SAN_SITES='server/cmd/info\.c'
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server || return 2
    local out=$WORK/crosstalk.txt rc
    python3 "$HERE/bugs/info_crosstalk.py" --port "$SRV_PORT" --clients 8 \
        --duration "$(drive_seconds)" --sections server,stats,clients,memory >"$out" 2>&1
    rc=$?
    local summary first
    summary=$(head -1 "$out")
    first=$(sed -n 's/^bad: //p' "$out" | head -1)
    if [ "$rc" -eq 1 ]; then
        surfaced "$first ($summary)"
    elif [ "$rc" -ge 2 ] || grep -q '^error:' "$out"; then
        note "$(grep -m1 '^error:' "$out")"
        note "$summary"
    else
        note "$summary"
    fi
}
