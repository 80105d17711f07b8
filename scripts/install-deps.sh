#!/usr/bin/env bash
# Installs what claude-cage and its tests need on Debian 12, with apt-get. Idempotent.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: needs root (run with sudo)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# runc/crun: the OCI runtimes; nftables, iproute2: networking; debootstrap: the minbase rootfs;
# uidmap: rootless user namespaces; socat: bridges a rootless cage's loopback to its proxy and gateway;
# apparmor: apparmor_parser to check the profile compiles;
# tcpdump: reads the firewall's dropped packets (nflog) into the audit log; docker.io: only for the
# test that builds the shipped Dockerfiles with docker too (it starts its own engine, without iptables);
# perl-base comes with every rootfs and runs the probes inside the cage.
apt-get install -y -qq --no-install-recommends \
  openjdk-17-jdk-headless maven make git \
  runc crun nftables iproute2 tcpdump debootstrap uidmap socat apparmor docker.io \
  ca-certificates procps psmisc util-linux mount >/dev/null
echo "install-deps: done ($(runc --version | head -1); $(java -version 2>&1 | head -1))"
