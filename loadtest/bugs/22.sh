# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 22 (conditional locking): CONFIG SET takes the change report lock
# when the log level is verbose (a change is then several log lines). The
# bugged handler reads the live level twice, once to lock and once to
# unlock; a SIGHUP reload that flips loglevel in between makes them
# disagree. The storm rewrites the config file with loglevel verbose and
# notice in turn, SIGHUP every 2 ms, while CONFIG SET runs back to back on
# several connections (mmcache-load's config writer, with GET clients
# watched by its liveness checker, and two redis-cli setters). An unlock
# without the lock is an error return the server logs ("Operation not
# permitted"); a lock never released leaves the other workers' next CONFIG
# SET waiting forever (no reply), or its owner's next one failing with
# EDEADLK.
# shellcheck source=cfg.sh
. "$(dirname "${BASH_SOURCE[0]}")/cfg.sh"
# What bug 22's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(hang nostop tsan)
SAN_SITES='server/cmd/cmd_config\.c'
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2)

# FILE K: loglevel verbose for even k, notice for odd k
cfg22_write() {
    local level=verbose
    [ $(( $2 % 2 )) -eq 1 ] && level=notice
    printf 'loglevel %s\n' "$level" >"$1.tmp" && mv "$1.tmp" "$1"
}

# The server log's report-lock errors, as evidence.
cfg22_log() {
    local eperm edeadlk
    eperm=$(grep -c "releasing the change report lock failed" "$SRV_LOG")
    edeadlk=$(grep -c "taking the change report lock failed" "$SRV_LOG")
    [ "$eperm" -gt 0 ] && surfaced "unlock of a lock not held: $(commas "$eperm") x '$(grep -m1 -o "releasing the change report lock failed: .*" "$SRV_LOG")'"
    [ "$edeadlk" -gt 0 ] && surfaced "a lock never released, taken again by its owner: $(commas "$edeadlk") x '$(grep -m1 -o "taking the change report lock failed: .*" "$SRV_LOG")'"
    return 0
}

scenario() {
    local secs end_ms sent i hung=0 probes=()
    cfg_conf cfg22_write
    bug_server --config "$CFG_CONF" || return 2
    secs=$(drive_seconds)
    end_ms=$(( $(elapsed) + secs * 1000 ))
    cfg_storm_start 2 loglevel
    cfg_setters_start 3 "$secs" hz 10
    # GET clients beside the setters, in 2 s rounds, until something shows
    while :; do
        bug_load --check liveness --clients 4 --threads 2 --ratio 1:0:0:0:0 --keyspace 100 \
            --reply-timeout 2000 --duration 2
        cfg_load_verdict
        cfg22_log
        is_surfaced && break
        srv_alive || break
        [ $(( $(elapsed) + 2000 )) -le "$end_ms" ] || break
        NOTES=()
    done
    cfg_setters_stop
    sent=$(cfg_storm_stop)
    # A lock left held: a CONFIG SET on each worker (new connections go
    # round robin) must still be answered.
    if srv_alive; then
        for i in 1 2; do
            ( CLI_TIMEOUT=2 cli config set hz 10 | grep -q OK ) &
            probes+=($!)
        done
        for i in "${probes[@]}"; do
            wait "$i" || hung=$((hung + 1))
        done
        if [ "$hung" -gt 0 ]; then
            observe hang "$hung of 2 CONFIG SETs on new connections got no reply within 2 s"
            # the graceful stop cannot finish either: the stop guard's line
            CLI_TIMEOUT=2 read_tried
            bug_stop 10
        fi
    fi
    if is_surfaced; then
        surfaced "after $(commas "$sent") SIGHUPs flipping loglevel"
    else
        note "$(commas "$sent") SIGHUPs flipping loglevel while CONFIG SET ran on 3 connections: every lock and unlock agreed, no stall"
    fi
}
