# shellcheck shell=bash disable=SC2034  # PING_MS, PROBE_SILENT, PROBE_OTHER, PROBE_WHAT: read by the scenarios
# loadtest/bugs/wait.sh: liveness waits in server time, sourced by lib.sh.
#
# A bound in wall-clock seconds also counts time in which the server could
# not run: stopped, given no CPU by a loaded machine, the whole VM paused.
# Bug 10's scenario once said "no connection got a reply to PING within
# 10 s of start" of the correct server on a loaded 2-core box (1 run of
# 20); a server held by SIGSTOP for 11 s gives that line word for word,
# and a starved session (autogroup nice 19 beside a CPU-bound loop) made
# its 16 PINGs, each `timeout 2 redis-cli`, say "12 of 16 connections got
# no reply within 2 s" of a correct server: the bound ran out while the
# server, or the client still starting, waited for a CPU. So these waits
# count server time: a stretch of the wait counts only if the server's
# threads were put on a CPU in it (their /proc schedstat), and the probes
# are connections kept open (bash's /dev/tcp), so a reply that came while
# the client waited for a CPU is still read. A stall of the server is
# nobody's hang; one longer than the time the scenario has left is
# INCONCLUSIVE (no verdict), never a hang. mmcache's threads wake at least
# every 250 ms (worker ticks, the watchdog, the acceptor's sampler), so a
# server that runs accrues server time while idle, and one with a worker
# that never answers (bug 10) too.
#
# srv_slices: SLICES = "CPU ns:times put on a CPU" of the server's threads
# so far (fields 1 and 3 of each thread's schedstat): it changes whenever
# one of them ran, a thread that spins without a break included.
srv_slices() {
    it_sched "$SRV_PID"
    SLICES=$IT_SCHED_NS:$IT_SCHED_SLICES
}
# st_begin / st_tick: ST_MS, the milliseconds of the wait so far in which the
# server ran, and ST_WALL_MS, all of them. A stretch counts when the server
# was on a CPU in it, at most ST_STEP_MS of it: a longer stretch is the
# client (this shell) waiting for a CPU, not server time.
ST_STEP_MS=300
st_now() { local t=${EPOCHREALTIME//[!0-9]/}; ST_NOW=$((10#$t / 1000)); }
st_begin() { ST_MS=0 ST_WALL_MS=0; srv_slices; ST_SL=$SLICES; st_now; ST_T=$ST_NOW; }
st_tick() {
    local dt
    st_now
    dt=$((ST_NOW - ST_T)) ST_T=$ST_NOW
    ST_WALL_MS=$((ST_WALL_MS + dt))
    srv_slices
    if [ "$SLICES" != "$ST_SL" ]; then
        [ "$dt" -gt "$ST_STEP_MS" ] && dt=$ST_STEP_MS
        ST_MS=$((ST_MS + dt))
    fi
    ST_SL=$SLICES
}
# "2.0 s of server time (3.4 s wall)"
st_words() { awk -v s="$ST_MS" -v w="$ST_WALL_MS" 'BEGIN { printf "%.1f s of server time (%.1f s wall)", s / 1000, w / 1000 }'; }

# Probes: connections kept open, PING sent on each. PROBE_FD[i] their fds,
# PROBE_ST[i] "" (no reply yet), pong, or other (another reply, or closed),
# PROBE_BUF[i] the part of a reply line read so far; PROBE_WHAT: what the
# first "other" one got.
PROBE_FD=() PROBE_ST=() PROBE_BUF=()
# probe_open: one more probe; 1 when the server refused it (not listening).
probe_open() {
    local fd
    { exec {fd}<>"/dev/tcp/127.0.0.1/$SRV_PORT"; } 2>/dev/null || return 1
    # SIGPIPE ignored in a subshell only: a server that already closed the
    # connection must not end this shell.
    ( trap '' PIPE; printf 'PING\r\n' >&"$fd" ) 2>/dev/null
    PROBE_FD+=("$fd") PROBE_ST+=("") PROBE_BUF+=("")
}
# probe_poll: one look at every probe still waiting (up to 0.1 s on the first).
probe_poll() {
    local i line t=0.1 rc
    for i in "${!PROBE_FD[@]}"; do
        [ -z "${PROBE_ST[i]}" ] || continue
        # A read that times out keeps what it read of the line (bash reads
        # a socket a byte at a time; a late shell can be cut mid-reply).
        if read -r -t "$t" -u "${PROBE_FD[i]}" line 2>/dev/null; then
            line=${PROBE_BUF[i]}$line
            line=${line%$'\r'}
            if [ "$line" = +PONG ]; then PROBE_ST[i]=pong; else
                PROBE_ST[i]=other PROBE_WHAT=${PROBE_WHAT:-answered \"${line:0:40}\"}
            fi
        else
            rc=$?
            PROBE_BUF[i]+=$line
            if [ "$rc" -le 128 ]; then   # closed without a whole reply
                PROBE_ST[i]=other PROBE_WHAT=${PROBE_WHAT:-closed after \"${PROBE_BUF[i]:0:40}\"}
            fi
        fi
        t=0.01
    done
    [ "$t" = 0.01 ] || sleep 0.1
}
probe_count() {   # probe_count ST: how many probes are in state ST ("" waiting)
    local n=0 s
    for s in "${PROBE_ST[@]}"; do [ "$s" = "$1" ] && n=$((n + 1)); done
    echo "$n"
}
probe_close() {
    local fd
    for fd in "${PROBE_FD[@]}"; do [ "$fd" -ge 0 ] && exec {fd}>&-; done
    PROBE_FD=() PROBE_ST=() PROBE_BUF=()
}

# srv_wait_ping BOUND_S [CAP_S]: 0 as soon as the server answers PONG; 1
# when none of its connections got a reply in BOUND_S seconds of server
# time (a new one each second of it, as a client retries), or it died; 2
# when CAP_S wall seconds (default: what the scenario has left but 10) went
# by first: the machine did not let it run (INCONCLUSIVE). Sets PING_MS
# (wall ms it took) and, on 1 and 2, ST_MS and ST_WALL_MS (st_words).
srv_wait_ping() {
    local bound_ms=$(( ${1:-3} * 1000 )) cap_ms next=0 t0 rc=1
    cap_ms=$(( ${2:-$(( $(remaining) - 10 ))} * 1000 ))
    [ "$cap_ms" -lt "$bound_ms" ] && cap_ms=$bound_ms
    t0=$(elapsed)
    st_begin
    while srv_alive; do
        if [ "$ST_MS" -ge "$next" ] && probe_open; then next=$((ST_MS + 1000)); fi
        probe_poll
        if [ "$(probe_count pong)" -gt 0 ]; then
            PING_MS=$(( $(elapsed) - t0 )) rc=0
            break
        fi
        st_tick
        [ "$ST_MS" -ge "$bound_ms" ] && break
        [ "$ST_WALL_MS" -ge "$cap_ms" ] && { rc=2; break; }
    done
    probe_close
    return "$rc"
}

# probe_pings M BOUND_S [CAP_S]: M connections at once, PING on each, each
# waits until it is answered or BOUND_S seconds of server time went by.
# Sets PROBE_SILENT (no reply), PROBE_OTHER (another reply, closed, or
# refused; PROBE_WHAT says what the first one got), ST_MS, ST_WALL_MS.
# Returns 2 when CAP_S wall seconds (default: what the scenario has left
# but 8) went by first (INCONCLUSIVE), else 0.
probe_pings() {
    local m=$1 bound_ms=$(( $2 * 1000 )) cap_ms i rc=0
    cap_ms=$(( ${3:-$(( $(remaining) - 8 ))} * 1000 ))
    [ "$cap_ms" -lt "$bound_ms" ] && cap_ms=$bound_ms
    st_begin
    PROBE_WHAT=""
    for (( i = 0; i < m; i++ )); do
        probe_open || { PROBE_FD+=(-1) PROBE_ST+=(other) PROBE_BUF+=("")
                        PROBE_WHAT=${PROBE_WHAT:-refused the connection}; }
    done
    while [ "$(probe_count "")" -gt 0 ] && [ "$ST_MS" -lt "$bound_ms" ]; do
        probe_poll
        st_tick
        [ "$ST_WALL_MS" -ge "$cap_ms" ] && { rc=2; break; }
    done
    PROBE_SILENT=$(probe_count "") PROBE_OTHER=$(probe_count other)
    probe_close
    return "$rc"
}
