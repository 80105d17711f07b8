#!/usr/bin/env bash
# Builds a minbase Debian rootfs for claude-cage with debootstrap, once, and
# adds what every cage expects: the unprivileged user `claude` (uid/gid 1000,
# HOME /home/claude) and an empty /workspace. The result is made atomically:
# it is built in DEST.partial and renamed to DEST only when complete, so an
# interrupted run never leaves a half-built rootfs that looks finished.
#
# With --image it makes a plain base image instead, as Debian's official
# debian:SUITE image is made (debootstrap minbase): no user, no /workspace, no
# marker file, and no copy of this host's resolv.conf. The image builder uses
# it for FROM debian:SUITE; --slim adds the dpkg excludes of debian:SUITE-slim.
#
# usage: make-minbase-rootfs.sh [--image [--slim]] DEST [SUITE] [MIRROR]
set -euo pipefail
# debootstrap and chroot live in sbin, which a user's PATH (a rootless build's) may not name.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

usage="usage: make-minbase-rootfs.sh [--image [--slim]] DEST [SUITE] [MIRROR]"
image=false
slim=false
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image=true; shift ;;
    --slim) slim=true; shift ;;
    --) shift; break ;;
    -*) echo "make-minbase-rootfs: unknown option $1; $usage" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ "$slim" = true ] && [ "$image" = false ]; then
  echo "make-minbase-rootfs: --slim goes with --image; $usage" >&2
  exit 2
fi

dest=${1:?$usage}
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
if [ "$image" = true ] && [ -e "$dest" ]; then
  echo "make-minbase-rootfs: $dest exists; an image rootfs is always made fresh" >&2
  exit 2
fi

partial="$dest.partial"
rm -rf "$partial"
mkdir -p "$(dirname "$dest")"
debootstrap --variant=minbase "$suite" "$partial" "$mirror"

if [ "$image" = true ]; then
  # The host's resolver settings are no part of an image; builds and cages mount their own.
  rm -f "$partial/etc/resolv.conf"
  if [ "$slim" = true ]; then
    # What Debian's -slim images leave out, for this and every later package.
    cat > "$partial/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
    find "$partial/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$partial/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$partial"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
  fi
else
  chroot "$partial" /usr/sbin/groupadd --gid 1000 claude
  chroot "$partial" /usr/sbin/useradd --uid 1000 --gid 1000 --home-dir /home/claude \
    --create-home --shell /bin/bash claude
  install -d -m 0755 -o 1000 -g 1000 "$partial/workspace"
  echo "debian:$suite minbase, $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$partial/.claude-cage-rootfs"
fi
# Package caches and logs are not part of what a cage or an image needs.
rm -rf "$partial"/var/cache/apt/archives/*.deb "$partial"/var/lib/apt/lists/* "$partial"/var/log/*.log

rm -rf "$dest"
mv "$partial" "$dest"
echo "make-minbase-rootfs: built $dest"
