# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 11 (sleep as synchronisation): cfg_publish frees the snapshot it
# replaced after usleep(1000) instead of after an RCU grace period. A
# reader still inside its section reads freed memory; in the release build
# the next CONFIG SET's snapshot is allocated where the freed one was, so
# the reader shows fields of two generations. mmcache-load's config checker
# runs CONFIG SET generation k (timeout 3600+k, maxmemory 2^40+k) while its
# readers CONFIG GET both fields (amplified: CONFIG GET holds its snapshot
# 3 ms between the two fields, longer than the sleep) and INFO pollers read
# the whole snapshot. ASan build: heap-use-after-free; TSan: the race with
# the free.
# shellcheck source=cfg.sh
. "$(dirname "${BASH_SOURCE[0]}")/cfg.sh"
# What bug 11's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(tsan asan)
SAN_SITES='config/'
SCENARIO_SECONDS=14
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server || return 2
    cfg_drive 2 --check config,monotonic,liveness --config-writer --clients 4 --threads 4 \
        --ratio 1:0:0:0:0 --keyspace 100 --info-interval-ms 0
}
