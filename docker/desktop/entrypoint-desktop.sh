#!/bin/sh
# Starts the desktop in a cage: Xvfb on display :1, openbox, x11vnc on the cage's loopback and
# noVNC (websockify) on port 6080, then the command given (by default a terminal). The desktop
# lives as long as that command; everything here writes only to /tmp and the home, the two
# writable places of a cage.
set -eu

export DISPLAY="${DISPLAY:-:1}"
geometry="${DESKTOP_GEOMETRY:-1440x900x24}"
novnc_port="${NOVNC_PORT:-6080}"
vnc_port="${VNC_PORT:-5900}"
log_dir="${TMPDIR:-/tmp}/desktop-logs"
mkdir -p "$log_dir"

children=""
stop() {
  # shellcheck disable=SC2086
  [ -n "$children" ] && kill $children 2>/dev/null || true
}
trap stop EXIT INT TERM

Xvfb "$DISPLAY" -screen 0 "$geometry" -nolisten tcp >"$log_dir/xvfb.log" 2>&1 &
children="$children $!"
# Wait for the X server's socket before starting its clients.
display_number="${DISPLAY#:}"
for _ in $(seq 1 50); do
  [ -S "/tmp/.X11-unix/X${display_number%%.*}" ] && break
  sleep 0.1
done

openbox >"$log_dir/openbox.log" 2>&1 &
children="$children $!"
x11vnc -display "$DISPLAY" -localhost -rfbport "$vnc_port" -forever -shared -nopw -quiet \
  >"$log_dir/x11vnc.log" 2>&1 &
children="$children $!"
websockify --web /usr/share/novnc "$novnc_port" "localhost:$vnc_port" >"$log_dir/websockify.log" 2>&1 &
children="$children $!"

echo "desktop: http://localhost:$novnc_port/vnc.html (display $DISPLAY, logs in $log_dir)"
if [ "$#" -eq 0 ]; then
  set -- xterm
fi
"$@"
