#!/usr/bin/env bash
# Run "$@" with a real, unlocked Secret Service: gnome-keyring with a fresh login keyring in a
# temporary directory. Must run inside a D-Bus session (scripts/test.sh wraps it in
# dbus-run-session), so it never touches the keyring of the desktop you are logged in to.
set -euo pipefail
keyring_home=$(mktemp -d)
cleanup() { rm -rf "$keyring_home"; }
trap cleanup EXIT
eval "$(printf %s sessionkeeper-test \
  | HOME=$keyring_home XDG_DATA_HOME=$keyring_home/.local/share \
    gnome-keyring-daemon --unlock --components=secrets --daemonize)"
export GNOME_KEYRING_CONTROL
# Tests scan this directory to prove that no secret reaches the keyring's files in plaintext.
export SESSIONKEEPER_TEST_KEYRING_HOME=$keyring_home
"$@"
