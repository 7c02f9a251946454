#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs chainwatch with pinned dependencies.
# Usage: source from scripts/start and scripts/test;  EXTRAS="dev" selects optional extras.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    python="$candidate"; break
  fi
done
if [ -z "$python" ]; then
  echo "chainwatch needs Python 3.11 or newer (none found on PATH)" >&2; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
spec="."
if [ -n "${EXTRAS:-}" ]; then spec=".[${EXTRAS}]"; fi
stamp=".venv/.installed-$(cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)-${EXTRAS:-none}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e "$spec"
  touch "$stamp"
fi
