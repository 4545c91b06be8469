# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 24 (WaitGroup reused, CONTROL): with it selected, every SIGHUP reload
# waits until the snapshot it replaced has been freed, on one latch that
# each reload re-arms, strictly after the previous reload's wait returned.
# That is correct: NOT SURFACED is the right answer. The storm writes config
# generation k (timeout 3600+k, maxmemory 2^40+k) and sends SIGHUP every
# 2 ms (faster than reloads that wait for a grace period run: the SIGHUPs
# that queue up meanwhile share the next one, so they run back to back), while
# two redis-cli connections CONFIG SET hz back to back (publishes
# from workers inside their read-side sections, racing the reload's wait),
# and mmcache-load's config readers, INFO pollers and GET clients check
# that every snapshot is whole, generations never go back, and every
# request is answered. A reload stuck on its latch would stop the acceptor:
# no SIGHUP handled, no SIGTERM either.
# shellcheck source=cfg.sh
. "$(dirname "${BASH_SOURCE[0]}")/cfg.sh"
# What bug 24's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=()      # a control: nothing it does is a symptom
SAN_SITES=''
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2)

scenario() {
    local secs sent gen0 gen1 gen2 reloads end
    cfg_conf cfg_write_gen
    bug_server --config "$CFG_CONF" || return 2
    secs=$(drive_seconds)
    gen0=$(info_field config_generation server)
    cfg_storm_start 2 gen
    cfg_setters_start 2 "$secs" hz 10
    bug_load --check config,monotonic,liveness --clients 4 --threads 2 --ratio 1:0:0:0:0 \
        --keyspace 100 --reply-timeout 3000 --duration "$secs"
    cfg_setters_stop
    sent=$(cfg_storm_stop)
    cfg_load_verdict
    # Reloads still work: one more SIGHUP must publish within 5 s (times
    # SAN_FACTOR: a reload waits for a grace period, so a busy machine may
    # still be working through the storm's last ones: any new generation
    # will do).
    gen1=$(CLI_TIMEOUT=10 info_field config_generation server)
    kill -HUP "$SRV_PID" 2>/dev/null
    # bounded by the clock: a server that answers nothing costs each try
    # its CLI_TIMEOUT
    end=$(( $(elapsed) + 5000 * SAN_FACTOR ))
    while [ "$(elapsed)" -lt "$end" ]; do
        gen2=$(CLI_TIMEOUT=2 info_field config_generation server)
        [ -n "$gen2" ] && [ "$gen2" != "$gen1" ] && break
        sleep 0.1
    done
    if [ -z "$gen2" ] || [ "$gen2" = "$gen1" ]; then
        surfaced "a SIGHUP after the storm published nothing within $(( 5 * SAN_FACTOR )) s (config_generation stays ${gen1:-unknown}): the reload is stuck"
    fi
    reloads=$(grep -c "Config reloaded: now generation" "$SRV_LOG")
    is_surfaced ||
        note "$(commas "$sent") SIGHUPs, $(commas "$reloads") reloads, generations $gen0..$gen2 (CONFIG SETs between)"
}
