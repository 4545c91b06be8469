#!/usr/bin/env bash
# bench.sh: redis-benchmark GET and SET through nutcracker in front of N
# mmcache nodes, and against one of those nodes directly, in the same run,
# alternating which goes first; prints requests/s and proxy/direct ratios.
#   deploy/twemproxy/bench.sh [--nodes N] [--requests R] [--clients C] [--reps K]
# Defaults: 3 nodes, 50000 requests, 50 clients, 2 reps (the mean is
# shown), at -P 1 and -P 16. Throughput is a figure to read, never a test
# assertion. Everything on 127.0.0.1; stopped by PID.
set -u
# shellcheck source=cluster.sh
source "$(cd "$(dirname "$0")" && pwd)/cluster.sh"
nodes=3 requests=50000 clients=50 reps=2
while [ $# -gt 0 ]; do
    case $1 in
        --nodes) nodes=$2; shift 2 ;;
        --requests) requests=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        *) echo "usage: $0 [--nodes N] [--requests R] [--clients C] [--reps K]" >&2; exit 2 ;;
    esac
done
if ! command -v nutcracker >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "bench.sh: needs nutcracker and redis-benchmark" >&2; exit 1
fi
trap 'it_stop_all; rm -rf "$SC_DIR"' EXIT
SC_NODE_ARGS=(--threads 1)   # read by cluster.sh's sc_start_nodes
sc_start_nodes "$nodes" && sc_start_proxy || exit 1

rps() { # PORT TEST PIPELINE: requests/s (redis-benchmark's CSV)
    timeout 300 redis-benchmark -p "$1" -t "$2" -P "$3" -n "$requests" -c "$clients" \
        -r 100000 -d 64 --csv 2>/dev/null | awk -F'"' 'NR == 2 { print $4 }'
}
echo "nutcracker $(nutcracker --version 2>&1 | sed -n 's/.*nutcracker-//p' | head -1), $nodes mmcache nodes (--threads 1), redis-benchmark -n $requests -c $clients -d 64 -r 100000, $reps reps; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %3s %14s %14s %7s\n' test P direct_rps proxy_rps ratio
for t in set get; do
    for p in 1 16; do
        d=0 x=0
        for (( r = 0; r < reps; r++ )); do
            if (( r % 2 == 0 )); then
                a=$(rps "${SC_PORTS[0]}" "$t" "$p"); b=$(rps "$SC_PROXY_PORT" "$t" "$p")
            else
                b=$(rps "$SC_PROXY_PORT" "$t" "$p"); a=$(rps "${SC_PORTS[0]}" "$t" "$p")
            fi
            d=$(awk -v s="$d" -v v="${a:-0}" 'BEGIN { print s + v }')
            x=$(awk -v s="$x" -v v="${b:-0}" 'BEGIN { print s + v }')
        done
        awk -v t="$t" -v p="$p" -v d="$d" -v x="$x" -v n="$reps" \
            'BEGIN { printf "%-5s %3d %14.0f %14.0f %7.2f\n", t, p, d / n, x / n, (d > 0 ? x / d : 0) }'
    done
done
