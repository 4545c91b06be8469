# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 18 (closing from the receiver): the read path closes a connection at
# EOF or reset without going through conn_close's CLOSING state, so the
# write path (a reply still in flight, or queued for the end-of-pass flush)
# closes it again: libuv's assertion `!uv__is_closing(handle)` aborts the
# server (or the conn is freed twice). The scenario: connect/disconnect
# churn (close_churn.py): each client pipelines 12 GETs of a 512 KiB value
# (6 MiB of replies, more than the kernel's 4 MiB send buffer can take, so
# a write is always left in flight), reads the first byte and goes away
# (a reset) with the rest pending.
# What bug 18's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=(crash asan)
SAN_SITES='server/net/conn\.c'
SCENARIO_SECONDS=4
SERVER_ARGS=(--threads 2)

scenario() {
    bug_server || return 2
    local out conns what
    python3 "$HERE/bugs/close_churn.py" --port "$SRV_PORT" --pid "$SRV_PID" \
        --seconds "$(drive_seconds)" --clients 6 --value-size 524288 --gets 12 \
        >"$WORK/churn.txt" 2>&1
    out=$(tail -1 "$WORK/churn.txt")
    conns=$(sed -n 's/.*connections=\([0-9]*\).*/\1/p' <<<"$out")
    sleep 0.2
    if srv_check_death; then
        what=$(grep -v "INJECTED BUG" "$SRV_LOG" | grep -m1 -oE "uv_close: Assertion .*failed\.|free\(\): [a-z ]+|double free[a-z ]*")
        END_CONTEXT="of close churn, ${conns:-?} connections reset with replies pending${what:+: $what}"
        return 0
    fi
    if [ "$(CLI_TIMEOUT=3 cli ping)" = PONG ]; then
        note "$(commas "${conns:-0}") connections reset with replies pending, server alive and answering"
    else
        surfaced "no reply to PING after the close churn"
    fi
    return 0
}
