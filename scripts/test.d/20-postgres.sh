# shellcheck shell=bash
# Sourced by scripts/test: starts a throwaway PostgreSQL 15 cluster for the leo-store suite.
#
# PostgreSQL 15 is installed on the image but not running. This initialises a cluster as the
# `postgres` OS user in a temporary directory, listens on 127.0.0.1 only, on a free port, and
# exports:
#   LEO_TEST_PG_URL   superuser URL (tests create their own schemas and roles)
#   LEO_TEST_PG_DATA  data directory, LEO_TEST_PG_BIN  server binaries, LEO_TEST_PG_LOG  log
# (the crash test stops the cluster with `pg_ctl stop -m immediate` and starts it again).
# Idempotent: a cluster already announced by LEO_TEST_PG_URL and answering is reused.

leo_pg_setup() {
  local bin=${LEO_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
  if [ -n "${LEO_TEST_PG_URL:-}" ] && "$bin/pg_isready" -q -d "$LEO_TEST_PG_URL" 2>/dev/null; then
    echo "    reusing PostgreSQL at ${LEO_TEST_PG_URL}"
    return 0
  fi
  if [ ! -x "$bin/initdb" ]; then
    echo "    installing PostgreSQL 15"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  fi
  local run=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    run=(runuser -u postgres --)
  fi
  local dir port
  dir=$(mktemp -d /tmp/leo-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log"
    return 1
  }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
CONF
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
  leo_on_exit "${run[*]} $bin/pg_ctl -D $dir/data stop -m immediate >/dev/null 2>&1; rm -rf $dir"
  export LEO_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  export LEO_TEST_PG_DATA="$dir/data" LEO_TEST_PG_BIN="$bin" LEO_TEST_PG_LOG="$dir/server.log"
  echo "    PostgreSQL 15 on 127.0.0.1:$port ($dir)"
}
leo_pg_setup
