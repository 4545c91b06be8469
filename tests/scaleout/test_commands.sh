#!/usr/bin/env bash
# test_commands: what nutcracker (twemproxy) forwards to mmcache and what it
# refuses, checked by sending each command: one node behind the proxy, a
# second fresh node asked directly, the same commands in the same order.
# A forwarded command's reply through the proxy must be byte for byte the
# direct node's (errors included); a refused one closes the client's
# connection (twemproxy's way) and runs on neither. Prints the table that
# docs/scale-out.md shows (--table: only the table). Exit 77 (Skipped)
# without nutcracker or redis-cli.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
for tool in nutcracker redis-cli; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed (scripts/install-deps.sh test)"; exit 77; }
done
# shellcheck source=../../deploy/twemproxy/cluster.sh
source "$ROOT/deploy/twemproxy/cluster.sh"
trap 'it_stop_all; it_remove_logs; rm -rf "$SC_DIR"' EXIT
it_sanitizers "$SC_BIN"

# F: forwarded, R: refused, P: answered by the proxy itself (its reply, not
# the node's); in this order (later ones read what earlier wrote)
CMDS=(
    "F|PING" "F|SET k v" "F|GET k" "F|GET nokey" "F|SET k v EX 100" "F|TTL k" "F|PERSIST k"
    "F|SETNX k w" "F|GETSET k v2" "F|APPEND k xyz" "F|STRLEN k" "F|GETRANGE k 0 1"
    "F|SET n 10" "F|INCR n" "F|INCRBY n 5" "F|DECR n" "F|INCRBYFLOAT n 1.5" "F|INCR k"
    "F|MSET a 1 b 2" "F|MGET a b nokey" "F|EXISTS a b nokey" "F|DEL a b nokey" "F|TYPE k"
    "F|EXPIRE k 100" "F|PEXPIRE k 100000" "F|GETDEL n" "F|UNLINK nokey" "F|TOUCH k"
    "F|HSET h f v" "F|HGET h f" "F|HINCRBY h c 2" "F|HGETALL h" "F|HLEN h" "F|HDEL h c" "F|GET h"
    "F|LPUSH l x y z" "F|LRANGE l 0 -1" "F|RPOP l" "F|LLEN l" "F|LINDEX l 0"
    "F|SADD s 1 2 3" "F|SISMEMBER s 2" "F|SCARD s" "F|SMEMBERS s" "F|SREM s 1"
    "F|SINTER s s2" "F|SUNION s s2" "F|SDIFF s s2" "F|RPOPLPUSH l l2" "F|LMOVE l l2 LEFT RIGHT"
    "F|SET k"  "F|GETEX k PERSIST" "F|COPY k k4" "F|SMOVE s s2 2" "P|AUTH pw"
    "R|INFO" "R|CONFIG GET timeout" "R|MULTI" "R|EXEC" "R|WATCH k" "R|KEYS *" "R|SCAN 0"
    "R|DBSIZE" "R|FLUSHDB" "R|FLUSHALL" "R|SELECT 0" "R|CLIENT LIST" "R|COMMAND COUNT" "R|HELLO 2"
    "R|ACL WHOAMI" "R|TIME" "R|MSETNX c 1 d 2" "R|OBJECT ENCODING k" "R|MEMORY USAGE k" "R|RANDOMKEY"
    "R|RENAME k k3" "R|BRPOP l 0.1" "R|BLPOP l 0.1" "R|BLMOVE l l2 LEFT RIGHT 0.1"
    "R|SUBSCRIBE ch" "R|PUBLISH ch m" "R|DEBUG SLEEP 0" "R|SINTERCARD 1 s" "R|LMPOP 1 l LEFT"
)

sc_start_nodes 2 || exit 1
direct=${SC_PORTS[1]}
unset 'SC_PORTS[1]'   # the pool holds node 0 only
sc_start_proxy || exit 1

ask() { # PORT WORDS...: the reply as redis-cli prints it, and its exit status
    timeout 5 redis-cli --no-raw -p "$@" 2>&1
    echo "rc=$?"
}

table_only=0
[ "${1:-}" = --table ] && table_only=1
bad=0
rows=()
for entry in "${CMDS[@]}"; do
    want=${entry%%|*} cmd=${entry#*|}
    # shellcheck disable=SC2086 # the command's words
    got_proxy=$(ask "$SC_PROXY_PORT" $cmd)
    if [[ $got_proxy == *"Server closed the connection"* ]]; then
        seen=R same=-
    else
        seen=F
        # shellcheck disable=SC2086
        got_direct=$(ask "$direct" $cmd)
        if [ "$got_proxy" = "$got_direct" ]; then same=yes; else same=NO; fi
        [ "$want" = P ] && [ "$same" = NO ] && seen=P same="no: $(head -1 <<<"$got_proxy")"
    fi
    case $seen in
        F) what=forwarded ;;
        P) what="answered by the proxy" ;;
        R) what="refused: connection closed" ;;
    esac
    rows+=("| \`$cmd\` | $what | $same |")
    if [ "$seen" != "$want" ] || [ "$same" = NO ]; then
        bad=$((bad + 1))
        echo "MISMATCH: $cmd: expected $want, seen $seen (F forwarded, R refused, P answered by the proxy); same reply: $same" >&2
        [ "$same" != NO ] || printf '  through the proxy: %s\n  direct:            %s\n' "$got_proxy" "$got_direct" >&2
    fi
done

# A big value, and the connection after a refusal: a new one works
head -c 1048576 /dev/urandom | base64 -w0 >"$SC_DIR/big"
timeout 10 redis-cli -p "$SC_PROXY_PORT" -x SET big <"$SC_DIR/big" >/dev/null
timeout 10 redis-cli -p "$direct" -x SET big <"$SC_DIR/big" >/dev/null
p=$(timeout 10 redis-cli -p "$SC_PROXY_PORT" GET big | sha256sum)
d=$(timeout 10 redis-cli -p "$direct" GET big | sha256sum)
f=$( (cat "$SC_DIR/big"; echo) | sha256sum)
if [ "$p" = "$f" ] && [ "$d" = "$f" ]; then
    rows+=("| \`SET big <1.4 MB>\`, \`GET big\` | forwarded | yes (same bytes) |")
else
    echo "MISMATCH: a 1.4 MB value through the proxy" >&2; bad=$((bad + 1))
fi

if [ "$table_only" = 1 ]; then printf '%s\n' "${rows[@]}"; exit "$((bad > 0))"; fi
printf '%s\n' "| command | nutcracker $(nutcracker --version 2>&1 | sed -n 's/.*nutcracker-//p' | head -1) | same reply as mmcache directly |" "|---|---|---|" "${rows[@]}"
[ "$bad" = 0 ] || { echo "FAIL: $bad commands not as expected" >&2; exit 1; }
echo "PASS: ${#CMDS[@]} commands and a big value as expected"
