# shellcheck shell=bash
# loadtest/bugs/lib.sh: what every bug scenario (loadtest/bugs/NN.sh) uses.
# Sourced by loadtest/run-bug, which sets, before sourcing a scenario:
#
#   BUG         the bug id (1..25) the scenario is about
#   MODE        bugged (the server runs with --inject-bug=BUG) or correct
#               (the same scenario against the correct code: must not surface)
#   AMPLIFY     yes | no (bug-amplify)
#   TIME_LIMIT  seconds the whole scenario may take (default 30)
#   BIN, LOAD   the server and mmcache-load binaries
#   WORK        a scratch directory, removed afterwards
#
# A scenario file defines `scenario` (a function) and may set
# SCENARIO_SECONDS (how long it drives load when nothing breaks, default 8)
# and SERVER_ARGS (extra server flags, an array). `scenario` starts the
# server with bug_server, drives it, and calls `surfaced "evidence"` when
# it sees the bug's symptom, or `note "what it saw"` otherwise. Evidence is
# what a user would see: counts from the load, the signal the server died
# of, the seconds without a reply. Never a fixed string that cannot fail.
#
# After `scenario` returns, run-bug (bug_finish) adds what applies to every
# scenario: the server dying of a signal, not stopping on SIGTERM, and what
# a sanitizer build printed.
#
# Attribution (bug-lab rule 8). A scenario says which of those symptoms its
# bug's mechanism can produce, as its catalogue entry lists them:
#
#   SYMPTOMS=(crash nostop hang tsan asan leak)   # any of these words
#   SAN_SITES='cache/'      # a sanitizer report counts only when one of its
#                           # frames is in a file matching this (ERE)
#
#   crash   the server died of a signal (SIGSEGV, SIGABRT, ...)
#   nostop  SIGTERM could not finish the graceful stop (the stop guard's
#           hard exit, workers left running, SIGKILL needed)
#   hang    requests not answered while the server lives
#   tsan    a ThreadSanitizer report; asan: AddressSanitizer or UBSan;
#           leak: LeakSanitizer
#
# `observe CLASS "evidence"` records one: evidence of the bug when CLASS is
# listed (and, for a sanitizer, its frames name SAN_SITES), otherwise an
# unrelated failure, reported as such ("UNRELATED FAILURE ...: server died
# of SIGFPE (not a symptom of bug 2)"), never as the bug. What a scenario's
# own checker measures for its bug (lost INCRs, a torn config) is
# `surfaced` directly. Controls and the correct server list nothing: any
# such failure there is unrelated to a bug and counts as a false verdict.

# ---- state ------------------------------------------------------------------
VERDICT=""          # SURFACED once surfaced was called
EVIDENCE=()         # what was seen, joined with "; "
UNRELATED=()        # failures the bug's mechanism cannot produce (observe)
SYMPTOMS=()         # set by the scenario: see "Attribution" above
SAN_SITES=''        # set by the scenario: see "Attribution" above
DIFF_SAN=()         # run-bug --differential: the sanitizer classes of SYMPTOMS
SCANNED_LOGS=" "    # server logs whose sanitizer reports were observed
NOTES=()            # what was seen when nothing surfaced
INCONCLUSIVE=()     # checks the machine did not let run: NO VERDICT, why
SRV_PID="" SRV_PORT="" SRV_LOG="" SRV_STATUS="" SRV_STOPPED=""
SRV_DIED=""         # "signal 11 (SIGSEGV)" once known
SRV_OBSERVED=""     # the SRV_PID whose end observe_end has recorded
END_CONTEXT=""      # the scenario's words for what ran when the server ended
TRIED=""            # the site's tried counter, last read from INFO bugs
T0_NS=$(date +%s%N)

# ---- time -------------------------------------------------------------------
elapsed() { echo $(( ($(date +%s%N) - T0_NS) / 1000000 )); }          # ms
elapsed_s() { awk -v ms="$(elapsed)" 'BEGIN { printf "%.1f", ms / 1000 }'; }
remaining() {  # whole seconds left before TIME_LIMIT, at least 1
    local r=$(( TIME_LIMIT - $(elapsed) / 1000 ))
    [ "$r" -ge 1 ] && echo "$r" || echo 1
}
# How long to drive load: SCENARIO_SECONDS, within what is left (keeps 5 s
# for stopping the server and reading INFO).
drive_seconds() {
    local want=${SCENARIO_SECONDS:-8} left
    left=$(( $(remaining) - 5 ))
    [ "$left" -lt 1 ] && left=1
    [ "$want" -gt "$left" ] && want=$left
    echo "$want"
}

# A set of N keys PREFIX0..PREFIX<N-1> that nothing changes, and KEYS
# over it (bugs 8 and 14): keys_seed PREFIX N sets them.
keys_seed() {
    local i
    for (( i = 0; i < $2; i++ )); do echo "SET $1$i v$i"; done | cli >/dev/null
}

# keys__judge PREFIX N [census]: reads redis-cli's raw output of KEYS
# replies, each followed by a line "---", and judges every complete reply
# (one cut off at the end is not): "total missing duplicates foreign"
# (foreign: a name that is not one of the set). Without census: prints
# "bad REPLY# total missing duplicates foreign FIRST-FOREIGN" at the first
# wrong reply and stops, or "ok REPLIES" at the end; with census: the
# first reply's four figures.
keys__judge() {
    awk -v p="$1" -v n="$2" -v census="${3:-}" '
        function judge(   k, d, f, m, i, ff) {
            d = 0; f = 0; m = 0; ff = ""
            for (k in c) { if (c[k] > 1) d += c[k] - 1
                if (index(k, p) != 1 || substr(k, length(p) + 1) !~ /^[0-9]+$/) {
                    f++; if (ff == "") ff = k } }
            for (i = 0; i < n; i++) if (!((p i) in c)) m++
            if (census) { print t, m, d, f; done = 1; exit }
            if (m || d || f) {
                gsub(/[^ -~]/, "?", ff)
                printf "bad %d %d %d %d %d %s\n", r, t, m, d, f, substr(ff, 1, 40)
                done = 1; exit }
        }
        $0 == "---" { r++; judge(); t = 0; split("", c); next }
        $0 != "" { t++; c[$0]++ }
        END { if (!done && !census) print "ok", r + 0 }'
}

# keys_census PREFIX N: one KEYS 'PREFIX*', judged: "total missing
# duplicates foreign".
keys_census() {
    { cli keys "$1*"; echo ---; } | keys__judge "$1" "$2" census
}

# keys_watch PREFIX N SECS: one connection that runs KEYS 'PREFIX*' back to
# back for SECS seconds and judges every reply, not a sample (an ECHO ---
# after each KEYS marks where its reply ends; redis-cli prints raw lines
# when its output is not a terminal). Why every reply: on a loaded box the
# server runs few KEYS, and a census that samples one in many missed the
# ones that raced (bug 8, the matrix of 2026-12-06).
keys_watch() {
    yes "KEYS $1*"$'\n'"ECHO ---" |
        timeout "$3" redis-cli -h 127.0.0.1 -p "$SRV_PORT" 2>/dev/null |
        keys__judge "$1" "$2"
}

# Load in rounds over the scenario's drive time, so that a failure shows
# (and ends the scenario) after its round rather than at the end:
#   rounds_begin; while next_round; do bug_load ... --duration "$ROUND_SECS"; ... done
# next_round [SECS] starts round ROUND of ROUND_SECS (at most SECS, default
# 2) seconds; false once the drive time is used up.
rounds_begin() { ROUND=0 ROUND_LEFT=$(drive_seconds); }
next_round() {
    local most=${1:-2}
    [ "$ROUND_LEFT" -gt 0 ] || return 1
    ROUND_SECS=$most
    [ "$ROUND_SECS" -gt "$ROUND_LEFT" ] && ROUND_SECS=$ROUND_LEFT
    ROUND_LEFT=$((ROUND_LEFT - ROUND_SECS))
    ROUND=$((ROUND + 1))
}

# ---- verdict ----------------------------------------------------------------
surfaced() { VERDICT=SURFACED; EVIDENCE+=("$*"); }
note() { NOTES+=("$*"); }
# inconclusive WHY: a check that could not be made (the server never got to
# run for its bound): no verdict from it, and the run says NO VERDICT
# unless something else surfaced or failed.
inconclusive() { INCONCLUSIVE+=("$*"); }
# observe CLASS EVIDENCE: a symptom of this bug when the scenario lists
# CLASS in SYMPTOMS (and MODE is bugged), else an unrelated failure.
observe() {
    local class=$1 w; shift
    # A differential removes the race, not the bug's code: a sanitizer
    # report at the site (bug 13's copied mutex unlocked by another copy,
    # in one thread too) is the code's, noted, not a verdict.
    for w in "${DIFF_SAN[@]}"; do
        [ "$w" = "$class" ] && { note "$* (the bug's code, which a differential keeps)"; return 0; }
    done
    if [ "$MODE" = bugged ]; then
        for w in "${SYMPTOMS[@]}"; do
            [ "$w" = "$class" ] && { surfaced "$*"; return 0; }
        done
    fi
    UNRELATED+=("$* (not a symptom of bug $BUG$([ "$MODE" = bugged ] || printf ': correct server'))")
}
is_surfaced() { [ "$VERDICT" = SURFACED ]; }

# 1234567 -> 1,234,567
commas() { printf "%s" "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/;ta'; }

# ---- sanitizers --------------------------------------------------------------
# bug_sanitizers: the sanitizer options for this run, whatever the caller's
# environment says. An inherited TSAN_OPTIONS=halt_on_error=1 (test.sh
# sets it for the whole TSan suite) once stopped bug 13's server at
# start-up: its copied shard mutex is unlocked where TSan saw no lock, and
# whether the two stack copies share an address depends on the size of the
# process environment (issue 14).
#   bugged server: a report goes to the log and the server runs on, so the
#     scenario reaches its end and the report is evidence beside the rest
#     (bug_finish). TSan's deadlock detector stays off, as for the correct
#     server (tests/integration/lib.sh, IT_SAN_CORRECT).
#   correct server: a report halts it, as in the test suite; the scenario
#     then sees the server die, a false verdict that fails the run.
#   everything else run-bug starts (mmcache-load, the drivers): correct
#     code, so the correct server's options, exported.
# Sets SRV_PREFIX (and IT_PREFIX, the same), the command prefix that
# bug_server and bug_server_bg start the server with, and SAN_FACTOR: how
# many times slower a sanitizer build may answer (TSan 5, ASan 2, else 1).
# bug_load scales the load's reply and connect timeouts by it: under TSan
# beside two CPU-bound processes, control 24's GETs once waited over 3 s
# for a reply, a false liveness verdict; a real hang stays a hang.
bug_sanitizers() {
    SAN_FACTOR=1
    if ldd "$BIN" 2>/dev/null | grep -q libtsan; then SAN_FACTOR=5
    elif ldd "$BIN" 2>/dev/null | grep -q libasan; then SAN_FACTOR=2
    fi
    it_san_export
    if [ "$MODE" = bugged ]; then
        it_sanitizers "$BIN" "TSAN_OPTIONS=halt_on_error=0 detect_deadlocks=0 report_signal_unsafe=0" \
            "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1" \
            "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0"
    else
        it_sanitizers "$BIN"
    fi
    SRV_PREFIX=("${IT_PREFIX[@]}")
}

# ---- the server -------------------------------------------------------------
# bug_server [extra server args...]: start BIN with this run's selection on
# a free port. Sets SRV_PID, SRV_PORT, SRV_LOG. The scenarios switch bugs and
# origins live from 127.0.0.1: enable-bug-lab is local by default, and
# enable-protected-configs local lets them CONFIG SET loader.
bug_server() {
    local sel=none
    [ "$MODE" = bugged ] && sel=$BUG
    IT_START_BOUND_S=${IT_START_BOUND_S:-10}
    if ! it_start mmcache "$BIN" --inject-bug="$sel" --bug-amplify "$AMPLIFY" \
            --enable-protected-configs local "${SERVER_ARGS[@]}" "$@"; then
        echo "run-bug: the server did not start" >&2
        return 2
    fi
    SRV_PID=$IT_PID SRV_PORT=$IT_PORT SRV_LOG=$IT_LOG SRV_STOPPED="" SRV_DIED=""
}

srv_alive() { [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; }

sig_name() { local n; n=$(kill -l "$1" 2>/dev/null) && echo "SIG$n" || echo "signal $1"; }

# The server is gone: collect how it ended (only this shell, its parent,
# can) and record it. Returns 0 when it died (of a signal or an exit).
srv_check_death() {
    [ -n "$SRV_PID" ] && [ -z "$SRV_STOPPED" ] || return 1
    srv_alive && return 1
    wait "$SRV_PID" 2>/dev/null
    SRV_STATUS=$?
    SRV_STOPPED=died
    if [ "$SRV_STATUS" -gt 128 ]; then
        SRV_DIED="$(sig_name $((SRV_STATUS - 128)))"
    else
        SRV_DIED="exit status $SRV_STATUS"
    fi
    return 0
}

# bug_stop [BOUND_S]: SIGTERM and wait up to BOUND_S (default 10), then
# SIGKILL. Sets SRV_STATUS; returns 1 when it needed SIGKILL.
bug_stop() {
    local bound=${1:-10} i
    [ -n "$SRV_PID" ] && [ -z "$SRV_STOPPED" ] || return 0
    srv_check_death && return 0
    kill -TERM "$SRV_PID" 2>/dev/null
    for (( i = 0; i < bound * 20; i++ )); do
        srv_alive || break
        sleep 0.05
    done
    if srv_alive; then
        kill -KILL "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
        SRV_STATUS=$? SRV_STOPPED=killed
        return 1
    fi
    wait "$SRV_PID" 2>/dev/null
    SRV_STATUS=$? SRV_STOPPED=term
    return 0
}

cli() { timeout "${CLI_TIMEOUT:-5}" redis-cli -h 127.0.0.1 -p "$SRV_PORT" "$@" 2>&1; }

# info_field NAME [SECTION]: one INFO field ("" when absent or no answer).
info_field() {
    cli info "${2:-everything}" | tr -d '\r' | awk -F: -v k="$1" '$1 == k { sub(/^[^:]*:/, ""); print; exit }'
}

# Read how often the bugged path ran (INFO bugs, bug_N:...,tried=N,...).
read_tried() {
    local t
    srv_alive || return 0
    t=$(cli info bugs | tr -d '\r' | sed -n "s/^bug_${BUG}:.*tried=\([0-9]*\).*/\1/p")
    [ -n "$t" ] && TRIED=$t
    return 0
}

# ---- the load ---------------------------------------------------------------
LOAD_N=0
# bug_load [mmcache-load args...]: run the load against the server; the
# output lands in $LOAD_OUT (a file). Returns mmcache-load's exit code.
# --reply-timeout and --connect-timeout (and their defaults, 5000 and
# 3000 ms) are scaled by SAN_FACTOR (see bug_sanitizers).
bug_load() {
    local args=() reply="" connect=""
    while [ $# -gt 0 ]; do
        case $1 in
        --reply-timeout|--connect-timeout)
            [ "$1" = --reply-timeout ] && reply=1
            [ "$1" = --connect-timeout ] && connect=1
            args+=("$1" "$(( $2 * ${SAN_FACTOR:-1} ))"); shift 2 ;;
        *) args+=("$1"); shift ;;
        esac
    done
    # mmcache-load's defaults (5000 and 3000 ms) scale too.
    [ -n "$reply" ] || [ "${SAN_FACTOR:-1}" -eq 1 ] || args+=(--reply-timeout $(( 5000 * SAN_FACTOR )))
    [ -n "$connect" ] || [ "${SAN_FACTOR:-1}" -eq 1 ] || args+=(--connect-timeout $(( 3000 * SAN_FACTOR )))
    LOAD_N=$((LOAD_N + 1))
    LOAD_OUT=$WORK/load.$LOAD_N.txt
    "$LOAD" --port "$SRV_PORT" --server-pid "$SRV_PID" --no-progress "${args[@]}" >"$LOAD_OUT" 2>&1
}

# load_failures [FILE]: each failed checker's verdict line, trimmed
# ("counter FAILED 282 of 2000 acknowledged INCRs lost, ...").
load_failures() {
    awk '/^  [a-z]+ +FAILED/ { sub(/^ +/, ""); gsub(/  +/, " "); print }' "${1:-$LOAD_OUT}"
}
# load_first_failure [FILE]: the first listed failure of the first failed checker.
load_first_failure() {
    awk '/^  [a-z]+ +FAILED/ { f = 1; next } f && /^ +- / { sub(/^ +- /, ""); print; exit }' "${1:-$LOAD_OUT}"
}
# load_skipped: "CHECKER SKIPPED reason", one line for each checker that
# any load of this run skipped (mmcache-load: "  config     SKIPPED  why").
load_skipped() {
    [ "$LOAD_N" -gt 0 ] || return 0
    awk '/^  [a-z]+ +SKIPPED  / { sub(/^ +/, ""); sub(/ +SKIPPED +/, " SKIPPED "); print }' \
        "$WORK"/load.*.txt 2>/dev/null | sort -u
}
# load_field KEY [FILE]: a number from the summary line "throughput: N ops in ...".
load_ops() { awk '/^throughput:/ { print $2; exit }' "${1:-$LOAD_OUT}"; }
load_rps() { awk '/^throughput:/ { for (i = 1; i <= NF; i++) if ($i == "=") { print $(i + 1); exit } }' "${1:-$LOAD_OUT}"; }

# ---- the end ------------------------------------------------------------------
# sanitizer_reports LOG: one line per kind of report a sanitizer build
# printed into LOG: "CLASS<TAB>SITE<TAB>COUNT<TAB>KIND at FILE:LINE", where
# CLASS is tsan, asan (ASan or UBSan) or leak, and SITE is 1 when one of
# the report's frames names a file matching SAN_SITES. FILE:LINE is that
# frame (else the report's first frame in our code).
sanitizer_reports() {
    [ -n "$1" ] && [ -f "$1" ] || return 0
    awk -v sites="$SAN_SITES" '
        function flush() {
            if (kind == "") return
            w = site_at != "" ? site_at : first
            key = cls "\t" (site_at != "" ? 1 : 0) "\t" kind (w != "" ? " at " w : "")
            if (!(key in n)) order[++nk] = key
            n[key]++
            kind = ""
        }
        function start(c, k) { flush(); cls = c; kind = k; first = ""; site_at = "" }
        /WARNING: ThreadSanitizer: / { k = $0; sub(/.*WARNING: /, "", k); sub(/ \(pid=.*/, "", k); sub(/ on 0x.*/, "", k); start("tsan", k); next }
        /ERROR: AddressSanitizer: / { k = $0; sub(/.*ERROR: /, "", k); sub(/ on (address|unknown address)? ?0x.*/, "", k); sub(/ on 0x.*/, "", k); start("asan", k); next }
        /ERROR: LeakSanitizer: / { k = $0; sub(/.*ERROR: /, "", k); start("leak", k); next }
        / runtime error: / { k = $0; sub(/.* runtime error: /, "", k); start("asan", "UBSan: " k)
                             if (match($0, /(server|cache|config|proto)\/[a-z_\/]+\.[ch]:[0-9]+/)) {
                                 first = substr($0, RSTART, RLENGTH)
                                 if (sites != "" && first ~ sites) site_at = first }
                             flush(); next }
        /^SUMMARY: / { flush(); next }
        kind != "" {
            while (match($0, /(server|cache|config|proto)\/[a-z_\/]+\.[ch]:[0-9]+/)) {
                f = substr($0, RSTART, RLENGTH)
                if (first == "") first = f
                if (site_at == "" && sites != "" && f ~ sites) site_at = f
                $0 = substr($0, RSTART + RLENGTH)
            }
        }
        END { flush(); for (i = 1; i <= nk; i++) { split(order[i], p, "\t"); printf "%s\t%s\t%d\t%s\n", p[1], p[2], n[order[i]], p[3] } }
    ' "$1"
}

# observe_sanitizers [LOG]: observe each kind of report in LOG (default the
# server's), once per log. Sets SANITIZER to the first, for --result.
observe_sanitizers() {
    local log=${1:-$SRV_LOG} cls site cnt what times
    [ -n "$log" ] || return 0
    case $SCANNED_LOGS in *" $log "*) return 0 ;; esac
    SCANNED_LOGS+="$log "
    while IFS=$'\t' read -r cls site cnt what; do
        [ -n "$cls" ] || continue
        what=${what#ThreadSanitizer: }
        what=${what#AddressSanitizer: }
        case $cls in tsan) what="TSan: $what" ;; asan) case $what in UBSan:*) ;; *) what="ASan: $what" ;; esac ;; leak) what="LSan: $what" ;; esac
        times=""; [ "$cnt" -gt 1 ] && times=" ($cnt reports)"
        SANITIZER=${SANITIZER:-$what}
        if [ "$site" = 1 ]; then
            observe "$cls" "$what$times"
        else
            observe "$cls-elsewhere" "$what$times, no frame in ${SAN_SITES:-the site}"
        fi
    done < <(sanitizer_reports "$log")
}

# How the stop guard ended the server, from its log line (server/lab/
# stopguard.c): "8.0 s after SIGTERM: the main thread was ...".
stop_guard_line() {
    [ -n "$SRV_LOG" ] || return 0
    grep -m1 -o 'Could not stop gracefully within .*' "$SRV_LOG" 2>/dev/null |
        sed -E 's/^Could not stop gracefully within ([0-9.]+ s) of ([A-Z]+): /\2 could not finish the graceful stop; the stop guard ended the server \1 after it: /; s/\. Exiting now, without freeing memory$//; s/ \(injected bugs: [^)]*\)//'
}

# The teardown's report (server/lab/teardown.c, stopguard.c): after a bug
# that corrupts the cache's structures ran, a crash while freeing them at
# exit is logged ("Freeing the cache at exit crashed (SIGSEGV). ..."), and
# so is a free that blocks ("... at exit is blocked: the main thread used
# 0% of a CPU ..."); the process exits with status 1. Prints "crash
# SIGSEGV", "blocked 0%", or nothing.
teardown_end() {
    [ -n "$SRV_LOG" ] || return 0
    grep -m1 -oE 'Freeing the cache at exit (crashed \(SIG[A-Z]+\)|is blocked: the main thread used [0-9]+%)' \
        "$SRV_LOG" 2>/dev/null |
        sed -E 's/.*crashed \((SIG[A-Z]+)\)/crash \1/; s/.*is blocked: the main thread used ([0-9]+%)/blocked \1/'
}

# observe_end [CONTEXT]: how the current server ended (it died, or it was
# stopped by bug_stop or srv_term_wait), observed as crash, nostop, or an
# unrelated exit. An exit that a sanitizer report explains (TSan's 66,
# ASan's 1) is left to that report.
observe_end() {
    local ctx=${1:+ ($1)} guard teardown
    [ -n "$SRV_PID" ] && [ "$SRV_OBSERVED" != "$SRV_PID" ] || return 0
    SRV_OBSERVED=$SRV_PID
    guard=$(stop_guard_line) teardown=$(teardown_end)
    if [ -n "$teardown" ] && [ "$SRV_STATUS" = 1 ]; then
        case $teardown in
        crash*) observe crash "server crashed (${teardown#crash }) freeing its cache at exit$ctx" ;;
        *) observe nostop "freeing its cache at exit blocked (the main thread at ${teardown#blocked } of a CPU): the stop guard ended the server$ctx" ;;
        esac
        observe_sanitizers
        return 0
    fi
    case $SRV_STOPPED in
    died)
        if [ "$SRV_STATUS" -gt 128 ]; then
            observe crash "server died of $SRV_DIED after $(elapsed_s) s$ctx"
        elif [ "$SRV_STATUS" -ne 0 ] && [ -z "$(sanitizer_reports "$SRV_LOG")" ]; then
            observe exit "server exited with status $SRV_STATUS after $(elapsed_s) s$ctx"
        fi ;;
    term)
        if [ -n "$guard" ]; then
            observe nostop "$guard$ctx"
        elif [ "$SRV_STATUS" -eq 143 ] && ! grep -q "mmcache is starting" "$SRV_LOG" 2>/dev/null; then
            # SIGTERM's default action: it came before main() set up the
            # stop guard, whose start precedes the first log line. A server
            # the machine had not let run yet (wait.sh), not a crash.
            note "SIGTERM ended the server before it logged its first line: it had not got to run"
        elif [ "$SRV_STATUS" -gt 128 ]; then
            observe crash "server died of $(sig_name $((SRV_STATUS - 128))) while stopping$ctx"
        elif grep -q "Exiting with workers still running" "$SRV_LOG" 2>/dev/null; then
            observe nostop "SIGTERM: workers still running after the graceful stop's 10 s bound$ctx"
        elif [ "$SRV_STATUS" -ne 0 ] && [ -z "$(sanitizer_reports "$SRV_LOG")" ]; then
            observe exit "server exited with status $SRV_STATUS on SIGTERM$ctx"
        fi ;;
    killed)
        observe nostop "server still running 10 s after SIGTERM: SIGKILL (the stop guard failed too: a defect)$ctx" ;;
    esac
    observe_sanitizers
}

bug_finish() {
    read_tried
    if ! srv_check_death && [ -n "$SRV_PID" ] && [ -z "$SRV_STOPPED" ]; then
        bug_stop 10
    fi
    observe_end "${END_CONTEXT:-}"
    return 0
}

# ---- appended by srvlife (bugs 1, 10, 12, 18): start-up and shutdown -------
# bug_server_bg [extra server args...]: like bug_server, but does not wait
# for PING, for a start-up that may never complete. Sets SRV_PID, SRV_PORT,
# SRV_LOG; run-bug's cleanup stops it like any other.
bug_server_bg() {
    local sel=none
    [ "$MODE" = bugged ] && sel=$BUG
    SRV_PORT=$(it_free_port) || return 2
    SRV_LOG=$(mktemp "${TMPDIR:-/tmp}/mmcache-it-XXXXXX")
    IT_LOGS+=("$SRV_LOG")
    "${SRV_PREFIX[@]}" "$BIN" --port "$SRV_PORT" --bind 127.0.0.1 --inject-bug="$sel" --bug-amplify "$AMPLIFY" \
        --enable-protected-configs local "${SERVER_ARGS[@]}" "$@" >>"$SRV_LOG" 2>&1 </dev/null &
    SRV_PID=$!
    IT_PIDS+=("$SRV_PID")
    SRV_STOPPED="" SRV_DIED=""
}

# srv_wait_ping and the probes: waits that count server time (wait.sh).
# shellcheck source=wait.sh
. "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

# srv_term_wait BOUND_S: SIGTERM the server and wait up to BOUND_S for it
# to exit. 0 when it exited (SRV_STATUS, SRV_STOPPED=term, TERM_MS = how
# long it took), 1 when it still runs (left running: bug_stop 0 kills it).
srv_term_wait() {
    local bound_ms=$(( ${1:-5} * 1000 )) t0
    srv_check_death && return 0
    t0=$(elapsed)
    TERM_AT=$(elapsed_s)
    kill -TERM "$SRV_PID" 2>/dev/null
    while [ $(( $(elapsed) - t0 )) -lt "$bound_ms" ]; do
        if ! srv_alive; then
            wait "$SRV_PID" 2>/dev/null
            SRV_STATUS=$? SRV_STOPPED=term
            TERM_MS=$(( $(elapsed) - t0 ))
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# thread_cpu_share PID [SECONDS]: the share of one CPU the process's main
# thread used over SECONDS (default 1), as a percentage ("98").
thread_cpu_share() {
    local pid=$1 s=${2:-1} a b hz
    hz=$(getconf CLK_TCK)
    a=$(awk '{ print $14 + $15 }' "/proc/$pid/task/$pid/stat" 2>/dev/null) || return 1
    sleep "$s"
    b=$(awk '{ print $14 + $15 }' "/proc/$pid/task/$pid/stat" 2>/dev/null) || return 1
    awk -v a="$a" -v b="$b" -v hz="$hz" -v s="$s" 'BEGIN { p = (b - a) * 100 / hz / s; if (p > 100) p = 100; printf "%d", p }'
}
