#!/usr/bin/env bash
# The whole test suite: unit, integration and stress tests in a normal
# build; the integration tests again against redis-server (what they claim
# of Redis's behaviour holds there; what is mmcache's own is Skipped); the
# suite again under ASan+UBSan and under TSan; then the parser fuzzer for a
# bounded time. Installs the Debian packages it needs first (redis-server
# included: a test that cannot run says Skipped, it never passes).
# Env: FUZZ_SECONDS (default 60), JOBS (default nproc).
set -uo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh test || exit 1
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-60}
passed=0 failed=0
failures=()
# Each step's output is kept so that the end of the run can repeat what
# failed: CI shows only the tail of the output, and the failing test's own
# lines are otherwise hundreds of lines above it.
logdir=$(mktemp -d) && trap 'rm -rf "$logdir"' EXIT
recaps=()
times=()   # "SECONDS name" per step: CI must stay under 30 minutes on 2 cores

step() {   # step NAME COMMAND...: run, count, remember failures and times
  local name=$1; shift
  local log="$logdir/$((passed + failed)).log" t0=$SECONDS
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  if ((PIPESTATUS[0] == 0)); then passed=$((passed + 1)); else
    failed=$((failed + 1)); failures+=("$name"); recaps+=("$log")
  fi
  times+=("$(printf '%5d s  %s' $((SECONDS - t0)) "$name")")
}

# recap LOG: the failing tests' own output from a ctest log (from each
# "***Failed"/"***Timeout"/"Exception"/"Not Run" line to the next test's
# status line: the lines that say what failed, up to 15, with the command,
# expected and got lines of check.h's replies, then its last 10 lines), or
# the log's last 25 lines if it names no failing test.
recap() {
  awk 'function dump(  i, s, m) { print "--- " head
         for (i = 0; i < k && m < 15; i++) if (line[i] ~ /ERROR|FAIL|LINE|[Aa]ssert|error:|runtime error|Sanitizer|: command `|^  (expected|got) /) { print line[i]; m++ }
         print "  [...last lines]"; s = k > 10 ? k - 10 : 0
         for (i = s; i < k; i++) print line[i]; n = 0; found = 1 }
       /^ *[0-9]+\/[0-9]+ Test +#[0-9]+:/ { if (n) dump()
         if ($0 ~ /\*\*\*(Failed|Timeout)|Exception|Not Run/) { n = 1; head = $0; k = 0 } next }
       /^ *Start +[0-9]+:/ || /tests passed, [0-9]+ tests failed/ { if (n) dump(); next }
       n && k < 5000 { line[k++] = $0 }
       END { if (n) dump(); exit !found }' "$1" || tail -n 25 "$1"
}

build() {  # build DIR CMAKE-ARGS...
  local dir=$1; shift
  cmake -S . -B "$dir" -DMMCACHE_WERROR=ON "$@" >/dev/null && cmake --build "$dir" -j"$jobs" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' ; return "${PIPESTATUS[0]}"
}

# TSan needs a fixed address-space layout on kernels with high ASLR entropy.
norand=()
setarch "$(uname -m)" -R true 2>/dev/null && norand=(setarch "$(uname -m)" -R)

step "build (release, -Werror)" build build -DCMAKE_BUILD_TYPE=Release
step "tests (release)" ctest --test-dir build --output-on-failure -j"$jobs" --timeout 300
step "integration tests against redis-server" env MMCACHE_TEST_AGAINST=redis \
  ctest --test-dir build --output-on-failure -j"$jobs" --timeout 300 -R '^integration/'

step "build (ASan+UBSan)" build build-asan -DCMAKE_BUILD_TYPE=Debug -DMMCACHE_SANITIZE=address
step "tests (ASan+UBSan)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 600

step "build (TSan)" build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMCACHE_SANITIZE=thread
step "tests (TSan)" env TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  "${norand[@]}" ctest --test-dir build-tsan --output-on-failure -j"$jobs" --timeout 900

# jobs goes in the environment: the inner bash does not see this shell's variables
# (without it, make -j ran every compile at once: load 80 on two cores).
step "build (fuzzer, clang)" env CC=clang jobs="$jobs" bash -c "$(declare -f build); build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMMCACHE_FUZZ=ON -DMMCACHE_SANITIZE=address"
# libFuzzer adds what it finds to the corpus dir: give it a scratch copy.
rm -rf build-fuzz/corpus && mkdir -p build-fuzz/corpus && cp tests/fuzz/corpus/* build-fuzz/corpus/
step "fuzz RESP parser (${fuzz_seconds}s)" build-fuzz/tests/fuzz/fuzz_resp \
  -max_total_time="$fuzz_seconds" -print_final_stats=1 build-fuzz/corpus

echo
printf '%s\n' "${times[@]}" "$(printf '%5d s  all' "$SECONDS")"
echo
for log in "${recaps[@]}"; do recap "$log"; done
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "test.sh: $passed passed, $failed failed"
((failed == 0))
