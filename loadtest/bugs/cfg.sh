# shellcheck shell=bash
# loadtest/bugs/cfg.sh: what the config bugs' scenarios (09, 11, 22, 24)
# share. Sourced by those scenario files, after lib.sh.

# cfg_load_errors: the error replies of the last bug_load, one line per kind
# ("3 x GET mmload:k:44: ERR Protocol error: invalid bulk length").
cfg_load_errors() {
    awk '/^errors:/ { f = 1; next } f && !/^  / { exit }
         f && /^  [A-Z]+ \([^)]*\) +[0-9]+  e\.g\. / {
             n = $0; sub(/^  [A-Z]+ \([^)]*\) +/, "", n); sub(/ .*/, "", n)
             ex = $0; sub(/^.* e\.g\. /, "", ex); print n " x " ex }' "$LOAD_OUT"
}

# cfg_load_verdict: surfaced with the first failure of each failed checker
# of the last bug_load (config, monotonic, liveness) and the error replies
# it got, else a note with what the config checker saw.
cfg_load_verdict() {
    local line chk first
    while IFS= read -r line; do
        [ -n "$line" ] && surfaced "error reply: $line"
    done < <(cfg_load_errors)
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        chk=${line%% *}
        first=$(awk -v c="$chk" '$1 == c && $2 == "FAILED" { f = 1; next }
                f && /^ +- / { sub(/^ +- /, ""); print; exit }
                f && /^  [a-z]/ { exit }' "$LOAD_OUT")
        surfaced "$chk: ${first:-${line#"$chk" FAILED }}"
    done < <(load_failures)
    is_surfaced && return 0
    local seen
    seen=$(awk '/^  config/ { sub(/^ +config +[a-z]+ +/, ""); print; exit }' "$LOAD_OUT")
    [ -n "$seen" ] && note "$seen"
    return 0
}

# cfg_drive CHUNK_S [mmcache-load args...]: run the load in rounds of
# CHUNK_S seconds (each a fresh mmcache-load run with its own checkers)
# until one surfaces the bug or the scenario's drive time is spent, so a
# bug that shows in the first second ends the scenario there.
cfg_drive() {
    local chunk=$1 end_ms
    shift
    end_ms=$(( $(elapsed) + $(drive_seconds) * 1000 ))
    while :; do
        bug_load "$@" --duration "$chunk"
        cfg_load_verdict
        is_surfaced && break
        srv_alive || break
        [ $(( $(elapsed) + chunk * 1000 )) -le "$end_ms" ] || break
        NOTES=()
    done
}

# ---- SIGHUP storms ----------------------------------------------------------
CFG_CONF="" CFG_STORM_PID=""

# cfg_conf WRITER: create the server's config file ($WORK/mmcache.conf) as
# WRITER FILE 0 writes it; the caller adds `--config "$CFG_CONF"`.
cfg_conf() {
    CFG_CONF=$WORK/mmcache.conf
    "$1" "$CFG_CONF" 0
}

# Config generation k by loadtest/README.md's convention (timeout 3600+k,
# maxmemory 2^40+k), written to a temporary file and renamed, so that a
# reload never reads half a file.
cfg_write_gen() { # FILE K
    printf 'timeout %d\nmaxmemory %d\n' $((3600 + $2)) $((1099511627776 + $2)) >"$1.tmp" &&
        mv "$1.tmp" "$1"
}

# cfg_storm_start MS KIND: in the background (sighup_storm.pl), for
# k = 1, 2, ...: rewrite the config file as step k of KIND (gen: config
# generation k; loglevel: verbose / notice in turn), then SIGHUP; every MS
# ms until cfg_storm_stop. The count of SIGHUPs sent lands in
# $WORK/storm.count.
cfg_storm_start() {
    perl "$(dirname "${BASH_SOURCE[0]}")/sighup_storm.pl" "$SRV_PID" "$CFG_CONF" "$1" "$2" \
        "$WORK/storm.count" &
    CFG_STORM_PID=$!
}

# cfg_storm_stop: stop the storm (by its PID); echo how many SIGHUPs it sent.
cfg_storm_stop() {
    if [ -n "$CFG_STORM_PID" ]; then
        kill "$CFG_STORM_PID" 2>/dev/null
        wait "$CFG_STORM_PID" 2>/dev/null
        CFG_STORM_PID=""
    fi
    cat "$WORK/storm.count" 2>/dev/null || echo 0
}

# cfg_setters_start N SECONDS ARGS...: N connections, each sending
# CONFIG SET ARGS back to back for SECONDS (redis-cli -r), in the background.
CFG_SETTER_PIDS=()
cfg_setters_start() {
    local n=$1 secs=$2 i
    shift 2
    for (( i = 0; i < n; i++ )); do
        timeout "$secs" redis-cli -h 127.0.0.1 -p "$SRV_PORT" -r 100000000 config set "$@" \
            >"$WORK/setter.$i.out" 2>&1 &
        CFG_SETTER_PIDS+=($!)
    done
}
cfg_setters_stop() {
    local p
    for p in "${CFG_SETTER_PIDS[@]}"; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    CFG_SETTER_PIDS=()
}
