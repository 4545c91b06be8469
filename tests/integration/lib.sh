# shellcheck shell=bash
# lib.sh: start a RESP server on a free loopback port and stop it by PID.
# Sourced by tests/integration/test_redis_cli.sh and loadtest/bench-vs-redis.
#
#   it_start KIND BIN [server args...]
#       KIND is mmcache or redis. Starts BIN on 127.0.0.1 on a free port,
#       prefixed by the array IT_PREFIX when set (e.g. IT_PREFIX=(taskset -c 0)),
#       waits (bounded, IT_START_BOUND_S, default 10) until PING answers.
#       Retries with a new port when it does not come up. Sets IT_PID,
#       IT_PORT, IT_LOG; returns non-zero (log printed) on failure.
#   it_stop PID [BOUND_S]
#       SIGTERM that PID, wait up to BOUND_S (default 10) then SIGKILL;
#       sets IT_STATUS to the exit status (128+N for signal N). Call it in
#       the shell that started the server, not in $(...): only the parent
#       can collect the status.
#   it_stop_all
#       Stop every server this shell started (for a trap). Never by name.
#
#   it_sanitizers BIN [VAR=VALUE...]
#       Sets IT_PREFIX so that BIN starts with fixed sanitizer options,
#       whatever the caller's environment says: VAR=VALUE... when given,
#       else IT_SAN_CORRECT (a report halts the server: the options of the
#       test suite for correct code); plus setarch -R for a TSan build.
#   it_san_export
#       Exports IT_SAN_CORRECT, for the tools a script runs (mmcache-load).
#
# Only 127.0.0.1 is ever used.

# The sanitizer options for correct code: any report stops the process.
# TSan's deadlock detector is off: it tracks at most 64 mutexes held by one
# thread, and MSET holds the lock of every shard it touches (see
# tests/integration/CMakeLists.txt).
IT_SAN_CORRECT=("TSAN_OPTIONS=halt_on_error=1 second_deadlock_stack=1 detect_deadlocks=0"
                "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1"
                "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

IT_PIDS=()
IT_LOGS=()

# Debian's python3 (scripts/install-deps.sh) before what PATH finds first:
# a version manager's shim (pyenv's) took 3.5 s to start, the interpreter
# 0.2-0.5 s, with two CPU-bound processes beside it, once per server started.
IT_PYTHON=python3
[ -x /usr/bin/python3 ] && IT_PYTHON=/usr/bin/python3

it_free_port() {
    if command -v "$IT_PYTHON" >/dev/null 2>&1; then
        "$IT_PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    # fallback: a random high port not currently listening
    local p
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
            echo "$p"
            return
        fi
    done
    return 1
}

it_sanitizers() {
    local bin=$1
    shift
    IT_PREFIX=(env)
    if [ $# -gt 0 ]; then IT_PREFIX+=("$@"); else IT_PREFIX+=("${IT_SAN_CORRECT[@]}"); fi
    # TSan needs a fixed address-space layout on kernels with high ASLR entropy.
    if ldd "$bin" 2>/dev/null | grep -q libtsan && setarch "$(uname -m)" -R true 2>/dev/null; then
        IT_PREFIX+=(setarch "$(uname -m)" -R)
    fi
}

it_san_export() {
    local v
    for v in "${IT_SAN_CORRECT[@]}"; do export "${v?}"; done
}

it_ping() { # PORT -> 0 when the server answers PONG (or NOAUTH: it wants a password)
    local r
    r=$(timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)
    [ "$r" = "PONG" ] || [ "${r#NOAUTH }" != "$r" ]
}

it_start() {
    local kind=$1 bin=$2
    shift 2
    local bound=${IT_START_BOUND_S:-10}
    local log attempt port pid deadline
    log=$(mktemp "${TMPDIR:-/tmp}/mmcache-it-XXXXXX")
    IT_LOGS+=("$log")
    for attempt in 1 2 3 4 5; do
        port=$(it_free_port) || continue
        echo "=== lib.sh: starting $kind $bin on port $port (attempt $attempt)" >>"$log"
        if [ "$kind" = redis ]; then
            "${IT_PREFIX[@]}" "$bin" --port "$port" --bind 127.0.0.1 --save '' \
                --appendonly no --daemonize no "$@" >>"$log" 2>&1 </dev/null &
        else
            "${IT_PREFIX[@]}" "$bin" --port "$port" --bind 127.0.0.1 "$@" \
                >>"$log" 2>&1 </dev/null &
        fi
        pid=$!
        IT_PIDS+=("$pid")
        deadline=$(( $(date +%s) + bound ))
        while [ "$(date +%s)" -le "$deadline" ]; do
            if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null
                pid=
                break
            fi
            if it_ping "$port"; then
                IT_PID=$pid IT_PORT=$port IT_LOG=$log
                return 0
            fi
            sleep 0.05
        done
        if [ -n "$pid" ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    echo "lib.sh: $kind $bin did not come up; log:" >&2
    cat "$log" >&2
    return 1
}

it_stop() {
    local pid=$1 bound=${2:-10} i
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for (( i = 0; i < bound * 20; i++ )); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "lib.sh: pid $pid still running after ${bound}s: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    IT_STATUS=$?
}

it_stop_all() {
    local pid
    for pid in "${IT_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            it_stop "$pid" 5
        fi
    done
}

# it_sched PID [TID]: how much the process's threads (or the one thread
# TID) have run so far, from /proc/PID/task/*/schedstat: IT_SCHED_NS on a
# CPU and IT_SCHED_WAIT_NS waiting on a run queue (ns: /proc/PID/stat's
# utime+stime has 10 ms ticks, too coarse for a short run), IT_SCHED_SLICES
# times put on a CPU. Threads that exited are not counted (the server's
# live as long as it does). Bash builtins only, no fork: the bug lab's
# waits (loadtest/bugs/wait.sh) call it every few milliseconds.
it_sched() {
    local f a b c tasks=(/proc/"$1"/task/*/schedstat)
    [ -n "${2:-}" ] && tasks=(/proc/"$1"/task/"$2"/schedstat)
    IT_SCHED_NS=0 IT_SCHED_WAIT_NS=0 IT_SCHED_SLICES=0
    for f in "${tasks[@]}"; do
        { read -r a b c <"$f"; } 2>/dev/null || continue
        IT_SCHED_NS=$((IT_SCHED_NS + a)) IT_SCHED_WAIT_NS=$((IT_SCHED_WAIT_NS + b))
        IT_SCHED_SLICES=$((IT_SCHED_SLICES + c))
    done
}

it_remove_logs() {
    [ -n "${MMCACHE_KEEP_LOGS:-}" ] || rm -f "${IT_LOGS[@]}"
}
