#!/usr/bin/env bash
# Gives root-mode cages host ids of their own (docs/security.md, "The identity of a cage"): a
# system account, claude-cage, with no login, no home and no processes, whose subordinate uid and
# gid ranges in /etc/subuid and /etc/subgid claude-cage hands out, 65536 ids to each running cage.
# Idempotent: an account that has its ranges already keeps them. Run by scripts/install-deps.sh
# and make install.
#
# Environment: CLAUDE_CAGE_ID_POOL_START (default 1879048192, 0x70000000: far above the ranges
# useradd hands out, below 2^31, which some tools take for negative) and CLAUDE_CAGE_ID_POOL_COUNT
# (default 67108864: 1024 cages at once).
set -euo pipefail
account=claude-cage
start=${CLAUDE_CAGE_ID_POOL_START:-1879048192}
count=${CLAUDE_CAGE_ID_POOL_COUNT:-67108864}
end=$((start + count - 1))
say() { echo "make-id-pool: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  say "needs root (run with sudo)" >&2
  exit 2
fi
if [ "$count" -lt 65536 ] || [ "$start" -lt 65536 ] || [ "$end" -gt 4294967294 ]; then
  say "the range $start-$end must start at 65536 or above, hold 65536 ids or more and end by 4294967294" >&2
  exit 2
fi
if ! getent passwd "$account" >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --comment "claude-cage, owner of the ids of root-mode cages" "$account"
  say "created the system account $account"
fi
touch /etc/subuid /etc/subgid
have_uids=$(grep -c "^$account:" /etc/subuid || true)
have_gids=$(grep -c "^$account:" /etc/subgid || true)
if [ "$have_uids" != 0 ] && [ "$have_gids" != 0 ]; then
  say "$account has its subordinate ids already: $(grep "^$account:" /etc/subuid | tr '\n' ' ')"
  exit 0
fi
# Nobody else's: no other user's subordinate range and no account or group may share an id with the pool.
for file in /etc/subuid /etc/subgid; do
  clash=$(awk -F: -v s="$start" -v e="$end" -v me="$account" \
    'NF == 3 && $1 != me && $2 <= e && $2 + $3 - 1 >= s { print $1 ":" $2 ":" $3 }' "$file")
  if [ -n "$clash" ]; then
    say "the range $start-$end overlaps $file's $clash; choose another with CLAUDE_CAGE_ID_POOL_START" >&2
    exit 1
  fi
done
clash=$( { getent passwd; getent group; } | awk -F: -v s="$start" -v e="$end" '$3 >= s && $3 <= e { print $1 " (" $3 ")" }' | head -3)
if [ -n "$clash" ]; then
  say "the range $start-$end holds the ids of $clash; choose another with CLAUDE_CAGE_ID_POOL_START" >&2
  exit 1
fi
args=()
[ "$have_uids" = 0 ] && args+=(--add-subuids "$start-$end")
[ "$have_gids" = 0 ] && args+=(--add-subgids "$start-$end")
usermod "${args[@]}" "$account"
say "gave $account the subordinate uids and gids $start-$end ($((count / 65536)) cages at once)"
