#!/usr/bin/env bash
# Installs the Debian 12 packages comet-gateway needs to build, test and run
# its demo. Does nothing when they are all present. Needs root (or sudo).
# clang-14 and libclang-rt-14-dev (libFuzzer and clang's sanitizers) build
# the fuzz tier (tests/fuzz).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build
  libboost-dev libboost-program-options-dev libhiredis-dev libfcgi-dev
  libssl-dev libgtest-dev nlohmann-json3-dev
  libfcgi-bin redis-server redis-sentinel nginx-light php-cli php-redis curl strace
  apache2 lighttpd caddy
  # The Debian package and its tests: dpkg-shlibdeps, lintian,
  # systemd-analyze, man, adduser for the package's postinst.
  dpkg-dev lintian systemd man-db adduser
  clang-14 libclang-rt-14-dev
  # The Laravel tests (tests/laravel): Debian's Laravel 8 on php-fpm.
  php-laravel-framework php-fpm
)
# The browser tests (tests/browser) drive Debian's Chromium with
# playwright-core from npm; one of their pages is an old-style page on
# Debian's jQuery (libjs-jquery). `--no-browser` skips them (scripts/up.sh
# needs none).
with_browser=1
[[ ${1:-} == --no-browser ]] && with_browser=0
if ((with_browser)); then
  PACKAGES+=(chromium libjs-jquery)
  command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
# The packages' maintainer scripts must not start system-wide redis-server,
# nginx, apache2, lighttpd and caddy (port 80 may be taken, or there may be
# no init system): the project starts its own instances on its own ports.
# policy-rc.d is Debian's switch for that; only ours is removed afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 0755 "$policy"
  own_policy=1
fi
cleanup() { if ((own_policy)); then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
