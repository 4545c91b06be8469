#!/usr/bin/env bash
# Installs the Debian 12 packages mmcache needs, only if some are missing.
# Usage: scripts/install-deps.sh [run|test]   (test adds the test tools)
set -euo pipefail
run_pkgs=(build-essential cmake pkg-config libuv1-dev libjemalloc-dev libcmocka-dev
          liburcu-dev libhiredis-dev libxxhash-dev libssl-dev redis-tools)
test_pkgs=(redis-server clang libclang-rt-14-dev strace util-linux procps python3
           nutcracker)   # tests/scaleout: twemproxy in front of several nodes
pkgs=("${run_pkgs[@]}")
[[ ${1:-run} == test ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

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
