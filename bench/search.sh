#!/usr/bin/env bash
# Catalogue search as a storefront's search box drives it: every query new.
#
#   bench/search.sh [--bin PATH] [--products 100000] [--conns 64] [--rate 5000 | --closed-only] [--fresh]
#
# Seeds a catalogue once (bench/seed.py through a server of its own; its RssAnon after the seed is
# kept) and caches the data dir with the seed's query files in .build/bench-catalogue-N. Then twice,
# each time on a fresh copy with a server just started (--bin, default the release build) and
# settled: the 10,000 distinct typed queries of typed-queries.txt (prefixes as typed, from two
# letters; none repeated) once each over --conns connections with bench/once.c, limit=20 as a search
# box asks; first closed (the throughput), then open at --rate requests a second (the latency at that
# rate). Prints a JSON line for each: the load's figures, the server's RssAnon (anonymous memory:
# heap, not the mapped database file) after seeding, at start and after the run, and the CPU time
# the hypervisor took from this machine during the run (steal: a virtual CPU stopped for ~100 ms
# stalls whatever runs on it, which sets the tail of a short run). Loopback only; stops by itself.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. bench/limits.env

bin=$root/.build/release/shopfloor
products=${BENCH_PRODUCTS:-100000}
conns=64
rate=5000
fresh=0
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --products) products=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --closed-only) rate=; shift ;;
    --fresh) fresh=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench/search.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

cache=$root/.build/bench-catalogue-$products
once=$root/.build/bench-once
work=$(mktemp -d -t shopfloor-search.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_anon() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

# start DATA_DIR: starts the server on DATA_DIR and waits for /ready; sets pid and base.
start() {
  local port
  port=$(free_port)
  base=http://127.0.0.1:$port
  SHOPFLOOR_ADMIN_KEY=$admin_key "$bin" serve --host 127.0.0.1 --port "$port" --data-dir "$1" --log-level warning \
    >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    curl -fsS "$base/ready" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench/search.sh: the server did not become ready" >&2
  exit 1
}

stop() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
}

admin_key=bench-search-key-$$-$RANDOM
if [ "$fresh" = 1 ] || [ ! -f "$cache/seeded.json" ]; then
  rm -rf "$cache"
  mkdir -p "$work/seed-data"
  start "$work/seed-data"
  echo "bench/search.sh: seeding $products products…" >&2
  python3 bench/seed.py --url "$base" --admin-key "$admin_key" --products "$products" --out "$work/seed-out" >"$work/seed.json"
  rss_seeded=$(rss_anon "$pid")
  stop
  mkdir -p "$cache"
  mv "$work/seed-data" "$cache/data"
  cp "$work/seed-out/typed-queries.txt" "$work/seed-out/queries.txt" "$cache/"
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["rss_anon_after_seed_kib"] = int(sys.argv[2]); print(json.dumps(d))' \
    "$work/seed.json" "$rss_seeded" >"$cache/seeded.json"
fi

[ "$once" -nt bench/once.c ] || cc -O2 -o "$once" bench/once.c
python3 -c 'import sys, urllib.parse; [print("/v1/products?limit=20&q=" + urllib.parse.quote(l.strip())) for l in open(sys.argv[1]) if l.strip()]' \
  "$cache/typed-queries.txt" >"$work/paths.txt"

# measure [RATE]: a fresh copy of the seeded data, the server started on it and left to settle (its
# start-up jobs, such as the stock cover check, done: CPU idle), then every typed query once,
# closed loop, or open at RATE requests a second. Prints the load's JSON line with RssAnon added.
measure() {
  rm -rf "$work/data"
  cp -r "$cache/data" "$work/data"
  start "$work/data"
  local rss_start ticks previous rss_after
  rss_start=$(rss_anon "$pid")
  previous=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  for _ in $(seq 30); do
    sleep 0.5
    ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    [ $((ticks - previous)) -le 2 ] && break
    previous=$ticks
  done
  local steal_before steal_after
  steal_before=$(awk '/^cpu / { print $9 }' /proc/stat)
  "$once" 127.0.0.1 "${base##*:}" "$conns" "$work/paths.txt" "$@" >"$work/once.json"
  steal_after=$(awk '/^cpu / { print $9 }' /proc/stat)
  rss_after=$(rss_anon "$pid")
  stop
  python3 - "$cache/seeded.json" "$work/once.json" "$rss_start" "$rss_after" "$conns" "$((steal_after - steal_before))" <<'EOF'
import json, os, sys
seeded, run = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
run.update(connections=int(sys.argv[5]), products=seeded["products"], rss_anon_after_seed_kib=seeded["rss_anon_after_seed_kib"],
           rss_anon_at_start_kib=int(sys.argv[3]), rss_anon_after_run_kib=int(sys.argv[4]),
           steal_ms=int(sys.argv[6]) * 1000 // os.sysconf("SC_CLK_TCK"))
print(json.dumps(run))
EOF
}

measure
if [ -n "$rate" ]; then measure "$rate"; fi
