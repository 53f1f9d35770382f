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
echo "Try, for example:"
echo "  .venv/bin/cxlens metrics nps --by segment --where survey_id=nps-relationship -w $WS"
echo "  .venv/bin/cxlens metrics csat --by channel --grain quarter --compare previous -w $WS"
echo "  .venv/bin/cxlens metrics churn --grain month --since 2026-01-01 -w $WS"
echo "  .venv/bin/cxlens clv fit -w $WS && .venv/bin/cxlens clv predict --horizon 12m -w $WS"
echo "  .venv/bin/cxlens --help"
