#!/bin/sh
# Starts the desktop in a cage: Xvfb on display :1, openbox, x11vnc (password-protected, on the
# cage's loopback), then a terminal running the command given (by default Claude Code) in the
# working directory. No web server runs here: claude-cage's supervisor serves noVNC's page from
# the host and carries the VNC stream to x11vnc.
# The desktop lives as long as that terminal. Everything here writes only to /tmp, one of the
# cage's two writable places, never to the home (which may be persisted on the host's disk).
#
# VNC_RESOLUTION   screen size, WIDTHxHEIGHT or WIDTHxHEIGHTxDEPTH (default 1440x900)
# VNC_PASSWORD     the VNC password (claude-cage gives each session a random one); when unset, one
#                  is made here and printed. VNC passwords are at most 8 characters.
# VNC_PORT         the port x11vnc listens on (default 5900; claude-cage sets the session's)
# VNC_LISTEN       the address x11vnc listens on (default 127.0.0.1; 0.0.0.0 for docker -p)
set -eu

export DISPLAY="${DISPLAY:-:1}"
resolution="${VNC_RESOLUTION:-1440x900}"
case "$resolution" in
  [1-9]*x[1-9]*x[1-9]*) geometry="$resolution" ;;
  [1-9]*x[1-9]*) geometry="${resolution}x24" ;;
  *) geometry="" ;;
esac
case "$geometry" in
  "" | *[!0-9x]* | *x*x*x*)
    echo "desktop: VNC_RESOLUTION '$resolution' is not WIDTHxHEIGHT[xDEPTH], e.g. 2560x1440" >&2
    exit 2 ;;
esac
vnc_listen="${VNC_LISTEN:-127.0.0.1}"
vnc_port="${VNC_PORT:-5900}"
run_dir="${TMPDIR:-/tmp}/desktop"
mkdir -p "$run_dir"
chmod 0700 "$run_dir"

password="${VNC_PASSWORD:-}"
if [ -z "$password" ]; then
  password="$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 8)"
  echo "desktop: VNC password $password"
fi
unset VNC_PASSWORD
x11vnc -storepasswd "$password" "$run_dir/passwd" >/dev/null 2>&1
password=""

children=""
stop() {
  # shellcheck disable=SC2086
  [ -n "$children" ] && kill $children 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 143' INT TERM

Xvfb "$DISPLAY" -screen 0 "$geometry" -nolisten tcp >"$run_dir/xvfb.log" 2>&1 &
children="$children $!"
# Wait for the X server's socket before starting its clients.
display_number="${DISPLAY#:}"
for _ in $(seq 1 100); do
  [ -S "/tmp/.X11-unix/X${display_number%%.*}" ] && break
  sleep 0.1
done

# openbox paints the root window black as it starts: the desktop's colour is set after that.
openbox --startup "xsetroot -solid '#2f5d8a'" >"$run_dir/openbox.log" 2>&1 &
children="$children $!"
# -localhost for the loopback: with -listen alone, x11vnc would still listen on every IPv6 address.
if [ "$vnc_listen" = 127.0.0.1 ]; then
  listen="-localhost"
else
  listen="-listen $vnc_listen"
fi
# shellcheck disable=SC2086
x11vnc -display "$DISPLAY" $listen -rfbport "$vnc_port" -rfbauth "$run_dir/passwd" -forever -shared -quiet \
  >"$run_dir/x11vnc.log" 2>&1 &
children="$children $!"

echo "desktop: VNC on $vnc_listen:$vnc_port (display $DISPLAY $geometry, logs in $run_dir)"
if [ "$#" -eq 0 ]; then
  set -- claude
fi
# Not maximised: the desktop stays visible around the terminal. When the command ends, the
# terminal stays as a shell, so that its last words can be read and it can be run again; the
# desktop ends with that shell (or with claude-cage stop).
xterm -geometry 100x30+24+24 -fa 'DejaVu Sans Mono' -fs 11 -bg '#1c1c1c' -fg '#e8e8e8' -title "$*" \
  -e sh -c '"$@"; status=$?; printf "\n[%s ended with exit code %s; this terminal is a shell now]\n" "$1" "$status"; exec bash' \
  desktop-terminal "$@" >"$run_dir/xterm.log" 2>&1 &
terminal=$!
children="$children $terminal"
# In the background and waited for, so that SIGTERM (claude-cage stop) is handled at once: a shell
# runs its traps only between commands, and wait is where it can be interrupted.
wait "$terminal"
