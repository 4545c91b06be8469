# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 19 (atomic.Value type confusion): the loader trusts the origin slot
# to hold the kind its request's snapshot names, and runs that kind's code
# on it. Clients GET (then DEL) keys that exist both as files in a
# directory and in the synthetic origin, while another client flips
# `loader` between `file DIR` and `synthetic` every few ms; every answer
# must be a value for its key, from either origin.
# What bug 19's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash tsan asan)
SAN_SITES='server/loader/'
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2 --loader synthetic --loader-threads 4)

. "$HERE/bugs/loader_lib.sh"

scenario() {
    local dir=$WORK/files i
    mkdir -p "$dir"
    for (( i = 0; i < 200; i++ )); do printf "key:f%d:file" "$i" >"$dir/f$i"; done
    bug_server || return 2
    loader_drive flip --clients 8 --keys 200 --size 0 --dir "$dir" --flip-ms 2 \
        --duration "$(drive_seconds)" --stop-early
    loader_judge "GETs"
    local flips; flips=$(drive_field flips)
    [ -n "$flips" ] && note "$flips loader switches"
}
