#!/usr/bin/env bash
# Build mmcache (installing its Debian packages if needed) and start it.
# Every argument goes to the server, a config file first if you have one:
#   ./start.sh --port 7000 --threads 4
#   ./start.sh my.conf --port 7000       (defaults < my.conf < flags)
# It also builds what `ctest --test-dir build` runs, so that the tests can
# be run right after it (the server first: a test that does not compile
# does not keep the server from starting).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
(
  cd "$here"
  scripts/install-deps.sh run
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" --target mmcache mmcache-load >/dev/null
  # The test programs: built the first time, and again only when a source
  # changed since they last all built. Asking make each time would cost a
  # start with nothing to do ~13 s on a busy 2-core machine (its walk of
  # ~150 targets) where the two targets above take ~1.3 s; this find
  # takes milliseconds. The stamp is taken before the build, so a file
  # changed during it is seen next time.
  stamp=build/.start-all-built
  changed=$(find . \( -path './build*' -o -path ./.git -o -path '*/node_modules' \) -prune -o \
    -newer "$stamp" \( -name '*.[ch]' -o -name '*.def' -o -name '*.cmake' \
    -o -name CMakeLists.txt \) -print -quit 2>/dev/null || echo "no stamp")
  if [[ ! -e $stamp || -n $changed ]]; then
    touch build/.start-all-building
    if cmake --build build -j"$(nproc)" >/dev/null; then
      mv build/.start-all-building "$stamp"
    else
      echo "start.sh: building the tests failed (above); starting the server anyway" >&2
    fi
  fi
)
# Run from the caller's directory, so a relative config path means what
# the caller meant.
exec "$here/build/mmcache" "$@"
