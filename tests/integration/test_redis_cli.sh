#!/usr/bin/env bash
# test_redis_cli: drive the server with the stock clients: redis-cli
# (arguments, --no-raw, -x, commands on stdin, --pipe, --scan) and
# redis-benchmark (-P 1 and -P 16), checking exact output and that the
# benchmark sees no errors; then a second server with a password and a
# user: redis-cli -a, --user/--pass, redis-benchmark -a.
#
# Server: $MMCACHE_BIN (default build/mmcache at the repository root), or
# redis-server under MMCACHE_TEST_AGAINST=redis. Loopback only; the server
# is stopped by PID and must exit 0 on SIGTERM.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

fails=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }

expect_eq() { # NAME GOT WANT
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1"
        printf '  want: %q\n  got:  %q\n' "$3" "$2"
    fi
}

cleanup() { it_stop_all; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${MMCACHE_TEST_AGAINST:-}" = redis ]; then
    # one database, as in mmcache, so that SELECT 1 fails the same way
    it_start redis "${REDIS_SERVER_BIN:-redis-server}" --databases 1 || exit 1
else
    BIN=${MMCACHE_BIN:-$ROOT/build/mmcache}
    [ -x "$BIN" ] || { echo "no server binary at $BIN (set MMCACHE_BIN)"; exit 1; }
    it_start mmcache "$BIN" || exit 1
fi
P=$IT_PORT
SRV_PID=$IT_PID
cli() { timeout 20 redis-cli -h 127.0.0.1 -p "$P" "$@"; }

# --- commands as arguments (raw output when stdout is not a tty) ---
expect_eq "PING" "$(cli ping)" "PONG"
expect_eq "SET" "$(cli set foo bar)" "OK"
expect_eq "GET" "$(cli get foo)" "bar"
expect_eq "GET missing (raw: empty line)" "$(cli get nosuch)" ""
expect_eq "INCR" "$(cli incr n)" "1"
expect_eq "MSET" "$(cli mset a 1 b 2)" "OK"
expect_eq "MGET" "$(cli mget a nosuch b)" "1

2"
expect_eq "value with spaces" "$(cli set sp 'a b  c' >/dev/null; cli get sp)" "a b  c"
expect_eq "error reply" "$(cli nosuchcmd x 2>&1)" \
    "ERR unknown command 'nosuchcmd', with args beginning with: 'x' "

# --- --no-raw: typed output as in a terminal ---
expect_eq "--no-raw GET" "$(cli --no-raw get foo)" '"bar"'
expect_eq "--no-raw GET missing" "$(cli --no-raw get nosuch)" "(nil)"
expect_eq "--no-raw INCR" "$(cli --no-raw incr n)" "(integer) 2"
expect_eq "--no-raw MGET" "$(cli --no-raw mget a nosuch b)" '1) "1"
2) (nil)
3) "2"'
expect_eq "--no-raw error" "$(cli --no-raw get 2>&1)" \
    "(error) ERR wrong number of arguments for 'get' command"
expect_eq "--no-raw TTL" "$(cli --no-raw ttl foo)" "(integer) -1"
expect_eq "--no-raw SELECT 1" "$(cli --no-raw select 1 2>&1)" \
    "(error) ERR DB index is out of range"

# --- -x: last argument from stdin, binary safe ---
expect_eq "-x SET" "$(printf 'hello\0world\r\n' | cli -x set blob)" "OK"
expect_eq "-x STRLEN" "$(cli strlen blob)" "13"
expect_eq "-x GETRANGE" "$(cli getrange blob 6 10)" "world"

# --- an interactive-ish session: commands on stdin, one per line ---
session=$(printf '%s\n' 'set s 10' 'incrby s 5' 'get s' 'set q "x y"' 'strlen q' \
    'expire s 100' 'ttl s' 'del s q' 'exists s q' | cli)
expect_eq "stdin session" "$session" "OK
15
15
OK
3
1
100
2
0"

# --- --pipe: mass insertion of raw RESP ---
gen_resp() {
    local i
    for (( i = 0; i < 1000; i++ )); do
        printf '*3\r\n$3\r\nSET\r\n$%d\r\npipe:%d\r\n$%d\r\nv%d\r\n' \
            $(( 5 + ${#i} )) "$i" $(( 1 + ${#i} )) "$i"
    done
}
pipe_out=$(gen_resp | cli --pipe 2>&1)
if grep -q "errors: 0, replies: 1000" <<<"$pipe_out"; then
    pass "--pipe 1000 SETs"
else
    fail "--pipe 1000 SETs"; echo "$pipe_out" | sed 's/^/  /'
fi
expect_eq "--pipe result" "$(cli get pipe:999)" "v999"
expect_eq "--scan --pattern" "$(cli --scan --pattern 'pipe:*' | sort -u | wc -l)" "1000"
expect_eq "DBSIZE" "$(cli dbsize)" "$(( 1000 + 6 ))"   # foo n a b sp blob
if cli info server | grep -q '^redis_version:'; then pass "INFO server"; else fail "INFO server"; fi

# --- help: redis-cli builds it from COMMAND DOCS (colours stripped) ---
help_of() { cli help "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | tr -d '\r'; }
h=$(help_of set)
if grep -q '^  SET key value \[NX|XX\] \[GET\] \[EX seconds|' <<<"$h" &&
   grep -Eq '^  summary: [A-Za-z]' <<<"$h" && grep -q '^  group: string$' <<<"$h"; then
    pass "help set: usage and summary"
else
    fail "help set: usage and summary"; echo "$h" | sed 's/^/  /'
fi
h=$(help_of config get)
if grep -q '^  CONFIG GET parameter \[parameter \.\.\.\]' <<<"$h" &&
   grep -Eq '^  summary: [A-Za-z]' <<<"$h"; then
    pass "help config get: a subcommand's help"
else
    fail "help config get: a subcommand's help"; echo "$h" | sed 's/^/  /'
fi
h=$(help_of @hash)
if grep -q '^  HSET key field value \[field value \.\.\.\]' <<<"$h" && ! grep -q '(null)' <<<"$h"; then
    pass "help @hash: the group's commands"
else
    fail "help @hash: the group's commands"; echo "$h" | sed 's/^/  /'
fi

# --- --hotkeys: SCAN and OBJECT FREQ under an LFU policy ---
cli config set maxmemory-policy allkeys-lfu lfu-log-factor 0 >/dev/null
for i in 1 2 3 4 5; do cli set "cold:$i" v >/dev/null; done
cli set hot:key v >/dev/null
for i in $(seq 30); do echo "GET hot:key"; done | cli >/dev/null
hk=$(cli --hotkeys 2>&1)
if grep -Eq 'hot key found with counter: 3[0-9]'$'\t''keyname: "?hot:key"?' <<<"$hk" &&
   ! grep -q 'ERR' <<<"$hk"; then
    pass "--hotkeys under allkeys-lfu"
else
    fail "--hotkeys under allkeys-lfu"; echo "$hk" | sed 's/^/  /'
fi
cli del hot:key cold:1 cold:2 cold:3 cold:4 cold:5 >/dev/null
cli config set maxmemory-policy allkeys-lru lfu-log-factor 10 >/dev/null

# --- redis-benchmark: no errors, exact INCR total ---
cli del counter:__rand_int__ >/dev/null
bench() { # extra args...
    local out rc lines
    out=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$P" -t ping,set,get,incr,mset \
        -n 20000 -c 20 -q "$@" 2>&1)
    rc=$?
    lines=$(grep -c 'requests per second' <<<"$out")
    # 6 tests: PING_INLINE, PING_MBULK, SET, GET, INCR, MSET (10 keys)
    if [ "$rc" -eq 0 ] && [ "$lines" -eq 6 ] && ! grep -qiE 'error|err |warning' <<<"$out"; then
        pass "redis-benchmark $*"
    else
        fail "redis-benchmark $* (rc=$rc, $lines result lines)"
        echo "$out" | tr '\r' '\n' | grep -v '^$' | tail -20 | sed 's/^/  /'
    fi
}
bench
expect_eq "INCR total after -P 1" "$(cli get counter:__rand_int__)" "20000"
bench -P 16
expect_eq "INCR total after -P 16" "$(cli get counter:__rand_int__)" "40000"
expect_eq "server alive" "$(cli ping)" "PONG"

it_stop "$SRV_PID" 10
expect_eq "exit status after SIGTERM" "$IT_STATUS" "0"

# --- with a password: redis-cli -a / --user --pass, redis-benchmark -a ---
PW='pw with spaces & symbols'
if [ "${MMCACHE_TEST_AGAINST:-}" = redis ]; then
    it_start redis "${REDIS_SERVER_BIN:-redis-server}" --requirepass "$PW" || exit 1
else
    it_start mmcache "$BIN" --requirepass "$PW" || exit 1
fi
P=$IT_PORT
SRV_PID=$IT_PID
expect_eq "no password: NOAUTH" "$(cli ping 2>&1)" "NOAUTH Authentication required."
expect_eq "-a wrong" "$(cli -a nope --no-auth-warning ping 2>&1)" \
    "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.
NOAUTH Authentication required."
expect_eq "-a" "$(cli -a "$PW" --no-auth-warning ping)" "PONG"
expect_eq "-a SET" "$(cli -a "$PW" --no-auth-warning set pk pv)" "OK"
expect_eq "ACL SETUSER" "$(cli -a "$PW" --no-auth-warning acl setuser app on '>app pw' \
    '~app:*' +@read +@write -@dangerous)" "OK"
expect_eq "--user --pass" "$(cli --user app --pass 'app pw' --no-auth-warning set app:1 v)" "OK"
expect_eq "--user --pass: key refused" \
    "$(cli --user app --pass 'app pw' --no-auth-warning get pk 2>&1)" \
    "NOPERM this user has no permissions to access one of the keys used as arguments"
expect_eq "--user --pass: command refused" \
    "$(cli --user app --pass 'app pw' --no-auth-warning keys '*' 2>&1)" \
    "NOPERM this user has no permissions to run the 'keys' command"
expect_eq "--user --pass GET" "$(cli --user app --pass 'app pw' --no-auth-warning get app:1)" "v"
expect_eq "CLIENT LIST user=" "$(cli -a "$PW" --no-auth-warning client list | grep -c ' user=default ')" "1"
out=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$P" -a "$PW" -t set,get -n 20000 -c 20 \
    -P 16 -q 2>&1)
if [ "$(grep -c 'requests per second' <<<"$out")" -eq 2 ] &&
    ! grep -qiE 'error|noauth|warning' <<<"$out"; then
    pass "redis-benchmark -a"
else
    fail "redis-benchmark -a"; echo "$out" | tr '\r' '\n' | grep -v '^$' | tail -5 | sed 's/^/  /'
fi
out=$(timeout 60 redis-benchmark -h 127.0.0.1 -p "$P" -t get -n 100 -c 1 -q 2>&1)
if grep -q 'NOAUTH' <<<"$out"; then
    pass "redis-benchmark without -a: NOAUTH"
else
    fail "redis-benchmark without -a: NOAUTH"; echo "$out" | tail -3 | sed 's/^/  /'
fi
it_stop "$SRV_PID" 10
expect_eq "exit status after SIGTERM (password)" "$IT_STATUS" "0"
trap - EXIT
if [ "$fails" -ne 0 ]; then
    echo "--- server log ($IT_LOG) ---"; cat "$IT_LOG"
    echo "$fails check(s) failed"
    exit 1
fi
it_remove_logs
echo "all checks passed"
