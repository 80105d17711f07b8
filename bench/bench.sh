#!/usr/bin/env bash
# make bench: claude-cage against `docker run` and raw `runc run`, side by side in one run, with
# medians and ratios (bench/src/dev/claudecage/bench/Bench.java does the measuring). Needs root.
#
# Docker: a private engine for this run only, started here as
#   dockerd --iptables=false --ip6tables=false --ip-forward=false --bridge=ccbench0 ...
# with its data and exec roots, socket and pid file in a temporary folder, on a bridge of its own
# (ccbench0, 172.29.213.1/24, made and removed here), so it never touches the host's firewall,
# forwarding or docker0. The rootfs is imported as the image. On every way out (the trap) the
# engine is stopped, its folder unmounted and removed, the bridge deleted, and whatever sessions
# and images the bench made are removed. Where the engine cannot start, the bench says so and
# compares with raw runc alone.
#
# Environment: ROOTFS (the minbase rootfs), BENCH_SCALE (rounds multiplier, default 1),
# BENCH_BUDGET (seconds for the measuring, default 480), BENCH_NO_DOCKER=1 (leave Docker out),
# BENCH_NO_INSTALL=1 (do not apt-get install docker.io when it is missing), BENCH_ONLY=SECTION (that
# section alone, e.g. BENCH_ONLY=gvisor BENCH_NO_DOCKER=1, into DATE-HOST-only-SECTION.json: for working on it).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
repo=$PWD
ROOTFS=${ROOTFS:-/var/cache/claude-cage/rootfs/bookworm-minbase}
CAGE=$repo/bin/claude-cage
JAR=$repo/target/claude-cage.jar
IMAGE=claude-cage-bench:minbase
BRIDGE=ccbench0
BRIDGE_ADDRESS=172.29.213.1/24
started=$(date +%s)

say() { echo "bench: $*"; }

if [ "$(id -u)" != 0 ]; then
  say "needs root: cages, namespaces and the Docker engine (sudo make bench)" >&2; exit 2
fi
if [ ! -f "$JAR" ]; then
  say "no $JAR: run make build first" >&2; exit 2
fi
if [ ! -d "$ROOTFS" ]; then
  say "no rootfs at $ROOTFS: run make rootfs first" >&2; exit 2
fi

work=$(mktemp -d /tmp/claude-cage-bench.XXXXXX)
dockerd_pid=
bridge_made=
forward_before=$(cat /proc/sys/net/ipv4/ip_forward)

stop_docker() {
  local dir=$work/docker
  if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
    docker_cli rm -f $(docker_cli ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    kill -TERM "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$dockerd_pid" 2>/dev/null || true
  fi
  # The containerd that this dockerd started, should it outlive a killed dockerd.
  local containerd_pid
  containerd_pid=$(cat "$dir/exec/containerd/containerd.pid" 2>/dev/null || true)
  if [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null; then
    kill -TERM "$containerd_pid" 2>/dev/null || true
    sleep 1
    kill -KILL "$containerd_pid" 2>/dev/null || true
  fi
  dockerd_pid=
}

cleanup() {
  local status=$?
  set +e
  # Sessions and images the bench made, should the measuring have stopped half-way.
  for name in $("$CAGE" list -q 2>/dev/null | grep '^ccbench-'); do
    "$CAGE" stop -t 2 "$name" >/dev/null 2>&1
    "$CAGE" destroy "$name" >/dev/null 2>&1
  done
  for image in $("$CAGE" images 2>/dev/null | awk '$1 ~ /^ccbench-/ {print $1}'); do
    "$CAGE" image rm "$image" >/dev/null 2>&1
  done
  stop_docker
  # dockerd leaves mounts (its network namespace handle, overlays) under its roots.
  for mount in $(awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$mount" 2>/dev/null
  done
  rm -rf --one-file-system "$work"
  if [ -n "$bridge_made" ]; then
    ip link delete "$BRIDGE" 2>/dev/null
  fi
  if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$forward_before" ]; then
    echo "$forward_before" > /proc/sys/net/ipv4/ip_forward
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

docker_bin=/usr/bin/docker
docker_cli() { "$docker_bin" -H "unix://$work/docker/docker.sock" "$@"; }

install_docker() {
  [ -n "${BENCH_NO_INSTALL:-}" ] && return 1
  command -v apt-get >/dev/null || return 1
  say "installing docker.io (Debian's engine) for the comparison; its service is not started"
  # policy-rc.d keeps the package's init scripts from starting an engine that would manage the
  # host's firewall; ours is started below, without iptables.
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 0755 "$policy"; made_policy=1
  fi
  local ok=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io; } >"$work/apt.log" 2>&1 || ok=1
  [ -n "$made_policy" ] && rm -f "$policy"
  return $ok
}

docker_missing=
start_docker() {
  if [ -n "${BENCH_NO_DOCKER:-}" ]; then
    docker_missing="left out (BENCH_NO_DOCKER)"; return 1
  fi
  if ! command -v dockerd >/dev/null || [ ! -x "$docker_bin" ]; then
    install_docker || true
  fi
  if ! command -v dockerd >/dev/null || [ ! -x "$docker_bin" ]; then
    docker_missing="dockerd or $docker_bin is not installed (apt-get install docker.io)"; return 1
  fi
  local dir=$work/docker
  mkdir -p "$dir"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge && bridge_made=1 && ip addr add "$BRIDGE_ADDRESS" dev "$BRIDGE" \
      && ip link set "$BRIDGE" up || { docker_missing="cannot make the bridge $BRIDGE"; return 1; }
  fi
  dockerd --iptables=false --ip6tables=false --ip-forward=false --bridge="$BRIDGE" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" --log-level warn >"$dir/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 150); do
    if docker_cli version >/dev/null 2>&1; then break; fi
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  if ! docker_cli version >/dev/null 2>&1; then
    docker_missing="the engine did not start: $(tail -1 "$dir/dockerd.log" 2>/dev/null)"
    stop_docker; return 1
  fi
  say "importing $ROOTFS into the private engine as $IMAGE"
  if ! tar -C "$ROOTFS" -c . | docker_cli import - "$IMAGE" >/dev/null; then
    docker_missing="docker import of the rootfs failed"; stop_docker; return 1
  fi
}

docker_args=()
if start_docker; then
  docker_args=(--docker-bin "$docker_bin" --docker-host "unix://$work/docker/docker.sock" --docker-image "$IMAGE")
else
  say "Docker: $docker_missing; the comparison is with raw runc alone"
  docker_args=(--docker-missing "$docker_missing")
fi

mkdir -p "$work/classes"
javac -nowarn -d "$work/classes" -cp "$JAR" bench/src/dev/claudecage/bench/*.java
elapsed=$(( $(date +%s) - started ))
budget=$(( ${BENCH_BUDGET:-420} ))
# Keep the whole run under 10 minutes: what the set-up took comes off the measuring budget, and
# the budget leaves room for the round in progress and for the teardown.
[ $(( elapsed + budget )) -gt 480 ] && budget=$(( 480 - elapsed ))
[ "$budget" -lt 60 ] && budget=60

java -Djava.awt.headless=true -cp "$JAR:$work/classes" dev.claudecage.bench.Bench --cage "$CAGE" --rootfs "$ROOTFS" \
  --results "$repo/bench/results" --scratch "$work/scratch" --budget-seconds "$budget" \
  --scale "${BENCH_SCALE:-1}" ${BENCH_ONLY:+--only "$BENCH_ONLY"} "${docker_args[@]}"
say "done in $(( $(date +%s) - started )) s"
