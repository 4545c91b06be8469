# Sourced by the tests that run mmcache-load against a real server (after
# tests/integration/lib.sh): ld_server_kind KIND sets BIN and SERVER_ARGS
# for KIND mmcache ($MMCACHE_BIN, --threads 2) or redis (redis-server),
# and exits 77 (ctest: Skipped) when redis-server is not installed.
# LOAD: the mmcache-load under test.
# shellcheck shell=bash
# shellcheck disable=SC2034 # BIN, SERVER_ARGS, LOAD: for the sourcing test
LOAD=${MMCACHE_LOAD_BIN:-$ROOT/build/mmcache-load}
ld_server_kind() { # KIND
    case $1 in
    mmcache) BIN=${MMCACHE_BIN:-$ROOT/build/mmcache}; SERVER_ARGS=(--threads 2) ;;
    redis)   BIN=$(command -v redis-server) || {
                 echo "skipped: no redis-server (scripts/install-deps.sh test installs it)"; exit 77; }
             SERVER_ARGS=() ;;
    *) echo "unknown server kind $1" >&2; exit 2 ;;
    esac
}
