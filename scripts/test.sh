#!/usr/bin/env bash
# The test command: installs what the tests need, then builds and runs every test against real
# parts (gnome-keyring on a private D-Bus session) and the simulator. Extra arguments go to
# `cargo test` (e.g. scripts/test.sh validate).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --bins --tests --locked
dbus-run-session -- scripts/with-keyring.sh cargo test --workspace --locked "$@"
