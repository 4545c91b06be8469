#!/usr/bin/env bash
# cluster.sh: N mmcache nodes behind nutcracker (twemproxy), all on
# 127.0.0.1 on free ports, stopped by PID. See docs/scale-out.md.
#
# As a command:
#   deploy/twemproxy/cluster.sh [--nodes N] [--bin PATH] [--check] [-- NODE-ARGS...]
#     starts N (3) nodes and nutcracker, checks that they answer (PING
#     through the proxy, and keys written through it land on every node),
#     prints the ports; then stops everything at once with --check, else on
#     Ctrl-C or SIGTERM. NODE-ARGS go to every mmcache (e.g. --threads 2).
#
# As a library (source it; tests/scaleout/ does), after lib.sh's it_*:
#   sc_start_nodes N        SC_PORTS[i], SC_PIDS[i]; node i reads SC_DIR/node<i>.conf
#   sc_node_conf I K [LINE...]  write node I's config file as config generation K
#                           (loadtest/README.md's convention) plus LINEs
#   sc_restart_node I       node I again, on its old port (it rejoins the ring)
#   sc_start_proxy          SC_PROXY_PORT, SC_STATS_PORT, SC_PROXY_PID
#   sc_stats                nutcracker's stats JSON on stdout
#   sc_check                what the command checks, as a function
#   it_stop_all             stops every process started here, by PID
# Settings (environment): SC_BIN, SC_DIR (a fresh temporary directory),
# SC_NODE_ARGS (array), SC_EJECT (true), SC_FAILURE_LIMIT (2),
# SC_RETRY_MS (2000), SC_TIMEOUT_MS (1000), SC_SERVER_CONNS (1).
# Only 127.0.0.1 is used; nothing is stopped by name.

SC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../tests/integration/lib.sh
source "$SC_ROOT/tests/integration/lib.sh"

SC_BIN=${SC_BIN:-${MMCACHE_BIN:-$SC_ROOT/build/mmcache}}
SC_DIR=${SC_DIR:-}
SC_EJECT=${SC_EJECT:-true}
SC_FAILURE_LIMIT=${SC_FAILURE_LIMIT:-2}
SC_RETRY_MS=${SC_RETRY_MS:-2000}
SC_TIMEOUT_MS=${SC_TIMEOUT_MS:-1000}
SC_SERVER_CONNS=${SC_SERVER_CONNS:-1}
[ "${SC_NODE_ARGS+set}" = set ] || SC_NODE_ARGS=()
SC_PORTS=() SC_PIDS=()

sc_dir() {
    [ -n "$SC_DIR" ] || SC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mmcache-scaleout.XXXXXX")
}

sc_node_conf() { # I K [LINE...]: written aside and renamed, so a reload never reads half a file
    local f=$SC_DIR/node$1.conf k=$2
    shift 2
    { printf 'timeout %d\nmaxmemory %d\n' $((3600 + k)) $((1099511627776 + k))
      [ $# -eq 0 ] || printf '%s\n' "$@"; } >"$f.tmp" && mv "$f.tmp" "$f"
}

sc_start_nodes() { # N
    local i
    sc_dir
    for (( i = 0; i < $1; i++ )); do
        sc_node_conf "$i" 0
        it_start mmcache "$SC_BIN" --config "$SC_DIR/node$i.conf" "${SC_NODE_ARGS[@]}" || return 1
        SC_PORTS[i]=$IT_PORT SC_PIDS[i]=$IT_PID
    done
}

sc_restart_node() { # I: same port, same config file; bounded wait for PING
    local i=$1 port=${SC_PORTS[$1]} deadline
    "$SC_BIN" --port "$port" --bind 127.0.0.1 --config "$SC_DIR/node$i.conf" "${SC_NODE_ARGS[@]}" \
        >>"$SC_DIR/node$i.restart.log" 2>&1 </dev/null &
    SC_PIDS[i]=$!
    IT_PIDS+=("$!")
    deadline=$(( $(date +%s) + 10 ))
    until it_ping "$port"; do
        if ! kill -0 "${SC_PIDS[i]}" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
            echo "cluster.sh: node $i did not come back on port $port:" >&2
            cat "$SC_DIR/node$i.restart.log" >&2
            return 1
        fi
        sleep 0.05
    done
}

sc_write_yml() { # FILE: the pool, as deploy/twemproxy/nutcracker.yml explains it
    local i
    { echo "mmcache:"
      echo "  listen: 127.0.0.1:$SC_PROXY_PORT"
      echo "  redis: true"
      echo "  hash: murmur"
      echo "  distribution: ketama"
      echo "  hash_tag: \"{}\""
      echo "  timeout: $SC_TIMEOUT_MS"
      echo "  preconnect: true"
      echo "  server_connections: $SC_SERVER_CONNS"
      echo "  auto_eject_hosts: $SC_EJECT"
      echo "  server_failure_limit: $SC_FAILURE_LIMIT"
      echo "  server_retry_timeout: $SC_RETRY_MS"
      echo "  servers:"
      for i in "${!SC_PORTS[@]}"; do echo "   - 127.0.0.1:${SC_PORTS[i]}:1 node$i"; done
    } >"$1"
}

sc_start_proxy() {
    local deadline _
    sc_dir
    for _ in 1 2 3; do   # a free port can be taken before nutcracker binds it
        SC_PROXY_PORT=$(it_free_port) && SC_STATS_PORT=$(it_free_port) || continue
        sc_write_yml "$SC_DIR/nutcracker.yml"
        nutcracker -c "$SC_DIR/nutcracker.yml" -a 127.0.0.1 -s "$SC_STATS_PORT" -i 100 \
            -o "$SC_DIR/nutcracker.log" -p "$SC_DIR/nutcracker.pid" </dev/null &
        SC_PROXY_PID=$!
        IT_PIDS+=("$!")
        deadline=$(( $(date +%s) + 10 ))
        while kill -0 "$SC_PROXY_PID" 2>/dev/null && [ "$(date +%s)" -le "$deadline" ]; do
            it_ping "$SC_PROXY_PORT" && return 0
            sleep 0.05
        done
        it_stop "$SC_PROXY_PID" 2
    done
    echo "cluster.sh: nutcracker did not come up; log:" >&2
    cat "$SC_DIR/nutcracker.log" >&2
    return 1
}

sc_stats() { # the stats port sends one JSON object and closes
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && cat <&3' _ "$SC_STATS_PORT"
}

# PING through the proxy; 64 keys written through it, read back through it,
# and found on every node directly (the ring spreads them).
sc_check() {
    local i n got
    [ "$(timeout 5 redis-cli -p "$SC_PROXY_PORT" PING)" = PONG ] ||
        { echo "cluster.sh: no PONG through the proxy" >&2; return 1; }
    for (( n = 0; n < 64; n++ )); do echo "SET sc:check:$n v$n"; done |
        timeout 10 redis-cli -p "$SC_PROXY_PORT" >/dev/null
    got=$(for (( n = 0; n < 64; n++ )); do echo "GET sc:check:$n"; done |
          timeout 10 redis-cli -p "$SC_PROXY_PORT" | grep -c '^v')
    [ "$got" = 64 ] || { echo "cluster.sh: $got of 64 keys read back through the proxy" >&2; return 1; }
    for i in "${!SC_PORTS[@]}"; do
        got=$(for (( n = 0; n < 64; n++ )); do echo "GET sc:check:$n"; done |
              timeout 10 redis-cli -p "${SC_PORTS[i]}" | grep -c '^v')
        echo "cluster.sh: node$i (127.0.0.1:${SC_PORTS[i]}, pid ${SC_PIDS[i]}) holds $got of the 64 keys"
        [ "$got" -gt 0 ] || { echo "cluster.sh: node$i got none of the keys" >&2; return 1; }
    done
    for (( n = 0; n < 64; n++ )); do echo "DEL sc:check:$n"; done |
        timeout 10 redis-cli -p "$SC_PROXY_PORT" >/dev/null
}

sc_main() {
    local nodes=3 check=0
    while [ $# -gt 0 ]; do
        case $1 in
            --nodes) nodes=$2; shift 2 ;;
            --bin) SC_BIN=$2; shift 2 ;;
            --check) check=1; shift ;;
            --) shift; SC_NODE_ARGS=("$@"); break ;;
            *) echo "usage: $0 [--nodes N] [--bin PATH] [--check] [-- NODE-ARGS...]" >&2; return 2 ;;
        esac
    done
    command -v nutcracker >/dev/null || { echo "cluster.sh: nutcracker is not installed (apt-get install nutcracker)" >&2; return 1; }
    [ -x "$SC_BIN" ] || { echo "cluster.sh: no mmcache at $SC_BIN (cmake --build build)" >&2; return 1; }
    trap 'it_stop_all; rm -rf "$SC_DIR"' EXIT
    trap 'exit 0' INT TERM
    sc_start_nodes "$nodes" && sc_start_proxy && sc_check || return 1
    echo "cluster.sh: nutcracker pid $SC_PROXY_PID on 127.0.0.1:$SC_PROXY_PORT (stats on $SC_STATS_PORT), $nodes nodes, files in $SC_DIR"
    [ "$check" = 1 ] && return 0
    echo "cluster.sh: redis-cli -p $SC_PROXY_PORT; Ctrl-C stops everything"
    while kill -0 "$SC_PROXY_PID" 2>/dev/null; do sleep 1; done
    echo "cluster.sh: nutcracker exited" >&2
    return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    sc_main "$@"
    exit $?
fi
