#!/usr/bin/env bash
# Builds the release packages with the Tauri bundler: a .deb and an .rpm under
# target/release/bundle/{deb,rpm}/, each holding the tray app and the CLI
# (/usr/bin/sessionkeeper-app, /usr/bin/sessionkeeper), the menu entry, the icons, the CLI's man
# page and bash/zsh/fish completions, and the licences of every bundled crate.
#
# The app is built without the simulator (no `demo` feature). No AppImage: the bundler's
# AppImage step downloads its tools (linuxdeploy) from GitHub, which this project's machines
# and CI cannot reach; the .deb and the .rpm need nothing but the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# The Tauri CLI, pinned by scripts/package/package-lock.json (from the npm registry; setup.sh
# installs Node.js and npm).
(cd scripts/package && npm ci --no-audit --no-fund --loglevel=error)
tauri=scripts/package/node_modules/.bin/tauri

# The CLI, and what the package carries beside the binaries.
cargo build --release --locked -p sessionkeeper
rm -f target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm
out=target/package
rm -rf "$out"
mkdir -p "$out"
target/release/sessionkeeper generate --man "$out/man" --completions "$out/completions"
gzip -9n "$out/man/sessionkeeper.1"
scripts/package/licenses.py "$out/copyright"

# The app (no simulator) and the bundles.
(cd src-tauri && "../$tauri" build --ci --bundles deb,rpm -- --locked --no-default-features)

# The bundler names the files after the product ("Session Keeper_0.1.0_amd64.deb"); give them
# the package's own name, as apt and dnf users expect, without a space.
for p in target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm; do
  named=$(dirname "$p")/$(basename "$p" | sed 's/^Session Keeper/session-keeper/')
  [[ $p == "$named" ]] || mv -f "$p" "$named"
done
for p in target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm; do
  printf 'package: %s\t%s bytes\n' "$p" "$(stat -c %s "$p")"
done
printf 'package: the app binary (no simulator)\t%s bytes\n' "$(stat -c %s target/release/sessionkeeper-app)"
printf 'package: the CLI binary\t%s bytes\n' "$(stat -c %s target/release/sessionkeeper)"
