# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 9 (pointer publication): cfg_publish stores the new snapshot's pointer
# with a plain store and writes its fields after it (amplified: pointer,
# sched_yield, fields). mmcache-load's config checker runs CONFIG SET
# generation k (timeout 3600+k, maxmemory 2^40+k) while its readers CONFIG
# GET both fields and its INFO pollers watch config_generation: a reader
# that loads the pointer before the fields are in sees another generation's
# fields, a torn pair, or zeros (config_generation going back to 0).
# shellcheck source=cfg.sh
. "$(dirname "${BASH_SOURCE[0]}")/cfg.sh"
# What bug 9's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(tsan)
SAN_SITES='config/snapshot\.c'
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server || return 2
    cfg_drive 2 --check config,monotonic,liveness --config-writer --clients 2 --threads 2 \
        --ratio 1:0:0:0:0 --keyspace 100 --info-interval-ms 0
    # A short GET refused as too long can only come from a snapshot whose
    # limit reads 0: say what the limit really is.
    local limit
    if is_surfaced && printf '%s\n' "${EVIDENCE[@]}" | grep -q 'invalid bulk length' && srv_alive; then
        limit=$(cli config get proto-max-bulk-len | tail -1 | tr -d '\r')
        surfaced "a GET of a 9-byte key refused as an invalid bulk length while proto-max-bulk-len is $limit: the request read a snapshot whose fields were not written yet"
    fi
}
