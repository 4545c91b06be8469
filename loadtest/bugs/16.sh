# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Control 16 (RWMutex read during write): the shard lock is a reader-writer
# lock used correctly (KEYS, SCAN and GETs that need no LRU move share it;
# every write, a GET's LRU move included, takes it alone). Everything must
# stay correct: mmcache-load with every checker but stats (this script's
# own KEYS and SCAN connections would be counted) and the config writer,
# GET-heavy on filled keys so reads share the lock, while KEYS and SCAN
# must list 1000 never-changing keys exactly once each time.
# What bug 16's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=()      # a control: nothing it does is a symptom
SAN_SITES=''
SCENARIO_SECONDS=6
SERVER_ARGS=(--threads 2 --shards 8)
STABLE=1000

keys_check() {
    { if [ "$1" = scan ]; then
          cli --scan --pattern 'bug16:*'
      else
          cli keys 'bug16:*'
      fi; } | awk -v n="$STABLE" '
        { t++; c[$0]++ }
        END {
            for (k in c) { if (c[k] > 1) d += c[k] - 1
                if (k !~ /^bug16:[0-9]+$/) f++ }
            m = 0; for (i = 0; i < n; i++) if (!(("bug16:" i) in c)) m++
            print t + 0, m, d + 0, f + 0 }'
}

scenario() {
    bug_server || return 2
    local i
    for (( i = 0; i < STABLE; i++ )); do echo "SET bug16:$i v$i"; done | cli >/dev/null
    # KEYS and SCAN in the background (alternating) until the load ends.
    ( n=0
      while [ ! -e "$WORK/load16.done" ] && srv_alive; do
          how=keys; [ $((n % 2)) = 1 ] && how=scan
          read -r tot miss dup for <<<"$(keys_check "$how")"
          [ -e "$WORK/load16.done" ] || srv_alive || break
          [ -n "$tot" ] || break
          n=$((n + 1))
          if [ "$miss" -gt 0 ] || { [ "$how" = keys ] && [ "$dup" -gt 0 ]; } || [ "$for" -gt 0 ]; then
              echo "bad ${how^^} #$n returned $tot names for $STABLE unchanging keys: $miss missing, $dup duplicates, $for garbage"
              exit
          fi
      done
      echo "ok $n" ) >"$WORK/keys16.txt" 2>/dev/null &
    local kp=$!
    bug_load --check tagged,counter,monotonic,config,liveness --config-writer \
        --config-interval-ms 5 --clients 32 --threads 2 --pipeline 8 --fill \
        --keyspace 5000 --ratio 70:15:10:3:2 --duration "$(drive_seconds)"
    touch "$WORK/load16.done"
    wait "$kp"
    local fail res
    fail=$(load_failures | head -1)
    [ -n "$fail" ] && surfaced "${fail}$(f=$(load_first_failure); [ -n "$f" ] && printf ': %s' "$f")"
    res=$(cat "$WORK/keys16.txt" 2>/dev/null)
    case $res in bad\ *) surfaced "${res#bad }" ;; esac
    is_surfaced || note "$(commas "$(load_ops)") requests checked (tagged, counter, monotonic, config), ${res#ok } KEYS/SCAN complete"
}
