#!/usr/bin/env bash
# Makes the launcher's application class-data sharing (AppCDS) archives for one jar:
#   bench/cds.sh JAR [LAUNCHER] [ROOTFS]
# next to the jar, JAR with .jsa for .jar (every call's classes) and with .light.jsa (only the
# light commands' that bin/claude-cage maps it for: list, status, logs, config, help),
# each with a .stamp that bin/claude-cage compares with the jar and the java it runs before it
# uses the archive (the jar's path and mtime, java's real path and the JDK's build); and beside
# them, JAR with .native for .jar, JNA's native library unpacked from the jar, with its own stamp
# (the jar's mtime).
#
# How: representative calls run through the launcher, each writing the classes it loads
# (-XX:DumpLoadedClassList): --version, config, list, help, and as root, where the rootfs exists,
# a `run` of `true` with --network none and with --network filtered, a session's start, status,
# list, stop and destroy, and a build from the cache. The merged list is dumped
# once as a static archive (-Xshare:dump), holding the JDK's classes and ours, parsed, verified
# and laid out for mapping. A static archive rather than a dynamic one (-XX:ArchiveClassesAtExit):
# it merges several calls. (picocli is compiled into the jar at release 17 by the build, so its
# classes are verified at dump time too.)
#
# Making the archive never fails the build: without one, the launcher simply runs without it.
set -uo pipefail

jar=${1:?usage: bench/cds.sh JAR [LAUNCHER] [ROOTFS]}
launcher=${2:-$(dirname "$0")/../bin/claude-cage}
rootfs=${3:-/var/cache/claude-cage/rootfs/bookworm-minbase}
jar=$(readlink -f "$jar")

note() { echo "cds: $*" >&2; }

if [ ! -f "$jar" ]; then
  note "no jar at $jar"; exit 0
fi
# The java the launcher runs: $JAVA_HOME's when set, else the PATH's.
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
if ! command -v "$java" >/dev/null; then
  note "no $java; no archive"; exit 0
fi
rm -f "${jar%.jar}.jsa" "${jar%.jar}.jsa.stamp" "${jar%.jar}.light.jsa" "${jar%.jar}.light.jsa.stamp"

# JNA's native part, unpacked from this jar once (dev.claudecage.host.JnaDispatchLibrary), with a
# stamp of the jar: the launcher names the folder to JNA only while the stamp matches, since JNA
# refuses a library of another version. Without it JNA unpacks the library on every first use.
native=${jar%.jar}.native
rm -rf "$native"
if "$java" -cp "$jar" dev.claudecage.host.JnaDispatchLibrary "$native" 2>"$native.log"; then
  : > "$native/stamp"
  touch -r "$jar" "$native/stamp"
  chmod 0755 "$native"; chmod 0644 "$native/stamp"
else
  note "cannot unpack JNA's native library: $(tail -1 "$native.log"); JNA unpacks it on every call"
  rm -rf "$native"
fi
rm -f "$native.log"

work=$(mktemp -d "${TMPDIR:-/tmp}/claude-cage-cds.XXXXXX")
trap 'rm -rf "$work"' EXIT

# train writes N.classlist; a light call (train_light) also L.classlist, a copy for the light
# archive.
n=0
train() {
  n=$((n + 1))
  # The archive being made must not be used by its own training runs.
  CLAUDE_CAGE_CDS=0 CLAUDE_CAGE_JAR="$jar" \
    CLAUDE_CAGE_JAVA_OPTS="-XX:DumpLoadedClassList=$work/$n.classlist" \
    timeout 120 "$launcher" "$@" </dev/null >/dev/null 2>&1 || true
}
train_light() {
  train "$@"
  if [ -f "$work/$n.classlist" ]; then cp "$work/$n.classlist" "$work/$n.light"; fi
}

train --version
train_light config
train config --json
train_light list
train_light help run
if [ "$(id -u)" = 0 ] && [ -d "$rootfs" ]; then
  train run --rootfs "$rootfs" --network none -- true
  train run --rootfs "$rootfs" --network filtered -- true
  # A session's life: what start, status, list, stop and destroy load (records, the supervisor's
  # launch). Its first supervisor also lists its own classes for the supervisors' archive.
  session=cds-train-$$
  train start --detach --name "$session" --rootfs "$rootfs" --network none -- \
    sh -c "trap 'exit 0' TERM; while :; do sleep 3600 & wait \$!; done"
  train_light status "$session"
  train_light list
  train inspect "$session"
  train_light logs "$session"
  train stop "$session"
  train destroy "$session"
  # A build, made and then made again from the cache, and removed: FROM scratch, so it needs no
  # base image, and no RUN step.
  mkdir -p "$work/context"
  echo training > "$work/context/file"
  printf 'FROM scratch\nCOPY file /file\nENV CDS_TRAINING=1\n' > "$work/context/Dockerfile"
  train build -t "$session:latest" "$work/context"
  train build -t "$session:latest" "$work/context"
  train image rm "$session:latest"
else
  note "not root or no rootfs at $rootfs: the archive leaves out what 'run' loads"
fi

# dump ARCHIVE LIST...: one list made of the training calls' lists (comments and JDK proxy classes,
# made at run time and never found at dump, out, and every line once: a lambda listed twice makes
# the JDK 17 dump crash), dumped as ARCHIVE, checked, and stamped.
dump() {
  local archive=$1 real_java runtime
  shift
  cat "$@" 2>/dev/null | grep -v '^#' | grep -v '\$Proxy' | awk '!seen[$0]++' > "$work/classes.list"
  if [ ! -s "$work/classes.list" ]; then
    note "the training runs listed no classes; no $archive"; return
  fi
  # Dumped under G1, as the launcher runs: only then does the archive hold the JDK's Java objects
  # (the module graph, interned strings), which JDK 17 maps only under G1. (G1 is the JVM's own
  # choice only on a machine with two processors and 2 GB or more.) Those objects hold heap
  # addresses: the heap is put at 2 GB for the dump, as bin/claude-cage puts it for a start with the
  # archive, so that they are mapped as they are. At the JVM's own choices (its heap's top 1 GB
  # lower when it dumps than when it runs) every start patched each pointer among them first.
  rm -f "$work/archive.jsa"
  if ! "$java" -XX:+UseG1GC -XX:HeapBaseMinAddress=2g -Xshare:dump -XX:SharedClassListFile="$work/classes.list" -XX:SharedArchiveFile="$work/archive.jsa" \
      -cp "$jar" >"$work/dump.log" 2>&1; then
    note "the JVM could not dump $archive (see below); no archive"; tail -5 "$work/dump.log" >&2; return
  fi
  # -Xshare:on fails where the archive cannot be mapped for this jar: check before installing it.
  if ! "$java" -XX:TieredStopAtLevel=1 -XX:+UseG1GC -XX:HeapBaseMinAddress=2g -Xshare:on -XX:SharedArchiveFile="$work/archive.jsa" \
      -jar "$jar" --version >/dev/null 2>"$work/check.log"; then
    note "$archive does not map for $jar; no archive"; tail -3 "$work/check.log" >&2; return
  fi
  install -m 0644 "$work/archive.jsa" "$archive"
  # As bin/claude-cage reads it: three lines (the jar, the real java, the JDK's build as its release
  # file says it, quotes taken out, empty without one), and the jar's mtime as the stamp's own.
  real_java=$(readlink -f "$(command -v "$java")")
  runtime=$(sed -n 's/^JAVA_RUNTIME_VERSION=//p' "${real_java%/bin/java}/release" 2>/dev/null | tr -d '"')
  printf '%s\n%s\n%s\n' "$jar" "$real_java" "$runtime" > "$archive.stamp"
  touch -r "$jar" "$archive.stamp"
  chmod 0644 "$archive.stamp"
  note "$(wc -l < "$work/classes.list") classes from $# calls in $archive ($(du -h "$archive" | cut -f1))"
}

dump "${jar%.jar}.jsa" "$work"/*.classlist
dump "${jar%.jar}.light.jsa" "$work"/*.light
