#!/usr/bin/env bash
# The PostgreSQL reference for the hot-SKU reservation benchmark: pgbench, 32 clients, one row,
#   UPDATE stock SET reserved = reserved + 1 WHERE sku = 'HOT' AND on_hand - reserved >= 1
# with synchronous_commit on (every transaction fsynced before it is acknowledged, as Shopfloor does).
#
#   bench/pg_hot_row.sh [--duration 10] [--clients 32]
#
# Runs a throwaway cluster in a temporary directory on a Unix socket (nothing listens on the network),
# as the `postgres` user when run as root. Installs Debian's postgresql package when missing and root.
# Prints one markdown table row.
set -euo pipefail

duration=10
clients=32
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    *) echo "pg_hot_row.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  else
    echo "pg_hot_row.sh: PostgreSQL missing; run: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
fi

work=$(mktemp -d -t shopfloor-pg.XXXXXX)
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
cleanup() {
  run "$bindir/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

run "$bindir/initdb" -D "$work/data" -A trust -U postgres >/dev/null
run "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories='$work' -c synchronous_commit=on -c fsync=on -c max_connections=100" start >/dev/null

psql() { run "$bindir/psql" -h "$work" -U postgres -q "$@"; }
psql -c "CREATE TABLE stock (sku text PRIMARY KEY, on_hand bigint NOT NULL, reserved bigint NOT NULL)"
psql -c "INSERT INTO stock VALUES ('HOT', 1000000000, 0)"
cat >"$work/reserve.sql" <<'SQL'
UPDATE stock SET reserved = reserved + 1 WHERE sku = 'HOT' AND on_hand - reserved >= 1;
SQL
chmod a+r "$work/reserve.sql"
out=$(run "$bindir/pgbench" -h "$work" -U postgres -n -c "$clients" -j 2 -T "$duration" -r -f "$work/reserve.sql" postgres 2>&1)
tps=$(awk '/^tps = / { printf "%.0f", $3 }' <<<"$out")
lat=$(awk '/latency average = / { print $4 }' <<<"$out")
reserved=$(psql -At -c "SELECT reserved FROM stock WHERE sku = 'HOT'")
echo "| PostgreSQL $(basename "$(dirname "$bindir")") (pgbench -c$clients, synchronous_commit=on) | hot row UPDATE | $clients | $tps | avg $lat ms | reserved $reserved |"
