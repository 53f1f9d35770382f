#!/usr/bin/env bash
# PostgreSQL binaries for the tests of the PostgreSQL app database (tests/web/test_postgres_app_db.py).
# The tests make their own throwaway cluster (initdb + pg_ctl on 127.0.0.1, a free port, a temporary
# folder) and remove it afterwards; this script only makes sure the programs and an unprivileged
# account to run them exist (PostgreSQL refuses to run as root). Installs Debian's postgresql package
# only when no initdb is found; no cluster is created or started. Needs root (or passwordless sudo);
# safe to run again.
set -euo pipefail

find_initdb() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    command -v initdb
    return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir/initdb"
      return 0
    fi
  done
  return 1
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  elif ! find_initdb >/dev/null; then
    echo "setup-postgres: initdb is missing and this is not root; the PostgreSQL tests will be skipped." >&2
    exit 0
  fi
fi

if ! find_initdb >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  # The tests make their own clusters: do not let the package create and start a system one.
  $SUDO mkdir -p /etc/postgresql-common
  if [ ! -f /etc/postgresql-common/createcluster.conf ]; then
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold postgresql >/dev/null
fi

initdb=$(find_initdb) || { echo "setup-postgres: initdb not found after installing postgresql" >&2; exit 1; }
"$initdb" --version

# When the tests run as root they run PostgreSQL as 'postgres' (made by the package) or 'cxlens-test'.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1 && ! id cxlens-test >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin cxlens-test
  echo "setup-postgres: created the unprivileged account cxlens-test to run the test clusters"
fi
