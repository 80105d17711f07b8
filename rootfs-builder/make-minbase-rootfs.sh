#!/usr/bin/env bash
# Builds a minbase Debian rootfs for claude-cage with debootstrap, once, and
# adds what every cage expects: the unprivileged user `claude` (uid/gid 1000,
# HOME /home/claude) and an empty /workspace. The result is made atomically:
# it is built in DEST.partial and renamed to DEST only when complete, so an
# interrupted run never leaves a half-built rootfs that looks finished.
#
# usage: make-minbase-rootfs.sh DEST [SUITE] [MIRROR]
set -euo pipefail

dest=${1:?usage: make-minbase-rootfs.sh DEST [SUITE] [MIRROR]}
suite=${2:-bookworm}
mirror=${3:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then
  echo "make-minbase-rootfs: debootstrap needs root (run with sudo)" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null; then
  echo "make-minbase-rootfs: debootstrap is not installed (apt-get install debootstrap)" >&2
  exit 2
fi
if [ -f "$dest/.claude-cage-rootfs" ]; then
  echo "make-minbase-rootfs: $dest already built ($(cat "$dest/.claude-cage-rootfs"))"
  exit 0
fi

partial="$dest.partial"
rm -rf "$partial"
mkdir -p "$(dirname "$dest")"
debootstrap --variant=minbase "$suite" "$partial" "$mirror"

chroot "$partial" /usr/sbin/groupadd --gid 1000 claude
chroot "$partial" /usr/sbin/useradd --uid 1000 --gid 1000 --home-dir /home/claude \
  --create-home --shell /bin/bash claude
install -d -m 0755 -o 1000 -g 1000 "$partial/workspace"
# Package caches and logs are not part of what a cage needs to see.
rm -rf "$partial"/var/cache/apt/archives/*.deb "$partial"/var/lib/apt/lists/* "$partial"/var/log/*.log
echo "debian:$suite minbase, $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$partial/.claude-cage-rootfs"

rm -rf "$dest"
mv "$partial" "$dest"
echo "make-minbase-rootfs: built $dest"
