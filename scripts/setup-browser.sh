#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/web/test_browser.py) when it is missing.
# Playwright drives this system browser; it never downloads a browser of its own.
# Needs root (or passwordless sudo); safe to run again.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "setup-browser: /usr/bin/chromium is missing and this is not root; the browser tests will be skipped." >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
