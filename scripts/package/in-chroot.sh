#!/usr/bin/env bash
# Runs inside the package check's fresh Debian 12 chroot (scripts/check-package.sh), as root,
# with the .deb, sim and this directory under /check. Installs the .deb as a user would and
# checks what the packaging issue asks; the first failure stops it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
say() { printf 'package check: %s\n' "$*"; }
apt-get update -q >/dev/null

deb=$(ls /check/*.deb)
say "apt-get install $(basename "$deb")"
apt-get install -y -q "$deb" >/check/apt.log 2>&1 || { tail -30 /check/apt.log; exit 1; }
dev=$(dpkg-query -W -f '${Package}\n' | grep -E -- '-dev(:|$)' || true)
if [[ -n $dev ]]; then
  say "FAIL: the package pulled development packages: $dev"
  exit 1
fi
say "no -dev package installed ($(dpkg-query -W -f '${Package}\n' | wc -l) packages in all)"
sessionkeeper --version
sessionkeeper-app --version

# The user's own tools, not the package's dependencies.
apt-get install -y -q --no-install-recommends man-db bash-completion desktop-file-utils \
  xvfb xauth dbus dbus-x11 python3-gi gir1.2-glib-2.0 libglib2.0-bin >/check/tools.log 2>&1 ||
  { tail -30 /check/tools.log; exit 1; }
say "man page: $(man -w sessionkeeper)"
completion=$(bash -c 'source /usr/share/bash-completion/bash_completion; _completion_loader sessionkeeper; complete -p sessionkeeper')
say "bash completion: $completion"
desktop=$(dpkg -L "$(dpkg-deb -f "$deb" Package)" | grep '^/usr/share/applications/.*\.desktop$')
desktop-file-validate "$desktop"
grep -q '^Exec=sessionkeeper-app$' "$desktop"
say "desktop entry valid: $desktop"
for size in 32x32 128x128 256x256 512x512; do
  test -f "/usr/share/icons/hicolor/$size/apps/sessionkeeper-app.png"
done
say "icons at the hicolor sizes"
test -s /usr/share/doc/session-keeper/copyright
say "copyright: $(grep -c '^ ' /usr/share/doc/session-keeper/copyright) crates listed"
if sessionkeeper-app --demo 2>/check/demo.err; then
  say "FAIL: the packaged app ran a demo"
  exit 1
fi
grep -q 'scripts/demo.sh' /check/demo.err
say "--demo says where the demo is: $(tail -1 /check/demo.err)"

# The installed app on a desktop session: a tray icon on the bus, a profile checked against sim.
export HOME=/check/home XDG_CONFIG_HOME=/check/home/.config XDG_DATA_HOME=/check/home/.local/share
mkdir -p "$XDG_CONFIG_HOME/sessionkeeper"
/check/sessionkeeper-sim >/check/sim.json 2>/check/sim.log &
sim=$!
trap 'kill "$sim" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s /check/sim.json ]] && break; sleep 0.1; done
url() { python3 -c "import json,sys; print(json.load(open('/check/sim.json'))[sys.argv[1]])" "$1"; }
cat >"$XDG_CONFIG_HOME/sessionkeeper/config.toml" <<TOML
[profiles.breeze]
name = "Breeze (package check)"
login_url = "$(url token_login)demo-key"
capture = "redirect-param"
redirect_param = "apisession"
poll_every = "1h"

[profiles.breeze.validate]
url = "$(url products)"
token_header = "X-SessionToken"
TOML
xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- /check/on-desktop.sh
