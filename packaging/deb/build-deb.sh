#!/usr/bin/env bash
# Builds claude-cage's Debian package from what `make` made (the jar, completions, man pages):
#   packaging/deb/build-deb.sh VERSION OUTPUT.deb
# `make deb` calls it. The package holds what `make install PREFIX=/usr` installs, the AppArmor
# profile as a conffile, and for its postinst bench/cds.sh, which makes the launcher's class-data
# archive for the installed jar and the host's Java, and scripts/make-id-pool.sh, which gives
# root-mode cages their pool of host ids.
set -euo pipefail

version=${1:?usage: packaging/deb/build-deb.sh VERSION OUTPUT.deb}
output=${2:?usage: packaging/deb/build-deb.sh VERSION OUTPUT.deb}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mkdir -p "$repo/target"
root=$(mktemp -d "$repo/target/deb-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"

# make deb has made the jar, completions and man pages: this make only installs them (-o: it never rebuilds
# the jar, which a test running inside Maven's build must not start).
make -C "$repo" --no-print-directory -o target/claude-cage.jar install-files DESTDIR="$root" PREFIX=/usr >/dev/null
gzip -9n "$root"/usr/share/man/man1/*.1
install -m 0755 "$repo/bench/cds.sh" "$root/usr/lib/claude-cage/cds.sh"
install -m 0755 "$repo/scripts/make-id-pool.sh" "$root/usr/lib/claude-cage/make-id-pool.sh"
install -D -m 0644 "$repo/security/apparmor-profile" "$root/etc/apparmor.d/claude-cage"
install -D -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/claude-cage"

# The package's own dates come from the last commit, so that the same tree gives the same package.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}
doc=$root/usr/share/doc/claude-cage
install -d "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
maintainer=$(sed -n 's/^Maintainer: //p' "$here/control")
printf 'claude-cage (%s) unstable; urgency=medium\n\n  * Built from the claude-cage source tree.\n\n -- %s  %s\n' \
  "$version" "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n > "$doc/changelog.gz"

install -d "$root/DEBIAN"
size=$(du -sk --apparent-size "$root/usr" "$root/etc" | awk '{ total += $1 } END { print total }')
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$size/" "$here/control" > "$root/DEBIAN/control"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
echo /etc/apparmor.d/claude-cage > "$root/DEBIAN/conffiles"
(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

dpkg-deb --root-owner-group -Zxz --build "$root" "$output" >/dev/null
echo "built $output"
