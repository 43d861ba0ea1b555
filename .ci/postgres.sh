#!/usr/bin/env bash
# Installs PostgreSQL from Debian if needed and starts a throwaway server on loopback.
# Prints the database URL on its last line. Usage: .ci/postgres.sh DATADIR PORT
set -euo pipefail
datadir=${1:?datadir}
port=${2:-54329}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

run_as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$datadir"
if [ "$(id -u)" = "0" ]; then chown postgres "$datadir"; fi
run_as_postgres "$bindir/initdb" -D "$datadir/data" -U steward --auth=trust -E UTF8 >&2
run_as_postgres "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $datadir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >&2
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U steward steward_test >&2
echo "postgresql://steward@127.0.0.1:$port/steward_test"
