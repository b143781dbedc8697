#!/usr/bin/env bash
# The demo: the tray app against the built-in simulator, with no account anywhere
# (`sessionkeeper-app --demo`). Its session is tracked for 60 s and dies on the server after
# 75 s: the tray turns green, amber, red; the expiry notification's Re-authenticate opens the
# login window on the simulated SSO page.
#
# On a desktop (DISPLAY set) it runs in your session: real tray, real notifications, and your
# keychain under the separate service name `sessionkeeper-demo`. Without a display it runs on
# a private Xvfb + D-Bus + gnome-keyring + dunst, plays the human's click itself, prints what
# happens, and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build -p sessionkeeper-app --bins --locked
app=target/debug/sessionkeeper-app

if [[ -n ${DISPLAY:-} && -n ${DBUS_SESSION_BUS_ADDRESS:-} && -z ${1:-} ]]; then
  exec "$app" --demo
fi

if [[ ${1:-} != --inside ]]; then
  exec xvfb-run -a -s "-screen 0 1280x1024x24" \
    dbus-run-session -- scripts/with-desktop.sh "$0" --inside 2> >(grep -v "fd limit" >&2)
fi

# Headless: run the app, show its story, click Re-authenticate like a human, then stop.
log=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
RUST_LOG=warn,sessionkeeper_app=info,sessionkeeper_core=info "$app" --demo 2>"$log" &
pid=$!
tail -f "$log" --pid "$pid" 2>/dev/null \
  | grep --line-buffered -E "tray:|notification|checked:|expiry moved|login window|push" \
  | sed -u -E 's/^[0-9T:.-]+Z +INFO [a-z_:]+: //' &
id=""
for _ in $(seq 240); do
  id=$(grep -E 'notification: .*session expired' "$log" | head -1 | grep -oE 'id=[0-9]+' | cut -d= -f2 || true)
  [[ -n $id ]] && break
  sleep 1
done
if [[ -z $id ]]; then
  echo "demo: no expiry notification within 4 minutes; the app's log:" >&2
  cat "$log" >&2
  exit 1
fi
echo "== (demo) the human clicks Re-authenticate on notification $id"
gdbus emit --session --object-path /org/freedesktop/Notifications \
  --signal org.freedesktop.Notifications.ActionInvoked "uint32 $id" "'reauthenticate'" >/dev/null
for _ in $(seq 30); do
  grep -q "login window opened" "$log" && break
  sleep 1
done
windows=""
for _ in $(seq 20); do
  windows=$(LC_ALL=C.UTF-8 xwininfo -root -tree | grep -o '"Log in[^"]*"' || true)
  [[ -n $windows ]] && break
  sleep 1
done
echo "== X windows now open:"
echo "${windows:-(none yet)}"
echo "== Done: in the real app the human now ticks the captcha and logs in."
