#!/usr/bin/env bash
# The demo: the whole loop against the built-in simulator, with no account anywhere. It runs on
# a private D-Bus session with its own throw-away keyring, so your real keychain is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --workspace --bins --locked
exec dbus-run-session -- scripts/with-keyring.sh target/debug/sessionkeeper-demo 2> >(grep -v "fd limit" >&2)
