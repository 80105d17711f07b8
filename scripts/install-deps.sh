#!/usr/bin/env bash
# Installs what claude-cage needs on Debian 12, with apt-get; with --tests, also what its tests need.
# Idempotent.
set -euo pipefail
usage="usage: scripts/install-deps.sh [--tests]"
tests=0
case "${1:-}" in
  "") ;;
  --tests) tests=1 ;;
  *) echo "install-deps: unknown argument '$1'; $usage" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: needs root (run with sudo)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# No daemon these packages ship is wanted running (sshd, docker-registry, dockerd): the tests start
# their own, in their own namespaces or on loopback, and stop them. Debian's policy-rc.d convention
# keeps the packages from starting theirs now; ours is removed again afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
# runc/crun: the OCI runtimes; runsc: gVisor, the runtime with a kernel of its own (--runtime runsc); nftables, iproute2: networking; tcpdump: reads the firewall's dropped
# packets (nflog) into the audit log; debootstrap: the minbase rootfs; uidmap: rootless user
# namespaces; socat: a rootless desktop's published port into its cage; apparmor:
# apparmor_parser to check the profile compiles; util-linux: setpriv, nsenter; perl-base comes with
# every rootfs and runs the probes inside the cage; novnc: the desktop's web page, which the
# supervisor serves from the host (/usr/share/novnc), never from the cage; fonts-dejavu-core: the
# text of make bench's chart (drawn by Java2D).
runtime=(openjdk-17-jdk-headless maven make git fonts-dejavu-core
  runc crun runsc nftables iproute2 tcpdump debootstrap uidmap socat apparmor novnc
  ca-certificates procps psmisc util-linux mount)
# Only for the tests: docker.io builds the shipped Dockerfiles with docker too (the test starts its
# own engine, without iptables); docker-registry: the registry the pull test runs on loopback;
# chromium: the desktop test opens the noVNC page in it, headless; openssh-server and
# openssh-client: the SSH agent relay's test runs an sshd and ssh-agent of its own; openssl makes
# the git gateway test's CA and server certificate; zsh and fish run the completion scripts, groff-base
# formats the man pages, lintian checks the Debian package (made with dpkg-deb, which every Debian has).
test_only=(docker.io docker-registry chromium openssh-server openssh-client openssl zsh fish groff-base lintian)
# package:service pairs whose service must not come up at the next boot either, when this script
# is what installed the package (a service the host had before is left as it was).
test_services=(docker.io:docker.service docker.io:docker.socket docker.io:containerd.service
  docker-registry:docker-registry.service openssh-server:ssh.service)

packages=("${runtime[@]}")
newly_installed=()
if [ "$tests" = 1 ]; then
  packages+=("${test_only[@]}")
  for package in "${test_only[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      newly_installed+=("$package")
    fi
  done
fi
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for pair in "${test_services[@]}"; do
    package=${pair%%:*} service=${pair#*:}
    if [[ " ${newly_installed[*]} " == *" $package "* ]] && systemctl is-enabled --quiet "$service" 2>/dev/null; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
      echo "install-deps: disabled $service (installed for the tests only, which run their own)"
    fi
  done
fi
# Host ids of their own for root-mode cages: the claude-cage account and its subordinate ranges.
"$(dirname "$(readlink -f "$0")")/make-id-pool.sh"
echo "install-deps: done ($(runc --version | head -1); $(java -version 2>&1 | head -1))$([ "$tests" = 1 ] && echo ', with the test tools')"
