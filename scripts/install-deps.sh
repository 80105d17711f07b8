#!/usr/bin/env bash
# Installs what claude-cage and its tests need on Debian 12, with apt-get. Idempotent.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: needs root (run with sudo)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# No daemon these packages ship is wanted running (sshd, docker-registry, dockerd): the tests start
# their own, in their own namespaces or on loopback, and stop them. Debian's policy-rc.d convention
# keeps the packages from starting theirs; ours is removed again afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
# runc/crun: the OCI runtimes; nftables, iproute2: networking; debootstrap: the minbase rootfs;
# uidmap: rootless user namespaces; socat: bridges a rootless cage's loopback to its proxy and gateway;
# apparmor: apparmor_parser to check the profile compiles;
# tcpdump: reads the firewall's dropped packets (nflog) into the audit log; docker.io: only for the
# test that builds the shipped Dockerfiles with docker too (it starts its own engine, without iptables);
# perl-base comes with every rootfs and runs the probes inside the cage; docker-registry: only for the
# test that pulls from a registry it runs on loopback (it starts its own, no service is enabled);
# chromium: the desktop test opens the noVNC page in it, headless; openssh-server (with
# openssh-client): the SSH agent relay's test runs sshd and ssh-agent of its own; openssl makes the
# git gateway test's CA and server certificate.
apt-get install -y -qq --no-install-recommends \
  openjdk-17-jdk-headless maven make git \
  runc crun nftables iproute2 tcpdump debootstrap uidmap socat apparmor docker.io docker-registry \
  ca-certificates procps psmisc util-linux mount chromium openssh-server openssh-client openssl >/dev/null
echo "install-deps: done ($(runc --version | head -1); $(java -version 2>&1 | head -1))"
