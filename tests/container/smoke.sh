#!/usr/bin/env bash
# Container smoke test: builds the image from the repository's Dockerfile,
# runs it, and drives it as a user would: redis-cli, redis-benchmark, flags
# after the image name, a mounted config, the health check, SIGHUP reload,
# stop with the image's STOPSIGNAL and exit code 0. The server runs as the
# README says to expose it, with --requirepass (clients use -a); one step
# checks that a client that does not AUTH is refused, another that without
# a password protected mode refuses a client from 127.0.0.2. One PASS/FAIL
# line per step; it stops at the first FAIL and exits 0 only when every
# step passed.
#
# Usage: tests/container/smoke.sh          (from anywhere; may run as root)
#
# Engine: docker when `docker info` works, otherwise buildah (installed with
# apt-get when missing and we are root), isolation chroot: the server is
# then a process on this machine, on the host's network, so it is started
# on a free loopback port (--port P --bind 127.0.0.1) and signalled by the
# PID found under its `buildah run` process.
# Base image: debian:bookworm-slim, pulled; where no registry is reachable
# it is made from Debian's archive by $MMCACHE_BASE_IMAGE_TOOL (default
# ../shared/tools/local-base-image.sh beside the repository).
# Needs redis-cli and redis-benchmark (redis-tools), ss (iproute2), timeout,
# python3 (a client bound to 127.0.0.2).
#
# Environment: MMCACHE_IMAGE (tag, default mmcache),
#   MMCACHE_SMOKE_ENGINE (docker | buildah: skip detection),
#   MMCACHE_SMOKE_BUILD_TIMEOUT (seconds, default 1200).

# The steps and their helpers are called through run_step "$2", which
# ShellCheck 0.9 does not follow (SC2317: "unreachable").
# shellcheck disable=SC2317
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
image=${MMCACHE_IMAGE:-mmcache}
base=docker.io/library/debian:bookworm-slim
base_tool=${MMCACHE_BASE_IMAGE_TOOL:-$root/../shared/tools/local-base-image.sh}
build_timeout=${MMCACHE_SMOKE_BUILD_TIMEOUT:-1200}
name=mmcache-smoke-$$
export BUILDAH_ISOLATION=chroot   # no OCI runtime needed, host network

work=$(mktemp -d -t mmcache-smoke.XXXXXX)
out=$work/out          # what the current step ran printed, shown on FAIL
log=$work/server.log   # the server's stderr (buildah)
engine='' ctr='' run_pid='' srv_pid='' port='' built=0 nsteps=0 step='' detail=''
entrypoint=() healthcheck=()
pw="smoke-$$-$RANDOM-pw"             # the server's --requirepass
auth=(-a "$pw" --no-auth-warning)    # what cli passes (emptied to go without)
started=$SECONDS

# ---------------------------------------------------------------- helpers

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else echo "need root to run: $*" >&2; return 1
  fi
}

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive timeout 600 \
      apt-get install -y -qq --no-install-recommends "$@"
}

# A TCP port nothing on this machine listens on.
free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 40000))
    [[ -z $(ss -Htln "sport = :$p") ]] && { echo "$p"; return 0; }
  done
  return 1
}

cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$port" "${auth[@]}" "$@" 2>&1 | tr -d '\r'; }
# What a client bound to 127.0.0.2 (not local, for protected mode) reads.
remote_read() {
  timeout 10 python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5); print(s.recv(4096).decode(errors="replace").strip())' "$port" 2>&1
}
info_field() { cli info server | sed -n "s/^$1://p"; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.1
  done
}

# Every descendant of a PID, parents first.
descendants() {
  local c
  for c in $(ps -o pid= --ppid "$1"); do
    echo "$c"
    descendants "$c"
  done
}

# The image's config, one value per line (a Go template over it).
image_cfg() {
  case $engine in
    docker) docker image inspect -f "{{with .Config}}$1{{end}}" "$image" ;;
    buildah) buildah inspect --type image -f "{{with .Docker.Config}}$1{{end}}" "$image" ;;
  esac
}

# The server as the image starts it (ENTRYPOINT), with these flags, once.
server_once() {
  case $engine in
    docker) timeout 60 docker run --rm "$image" "$@" ;;
    buildah) timeout 60 buildah run "$ctr" -- "${entrypoint[@]}" "$@" ;;
  esac
}

# A command inside the image as its user; -e NAME=VALUE first if given.
in_image() {
  local env=()
  [[ ${1:-} == -e ]] && { env=(-e "$2"); shift 2; }
  case $engine in
    docker)
      if [[ -n $srv_pid ]]; then timeout 30 docker exec "${env[@]}" "$name" "$@"
      else timeout 60 docker run --rm "${env[@]}" --entrypoint "$1" "$image" "${@:2}"
      fi ;;
    buildah) timeout 30 buildah run "${env[@]}" "$ctr" -- "$@" ;;
  esac
}

# start_server [-v HOSTDIR:CTRDIR] FLAGS...: start it in the background on
# a fresh free port, with --requirepass (unless auth is empty), and wait
# until it answers PING (an unprotected one: until it answers at all).
start_server() {
  local vol=()
  [[ ${1:-} == -v ]] && { vol=(-v "$2"); shift 2; }
  ((${#auth[@]})) && set -- "$@" --requirepass "$pw"
  port=$(free_port) || { detail="no free port"; return 1; }
  case $engine in
    docker)
      srv_pid=$name   # from here on, cleanup removes it
      timeout 60 docker run -d --name "$name" -p "127.0.0.1:$port:6379" "${vol[@]}" \
        "$image" "$@" >"$out" 2>&1 || { detail="docker run failed"; return 1; }
      ;;
    buildah)
      : >"$log"
      buildah run --network host "${vol[@]}" "$ctr" -- "${entrypoint[@]}" \
        --port "$port" --bind 127.0.0.1 "$@" >"$log" 2>&1 &
      run_pid=$! ;;
  esac
  local deadline=$((SECONDS + 20))
  until [[ $(cli ping) == PONG || (${#auth[@]} == 0 && $(cli ping) == DENIED*) ]]; do
    if [[ $engine == buildah ]] && run_gone; then
      detail="the server exited before it answered"
    elif ((SECONDS >= deadline)); then
      detail="no PONG on 127.0.0.1:$port within 20 s"
    else
      sleep 0.1
      continue
    fi
    [[ $engine == buildah ]] && find_server
    server_log >"$out" 2>&1
    return 1
  done
  [[ $engine == docker ]] && return 0
  find_server && return 0
  detail="no ${entrypoint[0]} process under buildah run (pid $run_pid)"
  return 1
}

# buildah: the server is the process under `buildah run` whose argv[0] is
# the image's entrypoint (buildah-chroot-exec sits between them).
find_server() {
  local p a0
  for p in $(descendants "$run_pid"); do
    IFS= read -r -d '' a0 <"/proc/$p/cmdline" 2>/dev/null || continue
    [[ $a0 == "${entrypoint[0]}" ]] && { srv_pid=$p; return 0; }
  done
  return 1
}

run_gone() { ! kill -0 "$run_pid" 2>/dev/null; }
srv_gone() { ! kill -0 "$srv_pid" 2>/dev/null; }
generation_is() { [[ $(info_field config_generation) == "$1" ]]; }
docker_healthy() { [[ $(docker inspect -f '{{.State.Health.Status}}' "$name") == healthy ]]; }

server_signal() {
  case $engine in
    docker) timeout 30 docker kill -s "$1" "$name" >/dev/null ;;
    buildah) kill -s "$1" "$srv_pid" ;;
  esac
}

server_log() {
  case $engine in
    docker) timeout 30 docker logs "$name" 2>&1 ;;
    buildah) cat "$log" ;;
  esac
}

# stop_server: the image's STOPSIGNAL, then the exit code in $exit_code.
stop_server() {
  exit_code=''
  case $engine in
    docker)
      timeout 30 docker stop -t 10 "$name" >/dev/null || return 1
      exit_code=$(timeout 30 docker inspect -f '{{.State.ExitCode}}' "$name") || return 1
      server_log >"$log"
      timeout 30 docker rm "$name" >/dev/null ;;
    buildah)
      local sig
      sig=$(image_cfg '{{.StopSignal}}')
      kill -s "${sig:-SIGTERM}" "$srv_pid" || return 1
      wait_for 15 run_gone || return 1
      wait "$run_pid"
      exit_code=$? ;;
  esac
  srv_pid='' run_pid=''
}

cleanup() {
  [[ $engine == buildah && -z $srv_pid && -n $run_pid ]] && find_server
  if [[ $engine == docker && -n $srv_pid ]]; then
    timeout 30 docker rm -f "$name" >/dev/null 2>&1
  elif [[ -n $srv_pid ]] && kill -0 "$srv_pid" 2>/dev/null; then
    kill -TERM "$srv_pid" 2>/dev/null
    wait_for 10 srv_gone || kill -KILL "$srv_pid" 2>/dev/null
  fi
  [[ -n $run_pid ]] && kill -0 "$run_pid" 2>/dev/null && kill -TERM "$run_pid" 2>/dev/null
  [[ -n $ctr ]] && timeout 60 buildah rm "$ctr" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

image_size() {
  case $engine in
    docker)
      local b
      b=$(docker image inspect -f '{{.Size}}' "$1" 2>/dev/null) &&
        echo "$((b / 1000000)) MB" ;;
    buildah) buildah images --format '{{.Size}}' "$1" 2>/dev/null | head -1 ;;
  esac
}

finish() {
  if ((built)); then
    echo "image size: $image $(image_size "$image") (base debian:bookworm-slim $(image_size "$base"))"
  fi
  if (($1 == 0)); then
    echo "smoke: PASS, $nsteps steps with $engine in $((SECONDS - started)) s"
  else
    echo "smoke: FAIL at step '$step' after $((SECONDS - started)) s"
  fi
  exit "$1"
}

# run_step NAME FUNCTION: the function sets $detail and returns 0 or not.
run_step() {
  step=$1 detail=''
  : >"$out"
  local t=$SECONDS
  if "$2"; then
    nsteps=$((nsteps + 1))
    printf 'PASS  %-16s %s (%d s)\n' "$step" "$detail" $((SECONDS - t))
  else
    printf 'FAIL  %-16s %s\n' "$step" "$detail"
    [[ -s $out ]] && tail -n 25 "$out" | sed 's/^/      | /'
    finish 1
  fi
}

# ------------------------------------------------------------------ steps

step_engine() {
  engine=${MMCACHE_SMOKE_ENGINE:-}
  if [[ -z $engine ]]; then
    if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
      engine=docker
    else
      engine=buildah
    fi
  fi
  if [[ $engine == buildah ]] && ! command -v buildah >/dev/null; then
    apt_install buildah >"$out" 2>&1 || { detail="no docker daemon, and buildah would not install"; return 1; }
  fi
  case $engine in
    docker) detail="docker ($(docker version -f '{{.Server.Version}}' 2>/dev/null))" ;;
    buildah) detail="buildah $(buildah --version | awk '{print $3}'), isolation chroot (no docker daemon)" ;;
    *) detail="MMCACHE_SMOKE_ENGINE must be docker or buildah"; return 1 ;;
  esac
}

step_tools() {
  local need=()
  command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null || need+=(redis-tools)
  command -v ss >/dev/null || need+=(iproute2)
  command -v python3 >/dev/null || need+=(python3)
  if ((${#need[@]})); then
    apt_install "${need[@]}" >"$out" 2>&1 || { detail="missing ${need[*]}"; return 1; }
  fi
  detail="$(redis-cli --version)"
}

step_base() {
  local has pull
  case $engine in
    docker) has=(docker image inspect "$base") pull=(docker pull "$base") ;;
    buildah) has=(buildah inspect --type image "$base") pull=(buildah pull "$base") ;;
  esac
  if timeout 60 "${has[@]}" >/dev/null 2>&1; then
    detail="$base present"
    return 0
  fi
  if timeout 300 "${pull[@]}" >"$out" 2>&1; then
    detail="$base pulled"
    return 0
  fi
  [[ -x $base_tool ]] || { detail="pull failed and no $base_tool"; return 1; }
  timeout 1200 "$base_tool" >>"$out" 2>&1 || { detail="pull failed, $base_tool failed"; return 1; }
  if [[ $engine == docker ]]; then   # the tool fills buildah's store
    timeout 600 buildah push "$base" "docker-daemon:$base" >>"$out" 2>&1 ||
      { detail="could not copy $base into docker"; return 1; }
  fi
  detail="pull failed (no registry); made locally by $(basename "$base_tool")"
}

step_build() {
  local cmd
  case $engine in
    docker) cmd=(docker build -t "$image" "$root") ;;
    # docker format: the OCI format has no HEALTHCHECK. --layers: a warm
    # run reuses the cached steps. --force-rm: a failed step leaves no
    # working container behind.
    buildah) cmd=(buildah bud --format docker --layers --force-rm -t "$image" -f "$root/Dockerfile" "$root") ;;
  esac
  timeout "$build_timeout" "${cmd[@]}" >"$out" 2>&1 || { detail="${cmd[*]} failed"; return 1; }
  built=1
  detail="${cmd[0]} ${cmd[1]} -t $image"
}

step_inspect() {
  mapfile -d '' -t entrypoint < <(image_cfg '{{range .Entrypoint}}{{.}}{{"\x00"}}{{end}}')
  mapfile -d '' -t healthcheck < <(image_cfg '{{with .Healthcheck}}{{range .Test}}{{.}}{{"\x00"}}{{end}}{{end}}')
  local user ports stop cmd
  # shellcheck disable=SC2016 # a Go template, not shell
  user=$(image_cfg '{{.User}}') ports=$(image_cfg '{{range $p, $v := .ExposedPorts}}{{$p}}{{end}}')
  stop=$(image_cfg '{{.StopSignal}}') cmd=$(image_cfg '{{range .Cmd}}{{.}} {{end}}')
  {
    echo "entrypoint: ${entrypoint[*]}"; echo "user: $user"; echo "ports: $ports"
    echo "stopsignal: $stop"; echo "cmd: $cmd"; echo "healthcheck: ${healthcheck[*]}"
  } >"$out"
  [[ ${entrypoint[0]:-} == /usr/local/bin/mmcache && ${entrypoint[1]:-} == /etc/mmcache/mmcache.conf ]] ||
    { detail="ENTRYPOINT is not [mmcache, /etc/mmcache/mmcache.conf]"; return 1; }
  [[ -n $user && $user != root && $user != 0 ]] || { detail="runs as root"; return 1; }
  [[ $ports == *6379/tcp* ]] || { detail="6379 not exposed"; return 1; }
  [[ $stop == SIGTERM ]] || { detail="STOPSIGNAL is '$stop'"; return 1; }
  [[ -z ${cmd// /} ]] || { detail="CMD is not empty: $cmd"; return 1; }
  [[ ${healthcheck[0]:-} == CMD ]] || { detail="no HEALTHCHECK (CMD form)"; return 1; }
  detail="entrypoint ${entrypoint[*]}, user $user, expose $ports, $stop, healthcheck"
}

step_container() {
  [[ $engine == docker ]] && { detail="docker run per step"; return 0; }
  ctr=$(timeout 60 buildah from --name "$name" "$image" 2>"$out") || { detail="buildah from failed"; return 1; }
  detail="buildah from $image: $ctr"
}

step_config() {
  in_image cat /etc/mmcache/mmcache.conf >"$out" 2>&1 || { detail="cannot read /etc/mmcache/mmcache.conf"; return 1; }
  grep -qx 'bind 0.0.0.0' "$out" || { detail="default config does not bind 0.0.0.0"; return 1; }
  grep -qx 'port 6379' "$out" || { detail="default config is not on port 6379"; return 1; }
  detail="/etc/mmcache/mmcache.conf: bind 0.0.0.0, port 6379"
}

step_flags() {
  local v
  v=$(server_once --version 2>&1) || { echo "$v" >"$out"; detail="--version failed"; return 1; }
  [[ $v == *"mmcache v="* ]] || { echo "$v" >"$out"; detail="--version printed no version"; return 1; }
  server_once --no-such-flag 1 >"$out" 2>&1
  local rc=$?
  if ((rc != 1)) || ! grep -q "unknown flag '--no-such-flag'" "$out"; then
    detail="an unknown flag did not reach the server (exit $rc)"
    return 1
  fi
  detail="'$v'; --no-such-flag reaches the server: exit 1, unknown flag"
}

step_start() {
  start_server --threads 2 --maxmemory 64mb || return 1
  local uid a0
  case $engine in
    docker)
      uid=$(in_image sh -c 'sed -n "s/^Uid:[[:space:]]*\([0-9]*\).*/\1/p" /proc/1/status')
      a0=$(in_image sh -c 'tr "\0" "\n" </proc/1/cmdline | head -1')
      [[ $a0 == "${entrypoint[0]}" ]] || { detail="PID 1 is '$a0', not the server"; return 1; }
      detail="127.0.0.1:$port -> 6379, PID 1 is the server, uid $uid" ;;
    buildah)
      uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$srv_pid/status")
      detail="127.0.0.1:$port, server pid $srv_pid under buildah run $run_pid, uid $uid" ;;
  esac
  [[ -n $uid && $uid != 0 ]] || { detail="server runs as uid '$uid'"; return 1; }
}

step_settings() {
  local mm thr file bind
  mm=$(cli config get maxmemory | sed -n 2p) thr=$(info_field mmcache_threads)
  file=$(info_field config_file) bind=$(cli config get bind | sed -n 2p)
  echo "maxmemory=$mm threads=$thr config_file=$file bind=$bind" >"$out"
  [[ $mm == 67108864 ]] || { detail="--maxmemory 64mb gave maxmemory '$mm'"; return 1; }
  [[ $thr == 2 ]] || { detail="--threads 2 gave $thr threads"; return 1; }
  [[ $file == /etc/mmcache/mmcache.conf ]] || { detail="config_file is '$file'"; return 1; }
  local want=0.0.0.0
  [[ $engine == buildah ]] && want=127.0.0.1   # there the flag --bind beats the file
  [[ $bind == "$want" ]] || { detail="bind is '$bind', want $want"; return 1; }
  detail="flags applied: maxmemory $mm, $thr threads; file $file; bind $bind"
}

step_redis_cli() {
  {
    cli set smoke:greeting hello EX 60
    cli get smoke:greeting
    cli ttl smoke:greeting
    cli incr smoke:counter
    cli dbsize
  } >"$out"
  [[ $(paste -sd' ' "$out") =~ ^OK\ hello\ (60|59)\ 1\ 2$ ]] || { detail="unexpected replies"; return 1; }
  detail="SET EX / GET / TTL / INCR / DBSIZE: $(paste -sd' ' "$out")"
}

step_benchmark() {
  timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" -a "$pw" -t set,get -n 10000 -q 2>&1 |
    tr '\r' '\n' | grep -v '^[A-Z]*: rps=' | grep . >"$out"
  local set get
  set=$(sed -n 's/^SET: \([0-9.]*\) requests per second.*/\1/p' "$out")
  get=$(sed -n 's/^GET: \([0-9.]*\) requests per second.*/\1/p' "$out")
  [[ -n $set && -n $get ]] || { detail="redis-benchmark did not finish SET and GET"; return 1; }
  [[ $(cli ping) == PONG ]] || { detail="no PONG after the benchmark"; return 1; }
  detail="-a -t set,get -n 10000: SET $set/s, GET $get/s"
}

# The server started with --requirepass: a client must AUTH first.
step_requirepass() {
  local none wrong right got
  none=$(auth=(); cli ping) wrong=$(auth=(-a wrong --no-auth-warning); cli ping)
  right=$(cli ping) got=$(cli config get requirepass | sed -n 2p)
  printf 'no -a: %s\nwrong -a: %s\n-a: %s\n' "$none" "$wrong" "$right" >"$out"
  [[ $none == "NOAUTH Authentication required." ]] || { detail="without -a: '$none'"; return 1; }
  [[ $wrong == *WRONGPASS* ]] || { detail="a wrong password was not refused"; return 1; }
  [[ $right == PONG && $got == "$pw" ]] || { detail="-a: '$right', requirepass '$got'"; return 1; }
  detail="no -a: NOAUTH; a wrong one: WRONGPASS; -a: PONG (requirepass from the flag)"
}

step_health() {
  local hc=("${healthcheck[@]:1}") env=() dead
  case $engine in
    docker) dead=1 ;;   # the container's own network: nothing on port 1
    buildah) env=(-e "MMCACHE_HEALTH_PORT=$port"); dead=$(free_port) ;;
  esac
  in_image "${env[@]}" "${hc[@]}" >"$out" 2>&1 || { detail="health check failed on a live server"; return 1; }
  if in_image -e "MMCACHE_HEALTH_PORT=$dead" "${hc[@]}" >>"$out" 2>&1; then
    detail="health check passed with no server on port $dead"
    return 1
  fi
  if [[ $engine == docker ]]; then
    local st
    wait_for 40 docker_healthy ||
      { detail="docker never reported healthy"; return 1; }
    st=" and docker reports healthy"
  fi
  detail="PING over /dev/tcp (-NOAUTH: a password is set): 0 when up, fails on a dead port${st:-}"
}

step_reload() {
  local gen0 gen1 mc ok
  gen0=$(info_field config_generation)
  # Edit the file inside the container as the image's user, then SIGHUP.
  # (timeout, not maxclients: that one is capped by the descriptor limit,
  # 974 under buildah's 1024.)
  in_image sed -i 's/^timeout 0$/timeout 300/' /etc/mmcache/mmcache.conf >"$out" 2>&1 ||
    { detail="cannot edit /etc/mmcache/mmcache.conf as the image user"; return 1; }
  server_signal HUP || { detail="could not send SIGHUP"; return 1; }
  wait_for 10 generation_is $((gen0 + 1)) ||
    { detail="config_generation stayed $(info_field config_generation) (was $gen0)"; server_log >"$out"; return 1; }
  gen1=$(info_field config_generation) ok=$(info_field config_last_reload_ok)
  mc=$(cli config get timeout | sed -n 2p)
  server_log >"$out"
  [[ $ok == 1 && $mc == 300 ]] || { detail="reload_ok=$ok timeout=$mc"; return 1; }
  grep -q "Config reloaded: now generation $gen1" "$out" || { detail="no reload line in the log"; return 1; }
  detail="SIGHUP: config_generation $gen0 -> $gen1, timeout 0 -> $mc, logged"
}

step_rewrite() {
  local r gen0
  gen0=$(info_field config_generation)
  r=$(cli config rewrite)
  [[ $r == OK ]] || { echo "$r" >"$out"; detail="CONFIG REWRITE: $r"; return 1; }
  server_signal HUP
  if ! wait_for 10 generation_is $((gen0 + 1)) || [[ $(info_field config_last_reload_ok) != 1 ]]; then
    detail="the rewritten file did not reload"
    server_log >"$out"
    return 1
  fi
  detail="CONFIG REWRITE as the image user: OK, and the rewritten file reloads"
}

step_stop() {
  stop_server || { detail="did not exit within 15 s of its STOPSIGNAL"; server_log >"$out"; return 1; }
  cp "$log" "$out" 2>/dev/null || server_log >"$out"
  [[ $exit_code == 0 ]] || { detail="exit code $exit_code"; return 1; }
  if ! grep -q 'Received SIGTERM' "$out" || ! grep -q 'ready to exit' "$out"; then
    detail="no clean shutdown in the log"
    return 1
  fi
  [[ $(cli ping) != PONG ]] || { detail="port $port still answers"; return 1; }
  detail="SIGTERM: exit code 0, 'Received SIGTERM' ... 'ready to exit' logged"
}

step_mounted() {
  local dir=$work/conf bind=127.0.0.1
  [[ $engine == docker ]] && bind=0.0.0.0
  mkdir -p "$dir" && chmod 755 "$work" "$dir"
  sed -e "s/^bind .*/bind $bind/" -e 's/^maxmemory-policy .*/maxmemory-policy noeviction/' \
      -e 's/^hz .*/hz 25/' "$root/mmcache.conf" >"$dir/mmcache.conf"
  chmod 644 "$dir/mmcache.conf"
  start_server -v "$dir:/etc/mmcache:ro" --hz 30 || return 1
  local pol hz
  pol=$(cli config get maxmemory-policy | sed -n 2p) hz=$(cli config get hz | sed -n 2p)
  [[ $pol == noeviction ]] || { detail="mounted file not used: policy $pol"; return 1; }
  [[ $hz == 30 ]] || { detail="flag --hz 30 did not beat the file's hz 25: $hz"; return 1; }
  if ! stop_server || [[ $exit_code != 0 ]]; then
    detail="stop: exit code ${exit_code:-none}"
    return 1
  fi
  detail="-v DIR:/etc/mmcache: policy $pol from the file, hz $hz from the flag; stopped, exit 0"
}

# No password, protected mode (the default): a client that is not local is
# refused with Redis's DENIED text; under docker that is every client
# (they come through the bridge), so the image needs one of the README's
# three ways to be reached.
step_protected() {
  local local_reply remote
  auth=()
  # "" beats the password an earlier CONFIG REWRITE left in the file
  start_server --requirepass "" || { auth=(-a "$pw" --no-auth-warning); return 1; }
  local_reply=$(cli ping) remote=$(remote_read)
  printf 'local: %s\n127.0.0.2: %s\n' "$local_reply" "$remote" >"$out"
  auth=(-a "$pw" --no-auth-warning)
  [[ $remote == "-DENIED Redis is running in protected mode"* ]] ||
    { detail="127.0.0.2 was not refused: '${remote:0:80}'"; return 1; }
  if ! stop_server || [[ $exit_code != 0 ]]; then
    detail="stop: exit code ${exit_code:-none}"
    return 1
  fi
  detail="no password: 127.0.0.2 gets -DENIED (protected mode); 127.0.0.1: ${local_reply:0:40}"
}

echo "mmcache container smoke test ($root)"
run_step engine step_engine
run_step tools step_tools
run_step base-image step_base
run_step build step_build
run_step image-config step_inspect
run_step container step_container
run_step default-config step_config
run_step flags step_flags
run_step start step_start
run_step settings step_settings
run_step redis-cli step_redis_cli
run_step redis-benchmark step_benchmark
run_step requirepass step_requirepass
run_step healthcheck step_health
run_step sighup-reload step_reload
run_step config-rewrite step_rewrite
run_step sigterm-stop step_stop
run_step mounted-config step_mounted
run_step protected-mode step_protected
finish 0
