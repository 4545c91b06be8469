# shellcheck shell=bash disable=SC2034  # SCENARIO_SECONDS, SERVER_ARGS, SYMPTOMS, SAN_SITES, NOTES: read by run-bug
# Bug 15 (misaligned 64-bit atomic): while the bug is on, each command is
# counted with an atomic add on a uint64_t that straddles a cache line: a
# split lock on x86-64. The symptom is throughput, so one server runs
# alternating phases of the same load, bug off (CONFIG SET inject-bug none)
# and bug on (CONFIG SET inject-bug 15), and the medians are compared: the
# on/off pairing within one run cancels most of a shared box's noise.
#
# Each phase records the load's throughput and the server's CPU time per
# command (/proc/PID/stat utime+stime over INFO's command count). Both
# are reported; the verdict rests on CPU per command, because on a shared
# 2-core box throughput swings by 2x with other people's load (correct
# runs measured on/off throughput ratios from 0.56 to 1.22), while CPU per
# command stays put (correct runs 0.88..1.25; with the bug 2.5..3.4), a
# split lock's stall being charged to the thread that takes it.
# SURFACED when the bug costs the server 40% of its speed (b15_slow), over
# 3 pairs of 0.75 s (after 2 pairs already when both pairs say so).
# GET/SET pipelined 32 deep, so the server's per-command cost, where the
# split lock sits, weighs more than the client's. The correct server runs
# the very same phases with inject-bug none in both.
# What bug 15's mechanism can produce (lib.sh, "Attribution").
SYMPTOMS=()      # its only symptom is the cost the scenario measures
SAN_SITES=''
SCENARIO_SECONDS=10
SERVER_ARGS=(--threads 2)
CLI_TIMEOUT=3        # each phase stays bounded when the box stalls
B15_PHASE_S=0.75
B15_PAIRS=3

# The server's user+system CPU time in clock ticks.
b15_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat" 2>/dev/null; }

# b15_phase SELECTION: one phase of load under SELECTION; prints "rps us_per_cmd".
b15_phase() {
    local sel=$1 c0 c1 k0 k1 rps
    [ "$(cli config set inject-bug "$sel")" = OK ] || { echo "0 0"; return 1; }
    c0=$(b15_cpu_ticks); k0=$(info_field total_commands_processed stats)
    bug_load --check liveness --clients 16 --threads 2 --pipeline 32 \
        --duration "$B15_PHASE_S" --ratio 1:1:0:0:0 --reply-timeout 3000 --connect-timeout 2000
    c1=$(b15_cpu_ticks); k1=$(info_field total_commands_processed stats)
    rps=$(load_rps)
    awk -v r="${rps:-0}" -v c=$((${c1:-0} - ${c0:-0})) -v k=$((${k1:-0} - ${k0:-0})) \
        -v hz="$(getconf CLK_TCK)" 'BEGIN { u = 0; if (k > 0) u = c / hz * 1e6 / k; printf "%d %.2f\n", r, u }'
}

# b15_slow CPU_ON CPU_OFF: true when the bug costs the server 40% of its
# speed: CPU time per command 1/0.6 = 1.67 times or more, i.e. what one
# core serves falls below 60%.
b15_slow() {
    awk -v c="$1" -v d="$2" 'BEGIN { exit !(d > 0 && c / d >= 1 / 0.6) }'
}

# the median of the numbers on stdin
# (printed with printf: awk's print would write 1169331.5 as 1.16933e+06)
b15_median() { sort -g | awk '{ v[NR] = $1 } END { m = 0; if (NR % 2) m = v[(NR + 1) / 2]; else if (NR) m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f\n", m }'; }

scenario() {
    bug_server || return 2
    local on_sel=none pair offs=() ons=() offcpu=() oncpu=() r c all_low=1
    [ "$MODE" = bugged ] && on_sel=$BUG
    for (( pair = 1; pair <= B15_PAIRS; pair++ )); do
        [ "$(remaining)" -gt 10 ] || break
        read -r r c < <(b15_phase none) || { srv_alive || return 0; }
        offs+=("$r"); offcpu+=("$c")
        read -r r c < <(b15_phase "$on_sel") || { srv_alive || return 0; }
        ons+=("$r"); oncpu+=("$c")
        b15_slow "${oncpu[-1]}" "${offcpu[-1]}" || all_low=0
        [ "$pair" -ge 2 ] && [ "$all_low" = 1 ] && { pair=$((pair + 1)); break; }
    done
    local mon moff con coff ratio cratio
    mon=$(printf "%s\n" "${ons[@]}" | b15_median)
    moff=$(printf "%s\n" "${offs[@]}" | b15_median)
    con=$(printf "%s\n" "${oncpu[@]}" | b15_median)
    coff=$(printf "%s\n" "${offcpu[@]}" | b15_median)
    ratio=$(awk -v a="$mon" -v b="$moff" 'BEGIN { r = 1; if (b > 0) r = a / b; printf "%.2f", r }')
    cratio=$(awk -v a="$con" -v b="$coff" 'BEGIN { r = 1; if (b > 0) r = a / b; printf "%.2f", r }')
    local what
    what="server CPU ${con} us per command with inject-bug $on_sel vs ${coff} without (x$cratio: a core serves $(awk -v r="$cratio" 'BEGIN { p = 0; if (r > 0) p = 100 / r; printf "%d", p }')% as many commands), load throughput $(commas "${mon%.*}") vs $(commas "${moff%.*}") ops/s, same run (ratio $ratio, medians of $((pair - 1)) pairs: on $(commas "$(echo "${ons[*]}" | tr ' ' '/')"), off $(commas "$(echo "${offs[*]}" | tr ' ' '/')"))"
    if [ ${#ons[@]} -gt 0 ] && b15_slow "$con" "$coff"; then
        surfaced "$what"
    else
        note "$what"
    fi
}
