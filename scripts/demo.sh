#!/usr/bin/env bash
# Set up, create a demo workspace (./demo-workspace) with a demo company, and show its status.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
WS=${CXLENS_DEMO_WORKSPACE:-demo-workspace}
if [ ! -f "$WS/cxlens.toml" ]; then
  .venv/bin/cxlens init "$WS"
  .venv/bin/cxlens demo --workspace "$WS" --customers "${CXLENS_DEMO_CUSTOMERS:-5000}"
fi
.venv/bin/cxlens status --workspace "$WS"
echo
echo "Try: .venv/bin/cxlens --help    (workspace: $WS; e.g. .venv/bin/cxlens quarantine responses -w $WS)"
