#!/usr/bin/env bash
# Build mmcache (installing its Debian packages if needed) and start it.
# Every argument goes to the server: ./start.sh --port 7000 --threads 4
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh run
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target mmcache >/dev/null
exec build/mmcache "$@"
