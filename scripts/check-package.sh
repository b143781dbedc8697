#!/usr/bin/env bash
# Checks the packages as a user would get them (run scripts/package.sh first):
#  - the .rpm lists both binaries, the desktop entry and the man page (rpm -qpl);
#  - in a fresh Debian 12 minbase chroot (debootstrap), `apt-get install ./….deb` pulls no
#    -dev package; both binaries answer --version; man -w, the bash completion and
#    desktop-file-validate work; the installed app, on a desktop session (Xvfb, D-Bus,
#    gnome-keyring), registers its tray icon (a StatusNotifierItem) and checks a profile
#    against sim.
# Root (or sudo): debootstrap and chroot. The pristine chroot is kept in
# $PACKAGE_CHROOT.pristine and copied afresh for every check.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
need() { command -v "$1" >/dev/null || $sudo apt-get install -y -q --no-install-recommends "$2" >/dev/null; }
need rpm rpm
need debootstrap debootstrap

# sim, to check a profile against from inside the chroot (not part of any package; the debug
# build, which the test command has built already).
cargo build --locked -p sessionkeeper-sim --bin sessionkeeper-sim
deb=$(ls target/release/bundle/deb/session-keeper_*.deb)
rpm=$(ls target/release/bundle/rpm/session-keeper-*.rpm)
listing=$(rpm -qpl "$rpm" 2>/dev/null)
for f in /usr/bin/sessionkeeper /usr/bin/sessionkeeper-app /usr/share/man/man1/sessionkeeper.1.gz; do
  grep -qx "$f" <<<"$listing" || { echo "package check: FAIL: the .rpm lacks $f" >&2; exit 1; }
done
grep -q '^/usr/share/applications/.*\.desktop$' <<<"$listing"
echo "package check: rpm -qpl $(basename "$rpm"): both binaries, the desktop entry, the man page"

root=${PACKAGE_CHROOT:-/var/tmp/sessionkeeper-package-root}
# A pristine chroot is reused only if its debootstrap finished (an interrupted one is redone).
if [[ ! -f $root.pristine/.debootstrap-done ]]; then
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  echo "package check: debootstrap bookworm (minbase) from ${mirror:-deb.debian.org}" >&2
  $sudo rm -rf --one-file-system "$root.pristine"
  $sudo debootstrap --variant=minbase bookworm "$root.pristine" "${mirror:-http://deb.debian.org/debian}" >/dev/null
  $sudo touch "$root.pristine/.debootstrap-done"
fi
# Every process still running inside the chroot (what the check started there), then every
# mount under it. The chroot is deleted only when nothing is mounted there any more: a
# recursive delete through a bind mount of /dev would delete the host's.
cleanup() {
  for proc in /proc/[0-9]*; do
    if [[ $(readlink "$proc/root" 2>/dev/null) == "$root" ]]; then
      $sudo kill -9 "${proc#/proc/}" 2>/dev/null || true
    fi
  done
  for m in dev/shm dev/pts dev sys proc; do
    if mountpoint -q "$root/$m" 2>/dev/null; then
      $sudo umount "$root/$m" 2>/dev/null || $sudo umount -l "$root/$m" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT
cleanup
if findmnt -rn -o TARGET | grep -q "^$root/"; then
  echo "package check: FAIL: something is still mounted under $root; not deleting it" >&2
  exit 1
fi
$sudo rm -rf --one-file-system "$root"
$sudo cp -a "$root.pristine" "$root"
$sudo cp /etc/resolv.conf "$root/etc/resolv.conf"
# The host's mirror (deb822), instead of debootstrap's sources.list, not beside it.
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  $sudo cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  $sudo rm -f "$root/etc/apt/sources.list"
fi
$sudo cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
for m in proc sys dev dev/pts dev/shm; do $sudo mount --bind "/$m" "$root/$m"; done
$sudo mkdir -p "$root/check"
$sudo cp "$deb" target/debug/sessionkeeper-sim scripts/package/in-chroot.sh \
  scripts/package/on-desktop.sh scripts/package/sni-watcher.py scripts/package/tray-menu.py \
  "$root/check/"
$sudo chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root bash /check/in-chroot.sh
for p in "$deb" "$rpm"; do
  echo "package check: $(basename "$p"): $(stat -c %s "$p") bytes"
done
