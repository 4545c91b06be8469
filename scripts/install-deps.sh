#!/usr/bin/env bash
# Installs the Debian 12 packages mmcache needs, only if some are missing.
# Usage: scripts/install-deps.sh [run|test|web]   (test adds the test tools;
# web, also part of test, the bug-lab demo page's: Chromium for its
# headless test, npm and the page's chart library, uPlot, from the npm
# registry into loadtest/web/node_modules at the version package-lock.json
# pins; and the client tests' ioredis, pinned by
# tests/integration/clients/package-lock.json)
set -euo pipefail
run_pkgs=(build-essential cmake pkg-config libuv1-dev libjemalloc-dev libcmocka-dev
          liburcu-dev libhiredis-dev libxxhash-dev libssl-dev redis-tools
          libhttp-parser-dev)   # the metrics endpoint's HTTP parser (server/metrics/)
test_pkgs=(redis-server clang libclang-rt-14-dev strace util-linux procps python3 valgrind gdb
           nutcracker    # tests/scaleout: twemproxy in front of several nodes
           curl prometheus prometheus-redis-exporter   # metrics tests: promtool, redis_exporter
           python3-redis   # tests/integration/test_clients.sh: redis-py's transactions
           gnuplot-nox   # loadtest/micro/run: docs/hands-on.md's plots
           memcached)    # loadtest/bench-memory: memory per key beside Redis's
web_pkgs=(chromium)
pkgs=("${run_pkgs[@]}")
[[ ${1:-run} == test ]] && pkgs+=("${test_pkgs[@]}" "${web_pkgs[@]}")
[[ ${1:-run} == web ]] && pkgs+=("${web_pkgs[@]}")
# npm: Debian's package unless an npm is already there (a Node.js install
# of its own would conflict with Debian's).
[[ ${1:-run} == test || ${1:-run} == web ]] && ! command -v npm >/dev/null && pkgs+=(npm)

# The demo page's chart library, pinned by loadtest/web/package-lock.json.
web_modules() {
  [[ ${1:-run} == test || ${1:-run} == web ]] || return 0
  local here
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [[ ! -f $here/loadtest/web/node_modules/uplot/dist/uPlot.iife.min.js ]]; then
    (cd "$here/loadtest/web" && npm ci --no-audit --no-fund >/dev/null) ||
      { echo "install-deps: npm ci in loadtest/web failed" >&2; return 1; }
  fi
  [[ ${1:-run} == test && ! -d $here/tests/integration/clients/node_modules/ioredis ]] || return 0
  (cd "$here/tests/integration/clients" && npm ci --no-audit --no-fund >/dev/null) ||
    { echo "install-deps: npm ci in tests/integration/clients failed" >&2; return 1; }
}

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then web_modules "${1:-run}"; exit; fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The redis-server package starts a system instance on 6379; tests start
# their own on free ports, so leave any system one alone.
web_modules "${1:-run}"
