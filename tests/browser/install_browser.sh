#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/browser), only if it is missing.
# Idempotent and quiet: prints nothing when chromium is already there or installs cleanly,
# and the apt log when the install fails. Never downloads a browser through playwright.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
  run_as_root=(sudo)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! {
  "${run_as_root[@]}" apt-get update -qq &&
    "${run_as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
} >"$log" 2>&1; then
  cat "$log" >&2
  echo "install_browser.sh: could not install chromium with apt-get" >&2
  exit 1
fi
