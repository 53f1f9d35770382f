#!/usr/bin/env bash
# Create .venv and install cxlens with its test dependencies. Safe to run again: it only
# reinstalls when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.cxlens-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev,text,web]"
  echo "$want" > "$stamp"
fi
# Debian's chromium for the browser tests (installed when missing).
bash scripts/setup-browser.sh
# PostgreSQL binaries for the PostgreSQL app-database tests (installed when missing).
bash scripts/setup-postgres.sh
# axe-core for the accessibility checks of the browser tests (from the npm registry, once).
if [ ! -f node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then
  npm install --no-save --no-audit --no-fund --silent axe-core@4 >/dev/null
fi
