#!/usr/bin/env bash
# Set up, create a demo workspace (./demo-workspace) with a demo company when it is missing,
# and serve its dashboards and REST API (Ctrl+C stops the server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
WS=${CXLENS_DEMO_WORKSPACE:-demo-workspace}
PORT=${CXLENS_DEMO_PORT:-8000}
if [ ! -f "$WS/cxlens.toml" ]; then
  .venv/bin/cxlens init "$WS"
  .venv/bin/cxlens demo --workspace "$WS" --customers "${CXLENS_DEMO_CUSTOMERS:-5000}"
  # The text page's figures: annotations, then themes (the server keeps both current afterwards).
  .venv/bin/cxlens text analyze --workspace "$WS"
  .venv/bin/cxlens text themes --workspace "$WS" > /dev/null
fi
.venv/bin/cxlens status --workspace "$WS"
# A demo administrator with a random password, made once and kept beside the app database.
PASSFILE="$WS/app/demo-admin-password"
if [ ! -f "$PASSFILE" ]; then
  (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(12))" > "$PASSFILE")
  .venv/bin/cxlens users create admin --role admin --superuser --password-stdin --workspace "$WS" < "$PASSFILE"
fi
echo
echo "cxlens is starting at http://127.0.0.1:$PORT/"
echo "  log in as 'admin' with the password in $PASSFILE: $(cat "$PASSFILE")"
echo "  REST API: http://127.0.0.1:$PORT/api/ (OpenAPI document: /api/openapi.json)"
echo "From another terminal, for example:"
echo "  .venv/bin/cxlens metrics nps --by segment --where survey_id=nps-relationship -w $WS"
echo "  .venv/bin/cxlens signals -w $WS"
echo "  .venv/bin/cxlens --help"
exec .venv/bin/cxlens serve --workspace "$WS" --host 127.0.0.1 --port "$PORT"
