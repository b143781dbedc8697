#!/usr/bin/env bash
# The package check's desktop session (inside the chroot, under xvfb-run and dbus-run-session):
# an unlocked gnome-keyring and a tray watcher, then the installed CLI and app.
set -euo pipefail
say() { printf 'package check: %s\n' "$*"; }
eval "$(printf %s check | gnome-keyring-daemon --unlock --components=secrets --daemonize)"
export GNOME_KEYRING_CONTROL
python3 /check/sni-watcher.py /check/items.txt >/check/watcher.log 2>&1 &
watcher=$!
app=
# What this script started ends with it, whatever the outcome.
trap 'kill $watcher $app 2>/dev/null || true; pkill -f gnome-keyring-daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q ready /check/watcher.log 2>/dev/null && break; sleep 0.1; done
control=$(python3 -c "import json; print(json.load(open('/check/sim.json'))['control'])")
token=$(python3 - "$control" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/sessions", data=b'{"kind":"token"}',
                             headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req))["value"])
PY
)
printf %s "$token" | sessionkeeper import breeze
sessionkeeper-app >/check/app.log 2>&1 &
app=$!
for _ in $(seq 300); do
  if [[ -s /check/items.txt ]] && grep -q 'checked:.*accepted' /check/app.log; then break; fi
  sleep 0.1
done
if ! [[ -s /check/items.txt ]]; then
  say "FAIL: no tray icon registered"; cat /check/app.log; exit 1
fi
read -r sender service <"/check/items.txt"
path=$service
[[ $path == /* ]] || path=/StatusNotifierItem
id=$(gdbus call --session --dest "$sender" --object-path "$path" \
  --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierItem Status)
say "tray icon: the StatusNotifierItem of $sender at $path, status $id"
grep 'checked:.*accepted' /check/app.log ||
  { say "FAIL: the app did not find the profile's session valid"; cat /check/app.log; exit 1; }
say "the installed app checked the profile against sim"

# Start at login, switched on from the tray menu as a user would: the autostart entry must
# start the installed binary.
python3 /check/tray-menu.py "$sender" "$path" "Start at login"
entry=
for _ in $(seq 100); do
  entry=$(find "$HOME/.config/autostart" -name '*.desktop' 2>/dev/null | head -1)
  [[ -n $entry && -s $entry ]] && break
  sleep 0.1
done
[[ -n $entry && -s $entry ]] || { say "FAIL: no autostart entry in $HOME/.config/autostart"; ls -la "$HOME/.config/autostart" || true; cat /check/app.log; exit 1; }
exec_line=$(grep '^Exec=' "$entry")
[[ $exec_line =~ ^Exec=\"?/usr/bin/sessionkeeper-app\"?\ --autostart$ ]] ||
  { say "FAIL: the autostart entry runs $exec_line"; exit 1; }
say "start at login: $entry runs ${exec_line#Exec=}"

# Add a session, from the tray menu: the dashboard opens on its form.
python3 /check/tray-menu.py "$sender" "$path" "Add a session…"
for _ in $(seq 100); do grep -q 'dashboard opened' /check/app.log && break; sleep 0.1; done
grep -q 'dashboard opened' /check/app.log ||
  { say "FAIL: Add a session… opened no dashboard"; cat /check/app.log; exit 1; }
say "the tray's Add a session… opened the dashboard"
kill "$app" 2>/dev/null || true
