#!/usr/bin/env bash
# Installs what a fresh Debian bookworm machine lacks for the tests and the
# demo: the Debian packages listed in scripts/debian-packages.txt, then the
# npm dependencies (npm ci). Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/debian-packages.txt | grep -v '^$')
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when node_modules does not match the lock file.
stamp=node_modules/.bootstrap-lock-hash
want_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_hash" ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want_hash" > "$stamp"
fi

# Our unix-fd addon (codegen/runtime/unix-fd, the package openbmc-dbus-unix-fd):
# npm ci builds it with its install script; built again here whenever its
# sources are newer than the build. npm's node-gyp needs make, a C compiler
# and python3 (scripts/debian-packages.txt).
addon=codegen/runtime/unix-fd
if [ ! -f "$addon/build/Release/unix_fd.node" ] || [ "$addon/src/unix_fd.c" -nt "$addon/build/Release/unix_fd.node" ] || [ "$addon/binding.gyp" -nt "$addon/build/Release/unix_fd.node" ]; then
  echo "bootstrap: building the unix-fd addon"
  npm run --silent --prefix "$addon" build >/dev/null
fi
