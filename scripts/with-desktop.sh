#!/usr/bin/env bash
# Run "$@" on a throw-away desktop session: a real, unlocked Secret Service (gnome-keyring with
# a fresh login keyring in a temporary directory) and, when there is a display, a real
# notification server (dunst). Must run inside a D-Bus session (scripts/test.sh wraps it in
# `xvfb-run -a dbus-run-session`), so it never touches the desktop you are logged in to.
set -euo pipefail
desktop_home=$(mktemp -d)
dunst_pid=""
cleanup() {
  if [[ -n $dunst_pid ]]; then kill "$dunst_pid" 2>/dev/null || true; fi
  rm -rf "$desktop_home"
}
trap cleanup EXIT
eval "$(printf %s sessionkeeper-test \
  | HOME=$desktop_home XDG_DATA_HOME=$desktop_home/.local/share \
    gnome-keyring-daemon --unlock --components=secrets --daemonize)"
export GNOME_KEYRING_CONTROL
# Tests scan this directory to prove that no secret reaches the keyring's files in plaintext.
export SESSIONKEEPER_TEST_KEYRING_HOME=$desktop_home

if [[ -n ${DISPLAY:-} ]]; then
  # An empty config: dunst's defaults, no user config from $HOME.
  : >"$desktop_home/dunstrc"
  dunst -config "$desktop_home/dunstrc" >"$desktop_home/dunst.log" 2>&1 &
  dunst_pid=$!
  for _ in $(seq 100); do
    if gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.NameHasOwner org.freedesktop.Notifications 2>/dev/null \
      | grep -q true; then
      break
    fi
    sleep 0.1
  done
fi
"$@"
