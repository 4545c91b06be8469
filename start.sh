#!/usr/bin/env bash
# Build mmcache (installing its Debian packages if needed) and start it.
# Every argument goes to the server, a config file first if you have one:
#   ./start.sh --port 7000 --threads 4
#   ./start.sh my.conf --port 7000       (defaults < my.conf < flags)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
(
  cd "$here"
  scripts/install-deps.sh run
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" --target mmcache mmcache-load >/dev/null
)
# Run from the caller's directory, so a relative config path means what
# the caller meant.
exec "$here/build/mmcache" "$@"
