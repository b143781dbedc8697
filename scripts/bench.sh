#!/usr/bin/env bash
# Benchmarks: each prints our number beside the obvious baseline measured in the same run.
#   scripts/bench.sh          all of them
#   scripts/bench.sh push     parallel push vs the sequential sum
#   scripts/bench.sh capture  login complete → all targets pushed vs the sequential sum
#   scripts/bench.sh idle     the tray app at rest vs the bare tray-only Tauri app
#   scripts/bench.sh dashboard  the app idle with the dashboard open vs closed
#   scripts/bench.sh scale    1, 10 and 100 profiles: memory, CPU per poll, dashboard, status
#   scripts/bench.sh size     the app binary with and without the simulator
# Release builds (about 10 minutes the first time on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
which=${1:-all}
if [[ $which == all || $which == push ]]; then
  cargo bench --locked -p sessionkeeper-tests --bench push
fi
if [[ $which == all || $which == capture ]]; then
  # It stores in the vault: a private D-Bus session with gnome-keyring.
  cargo bench --locked -p sessionkeeper-tests --bench capture --no-run
  dbus-run-session -- scripts/with-desktop.sh \
    cargo bench --locked -p sessionkeeper-tests --bench capture 2> >(grep -v "fd limit" >&2)
fi
if [[ $which == all || $which == idle ]]; then
  # The idle bench starts the release binaries of the app (as packaged: no simulator), the
  # baseline and the CLI.
  cargo build --release --locked -p sessionkeeper-app --no-default-features --features baseline --bins
  cargo build --release --locked -p sessionkeeper --bins
  cargo bench --locked -p sessionkeeper-tests --bench idle --no-run
  xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- scripts/with-desktop.sh \
    cargo bench --locked -p sessionkeeper-tests --bench idle 2> >(grep -v "fd limit" >&2)
fi
if [[ $which == all || $which == dashboard ]]; then
  # The app's release binary (as packaged), with the dashboard open and closed, on a private
  # desktop.
  cargo build --release --locked -p sessionkeeper-app --no-default-features --bins
  cargo build --release --locked -p sessionkeeper --bins
  cargo bench --locked -p sessionkeeper-tests --bench dashboard --no-run
  xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- scripts/with-desktop.sh \
    cargo bench --locked -p sessionkeeper-tests --bench dashboard 2> >(grep -v "fd limit" >&2)
fi
if [[ $which == all || $which == scale ]]; then
  # The app's release binary (as packaged) and the CLI, with 1, 10 and 100 profiles.
  cargo build --release --locked -p sessionkeeper-app --no-default-features --bins
  cargo build --release --locked -p sessionkeeper --bins
  cargo bench --locked -p sessionkeeper-tests --bench scale --no-run
  xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- scripts/with-desktop.sh \
    cargo bench --locked -p sessionkeeper-tests --bench scale 2> >(grep -v "fd limit" >&2)
fi
if [[ $which == all || $which == size ]]; then
  # The shipped app (no simulator) beside the development one (`demo`: sim, axum, hyper).
  cargo build --release --locked -p sessionkeeper-app --bin sessionkeeper-app
  with=$(stat -c %s target/release/sessionkeeper-app)
  cargo build --release --locked -p sessionkeeper-app --no-default-features --bin sessionkeeper-app
  without=$(stat -c %s target/release/sessionkeeper-app)
  echo "the app binary (release, stripped):"
  printf '  without the simulator (packaged)  %10d bytes\n' "$without"
  printf '  with it (--features demo)         %10d bytes\n' "$with"
  awk -v a="$without" -v b="$with" 'BEGIN { printf "  ratio without / with              %10.2f\n", a / b }'
fi
