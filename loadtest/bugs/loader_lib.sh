# shellcheck shell=bash
# loadtest/bugs/loader_lib.sh: what the loader scenarios (05 06 07 19 20 25)
# share. Sourced by those scenario files after lib.sh. The driver,
# loader_driver.py, GETs keys the cache does not hold and checks each answer
# against what the origin gives for that key.
LOADER_DRIVER="$HERE/bugs/loader_driver.py"

# loader_drive MODE [driver args...]: run the driver against the server;
# its output lands in $DRIVE_OUT (a file).
DRIVE_N=0
loader_drive() {
    local mode=$1; shift
    DRIVE_N=$((DRIVE_N + 1))
    DRIVE_OUT=$WORK/drive.$DRIVE_N.txt
    timeout "$(( $(remaining) + 2 ))" python3 "$LOADER_DRIVER" "$mode" --port "$SRV_PORT" "$@" \
        >"$DRIVE_OUT" 2>&1
}

# drive_field NAME: a number from the driver's summary line.
drive_field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$DRIVE_OUT" | head -1; }
drive_example() { sed -n 's/^example: //p' "$DRIVE_OUT" | head -1; }

# loader_judge WHAT: surfaced when the driver saw wrong answers (WHAT names
# the clients: "waiters"), else a note with what it saw.
loader_judge() {
    local what=$1 total ok bad kinds ex
    total=$(drive_field answers) ok=$(drive_field ok) kinds=$(drive_field kinds)
    if [ -z "$total" ]; then
        srv_check_death && return 0
        if ! CLI_TIMEOUT=3 cli ping | grep -q PONG; then
            observe hang "the server stopped answering: no reply to the $what nor to PING within 3 s"
        else
            note "driver: $(tail -1 "$DRIVE_OUT")"
        fi
        return 0
    fi
    bad=$(( total - ok + $(drive_field lost) ))
    ex=$(drive_example)
    if [ "$bad" -gt 0 ]; then
        surfaced "$(commas "$bad") of $(commas "$total") $what got a wrong answer ($kinds)${ex:+, e.g. $ex}"
    else
        note "$(commas "$total") $what answered, every value right"
    fi
}

# loader_waiters [driver args]: many waiters per load, every value checked.
loader_waiters() {
    loader_drive waiters "$@"
    loader_judge "GETs of loading keys"
}

# loader_threads_running: how many threads named mmc-loader the server has.
loader_threads_running() {
    local n=0 f
    for f in /proc/"$SRV_PID"/task/*/comm; do
        [ "$(cat "$f" 2>/dev/null)" = mmc-loader ] && n=$((n + 1))
    done
    echo "$n"
}

# loader_fresh_bursts CHECK [driver args]: up to LOADER_ROUNDS fresh servers
# (each: the first misses arrive together from many connections), calling
# the function CHECK after each burst; stops at the first that surfaces.
# LOADER_BESIDE, when set, names a function run after each start to start
# load beside the burst (background PIDs into BESIDE_PIDS: stopped after).
loader_fresh_bursts() {
    local check=$1 round; shift
    for (( round = 1; round <= ${LOADER_ROUNDS:-5}; round++ )); do
        bug_server || return 2
        BESIDE_PIDS=()
        [ -n "${LOADER_BESIDE:-}" ] && "$LOADER_BESIDE"
        loader_drive "${LOADER_MODE:-burst}" "$@" --tag "r$round"
        [ ${#BESIDE_PIDS[@]} -gt 0 ] && { kill "${BESIDE_PIDS[@]}" 2>/dev/null; wait "${BESIDE_PIDS[@]}" 2>/dev/null; }
        "$check" "$round"
        is_surfaced && return 0
        srv_check_death && return 0
        [ "$(remaining)" -gt 12 ] || return 0
        read_tried
        bug_stop 10
        observe_end "fresh server $round"
        is_surfaced && return 0
    done
}
