#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, package,
# integration and fuzz: the integration tests start their own redis-server,
# nginx, PHP and comet-gateway on free loopback ports; the fuzz tier runs the
# libFuzzer targets of tests/fuzz, built with clang-14, 15 s each). The unit
# and integration tiers run twice: first built with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/), then the whole suite, faults
# included, on the normal build. The ctest summary of that last run is the
# last thing printed; the exit status is non-zero when a test fails in
# either run.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
# playwright-core for the browser tests, acorn and typescript for the
# browser client's static checks, laravel-echo for the Laravel tests, pinned
# by tests/browser/package-lock.json.
for m in playwright-core acorn typescript laravel-echo; do
  if [[ ! -d tests/browser/node_modules/$m ]]; then
    npm ci --prefix tests/browser --no-audit --no-fund
    break
  fi
done
cmake -S . -B build-asan -G Ninja -DCOMET_SANITIZE=ON -DCOMET_BUILD_BENCH=OFF -DCOMET_BUILD_FUZZ=OFF
cmake --build build-asan -j2
ctest --test-dir build-asan --output-on-failure -j2 -L 'unit|integration'
cmake -S . -B build -G Ninja
cmake --build build -j2
exec ctest --test-dir build --output-on-failure -j2
