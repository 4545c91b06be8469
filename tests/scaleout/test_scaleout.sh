#!/usr/bin/env bash
# test_scaleout MODE: three mmcache nodes behind nutcracker (twemproxy), all
# on 127.0.0.1, started and stopped by PID (deploy/twemproxy/cluster.sh).
#
#   run       mmcache-load --proxy with every checker a proxy can serve;
#             multi-key commands split or not (docs/scale-out.md's table);
#             the same load with a hash-tagged prefix (its keys on one node);
#             SIGHUP on every node under load; one node SIGKILLed under
#             load (ejected: its keys miss, the others keep their values,
#             nobody reads a wrong value) and restarted on its port (it
#             rejoins the ring); the read-through loader behind the proxy
#   no-eject  negative control: auto_eject_hosts false; the ejection check
#             must fail (the dead node's keys keep answering errors)
#   wrong-value  negative control: the third node is the fake server
#             answering wrong values; the tagged checker must fail through
#             the proxy
# Exit 77 (Skipped) without nutcracker or redis-cli. Figures go to stdout
# (docs/scale-out.md quotes them).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LOAD=${MMCACHE_LOAD_BIN:-$ROOT/build/mmcache-load}
FAKE=${LD_FAKE_SERVER:-$ROOT/build/tests/loadtest/ld_fake_server}
MODE=${1:-run}
for tool in nutcracker redis-cli; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed (scripts/install-deps.sh test)"; exit 77; }
done
# shellcheck source=../../deploy/twemproxy/cluster.sh
source "$ROOT/deploy/twemproxy/cluster.sh"
[ -x "$SC_BIN" ] && [ -x "$LOAD" ] || { echo "no $SC_BIN or $LOAD" >&2; exit 1; }

# shellcheck disable=SC2034 # settings read by cluster.sh
SC_NODE_ARGS=(--threads 2)
SC_FAILURE_LIMIT=2 SC_RETRY_MS=2000 SC_TIMEOUT_MS=1000
[ "$MODE" = no-eject ] && SC_EJECT=false
FAKE_PID=
BG_PID=
cleanup() {
    [ -z "$BG_PID" ] || { kill "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; }
    [ -z "$FAKE_PID" ] || { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }
    it_stop_all
    it_remove_logs
    [ -n "${MMCACHE_KEEP_LOGS:-}" ] || rm -rf "$SC_DIR"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
it_sanitizers "$SC_BIN"
it_san_export
fail() {
    [ -z "$BG_PID" ] || { kill "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; BG_PID=; }
    echo "FAIL: $*" >&2; [ -z "${SC_DIR:-}" ] || tail -5 "$SC_DIR/nutcracker.log" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# mmcache-load through the proxy, bounded; its output in $1. load_bg runs
# it in the background as BG_PID itself (not a subshell), so that a
# failing test stops the process by its PID.
load_args() {
    LOAD_ARGS=(--port "$SC_PROXY_PORT" --proxy --no-progress --clients 16 --threads 2
               --pipeline 4 --keyspace 2000 --reply-timeout 5000)
}
load() { # OUT ARGS...
    local out=$1
    shift
    load_args
    "$LOAD" "${LOAD_ARGS[@]}" "$@" >"$out" 2>&1
}
load_bg() { # OUT ARGS...
    local out=$1
    shift
    load_args
    "$LOAD" "${LOAD_ARGS[@]}" "$@" >"$out" 2>&1 &
    BG_PID=$!
}
passed() { # OUT CHECKER...: each checker passed in that run
    local c
    for c in "${@:2}"; do
        grep -Eq "^  $c +passed" "$1" || { cat "$1" >&2; fail "checker $c did not pass through the proxy"; }
    done
}

phase_load() {
    local out=$SC_DIR/load.out
    load "$out" --check all --duration 3 --requests 300000 || { cat "$out" >&2; fail "mmcache-load --proxy --check all"; }
    passed "$out" tagged counter liveness queue hash set
    echo "load: $(grep -E '^throughput' "$out")"
    grep -E '^  [a-z]+ +passed' "$out"
}

# A hash-tagged prefix: every key of the run hashes as "t", so one node holds
# them all and a multi-key command on them stays on that node.
phase_hashtag() {
    local out=$SC_DIR/tag.out i n holders=0
    load "$out" --check tagged,counter,queue,hash,set,liveness --key-prefix '{t}' --fill \
        --duration 2 --requests 100000 || { cat "$out" >&2; fail "hash-tagged run"; }
    for i in "${!SC_PORTS[@]}"; do
        n=$(timeout 20 redis-cli -p "${SC_PORTS[i]}" --scan --pattern '{t}:*' | wc -l)
        echo "hash tag: node$i holds $n keys of prefix {t}"
        [ "$n" -gt 0 ] && holders=$((holders + 1))
    done
    [ "$holders" = 1 ] || fail "hash tag {t}: $holders nodes hold the prefix's keys, expected 1"
}

# Multi-key commands over 3 nodes, as docs/scale-out.md's table says: MSET,
# MGET, DEL split per node; EXISTS and SINTER go to the first key's node
# (wrong across nodes, right with one hash tag).
phase_multikey() {
    local i n holders=0 got
    ask() { timeout 5 redis-cli -p "$SC_PROXY_PORT" "$@"; }
    ask MSET mk:1 1 mk:2 2 mk:3 3 mk:4 4 mk:5 5 mk:6 6 >/dev/null
    for i in "${!SC_PORTS[@]}"; do
        n=$(timeout 5 redis-cli -p "${SC_PORTS[i]}" --scan --pattern 'mk:*' | wc -l)
        [ "$n" -gt 0 ] && holders=$((holders + 1))
    done
    [ "$holders" -ge 2 ] || fail "MSET of 6 keys: on $holders node(s), expected them spread"
    got=$(ask MGET mk:1 mk:2 mk:3 mk:4 mk:5 mk:6 | paste -sd,)
    [ "$got" = 1,2,3,4,5,6 ] || fail "MGET over $holders nodes: $got"
    got=$(ask EXISTS mk:1 mk:2 mk:3 mk:4 mk:5 mk:6)
    [ "$got" -lt 6 ] || fail "EXISTS of 6 keys on $holders nodes answered 6: the proxy splits it now; update docs/scale-out.md"
    echo "multikey: MSET/MGET of 6 keys over $holders nodes whole; EXISTS of the 6 answered $got (its first key's node only)"
    # two sets on different nodes, and the same two under one hash tag
    ask SADD mk:sa x y >/dev/null
    for (( n = 0; n < 50; n++ )); do
        ask SADD "mk:sb$n" x >/dev/null
        [ "$(ask SINTER mk:sa "mk:sb$n")" = "" ] && break   # on another node
    done
    [ "$n" -lt 50 ] || fail "no set on another node than mk:sa in 50 tries"
    ask SADD '{g}sa' x y >/dev/null; ask SADD '{g}sb' x >/dev/null
    [ "$(ask SINTER '{g}sa' '{g}sb')" = x ] || fail "SINTER under one hash tag"
    [ "$(ask DEL mk:1 mk:2 mk:3 mk:4 mk:5 mk:6)" = 6 ] || fail "DEL of 6 keys over $holders nodes"
    echo "multikey: SINTER of two sets on two nodes answered empty (right: x); under one hash tag x"
}

# Every node rewrites its config as generation k and gets SIGHUP every
# 50 ms while the proxy carries load; at the end each runs the last one.
phase_sighup() {
    local out=$SC_DIR/hup.out k=0 i rc deadline t
    ( k=1
      while :; do
          for i in "${!SC_PORTS[@]}"; do
              sc_node_conf "$i" "$k" && kill -HUP "${SC_PIDS[i]}" 2>/dev/null || exit 1
          done
          echo "$k" >"$SC_DIR/hup.k"
          k=$((k + 1))
          sleep 0.05
      done ) &
    BG_PID=$!
    load "$out" --check tagged,counter,queue,hash,set,liveness --duration 3 --requests 200000
    rc=$?
    kill "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; BG_PID=
    [ "$rc" = 0 ] || { cat "$out" >&2; fail "mmcache-load through the proxy during SIGHUPs"; }
    k=$(cat "$SC_DIR/hup.k")
    for i in "${!SC_PORTS[@]}"; do   # the writer may have stopped mid-round
        sc_node_conf "$i" "$k" && kill -HUP "${SC_PIDS[i]}" || fail "node$i is gone after the SIGHUPs"
    done
    deadline=$(( $(date +%s) + 10 ))
    for i in "${!SC_PORTS[@]}"; do
        until t=$(timeout 5 redis-cli -p "${SC_PORTS[i]}" CONFIG GET timeout | sed -n 2p); [ "$t" = $((3600 + k)) ]; do
            [ "$(date +%s)" -le "$deadline" ] || fail "node$i: timeout is '$t' after reload $k, expected $((3600 + k))"
            sleep 0.05
        done
    done
    echo "sighup: $k reloads on each of ${#SC_PORTS[@]} nodes under load; every node runs generation $k"
    passed "$out" tagged counter queue hash set liveness
    echo "sighup: $(grep -E '^throughput' "$out")"
}

# 300 keys fk:<i> written through the proxy; OWNER[i] is the node holding it.
NKEYS=300
seed_keys() {
    local i n v
    NONCE=$RANDOM$RANDOM
    for (( n = 0; n < NKEYS; n++ )); do echo "SET fk:$n fv:$n:$NONCE"; done |
        timeout 20 redis-cli -p "$SC_PROXY_PORT" | grep -c '^OK$' | grep -qx "$NKEYS" ||
        fail "seeding $NKEYS keys through the proxy"
    OWNER=()
    for i in "${!SC_PORTS[@]}"; do
        n=0
        while read -r v; do
            [ "$v" = "fv:$n:$NONCE" ] && OWNER[n]=$i
            n=$((n + 1))
        done < <(for (( n = 0; n < NKEYS; n++ )); do echo "GET fk:$n"; done |
                 timeout 20 redis-cli -p "${SC_PORTS[i]}")
    done
    [ "${#OWNER[@]}" = "$NKEYS" ] || fail "only ${#OWNER[@]} of $NKEYS keys found on a node"
}

# One round of GETs of every fk key through the proxy, judged: a live
# node's key must have its value; the dead node's key an error or nil;
# anything else is a wrong value. Sets R_DEAD_NIL, R_DEAD_ERR, R_LIVE_ERR.
probe() { # DEAD
    local dead=$1 n=0 line want
    R_DEAD_NIL=0 R_DEAD_ERR=0 R_LIVE_ERR=0 R_LINES=0
    while IFS= read -r line; do
        # redis-cli's line after a reply that took 0.5 s or more, "(0.52s)":
        # timing, not a reply (a starved run read it as a wrong value)
        [[ $line =~ ^\([0-9]+\.[0-9]+s\)$ ]] && continue
        want="\"fv:$n:$NONCE\""
        R_LINES=$((R_LINES + 1))
        if [ "${OWNER[n]}" = "$dead" ]; then
            case $line in
                "(nil)") R_DEAD_NIL=$((R_DEAD_NIL + 1)) ;;
                "(error) "*) R_DEAD_ERR=$((R_DEAD_ERR + 1)) ;;
                *) fail "GET fk:$n (the dead node's key) through the proxy: $line, expected nil or an error" ;;
            esac
        else
            case $line in
                "$want") ;;
                "(error) "*) R_LIVE_ERR=$((R_LIVE_ERR + 1)) ;;
                *) fail "GET fk:$n (node${OWNER[n]}'s key) through the proxy: $line, expected $want" ;;
            esac
        fi
        n=$((n + 1))
    done < <(for (( n = 0; n < NKEYS; n++ )); do echo "GET fk:$n"; done |
             timeout 20 redis-cli --no-raw -p "$SC_PROXY_PORT")
}

# Kill node VICTIM under load; the proxy must eject it; restart it on its
# port; the proxy must route keys to it again.
phase_failure() {
    local victim=1 out=$SC_DIR/fail.out t0 ejected='' rounds=0 errs=0 live_errs=0 n i dn=0 stats at
    seed_keys
    for (( n = 0; n < NKEYS; n++ )); do [ "${OWNER[n]}" = "$victim" ] && dn=$((dn + 1)); done
    echo "failure: $dn of $NKEYS keys on node$victim (the victim)"
    # load on its own prefix: tagged (never a wrong value) with errors allowed;
    # nutcracker closes a client connection whose request was in flight to the
    # dead node, so lost connections are expected and counted, not judged
    load_bg "$out" --check tagged --allow-errors --key-prefix fl --duration 8 --requests 2000000
    sleep 1
    t0=$(now)
    kill -KILL "${SC_PIDS[victim]}"
    wait "${SC_PIDS[victim]}" 2>/dev/null
    while [ "$(since "$t0" | cut -d. -f1)" -lt 10 ]; do
        probe "$victim"
        rounds=$((rounds + 1)) errs=$((errs + R_DEAD_ERR)) live_errs=$((live_errs + R_LIVE_ERR))
        if [ "$R_LINES" = "$NKEYS" ] && [ "$R_DEAD_NIL" = "$dn" ] && [ -z "$ejected" ]; then
            ejected=$(since "$t0")
            break
        fi
        sleep 0.1
    done
    stats=$(sc_stats)
    echo "failure: $rounds probe rounds, $errs errors on the dead node's keys, $live_errs on the live nodes' keys before ejection"
    [ -n "$ejected" ] || fail "ejection: 10 s after node$victim died its keys still answer errors through the proxy (last round: $R_DEAD_ERR errors, $R_DEAD_NIL nil of $dn): the proxy did not eject it"
    at=$(sed -nE "s/.*\"node$victim\": \{[^}]*\"server_ejected_at\":([0-9]+).*/\1/p" <<<"$stats")
    [ "${at:-0}" -gt 0 ] || fail "stats: node$victim has no server_ejected_at: $stats"
    echo "failure: node$victim ejected $(awk -v a="$at" -v b="$t0" 'BEGIN { printf "%.0f", a / 1000 - b * 1000 }') ms after SIGKILL (nutcracker's server_ejected_at); all its keys missed ${ejected}s after; server_ejects $(sed -nE 's/.*"server_ejects":([0-9]+).*/\1/p' <<<"$stats")"
    probe "$victim"
    [ "$R_LINES" = "$NKEYS" ] || fail "after ejection: $R_LINES of $NKEYS replies"
    sc_restart_node "$victim" || fail "restarting node$victim"
    t0=$(now)
    while :; do   # keys routed to the victim again, once its retry timeout passes
        for (( i = 0; i < 100; i++ )); do echo "SET rk:$i x"; done | timeout 10 redis-cli -p "$SC_PROXY_PORT" >/dev/null
        n=$(timeout 5 redis-cli -p "${SC_PORTS[victim]}" DBSIZE)
        [ "${n:-0}" -gt 0 ] && break
        [ "$(since "$t0" | cut -d. -f1)" -lt 15 ] || fail "node$victim restarted on its port but no key reached it in 15 s"
        sleep 0.2
    done
    echo "failure: node$victim restarted on port ${SC_PORTS[victim]}; keys reach it again after $(since "$t0")s (DBSIZE $n)"
    probe "$victim"   # the restarted node is empty: its old keys miss
    [ "$R_DEAD_NIL" = "$dn" ] || fail "after the restart: $R_DEAD_NIL of node$victim's $dn keys miss, $R_DEAD_ERR errors"
    wait "$BG_PID"; BG_PID=
    passed "$out" tagged
    echo "failure: the load meanwhile (errors allowed; nutcracker may close a connection):"
    sed -n "/^throughput/,/^result/p" "$out" | grep -v "^latency"
}

# The read-through loader on every node: a miss loads from the origin once
# per node (singleflight per node); through the proxy a key has one node.
origin_calls() { # PORT
    timeout 5 redis-cli -p "$1" INFO loader | tr -d '\r' | sed -n 's/^loader_origin_calls://p'
}
phase_loader() {
    local i k before=() after total=0 per=() c pids=()
    k=$(( $(cat "$SC_DIR/hup.k" 2>/dev/null || echo 0) + 1 ))
    for i in "${!SC_PORTS[@]}"; do
        sc_node_conf "$i" "$k" "loader synthetic" "loader-synthetic-latency-ms 300" &&
            kill -HUP "${SC_PIDS[i]}" || fail "node$i: loader config"
    done
    for i in "${!SC_PORTS[@]}"; do
        until timeout 5 redis-cli -p "${SC_PORTS[i]}" CONFIG GET loader | grep -q synthetic; do sleep 0.05; done
        # the first miss starts the node's loader threads (slow under a
        # sanitizer): not while 40 clients queue behind it on the proxy's
        # one connection, past nutcracker's timeout
        timeout 10 redis-cli -p "${SC_PORTS[i]}" GET "lk:warm:$i" >/dev/null
        before[i]=$(origin_calls "${SC_PORTS[i]}")
    done
    # 40 clients miss one key at once through the proxy
    # (waited for by PID: a plain wait would wait for the nodes too)
    pids=()
    for (( c = 0; c < 40; c++ )); do timeout 10 redis-cli -p "$SC_PROXY_PORT" GET lk:one >"$SC_DIR/lk.$c" & pids+=($!); done
    wait "${pids[@]}"
    grep -qx 'key:lk:one:v.*' "$SC_DIR"/lk.* || fail "loader through the proxy: no loaded value"
    [ "$(cat "$SC_DIR"/lk.* | grep -c '^key:lk:one:v')" = 40 ] || fail "loader: not every client got the loaded value"
    for i in "${!SC_PORTS[@]}"; do
        after=$(origin_calls "${SC_PORTS[i]}")
        per[i]=$((after - before[i]))
        total=$((total + per[i]))
        before[i]=$after
    done
    echo "loader: 40 concurrent GETs of one missing key through the proxy: origin calls per node ${per[*]} (total $total)"
    [ "$total" = 1 ] || fail "loader: $total origin calls for one key through the proxy, expected 1"
    # the same key asked of every node directly, 20 clients each at once
    pids=()
    for i in "${!SC_PORTS[@]}"; do
        for (( c = 0; c < 20; c++ )); do timeout 10 redis-cli -p "${SC_PORTS[i]}" GET lk:one >/dev/null & pids+=($!); done
    done
    wait "${pids[@]}"
    total=0
    for i in "${!SC_PORTS[@]}"; do
        after=$(origin_calls "${SC_PORTS[i]}")
        per[i]=$((after - before[i]))
        total=$((total + per[i]))
    done
    echo "loader: 20 concurrent GETs at each node directly: origin calls per node ${per[*]} (the owner has it cached)"
    [ "$total" = $(( ${#SC_PORTS[@]} - 1 )) ] || fail "loader: $total origin calls, expected one per node that had not loaded it"
}

start() { sc_start_nodes "$1" || fail "starting nodes"; }

case $MODE in
    run)
        start 3
        sc_start_proxy || fail "starting nutcracker"
        sc_check || fail "cluster check"
        phase_load
        phase_multikey
        phase_hashtag
        phase_sighup
        phase_failure
        phase_loader
        echo "PASS"
        ;;
    no-eject)
        start 3
        sc_start_proxy || fail "starting nutcracker"
        out=$( (phase_failure) 2>&1 )
        rc=$?
        echo "$out"
        [ "$rc" != 0 ] && grep -q "the proxy did not eject it" <<<"$out" ||
            fail "control: with auto_eject_hosts false the ejection check must fail"
        echo "PASS: the ejection check failed with auto_eject_hosts: false, as it must"
        ;;
    wrong-value)
        start 2
        "$FAKE" --port-file "$SC_DIR/fake.port" --fault wrong-value --after 300 --every 7 >"$SC_DIR/fake.log" 2>&1 &
        FAKE_PID=$!
        for (( i = 0; i < 100; i++ )); do [ -s "$SC_DIR/fake.port" ] && break; sleep 0.05; done
        SC_PORTS[2]=$(cat "$SC_DIR/fake.port") SC_PIDS[2]=$FAKE_PID
        sc_start_proxy || fail "starting nutcracker"
        load "$SC_DIR/wv.out" --check tagged,liveness --duration 3 --requests 100000
        rc=$?
        cat "$SC_DIR/wv.out"
        [ "$rc" = 1 ] && grep -Eq '^  tagged +FAILED' "$SC_DIR/wv.out" ||
            fail "control: a node answering wrong values must fail the tagged checker through the proxy"
        echo "PASS: the tagged checker failed through the proxy, as it must"
        ;;
    *) echo "usage: $0 run|no-eject|wrong-value" >&2; exit 2 ;;
esac
