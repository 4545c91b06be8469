# shellcheck shell=bash
# Bug 2 (counter increment): total_commands_processed bumped with a plain ++
# from every worker. mmcache-load's stats checker compares INFO's count
# with exactly what it sent.
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server || return 2
    bug_load --check stats,liveness --clients 40 --threads 2 --pipeline 8 \
        --duration "$(drive_seconds)" --ratio 1:1:0:0:0
    local fail
    fail=$(load_failures | grep '^stats' | head -1)
    if [ -n "$fail" ]; then
        surfaced "${fail#stats FAILED }"
    else
        note "$(awk '/^  stats/ { sub(/^ +stats +[a-z]+ +/, ""); print; exit }' "$LOAD_OUT")"
    fi
}
