#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for developing leo-store, like scripts/test does.
#
#   eval "$(scripts/pg-dev-cluster.sh)"      # exports LEO_TEST_PG_* in this shell
#   cargo test -p leo-store --features postgres
#   eval "$(scripts/pg-dev-cluster.sh stop)" # stops it and removes the data
#
# As root the cluster runs as the `postgres` OS user; otherwise as you.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = stop ]; then
  if [ -n "${LEO_TEST_PG_DATA:-}" ]; then
    run=()
    [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
    "${run[@]}" "${LEO_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/pg_ctl" -D "$LEO_TEST_PG_DATA" stop -m fast >&2 || true
    rm -rf "$(dirname "$LEO_TEST_PG_DATA")"
  fi
  echo "unset LEO_TEST_PG_URL LEO_TEST_PG_DATA LEO_TEST_PG_BIN LEO_TEST_PG_LOG"
  exit 0
fi

LEO_CLEANUP=()
leo_on_exit() { LEO_CLEANUP+=("$1"); }
unset LEO_TEST_PG_URL
# shellcheck source=test.d/20-postgres.sh
source scripts/test.d/20-postgres.sh >&2
echo "export LEO_TEST_PG_URL='$LEO_TEST_PG_URL' LEO_TEST_PG_DATA='$LEO_TEST_PG_DATA' LEO_TEST_PG_BIN='$LEO_TEST_PG_BIN' LEO_TEST_PG_LOG='$LEO_TEST_PG_LOG'"
echo "echo 'PostgreSQL: $LEO_TEST_PG_URL (stop with: eval \"\$(scripts/pg-dev-cluster.sh stop)\")' >&2"
