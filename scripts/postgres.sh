#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and prints its Npgsql connection string on the
# last line of standard output. Installs Debian's postgresql package first where it is missing and
# this runs as root. The server listens on a Unix socket only, in a temporary folder; stop it with
#   scripts/postgres.sh stop
# On failure it says why on standard error and exits non-zero (the PostgreSQL tests then skip and say so).
set -euo pipefail
state="${TMPDIR:-/tmp}/leadengine-pg-$(id -u)"
port=54329

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "${1:-}" = stop ]; then
  bin="$(bindir)"
  [ -n "$bin" ] && [ -f "$state/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$state/data" -m fast -w stop >/dev/null || true
  rm -rf "$state"
  exit 0
fi

bin="$(bindir)"
if [ -z "$bin" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "postgres: PostgreSQL is not installed and this is not root with apt-get (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "postgres: installing Debian's postgresql package" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bin="$(bindir)"
fi

# A server left by an earlier run is stopped first: each run starts from an empty cluster.
if [ -f "$state/data/postmaster.pid" ]; then as_owner "$bin/pg_ctl" -D "$state/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
rm -rf "$state"
mkdir -p "$state"
[ "$(id -u)" = 0 ] && chown postgres "$state"
as_owner "$bin/initdb" -D "$state/data" -U postgres --auth=trust --no-sync >/dev/null
as_owner "$bin/pg_ctl" -D "$state/data" -l "$state/server.log" -w \
  -o "-c listen_addresses='' -k $state -p $port -c fsync=on" start >/dev/null
echo "Host=$state;Port=$port;Username=postgres;Database=postgres;Pooling=true"
